package wstest

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// This file holds the suite's own permessage-deflate ([RFC 7692]): the
// negotiation as Autobahn's fuzzing client and server perform it, and a
// codec on the standard library's compress/flate. It is independent of
// the library's codec on purpose, so that it can judge it.
//
// [RFC 7692]: https://www.rfc-editor.org/rfc/rfc7692

const (
	pmdName        = "permessage-deflate"
	pmdDefaultBits = 15 // the LZ77 window when no max_window_bits applies
)

// pmdOffer is one permessage-deflate offer of a client, with the fields
// Autobahn keeps for it.
type pmdOffer struct {
	// acceptNoContextTakeover: the server may ask the client for
	// client_no_context_takeover. Autobahn's offers always carry the
	// client_no_context_takeover hint, and its parser sets this field for
	// every offer it reads, hint or not.
	acceptNoContextTakeover bool
	// acceptMaxWindowBits: the offer has client_max_window_bits, so the
	// server may bound the client's window.
	acceptMaxWindowBits bool
	// requestNoContextTakeover asks for server_no_context_takeover.
	requestNoContextTakeover bool
	// requestMaxWindowBits asks for server_max_window_bits (8-15), or is 0.
	requestMaxWindowBits int
}

// suiteOffer is an offer as the suite makes it as the fuzzing client.
func suiteOffer(noContextTakeover bool, maxWindowBits int) pmdOffer {
	return pmdOffer{acceptNoContextTakeover: true, acceptMaxWindowBits: true,
		requestNoContextTakeover: noContextTakeover, requestMaxWindowBits: maxWindowBits}
}

// String renders the offer for Sec-WebSocket-Extensions.
func (o pmdOffer) String() string {
	s := pmdName
	if o.acceptNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if o.acceptMaxWindowBits {
		s += "; client_max_window_bits"
	}
	if o.requestNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if o.requestMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(o.requestMaxWindowBits)
	}
	return s
}

// pmdAccept is the fuzzing server's answer to one offer.
type pmdAccept struct {
	offer                    pmdOffer
	requestNoContextTakeover bool // client_no_context_takeover in the response
	requestMaxWindowBits     int  // client_max_window_bits in the response, or 0
}

// String renders the response for Sec-WebSocket-Extensions: the server
// parameters follow the offer, the client parameters what the server asks.
func (a *pmdAccept) String() string {
	s := pmdName
	if a.offer.requestNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if a.offer.requestMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(a.offer.requestMaxWindowBits)
	}
	if a.requestNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if a.requestMaxWindowBits != 0 {
		s += "; client_max_window_bits=" + strconv.Itoa(a.requestMaxWindowBits)
	}
	return s
}

// params are the parameters in force once the server has answered.
func (a *pmdAccept) params() pmdParams {
	return pmdParams{
		serverNoContextTakeover: a.offer.requestNoContextTakeover,
		clientNoContextTakeover: a.requestNoContextTakeover,
		serverMaxWindowBits:     windowBits(a.offer.requestMaxWindowBits),
		clientMaxWindowBits:     windowBits(a.requestMaxWindowBits),
	}
}

func windowBits(n int) int {
	if n == 0 {
		return pmdDefaultBits
	}
	return n
}

// pmdParams are the negotiated parameters, by direction.
type pmdParams struct {
	serverNoContextTakeover bool // server-to-client messages stand alone
	clientNoContextTakeover bool // client-to-server messages stand alone
	serverMaxWindowBits     int  // window of server-to-client messages, 8-15
	clientMaxWindowBits     int  // window of client-to-server messages, 8-15
}

// deflateCase is what a section 12 or 13 case negotiates: the offers the
// suite makes as the fuzzing client and how it accepts a client's offers
// as the fuzzing server.
type deflateCase struct {
	offers []pmdOffer
	accept func(offers []pmdOffer) *pmdAccept
}

// header is the Sec-WebSocket-Extensions value of the suite's offers.
func (d *deflateCase) header() string {
	parts := make([]string, len(d.offers))
	for i, o := range d.offers {
		parts[i] = o.String()
	}
	return strings.Join(parts, ", ")
}

// An extParam is an extension parameter value; has is false for a
// parameter given without "=".
type extParam struct {
	value string
	has   bool
}

type extension struct {
	name   string
	params map[string][]extParam
	order  []string
}

// parseExtensions splits a Sec-WebSocket-Extensions value as Autobahn
// does: extensions at commas, parameters at semicolons, names lower-cased,
// one pair of surrounding quotes removed from values. Empty elements are
// skipped.
func parseExtensions(h string) []extension {
	var out []extension
	for _, e := range strings.Split(h, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		parts := strings.Split(e, ";")
		ext := extension{name: strings.ToLower(strings.TrimSpace(parts[0])), params: map[string][]extParam{}}
		for _, p := range parts[1:] {
			key, val, has := strings.Cut(p, "=")
			key = strings.ToLower(strings.TrimSpace(key))
			var v extParam
			if has {
				v = extParam{value: strings.TrimSpace(val), has: true}
				v.value = strings.TrimPrefix(v.value, `"`)
				v.value = strings.TrimSuffix(v.value, `"`)
			}
			if _, ok := ext.params[key]; !ok {
				ext.order = append(ext.order, key)
			}
			ext.params[key] = append(ext.params[key], v)
		}
		out = append(out, ext)
	}
	return out
}

// bits reads a max_window_bits value, which must be a number 8-15; a
// parameter without a value is not one.
func (v extParam) bits() (int, bool) {
	if !v.has {
		return 0, false
	}
	n, err := strconv.Atoi(v.value)
	return n, err == nil && n >= 8 && n <= 15
}

var errExtension = errors.New("wstest: bad permessage-deflate parameters")

func extError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errExtension}, args...)...)
}

// parseOffer reads one client offer with Autobahn's rules: no parameter
// twice, no unknown parameter, window bits 8-15, flags without value.
func parseOffer(e extension) (pmdOffer, error) {
	o := pmdOffer{acceptNoContextTakeover: true}
	for _, k := range e.order {
		vs := e.params[k]
		if len(vs) > 1 {
			return o, extError("parameter %s given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "client_max_window_bits":
			if v.has {
				if _, ok := v.bits(); !ok {
					return o, extError("client_max_window_bits=%s", v.value)
				}
			}
			o.acceptMaxWindowBits = true
		case "client_no_context_takeover":
			if v.has {
				return o, extError("client_no_context_takeover=%s", v.value)
			}
		case "server_max_window_bits":
			n, ok := v.bits()
			if !ok {
				return o, extError("server_max_window_bits needs a value 8-15, got %q", v.value)
			}
			o.requestMaxWindowBits = n
		case "server_no_context_takeover":
			if v.has {
				return o, extError("server_no_context_takeover=%s", v.value)
			}
			o.requestNoContextTakeover = true
		default:
			return o, extError("unknown parameter %s", k)
		}
	}
	return o, nil
}

// parseResponse reads the server's permessage-deflate response.
func parseResponse(e extension) (pmdParams, error) {
	var p pmdParams
	for _, k := range e.order {
		vs := e.params[k]
		if len(vs) > 1 {
			return p, extError("parameter %s given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "client_max_window_bits", "server_max_window_bits":
			n, ok := v.bits()
			if !ok {
				return p, extError("%s needs a value 8-15, got %q", k, v.value)
			}
			if k == "client_max_window_bits" {
				p.clientMaxWindowBits = n
			} else {
				p.serverMaxWindowBits = n
			}
		case "client_no_context_takeover", "server_no_context_takeover":
			if v.has {
				return p, extError("%s=%s", k, v.value)
			}
			if k == "client_no_context_takeover" {
				p.clientNoContextTakeover = true
			} else {
				p.serverNoContextTakeover = true
			}
		default:
			return p, extError("unknown parameter %s", k)
		}
	}
	p.clientMaxWindowBits = windowBits(p.clientMaxWindowBits)
	p.serverMaxWindowBits = windowBits(p.serverMaxWindowBits)
	return p, nil
}

// errTwoExtensionHeaders: Autobahn refuses a handshake that repeats
// Sec-WebSocket-Extensions.
var errTwoExtensionHeaders = errors.New("wstest: Sec-WebSocket-Extensions appears more than once")

// requestOffers returns the permessage-deflate offers of a client's
// request, in order. Other extensions are ignored.
func requestOffers(h http.Header) ([]pmdOffer, error) {
	vs := h.Values("Sec-WebSocket-Extensions")
	if len(vs) > 1 {
		return nil, errTwoExtensionHeaders
	}
	if len(vs) == 0 {
		return nil, nil
	}
	var out []pmdOffer
	for _, e := range parseExtensions(vs[0]) {
		if e.name != pmdName {
			continue
		}
		o, err := parseOffer(e)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// responseParams checks the server's Sec-WebSocket-Extensions against
// what the suite offered (nothing when offered is false) and returns the
// negotiated parameters, or nil when the server declined.
func responseParams(h http.Header, offered bool) (*pmdParams, error) {
	vs := h.Values("Sec-WebSocket-Extensions")
	if len(vs) > 1 {
		return nil, errTwoExtensionHeaders
	}
	if len(vs) == 0 {
		return nil, nil
	}
	var out *pmdParams
	for _, e := range parseExtensions(vs[0]) {
		if e.name != pmdName {
			return nil, fmt.Errorf("wstest: server accepted extension %q, which was not offered", e.name)
		}
		if out != nil {
			return nil, extError("server answered with more than one permessage-deflate")
		}
		p, err := parseResponse(e)
		if err != nil {
			return nil, err
		}
		if !offered {
			return nil, errors.New("wstest: server accepted permessage-deflate, which was not offered")
		}
		out = &p
	}
	return out, nil
}

// acceptWith is one of the fuzzing server's ways of accepting offers, as
// Autobahn's section 13 cases define them: the first offer that allows
// what it asks of the client (client_no_context_takeover, which every
// offer allows, and a client_max_window_bits, which needs an offer with
// that parameter), or none.
func acceptWith(noContextTakeover bool, maxWindowBits int) func([]pmdOffer) *pmdAccept {
	return func(offers []pmdOffer) *pmdAccept {
		for _, o := range offers {
			if noContextTakeover && !o.acceptNoContextTakeover || maxWindowBits != 0 && !o.acceptMaxWindowBits {
				continue
			}
			return &pmdAccept{offer: o, requestNoContextTakeover: noContextTakeover, requestMaxWindowBits: maxWindowBits}
		}
		return nil
	}
}

// acceptFallback tries each way in turn.
func acceptFallback(ways ...func([]pmdOffer) *pmdAccept) func([]pmdOffer) *pmdAccept {
	return func(offers []pmdOffer) *pmdAccept {
		for _, w := range ways {
			if a := w(offers); a != nil {
				return a
			}
		}
		return nil
	}
}

// deflateLevel is the compression level of the suite's own messages when
// its window is the full 32 KiB: zlib's default, as Autobahn has it. The
// level matters beyond the compression ratio: only a compressor that
// looks hard for matches refers back into earlier messages often enough
// to catch a peer that loses the context it agreed to keep (the standard
// library's BestSpeed stores short messages alone and skips through
// incompressible data).
const deflateLevel = flate.DefaultCompression

// syncTail is what a sync flush ends with, removed from each compressed
// message and appended again before inflating ([RFC 7692, Section 7.2]).
//
// [RFC 7692, Section 7.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2
var syncTail = []byte{0x00, 0x00, 0xff, 0xff}

// pmdCodec compresses the suite's messages and inflates the peer's, with
// the parameters of one connection resolved to the suite's side.
type pmdCodec struct {
	// sending
	txNoContext bool
	txBits      int
	fw          *flate.Writer
	txBuf       bytes.Buffer

	// receiving
	rxNoContext bool
	rxBits      int
	fr          io.ReadCloser
	rxBuf       bytes.Buffer
	hist        []byte // the last 1<<rxBits octets inflated, for context takeover
	histTotal   int    // octets inflated since the last reset of the context
	rxEnded     bool   // a final block was seen: the stream is over
}

func newCodec(p pmdParams, isServer bool) *pmdCodec {
	c := &pmdCodec{
		txNoContext: p.clientNoContextTakeover, txBits: p.clientMaxWindowBits,
		rxNoContext: p.serverNoContextTakeover, rxBits: p.serverMaxWindowBits,
	}
	if isServer {
		c.txNoContext, c.txBits = p.serverNoContextTakeover, p.serverMaxWindowBits
		c.rxNoContext, c.rxBits = p.clientNoContextTakeover, p.clientMaxWindowBits
	}
	return c
}

// deflate compresses one message as [RFC 7692, Section 7.2.1] says and
// returns the payload to send (a fresh slice).
//
// The standard library cannot bound its LZ77 window below 32 KiB, so
// when the suite agreed to a smaller one it writes Huffman-only blocks,
// which hold no back-references at all and so respect any window.
//
// [RFC 7692, Section 7.2.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.1
func (c *pmdCodec) deflate(msg []byte) []byte {
	c.txBuf.Reset()
	if c.fw == nil {
		level := deflateLevel
		if c.txBits < pmdDefaultBits {
			level = flate.HuffmanOnly
		}
		c.fw, _ = flate.NewWriter(&c.txBuf, level)
	} else if c.txNoContext {
		c.fw.Reset(&c.txBuf)
	}
	_, _ = c.fw.Write(msg)
	_ = c.fw.Flush()
	out := bytes.TrimSuffix(c.txBuf.Bytes(), syncTail)
	return append([]byte(nil), out...)
}

// errInflate reports that the peer's compressed message could not be
// inflated.
var errInflate = errors.New("wstest: cannot inflate message")

// inflate decompresses one message's payload (all its frames joined). A
// stream that ended with a final block keeps ignoring what follows while
// the context is taken over, as zlib does.
func (c *pmdCodec) inflate(payload []byte) ([]byte, error) {
	if c.rxNoContext {
		c.hist, c.histTotal, c.rxEnded = c.hist[:0], 0, false
	}
	if c.rxEnded {
		return []byte{}, nil
	}
	in := make([]byte, 0, len(payload)+len(syncTail))
	in = append(append(in, payload...), syncTail...)
	if c.rxBits < pmdDefaultBits {
		// The standard library keeps a 32 KiB window; a smaller one needs
		// its own check of every distance.
		if _, err := checkDistances(in, 1<<c.rxBits, c.histTotal); err != nil {
			return nil, err
		}
	}
	r := bytes.NewReader(in)
	if c.fr == nil {
		c.fr = flate.NewReaderDict(r, c.hist)
	} else {
		_ = c.fr.(flate.Resetter).Reset(r, c.hist)
	}
	c.rxBuf.Reset()
	_, err := c.rxBuf.ReadFrom(c.fr)
	switch {
	case err == nil:
		c.rxEnded = true // io.EOF: the stream had a final block
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The usual end: the input stops after the empty stored block.
	default:
		return nil, fmt.Errorf("%w: %v", errInflate, err)
	}
	out := append([]byte(nil), c.rxBuf.Bytes()...)
	window := 1 << c.rxBits
	c.histTotal += len(out)
	c.hist = append(c.hist, out...)
	if len(c.hist) > window {
		c.hist = append(c.hist[:0], c.hist[len(c.hist)-window:]...)
	}
	return out, nil
}

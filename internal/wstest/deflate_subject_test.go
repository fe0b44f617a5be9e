package wstest

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The test subject's permessage-deflate: its own parameter handling and
// its own use of compress/flate, apart from the suite's (deflate.go), so
// that a mistake in one is not mirrored in the other.

// subjectLevel is the subject's compression level.
var subjectLevel = flate.BestSpeed

// subjectDeflate is one direction-resolved negotiation of the subject.
type subjectDeflate struct {
	d           defects
	txNoContext bool // the subject's messages stand alone
	txBits      int  // the window the subject agreed to compress with
	rxNoContext bool // the peer's messages stand alone
	fw          *flate.Writer
	buf         bytes.Buffer
	window      []byte // the last 32 KiB the subject inflated
}

// subjectParams splits one element of Sec-WebSocket-Extensions into the
// extension name and its parameters.
func subjectParams(ext string) (string, map[string]string) {
	parts := strings.Split(ext, ";")
	params := map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		params[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return strings.TrimSpace(parts[0]), params
}

// subjectAccept is the subject as a server: it takes the first
// permessage-deflate offer, granting what it asks for the server's
// direction and asking nothing of the client.
func subjectAccept(offers string, d defects) (*subjectDeflate, string) {
	if d.noDeflate || offers == "" {
		return nil, ""
	}
	for _, ext := range strings.Split(offers, ",") {
		name, params := subjectParams(ext)
		if name != pmdName {
			continue
		}
		z := &subjectDeflate{d: d, txBits: 15}
		resp := pmdName
		if _, ok := params["server_no_context_takeover"]; ok {
			z.txNoContext = true
			resp += "; server_no_context_takeover"
		}
		if v, ok := params["server_max_window_bits"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 8 || n > 15 {
				continue
			}
			z.txBits = n
			resp += "; server_max_window_bits=" + v
		}
		return z, resp
	}
	return nil, ""
}

// subjectOffer is the subject's offer as a client: permessage-deflate,
// letting the server bound the client's window.
func subjectOffer(d defects) string {
	if d.noDeflate {
		return ""
	}
	return pmdName + "; client_max_window_bits"
}

// subjectResponse reads the server's answer to subjectOffer.
func subjectResponse(resp string, d defects) (*subjectDeflate, error) {
	if resp == "" || d.noDeflate {
		return nil, nil
	}
	name, params := subjectParams(resp)
	if name != pmdName {
		return nil, fmt.Errorf("subject: server answered %q", resp)
	}
	z := &subjectDeflate{d: d, txBits: 15}
	for k, v := range params {
		switch k {
		case "server_no_context_takeover":
			z.rxNoContext = true
		case "client_no_context_takeover":
			z.txNoContext = true
		case "client_max_window_bits":
			n, err := strconv.Atoi(v)
			if err != nil || n < 8 || n > 15 {
				return nil, fmt.Errorf("subject: client_max_window_bits=%q", v)
			}
			z.txBits = n
		case "server_max_window_bits":
		default:
			return nil, fmt.Errorf("subject: unknown parameter %q", k)
		}
	}
	return z, nil
}

// deflate compresses one echo. A window below 15 bits is kept with
// Huffman-only blocks (no back-references).
func (z *subjectDeflate) deflate(msg []byte) []byte {
	if z.d.deflatePlainRSV {
		return append([]byte(nil), msg...)
	}
	z.buf.Reset()
	if z.fw == nil {
		level := subjectLevel
		if z.txBits < 15 && !z.d.deflateWideWindow {
			level = flate.HuffmanOnly
		}
		z.fw, _ = flate.NewWriter(&z.buf, level)
	} else if z.txNoContext {
		z.fw.Reset(&z.buf)
	}
	_, _ = z.fw.Write(msg)
	_ = z.fw.Flush()
	b := z.buf.Bytes()
	return append([]byte(nil), b[:len(b)-4]...)
}

// inflate decompresses one message. It appends the removed sync tail and
// then an empty final block, so the reader ends at io.EOF.
func (z *subjectDeflate) inflate(msg []byte) ([]byte, error) {
	in := append(append([]byte(nil), msg...), 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
	var dict []byte
	if !z.rxNoContext && !z.d.deflateNoRxContext {
		dict = z.window
	}
	out, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(in), dict))
	if err != nil {
		return nil, err
	}
	z.window = append(z.window, out...)
	if len(z.window) > 32<<10 {
		z.window = append([]byte(nil), z.window[len(z.window)-32<<10:]...)
	}
	return out, nil
}

// writeMessage echoes a message, compressed when the extension is in use.
func (p *subject) writeMessage(op byte, data []byte) error {
	if p.pmd == nil {
		return p.write(op, data)
	}
	payload := p.pmd.deflate(data)
	if p.d.deflateRSVEveryFrm && len(payload) >= 2 {
		half := len(payload) / 2
		if err := p.writeFrame(op, false, 4, payload[:half]); err != nil {
			return err
		}
		return p.writeFrame(opContinuation, true, 4, payload[half:])
	}
	return p.writeFrame(op, true, 4, payload)
}

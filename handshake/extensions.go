package handshake

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// An Extension is one element of a Sec-WebSocket-Extensions list
// ([RFC 6455, Section 9.1]): a name and its parameters, in order.
//
// [RFC 6455, Section 9.1]: https://www.rfc-editor.org/rfc/rfc6455#section-9.1
type Extension struct {
	Name   string
	Params []Param
}

// A Param is an extension parameter. Value is "" for a parameter given
// without a value; a quoted value is stored unquoted.
type Param struct {
	Name  string
	Value string
}

// ParseExtensions parses a Sec-WebSocket-Extensions value (repeated fields
// joined with ", ") following the grammar of [RFC 6455, Section 9.1]:
//
//	extension-list = 1#extension
//	extension      = extension-token *( ";" extension-param )
//	extension-param = token [ "=" (token | quoted-string) ]
//
// where a quoted-string value must itself be a token once unquoted. Empty
// list elements are skipped, as the # rule allows.
//
// [RFC 6455, Section 9.1]: https://www.rfc-editor.org/rfc/rfc6455#section-9.1
func ParseExtensions(v string) ([]Extension, error) {
	var exts []Extension
	s := v
	for {
		s = trimOWS(s)
		if s == "" {
			return exts, nil
		}
		if s[0] == ',' {
			s = s[1:]
			continue
		}
		var ext Extension
		var err error
		if ext.Name, s, err = token(s); err != nil {
			return nil, fmt.Errorf("handshake: Sec-WebSocket-Extensions %q: extension name: %w", v, err)
		}
		for {
			s = trimOWS(s)
			if s == "" || s[0] == ',' {
				break
			}
			if s[0] != ';' {
				return nil, fmt.Errorf("handshake: Sec-WebSocket-Extensions %q: unexpected %q", v, s[0])
			}
			s = trimOWS(s[1:])
			var p Param
			if p.Name, s, err = token(s); err != nil {
				return nil, fmt.Errorf("handshake: Sec-WebSocket-Extensions %q: parameter name: %w", v, err)
			}
			s = trimOWS(s)
			if s != "" && s[0] == '=' {
				s = trimOWS(s[1:])
				if s != "" && s[0] == '"' {
					p.Value, s, err = quoted(s)
				} else {
					p.Value, s, err = token(s)
				}
				if err != nil {
					return nil, fmt.Errorf("handshake: Sec-WebSocket-Extensions %q: value of %s: %w", v, p.Name, err)
				}
			}
			ext.Params = append(ext.Params, p)
		}
		exts = append(exts, ext)
	}
}

func trimOWS(s string) string { return strings.TrimLeft(s, " \t") }

var errNotToken = errors.New("not a token")

// token splits a token off the front of s.
func token(s string) (tok, rest string, err error) {
	i := 0
	for i < len(s) && httpguts.IsTokenRune(rune(s[i])) {
		i++
	}
	if i == 0 {
		return "", s, errNotToken
	}
	return s[:i], s[i:], nil
}

// quoted splits a quoted-string off the front of s and returns its
// unquoted value, which must be a token.
func quoted(s string) (val, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			val = b.String()
			if val == "" || strings.IndexFunc(val, func(r rune) bool { return !httpguts.IsTokenRune(r) }) >= 0 {
				return "", s, errors.New("quoted value is not a token")
			}
			return val, s[i+1:], nil
		case '\\':
			i++
			if i == len(s) {
				return "", s, errors.New("unterminated quoted string")
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", s, errors.New("unterminated quoted string")
}

// FormatExtensions returns the Sec-WebSocket-Extensions value for exts.
func FormatExtensions(exts []Extension) string {
	var b strings.Builder
	for i, e := range exts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Name)
		for _, p := range e.Params {
			b.WriteString("; ")
			b.WriteString(p.Name)
			if p.Value != "" {
				b.WriteByte('=')
				b.WriteString(p.Value)
			}
		}
	}
	return b.String()
}

// DeflateParams are the parameters of permessage-deflate
// ([RFC 7692, Section 7.1]). A window size of 0 means the parameter is
// absent. In a client's offer, client_max_window_bits without a value is
// ClientMaxWindowBits 15: the client accepts any value the server
// chooses.
//
// [RFC 7692, Section 7.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1
type DeflateParams struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int // 8-15, or 0
	ClientMaxWindowBits     int // 8-15, or 0
}

// parseDeflate reads the parameters of a permessage-deflate element.
// response says whether it is a server's response, where
// client_max_window_bits needs a value.
func parseDeflate(e Extension, response bool) (DeflateParams, error) {
	var d DeflateParams
	seen := map[string]bool{}
	for _, p := range e.Params {
		name := strings.ToLower(p.Name)
		// RFC 7692, Section 7: "An extension negotiation offer [or response] ... has
		// duplicate parameters" is to be declined (or fail the connection).
		if seen[name] {
			return d, fmt.Errorf("handshake: permessage-deflate: duplicate parameter %s", name)
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.Value != "" {
				return d, fmt.Errorf("handshake: permessage-deflate: %s takes no value", name)
			}
			if name == "server_no_context_takeover" {
				d.ServerNoContextTakeover = true
			} else {
				d.ClientNoContextTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			bits := 15
			if p.Value != "" || name == "server_max_window_bits" || response {
				var ok bool
				if bits, ok = windowBits(p.Value); !ok {
					return d, fmt.Errorf("handshake: permessage-deflate: %s=%q is not 8-15", name, p.Value)
				}
			}
			if name == "server_max_window_bits" {
				d.ServerMaxWindowBits = bits
			} else {
				d.ClientMaxWindowBits = bits
			}
		default:
			return d, fmt.Errorf("handshake: permessage-deflate: unknown parameter %s", p.Name)
		}
	}
	return d, nil
}

// windowBits parses a window size: "1*DIGIT" without leading zeros, 8-15
// (RFC 7692, Sections 7.1.2.1 and 7.1.2.2).
func windowBits(v string) (int, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 8 && n <= 15
}

// Extension returns p as a permessage-deflate Extension element.
func (p DeflateParams) Extension() Extension {
	e := Extension{Name: "permessage-deflate"}
	if p.ServerNoContextTakeover {
		e.Params = append(e.Params, Param{Name: "server_no_context_takeover"})
	}
	if p.ClientNoContextTakeover {
		e.Params = append(e.Params, Param{Name: "client_no_context_takeover"})
	}
	if p.ServerMaxWindowBits != 0 {
		e.Params = append(e.Params, Param{Name: "server_max_window_bits", Value: strconv.Itoa(p.ServerMaxWindowBits)})
	}
	if p.ClientMaxWindowBits != 0 {
		e.Params = append(e.Params, Param{Name: "client_max_window_bits", Value: strconv.Itoa(p.ClientMaxWindowBits)})
	}
	return e
}

// NegotiateDeflate picks the first acceptable permessage-deflate offer
// among a client's extensions and returns the server's response
// parameters ([RFC 7692, Section 7.1]). want is the server's policy:
// NoContextTakeover fields the server asks for, and the largest windows
// it will use for compressing (ServerMaxWindowBits) and allows the client
// (ClientMaxWindowBits); 0 means 15. An offer with unknown or duplicate
// parameters or values out of range is skipped. ok is false when no offer
// is acceptable: the server then answers without the extension, which
// never fails the handshake.
//
// [RFC 7692, Section 7.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1
func NegotiateDeflate(offers []Extension, want DeflateParams) (resp DeflateParams, ok bool) {
	for _, e := range offers {
		if !strings.EqualFold(e.Name, "permessage-deflate") {
			continue
		}
		offer, err := parseDeflate(e, false)
		if err != nil {
			continue
		}
		resp = DeflateParams{
			ServerNoContextTakeover: offer.ServerNoContextTakeover || want.ServerNoContextTakeover,
			ClientNoContextTakeover: offer.ClientNoContextTakeover || want.ClientNoContextTakeover,
		}
		// "the server ... including the server_max_window_bits extension parameter ... with the
		// same or smaller value as the offer" (7.1.2.1); it may also limit itself unasked.
		serverBits := orFifteen(want.ServerMaxWindowBits)
		if offer.ServerMaxWindowBits != 0 {
			resp.ServerMaxWindowBits = min(offer.ServerMaxWindowBits, serverBits)
		} else if serverBits < 15 {
			resp.ServerMaxWindowBits = serverBits
		}
		// "If a received extension negotiation offer doesn't have the client_max_window_bits
		// extension parameter, the corresponding extension negotiation response to the offer
		// MUST NOT include the client_max_window_bits extension parameter." (7.1.2.2)
		if offer.ClientMaxWindowBits != 0 {
			if clientBits := min(offer.ClientMaxWindowBits, orFifteen(want.ClientMaxWindowBits)); clientBits < 15 {
				resp.ClientMaxWindowBits = clientBits
			}
		}
		return resp, true
	}
	return DeflateParams{}, false
}

func orFifteen(bits int) int {
	if bits == 0 {
		return 15
	}
	return bits
}

// CheckDeflateResponse checks the server's Sec-WebSocket-Extensions
// response against a client's permessage-deflate offer and returns the
// agreed parameters and whether permessage-deflate was accepted. Any
// extension other than permessage-deflate, a repeated or malformed one,
// client_max_window_bits that was not offered, or a window size above the
// offered value fails the handshake ([RFC 6455, Section 9.1];
// [RFC 7692, Section 7.1]).
//
// [RFC 6455, Section 9.1]: https://www.rfc-editor.org/rfc/rfc6455#section-9.1
// [RFC 7692, Section 7.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1
func CheckDeflateResponse(header string, offer DeflateParams, offered bool) (DeflateParams, bool, error) {
	exts, err := ParseExtensions(header)
	if err != nil {
		return DeflateParams{}, false, err
	}
	switch {
	case len(exts) == 0:
		return DeflateParams{}, false, nil
	case !offered || len(exts) > 1 || !strings.EqualFold(exts[0].Name, "permessage-deflate"):
		return DeflateParams{}, false, fmt.Errorf("handshake: server accepted extensions %q that were not offered", header)
	}
	resp, err := parseDeflate(exts[0], true)
	if err != nil {
		return DeflateParams{}, false, err
	}
	if resp.ClientMaxWindowBits != 0 && offer.ClientMaxWindowBits == 0 {
		return DeflateParams{}, false, errors.New("handshake: permessage-deflate: server sent client_max_window_bits, which was not offered")
	}
	if resp.ClientMaxWindowBits > offer.ClientMaxWindowBits {
		// The offer's value is what the client can use (RFC 7692, Section 7.1.2.2).
		return DeflateParams{}, false, fmt.Errorf("handshake: permessage-deflate: client_max_window_bits=%d above the offered %d", resp.ClientMaxWindowBits, offer.ClientMaxWindowBits)
	}
	if offer.ServerMaxWindowBits != 0 && resp.ServerMaxWindowBits > offer.ServerMaxWindowBits {
		return DeflateParams{}, false, fmt.Errorf("handshake: permessage-deflate: server_max_window_bits=%d above the offered %d", resp.ServerMaxWindowBits, offer.ServerMaxWindowBits)
	}
	if offer.ServerMaxWindowBits != 0 && resp.ServerMaxWindowBits == 0 {
		return DeflateParams{}, false, errors.New("handshake: permessage-deflate: server ignored the offered server_max_window_bits")
	}
	return resp, true, nil
}

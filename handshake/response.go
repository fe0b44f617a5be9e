package handshake

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// AppendResponse appends the server's 101 Switching Protocols response
// ([RFC 6455, Section 4.2.2]) for the client's key to dst, with the chosen
// subprotocol and extensions (omitted when "") and any extra header
// fields, and returns the extended slice. It allocates nothing when dst
// has room and extra is nil.
//
// [RFC 6455, Section 4.2.2]: https://www.rfc-editor.org/rfc/rfc6455#section-4.2.2
func AppendResponse(dst []byte, key, protocol, extensions string, extra http.Header) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = appendAccept(dst, key)
	dst = append(dst, "\r\n"...)
	if protocol != "" {
		dst = append(append(append(dst, "Sec-WebSocket-Protocol: "...), protocol...), "\r\n"...)
	}
	if extensions != "" {
		dst = append(append(append(dst, "Sec-WebSocket-Extensions: "...), extensions...), "\r\n"...)
	}
	dst = appendHeader(dst, extra)
	return append(dst, "\r\n"...)
}

func appendHeader(dst []byte, h http.Header) []byte {
	for name, values := range h {
		for _, v := range values {
			// Header values must not carry line breaks into the response.
			v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			dst = append(append(append(append(dst, name...), ": "...), v...), "\r\n"...)
		}
	}
	return dst
}

// AppendRequest appends a client's opening handshake for the ws:// or
// wss:// URL u ([RFC 6455, Section 4.1]) to dst: GET of the URL's path and
// query, Host (host overrides u.Host when not ""), the Upgrade,
// Connection, Sec-WebSocket-Key and Sec-WebSocket-Version fields, the
// subprotocols and extension offer when given, and extra fields (Origin,
// Cookie, Authorization, …).
//
// [RFC 6455, Section 4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-4.1
func AppendRequest(dst []byte, u *url.URL, host, key string, protocols []string, extensions string, extra http.Header) []byte {
	if host == "" {
		host = u.Host
	}
	uri := u.RequestURI()
	dst = append(append(append(dst, "GET "...), uri...), " HTTP/1.1\r\nHost: "...)
	dst = append(append(dst, host...), "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	dst = append(append(dst, key...), "\r\nSec-WebSocket-Version: 13\r\n"...)
	if len(protocols) > 0 {
		dst = append(append(append(dst, "Sec-WebSocket-Protocol: "...), strings.Join(protocols, ", ")...), "\r\n"...)
	}
	if extensions != "" {
		dst = append(append(append(dst, "Sec-WebSocket-Extensions: "...), extensions...), "\r\n"...)
	}
	dst = appendHeader(dst, extra)
	return append(dst, "\r\n"...)
}

// CheckResponse reports whether resp is a valid answer to a client's
// opening handshake with the given key and offered subprotocols
// ([RFC 6455, Section 4.1], the client's checks): status 101, Upgrade
// websocket, Connection upgrade, the right Sec-WebSocket-Accept, and at
// most one subprotocol, one that was offered. It returns the chosen
// subprotocol. The extensions the server accepted are for the caller to
// check against its offer (see [ParseExtensions]).
//
// [RFC 6455, Section 4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-4.1
func CheckResponse(resp *http.Response, key string, protocols []string) (protocol string, err error) {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return "", fmt.Errorf("handshake: server answered %s, not 101 Switching Protocols", resp.Status)
	}
	h := resp.Header
	if !hasToken(joined(h.Values("Upgrade")), "websocket") {
		return "", errors.New(`handshake: response Upgrade header does not contain "websocket"`)
	}
	if !hasToken(joined(h.Values("Connection")), "upgrade") {
		return "", errors.New(`handshake: response Connection header does not contain "upgrade"`)
	}
	if got, want := h.Get("Sec-Websocket-Accept"), AcceptKey(key); got != want {
		return "", fmt.Errorf("handshake: Sec-WebSocket-Accept is %q, want %q", got, want)
	}
	switch p := h.Values("Sec-Websocket-Protocol"); {
	case len(p) > 1 || strings.Contains(joined(p), ","):
		return "", errors.New("handshake: server chose more than one subprotocol")
	case len(p) == 1:
		protocol = strings.TrimSpace(p[0])
		for _, offered := range protocols {
			if offered == protocol {
				return protocol, nil
			}
		}
		return "", fmt.Errorf("handshake: server chose subprotocol %q, which was not offered", protocol)
	}
	return "", nil
}

package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/internal/optcheck"
)

// Defaults for the zero values of Options.
const (
	defaultHandshakeTimeout = 10 * time.Second
	defaultMaxHeaderBytes   = 256 << 10
)

// Options configure Dial. A nil *Options is the zero value: no
// subprotocol, no compression, proxies from the environment as net/http
// takes them, and the defaults of conn.Options. Dial checks every field
// before it connects; one out of its range fails the Dial with an error
// naming the field.
type Options struct {
	// Subprotocols are offered in Sec-WebSocket-Protocol, in order of
	// preference. Each must be an HTTP token, and they must differ
	// (RFC 6455, Section 4.1).
	Subprotocols []string

	// Header holds extra request fields: Origin, Authorization,
	// User-Agent, ... It may not set the fields of the handshake itself
	// (Host, Upgrade, Connection, Sec-WebSocket-*); Host, Subprotocols
	// and Compression set those.
	Header http.Header

	// Host, if set, is sent as the Host header instead of the URL's host.
	Host string

	// Jar, if set, supplies cookies for the request and keeps those the
	// response sets.
	Jar http.CookieJar

	// TLSConfig is used for wss:// URLs; ServerName defaults to the URL's
	// host.
	TLSConfig *tls.Config

	// ProxyTLSConfig is used for the TLS connection to an https://
	// proxy; ServerName defaults to the proxy's host. Nil means the
	// system's roots. TLSConfig is not used for the proxy: the proxy and
	// the server need not trust the same authorities.
	ProxyTLSConfig *tls.Config

	// DialContext dials TCP connections (to the server or the proxy);
	// the default is a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy returns the proxy for a request, as http.Transport.Proxy
	// does: an http://, https:// or socks5:// URL, or nil for none. The
	// default is http.ProxyFromEnvironment, with the request's scheme
	// http for ws:// and https for wss://.
	Proxy func(*http.Request) (*url.URL, error)

	// ProxyConnectHeader holds extra fields for HTTP CONNECT requests.
	ProxyConnectHeader http.Header

	// HandshakeTimeout bounds dialing, TLS and the handshake together.
	// Zero means 10 s.
	HandshakeTimeout time.Duration

	// MaxHeaderBytes bounds the response head Dial reads: the server's,
	// and an HTTP proxy's answer to CONNECT. A longer one fails the Dial.
	// Zero means 256 KiB, as much as browsers accept.
	MaxHeaderBytes int

	// HTTP2, if not nil, opens the WebSocket as a stream of an HTTP/2
	// connection it holds (RFC 8441), shared with the other Dials that
	// use it, when the server allows; otherwise Dial upgrades an
	// HTTP/1.1 connection as usual. See HTTP2.
	HTTP2 *HTTP2

	// Compression, if not nil, offers permessage-deflate (RFC 7692), the
	// compression browsers use; Conn.Extensions tells whether the server
	// accepted it. Its fields are what the client asks for (see
	// conn.Compression): ServerMaxWindowBits asks the server for a
	// smaller window, and ClientMaxWindowBits limits the client's own,
	// which is otherwise left for the server to choose. Dial fails if
	// the server answers with parameters outside the offer.
	Compression *conn.Compression

	// Conn configures the connection: read limit, buffers, keepalive,
	// close timeout, backpressure, and how messages are compressed.
	Conn conn.Options
}

// reservedHeader are the request fields the handshake sets itself, which
// Options.Header may not set.
var reservedHeader = []string{"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding"}

// validate reports whether every field of o is within its range.
func (o *Options) validate() error {
	var windows conn.Compression
	if o.Compression != nil {
		windows = *o.Compression
	}
	err := optcheck.First(
		optcheck.Tokens("client: Options.Subprotocols", o.Subprotocols),
		uniqueSubprotocols(o.Subprotocols),
		optcheck.Header("client: Options.Header", o.Header, reservedHeader...),
		optcheck.Header("client: Options.ProxyConnectHeader", o.ProxyConnectHeader, "Host", "Content-Length", "Transfer-Encoding"),
		checkHost(o.Host),
		optcheck.NonNegative("client: Options.HandshakeTimeout", o.HandshakeTimeout),
		optcheck.NonNegative("client: Options.MaxHeaderBytes", o.MaxHeaderBytes),
		optcheck.Windows("client: Options.Compression", windows.ServerMaxWindowBits, windows.ClientMaxWindowBits),
	)
	if err != nil {
		return err
	}
	if err := o.Conn.Validate(); err != nil {
		return fmt.Errorf("client: Options.Conn: %w", err)
	}
	return nil
}

// uniqueSubprotocols reports a subprotocol named twice: RFC 6455,
// Section 4.1 has them "all be unique strings".
func uniqueSubprotocols(list []string) error {
	for i, p := range list {
		if slices.Contains(list[:i], p) {
			return fmt.Errorf("client: Options.Subprotocols names %q twice", p)
		}
	}
	return nil
}

// checkHost reports an Options.Host that cannot be a Host field.
func checkHost(host string) error {
	if strings.ContainsAny(host, " \t\r\n/?#@") {
		return fmt.Errorf("client: Options.Host is %q, which is not a host", host)
	}
	return nil
}

// A HandshakeError is a server's refusal of the opening handshake, or an
// answer that breaks RFC 6455.
type HandshakeError struct {
	Response *http.Response // body: at most the first 1 KiB, what arrived within a second
	Err      error
}

// Error describes the failure.
func (e *HandshakeError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *HandshakeError) Unwrap() error { return e.Err }

var noOptions Options

// parseURL parses a WebSocket URL (RFC 6455, Section 3): ws or wss, a
// host, no fragment.
func parseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("client: URL scheme %q is not ws or wss", u.Scheme)
	}
	// RFC 6455, Section 3: "Fragment identifiers are meaningless in the context of WebSocket
	// URIs and MUST NOT be used on these URIs."
	if u.Fragment != "" || strings.Contains(rawURL, "#") {
		return nil, errors.New("client: WebSocket URLs may not have a fragment")
	}
	if u.Host == "" {
		return nil, errors.New("client: URL has no host")
	}
	return u, nil
}

// handshakeTimeout returns Options.HandshakeTimeout, or its default.
func (o *Options) handshakeTimeout() time.Duration {
	if o.HandshakeTimeout > 0 {
		return o.HandshakeTimeout
	}
	return defaultHandshakeTimeout
}

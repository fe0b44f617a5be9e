// Package client dials WebSocket servers: ws:// and wss:// URLs, directly
// or through HTTP, HTTPS and SOCKS5 proxies, performing the opening
// handshake of [RFC 6455, Section 4.1] and returning a conn.Conn.
//
// # Errors
//
// A server that answers the handshake with anything but a valid 101
// response gives a *[HandshakeError], which holds the response (status,
// headers and at most 1 KiB of body) for inspection; Dial also returns
// that response.
//
// [RFC 6455, Section 4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-4.1
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/proxy"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
)

// DefaultHandshakeTimeout bounds dialing, TLS and the opening handshake
// when Options.HandshakeTimeout is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// Options configure Dial. A nil *Options is the zero value: no
// subprotocol, proxies from the environment as net/http takes them, and
// the defaults of conn.Options.
type Options struct {
	// Subprotocols are offered in Sec-WebSocket-Protocol, in order of
	// preference.
	Subprotocols []string
	// Header holds extra request fields: Origin, Authorization,
	// User-Agent, ...
	Header http.Header
	// Host, if set, is sent as the Host header instead of the URL's host.
	Host string
	// Jar, if set, supplies cookies for the request and keeps those the
	// response sets.
	Jar http.CookieJar
	// TLSConfig is used for wss:// URLs; ServerName defaults to the URL's
	// host.
	TLSConfig *tls.Config
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
	// Zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// Deflate, if not nil, offers permessage-deflate (RFC 7692), the
	// compression browsers use. ServerNoContextTakeover and
	// ClientNoContextTakeover ask that the server's or the client's
	// messages be compressed each on its own, which spares the
	// connection the history it otherwise holds for that direction;
	// ServerMaxWindowBits (8 to 15) asks the server for a smaller
	// window, and ClientMaxWindowBits limits the client's own, which is
	// otherwise left for the server to choose. Dial fails if the server
	// answers with parameters outside the offer. Conn.CompressionLevel
	// and Conn.CompressionThreshold say how messages are compressed.
	Deflate *handshake.DeflateParams

	// Conn configures the connection.
	Conn conn.Options
}

// A HandshakeError is a server's refusal of the opening handshake, or an
// answer that breaks RFC 6455.
type HandshakeError struct {
	Response *http.Response // body: at most 1 KiB of the original
	Err      error
}

// Error describes the failure.
func (e *HandshakeError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *HandshakeError) Unwrap() error { return e.Err }

var noOptions Options

// Dial connects to the WebSocket server at rawURL (ws:// or wss://; no
// fragment) and performs the opening handshake. On success it returns the
// connection and the server's 101 response (with an empty body). A
// rejected handshake gives a *HandshakeError and the response.
func Dial(ctx context.Context, rawURL string, opts *Options) (*conn.Conn, *http.Response, error) {
	if opts == nil {
		opts = &noOptions
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	var secure bool
	switch u.Scheme {
	case "ws":
	case "wss":
		secure = true
	default:
		return nil, nil, fmt.Errorf("client: URL scheme %q is not ws or wss", u.Scheme)
	}
	// RFC 6455, Section 3: "Fragment identifiers are meaningless in the context of WebSocket
	// URIs and MUST NOT be used on these URIs."
	if u.Fragment != "" || strings.Contains(rawURL, "#") {
		return nil, nil, errors.New("client: WebSocket URLs may not have a fragment")
	}
	if u.Host == "" {
		return nil, nil, errors.New("client: URL has no host")
	}
	timeout := opts.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	addr := hostPort(u.Host, secure)
	nc, err := opts.dial(ctx, u, addr, secure)
	if err != nil {
		return nil, nil, err
	}
	// The handshake obeys ctx: ending it interrupts any blocked I/O.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	if secure {
		cfg := opts.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, nil, fmt.Errorf("client: TLS handshake with %s: %w", addr, err)
		}
		nc = tc
	}
	c, resp, err := opts.handshake(nc, u)
	if !stop() || ctx.Err() != nil {
		if err == nil {
			c.CloseNow()
		} else {
			nc.Close()
		}
		return nil, resp, fmt.Errorf("client: opening handshake: %w", ctx.Err())
	}
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	return c, resp, nil
}

func hostPort(host string, secure bool) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if secure {
		return net.JoinHostPort(host, "443")
	}
	return net.JoinHostPort(host, "80")
}

// handshake writes the request on nc and checks the response.
func (o *Options) handshake(nc net.Conn, u *url.URL) (*conn.Conn, *http.Response, error) {
	key := handshake.NewKey()
	header := o.Header
	if o.Jar != nil {
		if cookies := o.Jar.Cookies(httpURL(u)); len(cookies) > 0 {
			header = header.Clone()
			if header == nil {
				header = http.Header{}
			}
			var parts []string
			for _, c := range cookies {
				parts = append(parts, c.String())
			}
			header.Set("Cookie", strings.Join(parts, "; "))
		}
	}
	offer, offerHeader := o.deflateOffer()
	req := handshake.AppendRequest(make([]byte, 0, 512), u, o.Host, key, o.Subprotocols, offerHeader, header)
	if _, err := nc.Write(req); err != nil {
		return nil, nil, fmt.Errorf("client: writing the handshake request: %w", err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		return nil, nil, fmt.Errorf("client: reading the handshake response: %w", err)
	}
	if o.Jar != nil {
		if cookies := resp.Cookies(); len(cookies) > 0 {
			o.Jar.SetCookies(httpURL(u), cookies)
		}
	}
	protocol, err := handshake.CheckResponse(resp, key, o.Subprotocols)
	ext := strings.Join(resp.Header.Values("Sec-Websocket-Extensions"), ", ")
	var agreed handshake.DeflateParams
	var deflate bool
	if err == nil {
		agreed, deflate, err = handshake.CheckDeflateResponse(ext, offer, o.Deflate != nil)
	}
	if err != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, resp, &HandshakeError{Response: resp, Err: err}
	}
	resp.Body = http.NoBody
	buffered, _ := br.Peek(br.Buffered())
	co := o.Conn
	co.Subprotocol = protocol
	if deflate {
		co.Extensions = ext
		co.Deflate = &conn.Deflate{
			ReadNoContextTakeover:  agreed.ServerNoContextTakeover,
			WriteNoContextTakeover: agreed.ClientNoContextTakeover,
			ReadWindowBits:         agreed.ServerMaxWindowBits,
			// RFC 7692, Section 7.1.2.2: a value in the offer already binds the client.
			WriteWindowBits: minBits(agreed.ClientMaxWindowBits, o.Deflate.ClientMaxWindowBits),
		}
	}
	nc.SetDeadline(time.Time{})
	return conn.New(nc, frame.Client, buffered, &co), resp, nil
}

// deflateOffer returns the permessage-deflate offer Dial makes, as the
// parameters CheckDeflateResponse needs and as the header value. Like
// browsers, it always offers client_max_window_bits, without a value
// unless a limit was set, so that the server may pick the client's window.
func (o *Options) deflateOffer() (handshake.DeflateParams, string) {
	if o.Deflate == nil {
		return handshake.DeflateParams{}, ""
	}
	offer := *o.Deflate
	e := offer.Extension()
	if offer.ClientMaxWindowBits == 0 {
		offer.ClientMaxWindowBits = 15
		e.Params = append(e.Params, handshake.Param{Name: "client_max_window_bits"})
	}
	return offer, handshake.FormatExtensions([]handshake.Extension{e})
}

// minBits returns the smaller of two window sizes, where 0 means none.
func minBits(a, b int) int {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// httpURL returns the http:// or https:// form of a ws:// or wss:// URL,
// for cookie jars and proxy selection.
func httpURL(u *url.URL) *url.URL {
	h := *u
	h.Scheme = "http"
	if u.Scheme == "wss" {
		h.Scheme = "https"
	}
	return &h
}

// dial connects to addr, through a proxy if one applies.
func (o *Options) dial(ctx context.Context, u *url.URL, addr string, secure bool) (net.Conn, error) {
	dialContext := o.DialContext
	if dialContext == nil {
		var d net.Dialer
		dialContext = d.DialContext
	}
	proxyFor := o.Proxy
	if proxyFor == nil {
		proxyFor = http.ProxyFromEnvironment
	}
	proxyURL, err := proxyFor(&http.Request{Method: http.MethodGet, URL: httpURL(u), Host: u.Host})
	if err != nil {
		return nil, fmt.Errorf("client: choosing a proxy: %w", err)
	}
	if proxyURL == nil {
		nc, err := dialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		return nc, nil
	}
	switch proxyURL.Scheme {
	case "http", "https":
		return o.connect(ctx, dialContext, proxyURL, addr)
	case "socks5", "socks5h":
		d, err := proxy.FromURL(proxyURL, contextDialer(dialContext))
		if err != nil {
			return nil, fmt.Errorf("client: SOCKS5 proxy %s: %w", proxyURL.Redacted(), err)
		}
		nc, err := d.(proxy.ContextDialer).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("client: via SOCKS5 proxy %s: %w", proxyURL.Redacted(), err)
		}
		return nc, nil
	}
	return nil, fmt.Errorf("client: unsupported proxy scheme %q", proxyURL.Scheme)
}

type contextDialer func(ctx context.Context, network, addr string) (net.Conn, error)

func (d contextDialer) Dial(network, addr string) (net.Conn, error) {
	return d(context.Background(), network, addr)
}

func (d contextDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d(ctx, network, addr)
}

// connect opens a tunnel to addr with HTTP CONNECT through an http:// or
// https:// proxy.
func (o *Options) connect(ctx context.Context, dialContext contextDialer, proxyURL *url.URL, addr string) (net.Conn, error) {
	nc, err := dialContext(ctx, "tcp", hostPort(proxyURL.Host, proxyURL.Scheme == "https"))
	if err != nil {
		return nil, fmt.Errorf("client: dialing proxy %s: %w", proxyURL.Redacted(), err)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if proxyURL.Scheme == "https" {
		tc := tls.Client(nc, &tls.Config{ServerName: proxyURL.Hostname(), RootCAs: o.rootCAs()})
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("client: TLS with proxy %s: %w", proxyURL.Redacted(), err)
		}
		nc = tc
	}
	header := o.ProxyConnectHeader.Clone()
	if header == nil {
		header = http.Header{}
	}
	if user := proxyURL.User; user != nil {
		pass, _ := user.Password()
		header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user.Username()+":"+pass)))
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: header}
	if err := req.Write(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("client: CONNECT via proxy %s: %w", proxyURL.Redacted(), err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("client: CONNECT via proxy %s: %w", proxyURL.Redacted(), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		nc.Close()
		return nil, fmt.Errorf("client: proxy %s answered CONNECT with %s", proxyURL.Redacted(), resp.Status)
	}
	if br.Buffered() > 0 {
		nc.Close()
		return nil, fmt.Errorf("client: proxy %s sent data before the tunnel was used", proxyURL.Redacted())
	}
	return nc, nil
}

// rootCAs returns the roots to trust for an https:// proxy: those of
// TLSConfig, or the system's.
func (o *Options) rootCAs() *x509.CertPool {
	if o.TLSConfig != nil {
		return o.TLSConfig.RootCAs
	}
	return nil
}

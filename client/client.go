//go:build !js

// Package client dials WebSocket servers: ws:// and wss:// URLs, directly
// or through HTTP, HTTPS and SOCKS5 proxies, performing the opening
// handshake of [RFC 6455, Section 4.1] and returning a conn.Conn.
//
// A client that offers compression and a subprotocol and closes with a
// code needs this package and package conn:
//
//	c, _, err := client.Dial(ctx, "wss://example.com/socket", &client.Options{
//		Subprotocols: []string{"chat.v1"},
//		Compression:  &conn.Compression{},
//		Header:       http.Header{"Authorization": {"Bearer " + token}},
//	})
//	if err != nil {
//		return err
//	}
//	defer c.CloseNow()
//	err = c.Write(ctx, conn.Text, []byte("hello"))
//	...
//	c.Close(conn.CloseNormalClosure, "bye")
//
// Options holds what the client asks for; Options.Conn, a conn.Options,
// holds how the connection reads, writes and waits. What the server
// agreed to is read back from the Conn (Conn.Subprotocol,
// Conn.Extensions).
//
// # Concurrency
//
// Dial may be called from any number of goroutines, with the same Options.
//
// # Errors
//
// A server that answers the handshake with anything but a valid 101
// response gives a *[HandshakeError], which holds the response (status,
// headers and at most 1 KiB of body, what arrived within a second) for
// inspection; Dial also returns that response. A response head longer
// than Options.MaxHeaderBytes, from the server or a proxy, fails the
// Dial with an error that says so. Options out of their range give an
// error naming the field, before anything is dialed.
//
// [RFC 6455, Section 4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-4.1
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
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

// Dial connects to the WebSocket server at rawURL (ws:// or wss://; no
// fragment) and performs the opening handshake. On success it returns the
// connection and the server's 101 response (with an empty body). A
// rejected handshake gives a *HandshakeError and the response.
func Dial(ctx context.Context, rawURL string, opts *Options) (*conn.Conn, *http.Response, error) {
	if opts == nil {
		opts = &noOptions
	}
	if err := opts.validate(); err != nil {
		return nil, nil, err
	}
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	secure := u.Scheme == "wss"
	ctx, cancel := context.WithTimeout(ctx, opts.handshakeTimeout())
	defer cancel()

	addr := hostPort(u.Host, secure)
	if h := opts.HTTP2; h != nil && (secure || h.Cleartext) {
		c, resp, err := opts.dialHTTP2(ctx, u, addr)
		if !errors.Is(err, errNoExtendedConnect) {
			return c, resp, err
		}
	}
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
	header := o.requestHeader(u)
	offer, offerHeader := o.deflateOffer()
	req := handshake.AppendRequest(make([]byte, 0, 512), u, o.Host, key, o.Subprotocols, offerHeader, header)
	if _, err := nc.Write(req); err != nil {
		return nil, nil, fmt.Errorf("client: writing the handshake request: %w", err)
	}
	head := o.headLimit(nc)
	br := bufio.NewReader(head)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		return nil, nil, fmt.Errorf("client: reading the handshake response: %w", head.explain(err))
	}
	head.lift()
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
		agreed, deflate, err = handshake.CheckDeflateResponse(ext, offer, o.Compression != nil)
	}
	if err != nil {
		resp.Body = io.NopCloser(bytes.NewReader(firstBytes(nc, resp.Body)))
		return nil, resp, &HandshakeError{Response: resp, Err: err}
	}
	resp.Body = http.NoBody
	agreement := conn.Handshake{Subprotocol: protocol}
	agreement.Buffered, _ = br.Peek(br.Buffered())
	if deflate {
		agreement.Extensions = ext
		// RFC 7692, Section 7.1.2.2: a value in the offer already binds the client.
		agreed.ClientMaxWindowBits = minBits(agreed.ClientMaxWindowBits, o.Compression.ClientMaxWindowBits)
		c := conn.Compression(agreed)
		agreement.Compression = &c
	}
	// Cleared first, so that what Options.Conn.OnOpen writes is not bound
	// by the handshake's deadline.
	nc.SetDeadline(time.Time{})
	c, err := conn.New(nc, frame.Client, &agreement, &o.Conn)
	if err != nil {
		return nil, resp, &HandshakeError{Response: resp, Err: fmt.Errorf("client: %w", err)}
	}
	return c, resp, nil
}

// requestHeader returns the extra fields of a request for u: Header, and
// the cookies of Jar.
func (o *Options) requestHeader(u *url.URL) http.Header {
	header := o.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if o.Jar != nil {
		if cookies := o.Jar.Cookies(httpURL(u)); len(cookies) > 0 {
			var parts []string
			for _, c := range cookies {
				parts = append(parts, c.String())
			}
			header.Set("Cookie", strings.Join(parts, "; "))
		}
	}
	return header
}

// A headLimiter bounds the bytes an HTTP response head may take: once
// they are read, reads fail with errHeadTooLarge, until lift.
type headLimiter struct {
	r    io.Reader
	left int
	max  int
}

var errHeadTooLarge = errors.New("the response head is longer than Options.MaxHeaderBytes")

func (o *Options) headLimit(r io.Reader) *headLimiter {
	limit := o.MaxHeaderBytes
	if limit == 0 {
		limit = defaultMaxHeaderBytes
	}
	return &headLimiter{r: r, left: limit, max: limit}
}

func (l *headLimiter) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, l.err()
	}
	if len(p) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= n
	return n, err
}

// lift ends the limit, once the head has been read.
func (l *headLimiter) lift() { l.left = math.MaxInt }

// err is the error for a head that reached the limit.
func (l *headLimiter) err() error { return fmt.Errorf("%w (%d bytes)", errHeadTooLarge, l.max) }

// explain returns err, the error of reading a head, or the limit's error
// if the head reached the limit: the parser may have failed first, on
// the part of a line the limit cut.
func (l *headLimiter) explain(err error) error {
	if l.left <= 0 {
		return l.err()
	}
	return err
}

// refusalBody bounds what Dial reads of the body of a response that
// refused the upgrade: its first bytes, arriving within a short wait.
const (
	refusalBodyBytes = 1024
	refusalBodyWait  = time.Second
)

// firstBytes returns the first bytes of the body of a refusal, at most
// refusalBodyBytes of them, waiting at most refusalBodyWait: a body may
// never end (an event stream at the URL, say), and the connection is
// closed after it anyway.
func firstBytes(nc net.Conn, body io.Reader) []byte {
	nc.SetReadDeadline(time.Now().Add(refusalBodyWait))
	b, _ := io.ReadAll(io.LimitReader(body, refusalBodyBytes))
	return b
}

// deflateOffer returns the permessage-deflate offer Dial makes, as the
// parameters CheckDeflateResponse needs and as the header value. Like
// browsers, it always offers client_max_window_bits, without a value
// unless a limit was set, so that the server may pick the client's window.
func (o *Options) deflateOffer() (handshake.DeflateParams, string) {
	if o.Compression == nil {
		return handshake.DeflateParams{}, ""
	}
	offer := handshake.DeflateParams(*o.Compression)
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
		cd, ok := d.(proxy.ContextDialer)
		if !ok {
			return nil, fmt.Errorf("client: SOCKS5 proxy %s: the proxy package gave a dialer without DialContext", proxyURL.Redacted())
		}
		nc, err := cd.DialContext(ctx, "tcp", addr)
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
		cfg := o.ProxyTLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = proxyURL.Hostname()
		}
		tc := tls.Client(nc, cfg)
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
	head := o.headLimit(nc)
	br := bufio.NewReader(head)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("client: CONNECT via proxy %s: %w", proxyURL.Redacted(), head.explain(err))
	}
	// The body of a refusal is not read: it may never end, and the
	// connection is closed anyway.
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

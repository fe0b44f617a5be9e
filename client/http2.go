//go:build !js

//lint:file-ignore SA1019 x/net's http2.Transport is deprecated for net/http's, which cannot send an extended CONNECT (RFC 8441) in Go 1.26.

package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/internal/h2stream"
)

// HTTP2 holds the HTTP/2 connections on which the Dials that share it
// open their WebSockets, each as one stream, with the extended CONNECT of
// [RFC 8441]: many WebSockets to one server share one TCP connection. A
// server that does not allow extended CONNECT (it did not send
// SETTINGS_ENABLE_CONNECT_PROTOCOL), or does not speak HTTP/2, gets an
// HTTP/1.1 upgrade instead, on a connection of its own, and is not asked
// again for five minutes. The zero value is ready to use; an HTTP2 is safe
// for concurrent use, and idle connections close after 90 seconds.
//
// The connections are made with the TLSConfig and DialContext of the
// first Dial that uses the HTTP2; Proxy does not apply to them.
//
// [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
type HTTP2 struct {
	// Cleartext allows ws:// URLs over HTTP/2 without TLS (h2c, with prior
	// knowledge, as some servers inside a data center take it); without
	// it only wss:// URLs use HTTP/2, negotiated with TLS as browsers do.
	Cleartext bool

	once      sync.Once
	secure    *http2.Transport // for wss:// URLs: TLS with ALPN h2
	cleartext *http2.Transport // for ws:// URLs: h2c with prior knowledge
	mu        sync.Mutex
	refused   map[string]time.Time // host:port → when HTTP/2 was found wanting
}

// http2Retry is how long a server found without extended CONNECT is
// dialed with HTTP/1.1 only.
const http2Retry = 5 * time.Minute

// errNoExtendedConnect means the server cannot take a WebSocket over
// HTTP/2: Dial falls back to HTTP/1.1.
var errNoExtendedConnect = errors.New("client: the server does not accept WebSockets over HTTP/2")

func (h *HTTP2) init(o *Options) {
	h.once.Do(func() {
		dial := o.DialContext
		if dial == nil {
			var d net.Dialer
			dial = d.DialContext
		}
		h.secure = &http2.Transport{
			TLSClientConfig: o.TLSConfig.Clone(),
			IdleConnTimeout: 90 * time.Second,
			DialTLSContext: func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
				nc, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				tc := tls.Client(nc, cfg)
				if err := tc.HandshakeContext(ctx); err != nil {
					nc.Close()
					return nil, err
				}
				if tc.ConnectionState().NegotiatedProtocol != "h2" {
					tc.Close()
					return nil, errNoExtendedConnect
				}
				return tc, nil
			},
		}
		h.cleartext = &http2.Transport{
			AllowHTTP:       true,
			IdleConnTimeout: 90 * time.Second,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				return dial(ctx, network, addr)
			},
		}
		h.refused = map[string]time.Time{}
	})
}

// skip reports whether host was found without extended CONNECT lately.
func (h *HTTP2) skip(host string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	when, ok := h.refused[host]
	if ok && time.Since(when) > http2Retry {
		delete(h.refused, host)
		return false
	}
	return ok
}

func (h *HTTP2) refuse(host string) {
	h.mu.Lock()
	h.refused[host] = time.Now()
	h.mu.Unlock()
}

// dialHTTP2 opens a WebSocket as a stream of an HTTP/2 connection of
// o.HTTP2, or returns errNoExtendedConnect.
func (o *Options) dialHTTP2(ctx context.Context, u *url.URL, addr string) (*conn.Conn, *http.Response, error) {
	h := o.HTTP2
	h.init(o)
	if h.skip(addr) {
		return nil, nil, errNoExtendedConnect
	}
	target := httpURL(u)
	target.Host = addr
	pr, pw := io.Pipe()
	body := &requestBody{r: pr, drained: make(chan struct{})}
	// The stream outlives Dial's context, which ends when Dial returns:
	// the request gets a context of its own, cancelled with Dial's only
	// until the response has come.
	reqCtx, cancelReq := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancelReq)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodConnect, target.String(), body)
	if err != nil {
		cancelReq()
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	req.Host = u.Host
	if o.Host != "" {
		req.Host = o.Host
	}
	req.Header = o.requestHeader(u)
	// RFC 8441, Section 4: the :protocol pseudo-header names the protocol the stream
	// carries; Section 5: Sec-WebSocket-Key and Sec-WebSocket-Accept are not used.
	req.Header.Set(":protocol", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	if len(o.Subprotocols) > 0 {
		req.Header.Set("Sec-WebSocket-Protocol", strings.Join(o.Subprotocols, ", "))
	}
	offer, offerHeader := o.deflateOffer()
	if offerHeader != "" {
		req.Header.Set("Sec-WebSocket-Extensions", offerHeader)
	}
	transport := h.secure
	if u.Scheme == "ws" {
		transport = h.cleartext
	}
	resp, err := transport.RoundTrip(req)
	if !stop() {
		err = errors.Join(err, ctx.Err())
	}
	if err != nil {
		cancelReq()
		pw.Close()
		if errors.Is(err, errNoExtendedConnect) || strings.Contains(err.Error(), "extended connect not supported") {
			h.refuse(addr)
			return nil, nil, errNoExtendedConnect
		}
		if resp != nil {
			resp.Body.Close()
		}
		return nil, nil, fmt.Errorf("client: extended CONNECT to %s: %w", addr, err)
	}
	fail := func(err error) (*conn.Conn, *http.Response, error) {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, refusalBodyBytes))
		resp.Body.Close()
		pw.Close()
		cancelReq()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, resp, &HandshakeError{Response: resp, Err: err}
	}
	if o.Jar != nil {
		if cookies := resp.Cookies(); len(cookies) > 0 {
			o.Jar.SetCookies(httpURL(u), cookies)
		}
	}
	if resp.StatusCode != http.StatusOK {
		// RFC 8441, Section 5: a successful extended CONNECT is answered with 200.
		return fail(fmt.Errorf("handshake: server answered the extended CONNECT with %s, not 200", resp.Status))
	}
	protocol, err := checkSubprotocol(resp.Header, o.Subprotocols)
	if err != nil {
		return fail(err)
	}
	ext := strings.Join(resp.Header.Values("Sec-Websocket-Extensions"), ", ")
	agreed, deflate, err := handshake.CheckDeflateResponse(ext, offer, o.Compression != nil)
	if err != nil {
		return fail(err)
	}
	agreement := conn.Handshake{Subprotocol: protocol}
	if deflate {
		agreement.Extensions = ext
		agreed.ClientMaxWindowBits = minBits(agreed.ClientMaxWindowBits, o.Compression.ClientMaxWindowBits)
		c := conn.Compression(agreed)
		agreement.Compression = &c
	}
	respBody := resp.Body
	resp.Body = http.NoBody
	stream := h2stream.Stream{
		Write: pw.Write,
		// Resetting the stream is the only way to interrupt a write that
		// waits on the server's flow control.
		Abort: func() { pw.CloseWithError(errAborted) },
		End: func() {
			pw.Close() // END_STREAM
			// A write returns once the Transport has taken its bytes, not
			// once they are sent, and cancelling the request resets the
			// stream at once, discarding what is queued: the Close frame
			// just written, say. As TCP delivers what was written before a
			// close, wait (within bounds) until the Transport has sent all
			// and read the end of the body.
			select {
			case <-body.drained:
			case <-time.After(endTimeout):
			}
			cancelReq()
		},
	}
	nc := h2stream.New(respBody, stream, nil, h2stream.Addr(addr))
	c, err := conn.New(nc, frame.Client, &agreement, &o.Conn)
	if err != nil {
		nc.Close()
		return nil, resp, &HandshakeError{Response: resp, Err: fmt.Errorf("client: %w", err)}
	}
	return c, resp, nil
}

var errAborted = errors.New("client: write interrupted")

// endTimeout bounds how long ending a stream waits for the Transport to
// send what was written to it.
const endTimeout = time.Second

// requestBody is the body of an extended CONNECT: what the Conn writes to
// the pipe. The Transport reads it, sends each read as DATA, and reads
// again only once that is written; drained is closed when a read returns
// the end (or an error), so all that was written has been sent.
type requestBody struct {
	r       io.Reader
	once    sync.Once
	drained chan struct{}
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil {
		b.once.Do(func() { close(b.drained) })
	}
	return n, err
}

// checkSubprotocol returns the subprotocol the server chose in h, which
// must be at most one, and one that was offered.
func checkSubprotocol(h http.Header, offered []string) (string, error) {
	values := h.Values("Sec-Websocket-Protocol")
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1 || strings.Contains(values[0], ","):
		return "", errors.New("handshake: server chose more than one subprotocol")
	}
	p := strings.TrimSpace(values[0])
	for _, o := range offered {
		if o == p {
			return p, nil
		}
	}
	return "", fmt.Errorf("handshake: server chose subprotocol %q, which was not offered", p)
}

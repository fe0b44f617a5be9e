package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/internal/optcheck"
)

// Defaults for the zero values of [Options].
const (
	defaultHandshakeTimeout = 10 * time.Second
	defaultMaxHeaderBytes   = 16 << 10
)

// Options configure an upgrade. A nil *Options is the zero value, which is
// safe: same-origin browser requests only, no subprotocol, no
// compression, and the defaults of conn.Options. Upgrade and UpgradeConn
// check every field before they answer a request; one out of its range
// fails the upgrade with 500 Internal Server Error and an error naming
// the field.
type Options struct {
	// Subprotocols are the subprotocols the server speaks, in order of
	// preference. The first one the client offered is chosen; if none
	// is, the connection goes on without a subprotocol
	// (Conn.Subprotocol is ""). Each must be an HTTP token.
	Subprotocols []string

	// OriginPatterns allow browser requests from other origins than the
	// request's own host: path.Match patterns, compared without regard to
	// case, on the host or host:port of the request's Origin, such as
	// "*.example.com" (which matches no port), "localhost:*" or
	// "example.com:8443". "*" allows every origin. Requests without an
	// Origin (non-browser clients) are always allowed.
	OriginPatterns []string

	// HandshakeTimeout bounds reading the request (UpgradeConn) and
	// writing the response. Zero means 10 s.
	HandshakeTimeout time.Duration

	// MaxHeaderBytes bounds the request head UpgradeConn reads; a larger
	// one gets 431. Zero means 16 KiB. Upgrade reads no request: set
	// http.Server.MaxHeaderBytes for it.
	MaxHeaderBytes int

	// Header holds extra fields for every 101 response, such as
	// Set-Cookie. It may not set the fields of the handshake itself
	// (Upgrade, Connection, Sec-WebSocket-*). With Upgrade, the fields a
	// handler or middleware set in the ResponseWriter's Header go out
	// too, as with any response, apart from those.
	Header http.Header

	// Compression, if not nil, accepts permessage-deflate (RFC 7692)
	// from clients that offer it, as browsers do: the first acceptable
	// offer is taken, and when none is the connection goes on
	// uncompressed. Its fields are the server's own wishes, granted
	// whatever the client offered; see conn.Compression.
	Compression *conn.Compression

	// Conn configures the connections: read limit, buffers, keepalive,
	// close timeout, backpressure, and how messages are compressed.
	Conn conn.Options
}

// reservedHeader are the response fields the handshake sets itself, which
// Options.Header and a handler's header may not set.
var reservedHeader = []string{"Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Sec-WebSocket-Version", "Content-Length", "Transfer-Encoding"}

// validate reports whether every field of o is within its range.
func (o *Options) validate() error {
	var windows conn.Compression
	if o.Compression != nil {
		windows = *o.Compression
	}
	err := optcheck.First(
		optcheck.Tokens("server: Options.Subprotocols", o.Subprotocols),
		checkPatterns(o.OriginPatterns),
		optcheck.NonNegative("server: Options.HandshakeTimeout", o.HandshakeTimeout),
		optcheck.NonNegative("server: Options.MaxHeaderBytes", o.MaxHeaderBytes),
		optcheck.Header("server: Options.Header", o.Header, reservedHeader...),
		optcheck.Windows("server: Options.Compression", windows.ServerMaxWindowBits, windows.ClientMaxWindowBits),
	)
	if err != nil {
		return err
	}
	if err := o.Conn.Validate(); err != nil {
		return fmt.Errorf("server: Options.Conn: %w", err)
	}
	return nil
}

// checkPatterns reports a malformed pattern of Options.OriginPatterns.
func checkPatterns(patterns []string) error {
	for i, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("server: Options.OriginPatterns[%d] is %q: %w", i, p, err)
		}
	}
	return nil
}

func (o *Options) handshakeTimeout() time.Duration {
	if o.HandshakeTimeout > 0 {
		return o.HandshakeTimeout
	}
	return defaultHandshakeTimeout
}

// check validates a request against RFC 6455 and the origin policy, and
// chooses the subprotocol and extensions.
func (o *Options) check(req *handshake.Request) (conn.Handshake, error) {
	if err := req.Check(); err != nil {
		return conn.Handshake{}, err
	}
	if err := handshake.CheckOrigin(req.Origin, req.Host, o.OriginPatterns); err != nil {
		return conn.Handshake{}, err
	}
	agreed := conn.Handshake{Subprotocol: handshake.SelectSubprotocol(req.Protocol, o.Subprotocols)}
	if o.Compression != nil && req.Extensions != "" {
		// An offer list that does not parse is declined like an unacceptable
		// offer: the extension is optional, the connection is not.
		if offers, err := handshake.ParseExtensions(req.Extensions); err == nil {
			if p, ok := handshake.NegotiateDeflate(offers, handshake.DeflateParams(*o.Compression)); ok {
				agreed.Extensions = handshake.FormatExtensions([]handshake.Extension{p.Extension()})
				c := conn.Compression(p)
				agreed.Compression = &c
			}
		}
	}
	return agreed, nil
}

// errInternal is the answer to an upgrade that failed on the server's
// side: options out of range, or a connection that cannot be hijacked.
var errInternal = &handshake.Error{Status: http.StatusInternalServerError, Err: errors.New("server: the server cannot upgrade this request")}

// takeReadBuffer takes over the buffer of br, the bufio.Reader that
// Hijack returned, for the Conn to read through, and returns it with the
// bytes br had buffered moved to its start, and their count. net/http
// keeps br alive for as long as the handler runs, so reading through its
// buffer, rather than a buffer of the Conn's own beside it, saves 4 KiB
// per connection (if the buffer is as large as the Conn's reads need;
// conn.New checks). If br's buffer cannot be had (its Peek returns less
// spare capacity than it buffered), it returns nil and the buffered bytes
// where they are.
func takeReadBuffer(br *bufio.Reader) (buf, buffered []byte) {
	buffered, _ = br.Peek(br.Buffered())
	br.Reset(eofReader{}) // keeps the buffer and its bytes; nothing more is read through br
	whole, _ := br.Peek(0)
	whole = whole[:cap(whole)]
	if len(whole) < len(buffered) {
		return nil, buffered
	}
	n := copy(whole, buffered)
	return whole, whole[:n]
}

// eofReader is an io.Reader at its end.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

var noOptions Options

// Upgrade upgrades the request r to a WebSocket connection: an HTTP/1.1
// upgrade request, or an HTTP/2 extended CONNECT ([RFC 8441]), which
// browsers send when the server allows it (see the package documentation).
// On failure Upgrade has answered with the right status (400, 403, 405 or
// 426 for a bad request, 500 for options out of range or a connection that
// cannot be hijacked) and returns the reason: a *handshake.Error for a bad
// request.
//
// Over HTTP/1.1, on success the 101 response has been written, with the
// fields of Options.Header and of w.Header(), the connection hijacked from
// net/http, and any bytes net/http had already read from it are the start
// of the Conn's input. Upgrade clears the deadlines http.Server set on the
// connection.
//
// Over HTTP/2, on success the 200 response has been sent, with the same
// fields, and the Conn runs over the request's stream: closing it ends the
// stream rather than a TCP connection, and the handler must not return
// while the Conn is in use, since the stream ends when it does (Handler
// keeps to that). Upgrade clears the read and write deadlines http.Server
// set on the stream.
//
// The Conn reads through the buffer of the bufio.Reader that Hijack
// returns, when it is large enough, rather than allocate one of its own:
// net/http keeps that reader alive while the handler runs and never reuses
// it for a hijacked connection. A ResponseWriter whose Hijacker pools its
// readers for reuse must not be given to Upgrade.
//
// [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
func Upgrade(w http.ResponseWriter, r *http.Request, opts *Options) (*conn.Conn, error) {
	if opts == nil {
		opts = &noOptions // the zero Options are valid
	} else if err := opts.validate(); err != nil {
		reject(w, r, errInternal)
		return nil, err
	}
	// The handler's own fields go out with the 101, as with any response,
	// except those the handshake sets itself.
	extra := w.Header()
	if err := optcheck.Header("server: the ResponseWriter's Header", extra); err != nil {
		reject(w, r, errInternal)
		return nil, err
	}
	req := handshake.FromHTTP(r)
	agreed, err := opts.check(&req)
	if err != nil {
		reject(w, r, err)
		return nil, err
	}
	if r.ProtoMajor == 2 {
		return upgradeStream(w, r, agreed, opts)
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		err = fmt.Errorf("server: cannot hijack the connection of an %s request: %w", r.Proto, err)
		reject(w, r, errInternal)
		return nil, err
	}
	agreed.ReadBuffer, agreed.Buffered = takeReadBuffer(brw.Reader)
	// HandshakeTimeout bounds the write, so that a client that does not
	// read cannot hold the handler. Nothing is read here, so the read
	// deadline is left alone until both are cleared below.
	nc.SetWriteDeadline(time.Now().Add(opts.handshakeTimeout()))
	// The response is built in the spare buffer of the hijacked bufio.Writer.
	resp := handshake.AppendResponse(brw.Writer.AvailableBuffer(), req.Key, agreed.Subprotocol, agreed.Extensions, opts.Header)
	if len(extra) > 0 {
		resp = appendFields(resp[:len(resp)-2], extra)
		resp = append(resp, "\r\n"...)
	}
	if _, err := nc.Write(resp); err != nil {
		nc.Close()
		return nil, fmt.Errorf("server: writing the handshake response: %w", err)
	}
	// Hijacker's doc warns that the connection may have deadlines set,
	// depending on the http.Server's configuration: this clears those too.
	nc.SetDeadline(time.Time{})
	// The Conn is made once the response is out, so that Options.Conn.OnOpen
	// may write to it.
	c, err := conn.New(nc, frame.Server, &agreed, &opts.Conn)
	if err != nil {
		// Unreachable: the options and the agreement were checked.
		nc.Close()
		return nil, err
	}
	return c, nil
}

// appendFields appends header fields to dst, leaving out those the
// handshake sets itself.
func appendFields(dst []byte, h http.Header) []byte {
	for name, values := range h {
		if slices.ContainsFunc(reservedHeader, func(r string) bool { return strings.EqualFold(r, name) }) {
			continue
		}
		for _, v := range values {
			dst = append(append(append(append(dst, name...), ": "...), v...), "\r\n"...)
		}
	}
	return dst
}

// reject answers a failed handshake, and has net/http close the
// connection after the answer: the client asked to switch protocols, not
// for another request on it.
func reject(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadRequest
	var he *handshake.Error
	if errors.As(err, &he) {
		status = he.Status
	}
	w.Header().Set("Connection", "close")
	switch status {
	case http.StatusUpgradeRequired:
		w.Header().Set("Sec-WebSocket-Version", "13")
	case http.StatusMethodNotAllowed:
		allow := http.MethodGet
		if r.ProtoMajor == 2 {
			allow = http.MethodConnect // RFC 8441
		}
		w.Header().Set("Allow", allow)
	}
	http.Error(w, err.Error(), status)
}

// headBuffers hold request heads on the raw path. Only buffers of
// pooledHead bytes return to the pool, so that one listener's large
// MaxHeaderBytes never lends another a buffer past its own limit.
var headBuffers = sync.Pool{New: func() any { b := make([]byte, pooledHead); return &b }}

const pooledHead = 4096

var errBareLF = &handshake.Error{Status: http.StatusBadRequest, Err: errors.New("server: request line or header field ends with a bare LF, not CRLF")}

// bareLF reports whether b, from index from on, has an LF that no CR
// precedes, before the head's empty line. The head did not end before
// from, so only the bytes from there on are looked at.
func bareLF(b []byte, from int) bool {
	start := max(0, from-3)
	if end := bytes.Index(b[start:], []byte("\r\n\r\n")); end >= 0 {
		b = b[:start+end]
	}
	for i := from; i < len(b); i++ {
		if b[i] == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

var errHeaderTooLarge = &handshake.Error{Status: http.StatusRequestHeaderFieldsTooLarge, Err: errors.New("server: request header too large")}

// UpgradeConn reads an opening handshake from nc, a connection just
// accepted, and upgrades it without net/http: no *http.Request is built.
// It returns the Conn and the request, whose Target holds the path and
// query and whose Header method reads any header field (Cookie,
// Authorization, ...). On failure it writes an HTTP error response with
// the right status, closes nc, and returns the reason.
func UpgradeConn(nc net.Conn, opts *Options) (*conn.Conn, handshake.Request, error) {
	if opts == nil {
		opts = &noOptions // the zero Options are valid
	} else if err := opts.validate(); err != nil {
		fail(nc, errInternal)
		return nil, handshake.Request{}, err
	}
	maxHeader := opts.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = defaultMaxHeaderBytes
	}
	nc.SetDeadline(time.Now().Add(opts.handshakeTimeout()))
	bp := headBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) == pooledHead {
			headBuffers.Put(bp)
		}
	}()
	// The head, up to and with its empty line, may be maxHeader bytes
	// long; nothing past that is read before it has ended.
	buf := (*bp)[:min(pooledHead, maxHeader)]
	n, end := 0, -1
	for end < 0 {
		if n == len(buf) {
			if n >= maxHeader {
				return nil, handshake.Request{}, fail(nc, errHeaderTooLarge)
			}
			buf = append(buf, make([]byte, min(len(buf), maxHeader-len(buf)))...)
		}
		m, err := nc.Read(buf[n:])
		if m > 0 {
			if bareLF(buf[:n+m], n) {
				// RFC 9112, Section 2.2 lets a server accept a bare LF; this one
				// answers at once instead of waiting for a CRLF that will not come.
				return nil, handshake.Request{}, fail(nc, errBareLF)
			}
			from := max(0, n-3)
			n += m
			if i := bytes.Index(buf[from:n], []byte("\r\n\r\n")); i >= 0 {
				end = from + i + 4
			}
			continue
		}
		if err != nil {
			nc.Close()
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, handshake.Request{}, fmt.Errorf("server: reading the handshake request: %w", err)
		}
	}
	req, err := handshake.ParseRequest(string(buf[:end]))
	if err != nil {
		return nil, req, fail(nc, err)
	}
	agreed, err := opts.check(&req)
	if err != nil {
		return nil, req, fail(nc, err)
	}
	agreed.Buffered = buf[end:n]
	// The response goes out before the Conn is made, so that
	// Options.Conn.OnOpen may write to it. It is built past the bytes the
	// Conn will read first, which New copies.
	resp := handshake.AppendResponse(buf[n:n], req.Key, agreed.Subprotocol, agreed.Extensions, opts.Header)
	if _, err := nc.Write(resp); err != nil {
		nc.Close()
		return nil, req, fmt.Errorf("server: writing the handshake response: %w", err)
	}
	nc.SetDeadline(time.Time{})
	c, err := conn.New(nc, frame.Server, &agreed, &opts.Conn)
	if err != nil {
		// Unreachable: the options and the agreement were checked.
		nc.Close()
		return nil, req, err
	}
	return c, req, nil
}

// fail answers a rejected raw handshake and closes nc.
func fail(nc net.Conn, err error) error {
	status := http.StatusBadRequest
	var he *handshake.Error
	if errors.As(err, &he) {
		status = he.Status
	}
	nc.Write(appendError(nil, status, err.Error()))
	nc.Close()
	return err
}

// appendError appends a complete HTTP/1.1 error response for a rejected
// handshake to dst: the status, "Sec-WebSocket-Version: 13" for 426 as
// [RFC 6455, Section 4.4] asks, "Allow: GET" for 405 as
// [RFC 9110, Section 15.5.6] requires, "Connection: close", and msg as a
// plain text body.
//
// [RFC 6455, Section 4.4]: https://www.rfc-editor.org/rfc/rfc6455#section-4.4
// [RFC 9110, Section 15.5.6]: https://www.rfc-editor.org/rfc/rfc9110#section-15.5.6
func appendError(dst []byte, status int, msg string) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(append(append(dst, ' '), http.StatusText(status)...), "\r\n"...)
	switch status {
	case http.StatusUpgradeRequired:
		dst = append(dst, "Sec-WebSocket-Version: 13\r\n"...)
	case http.StatusMethodNotAllowed:
		dst = append(dst, "Allow: GET\r\n"...)
	}
	body := msg + "\n"
	dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

// A Handler is an http.Handler that upgrades every request and runs Serve
// on the connection, tracking live connections so that Shutdown can close
// them all with 1001 Going Away.
type Handler struct {
	// Options configure every upgrade; nil means the defaults.
	Options *Options

	// Serve runs for each connection. When it returns, the connection is
	// closed with 1000 if it is still open.
	Serve func(c *conn.Conn, r *http.Request)

	// OnUpgradeError, if not nil, is called with every request that was
	// not upgraded, and why, after the HTTP answer was written: a
	// *handshake.Error for a bad request (its Status is the answer: 403
	// for a rejected origin, 400, 405 or 426), an error naming the field
	// for Options out of range (answered with 500), or the error of a
	// request that came after Shutdown (503). Requests are not logged
	// otherwise.
	OnUpgradeError func(r *http.Request, err error)

	mu       sync.Mutex
	conns    map[*conn.Conn]struct{}
	shutdown bool
	active   sync.WaitGroup
}

var errShuttingDown = &handshake.Error{Status: http.StatusServiceUnavailable, Err: errors.New("server: shutting down")}

// ServeHTTP implements http.Handler. After Shutdown it answers 503.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if h.shutdown {
		h.mu.Unlock()
		reject(w, r, errShuttingDown)
		h.upgradeFailed(r, errShuttingDown)
		return
	}
	h.active.Add(1)
	h.mu.Unlock()
	defer h.active.Done()

	c, err := Upgrade(w, r, h.Options)
	if err != nil {
		h.upgradeFailed(r, err)
		return
	}
	h.mu.Lock()
	if h.conns == nil {
		h.conns = make(map[*conn.Conn]struct{})
	}
	h.conns[c] = struct{}{}
	late := h.shutdown
	h.mu.Unlock()
	if late {
		go c.Close(conn.CloseGoingAway, "server shutting down")
	}
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		if c.State() == conn.Open {
			c.Close(conn.CloseNormalClosure, "")
		}
		c.CloseNow()
	}()
	h.Serve(c, r)
}

func (h *Handler) upgradeFailed(r *http.Request, err error) {
	if h.OnUpgradeError != nil {
		h.OnUpgradeError(r, err)
	}
}

// Shutdown stops accepting upgrades, sends 1001 Going Away to every live
// connection, and waits until every Serve has returned or ctx ends; then
// it aborts what is left and returns ctx's error. Serve functions should
// return when their reads fail, as they do once the closing handshake
// completes. Call it alongside http.Server.Shutdown, which does not see
// hijacked connections.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.shutdown = true
	conns := make([]*conn.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		go c.Close(conn.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() {
		h.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		for c := range h.conns {
			c.CloseNow()
		}
		h.mu.Unlock()
		return ctx.Err()
	}
}

package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path"
	"runtime/debug"
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
	// One check after the other, each only if its field is set: this runs on
	// every upgrade.
	if err := optcheck.Tokens("server: Options.Subprotocols", o.Subprotocols); err != nil {
		return err
	}
	if err := checkPatterns(o.OriginPatterns); err != nil {
		return err
	}
	if err := optcheck.NonNegative("server: Options.HandshakeTimeout", o.HandshakeTimeout); err != nil {
		return err
	}
	if err := optcheck.NonNegative("server: Options.MaxHeaderBytes", o.MaxHeaderBytes); err != nil {
		return err
	}
	if len(o.Header) > 0 {
		if err := optcheck.Header("server: Options.Header", o.Header, reservedHeader...); err != nil {
			return err
		}
	}
	if c := o.Compression; c != nil {
		if err := optcheck.Windows("server: Options.Compression", c.ServerMaxWindowBits, c.ClientMaxWindowBits); err != nil {
			return err
		}
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
// chooses the subprotocol and extensions into agreed.
func (o *Options) check(req *handshake.Request, agreed *conn.Handshake) error {
	if err := req.Check(); err != nil {
		return err
	}
	if err := handshake.CheckOrigin(req.Origin, req.Host, o.OriginPatterns); err != nil {
		return err
	}
	agreed.Subprotocol = handshake.SelectSubprotocol(req.Protocol, o.Subprotocols)
	if o.Compression != nil && req.Extensions != "" {
		o.negotiate(req.Extensions, agreed)
	}
	return nil
}

// negotiate accepts the first acceptable permessage-deflate offer in
// extensions into agreed, if there is one.
func (o *Options) negotiate(extensions string, agreed *conn.Handshake) {
	// An offer list that does not parse is declined like an unacceptable
	// offer: the extension is optional, the connection is not.
	offers, err := handshake.ParseExtensions(extensions)
	if err != nil {
		return
	}
	if p, ok := handshake.NegotiateDeflate(offers, handshake.DeflateParams(*o.Compression)); ok {
		agreed.Extensions = handshake.FormatExtensions([]handshake.Extension{p.Extension()})
		c := conn.Compression(p)
		agreed.Compression = &c
	}
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
// net/http never reuses that reader for a hijacked connection. A
// ResponseWriter whose Hijacker pools its readers for reuse must not be
// given to Upgrade.
//
// While the handler runs, net/http keeps its state for the connection
// (buffers, request and response, and the handler goroutine's stack:
// about 8 KiB). A server holding many connections over HTTP/1.1 saves that
// by serving the Conn on a goroutine of its own and returning from the
// handler, as [Handler] does; the Conn must then not be used with
// r.Context(), which net/http cancels when the handler returns
// (context.WithoutCancel keeps its values without that).
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
	if len(extra) > 0 {
		if err := optcheck.Header("server: the ResponseWriter's Header", extra); err != nil {
			reject(w, r, errInternal)
			return nil, err
		}
	}
	// The steps are functions of their own, so that this frame, under which
	// conn.New allocates the Conn, stays small: the handler's goroutine
	// then has room for the allocator's slow path without growing its
	// stack again.
	var agreed conn.Handshake
	key, err := checkHTTP(r, opts, &agreed)
	if err != nil {
		reject(w, r, err)
		return nil, err
	}
	if r.ProtoMajor == 2 {
		return upgradeStream(w, r, &agreed, opts)
	}
	nc, err := respondHTTP(w, r, key, &agreed, opts, extra)
	if err != nil {
		return nil, err
	}
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

// checkHTTP checks r and chooses what to agree to, into agreed, and
// returns the request's Sec-WebSocket-Key.
func checkHTTP(r *http.Request, opts *Options, agreed *conn.Handshake) (key string, err error) {
	req := handshake.FromHTTP(r)
	if err := opts.check(&req, agreed); err != nil {
		return "", err
	}
	return req.Key, nil
}

// respondHTTP hijacks the connection of w and writes the 101 response on
// it, with the fields of opts.Header and extra, and returns it, with the
// buffer Hijack returned, and the bytes it holds, in agreed. On failure
// it has answered, if it could, and closed the connection.
func respondHTTP(w http.ResponseWriter, r *http.Request, key string, agreed *conn.Handshake, opts *Options, extra http.Header) (net.Conn, error) {
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
	resp := handshake.AppendResponse(brw.Writer.AvailableBuffer(), key, agreed.Subprotocol, agreed.Extensions, opts.Header)
	if len(extra) > 0 {
		resp = appendFields(resp[:len(resp)-2], extra)
		resp = append(resp, "\r\n"...)
	}
	if _, err := nc.Write(resp); err != nil {
		return nil, writeFailed(nc, err)
	}
	// Hijacker's doc warns that the connection may have deadlines set,
	// depending on the http.Server's configuration: this clears those too.
	nc.SetDeadline(time.Time{})
	return nc, nil
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

// A rawHandshake is the state of one upgrade on the raw path: the
// connection and options, the buffer the request head is read into and
// the response built in, and what the handshake agreed, which conn.New
// copies. They are pooled.
type rawHandshake struct {
	nc     net.Conn
	opts   *Options
	buf    []byte // the head, the bytes read past it, then the response
	end    int    // length of the head, up to and with its empty line
	n      int    // bytes read
	agreed conn.Handshake
}

// rawHandshakes holds rawHandshakes whose buffer is pooledHead bytes:
// one that grew for a larger head does not return, so that one listener's
// large MaxHeaderBytes never lends another a buffer past its own limit.
var rawHandshakes = sync.Pool{New: func() any { return &rawHandshake{buf: make([]byte, pooledHead)} }}

const pooledHead = 4096

func (h *rawHandshake) release() {
	if cap(h.buf) != pooledHead {
		return
	}
	*h = rawHandshake{buf: h.buf[:pooledHead]}
	rawHandshakes.Put(h)
}

// fail answers a rejected handshake, closes the connection, and returns
// err.
func (h *rawHandshake) fail(err error) error { return fail(h.nc, err) }

var (
	errBareLF         = &handshake.Error{Status: http.StatusBadRequest, Err: errors.New("server: request line or header field ends with a bare LF, not CRLF")}
	errHeaderTooLarge = &handshake.Error{Status: http.StatusRequestHeaderFieldsTooLarge, Err: errors.New("server: request header too large")}
)

// start checks the options and sets the deadline of the handshake.
func (h *rawHandshake) start() error {
	if h.opts == nil {
		h.opts = &noOptions // the zero Options are valid
	} else if err := h.opts.validate(); err != nil {
		fail(h.nc, errInternal)
		return err
	}
	h.nc.SetDeadline(time.Now().Add(h.opts.handshakeTimeout()))
	return nil
}

// readHead reads into h.buf until the request head has ended, and not
// past MaxHeaderBytes before it has. On failure it has answered, if the
// client was at fault, and closed the connection.
func (h *rawHandshake) readHead() error {
	maxHeader := h.opts.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = defaultMaxHeaderBytes
	}
	h.buf = h.buf[:min(pooledHead, maxHeader)]
	for {
		if h.n == len(h.buf) {
			if h.n >= maxHeader {
				return h.fail(errHeaderTooLarge)
			}
			h.buf = append(h.buf, make([]byte, min(len(h.buf), maxHeader-len(h.buf)))...)
		}
		m, err := h.nc.Read(h.buf[h.n:])
		if m > 0 {
			end, bare := scanHead(h.buf[:h.n+m], h.n)
			h.n += m
			if bare {
				// RFC 9112, Section 2.2 lets a server accept a bare LF; this one
				// answers at once instead of waiting for a CRLF that will not come.
				return h.fail(errBareLF)
			}
			if end >= 0 {
				h.end = end
				return nil
			}
			continue
		}
		if err != nil {
			return readFailed(h.nc, err)
		}
	}
}

// readFailed closes nc, from which reading the request failed with err,
// and returns why.
func readFailed(nc net.Conn, err error) error {
	nc.Close()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("server: reading the handshake request: %w", err)
}

// scanHead looks at the LFs of b from index from on, the first bytes not
// scanned before, and returns the length of the request head, up to and
// with the CRLF CRLF that ends it, or -1 if it has not ended. bare
// reports an LF that no CR precedes, before the end.
func scanHead(b []byte, from int) (end int, bare bool) {
	for i := from; ; i++ {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1, false
		}
		i += j
		if i == 0 || b[i-1] != '\r' {
			return -1, true
		}
		if i >= 2 && b[i-2] == '\n' {
			// That LF was scanned before this one, so a CR precedes it too.
			return i + 1, false
		}
	}
}

// parse parses the head into req and checks it, choosing what to agree
// to; on failure it has answered and closed the connection.
func (h *rawHandshake) parse(req *handshake.Request) (err error) {
	// The head is copied, so that the buffer can return to the pool while the
	// Request's strings refer to it.
	if *req, err = handshake.ParseRequest(string(h.buf[:h.end])); err != nil {
		return h.fail(err)
	}
	if err = h.opts.check(req, &h.agreed); err != nil {
		return h.fail(err)
	}
	return nil
}

// respond writes the 101 response for key, with what the handshake
// agreed and Options.Header, in one write. It is built past the bytes the
// Conn will read first, which conn.New copies.
func (h *rawHandshake) respond(key string) error {
	h.agreed.Buffered = h.buf[h.end:h.n]
	resp := handshake.AppendResponse(h.buf[h.n:h.n], key, h.agreed.Subprotocol, h.agreed.Extensions, h.opts.Header)
	if _, err := h.nc.Write(resp); err != nil {
		return writeFailed(h.nc, err)
	}
	h.nc.SetDeadline(time.Time{})
	return nil
}

// writeFailed closes nc, to which writing the response failed with err,
// and returns why.
func writeFailed(nc net.Conn, err error) error {
	nc.Close()
	return fmt.Errorf("server: writing the handshake response: %w", err)
}

// UpgradeConn reads an opening handshake from nc, a connection just
// accepted, and upgrades it without net/http: no *http.Request is built.
// It returns the Conn and the request, whose Target holds the path and
// query and whose Header method reads any header field (Cookie,
// Authorization, ...). On failure it writes an HTTP error response with
// the right status, closes nc, and returns the reason.
func UpgradeConn(nc net.Conn, opts *Options) (*conn.Conn, handshake.Request, error) {
	reserveStack()
	var req handshake.Request
	h := rawHandshakes.Get().(*rawHandshake)
	h.nc, h.opts = nc, opts
	c, err := h.upgrade(&req)
	h.release()
	return c, req, err
}

// reserveStack makes the runtime grow the goroutine's stack now, if it is
// the 2 KiB that goroutines start with, while all it holds is the caller's
// frame and UpgradeConn's. A server calls UpgradeConn first thing on a
// goroutine of its own, and the handshake does not fit in 2 KiB: below
// the caller's frame (which holds the 240-byte Request UpgradeConn
// returns), reading the request from a net.Conn, setting its deadline or
// hashing the key each takes 500 bytes or more of runtime and library
// frames, as a bufio.Reader's first read of a net.Pipe does. Growing a
// stack copies it and adjusts every frame on it, so growing it at the
// bottom of one of those calls costs three times as much CPU as growing
// it here (1.4 µs against 0.4 µs per upgrade on a net.Pipe, in
// bench/BenchmarkUpgrade path=conn). A stack that is already larger, as
// the runtime makes new ones once the average goroutine needs more, does
// not grow, and then this costs the clearing of its frame.
//
//go:noinline
func reserveStack() {
	var frame [reservedStack]byte
	keepFrame(&frame)
}

// reservedStack is the size of reserveStack's frame: with what is above
// it, more than the 2 KiB stack a goroutine starts with holds, and less
// than a 4 KiB one, so that the stack grows once, to 4 KiB.
const reservedStack = 1536

//go:noinline
func keepFrame(*[reservedStack]byte) {}

// upgrade performs the handshake, filling in req, and returns the Conn.
// On failure, it has answered, if the client was at fault, and closed the
// connection.
func (h *rawHandshake) upgrade(req *handshake.Request) (*conn.Conn, error) {
	if err := h.start(); err != nil {
		return nil, err
	}
	if err := h.readHead(); err != nil {
		return nil, err
	}
	if err := h.parse(req); err != nil {
		return nil, err
	}
	// The response goes out before the Conn is made, so that
	// Options.Conn.OnOpen may write to it.
	if err := h.respond(req.Key); err != nil {
		return nil, err
	}
	c, err := conn.New(h.nc, frame.Server, &h.agreed, &h.opts.Conn)
	if err != nil {
		// Unreachable: the options and the agreement were checked.
		h.nc.Close()
	}
	return c, err
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
//
// Over HTTP/1.1, ServeHTTP returns as soon as the connection is upgraded
// and Serve runs on a goroutine of its own, so that net/http lets go of
// what it holds for a connection while its handler runs (its buffers, its
// request and response state and the goroutine's large stack: about 8 KiB
// per connection), which a handler that serves the Conn itself keeps until
// the end. Over HTTP/2 the stream lives only as long as the handler, which
// then runs Serve itself.
type Handler struct {
	// Options configure every upgrade; nil means the defaults.
	Options *Options

	// Serve runs for each connection. When it returns, the connection is
	// closed with 1000 if it is still open. The context of r is not
	// cancelled when ServeHTTP returns (it carries the request's values
	// only), and a panic in Serve is recovered, logged and closes the
	// connection, as net/http does for a handler.
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

	c, err := Upgrade(w, r, h.Options)
	if err != nil {
		h.active.Done()
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
	if r.ProtoMajor == 2 {
		h.serve(c, r)
		return
	}
	go h.serve(c, r.WithContext(context.WithoutCancel(r.Context())))
}

// serve runs Serve for c and closes c when it returns or panics.
func (h *Handler) serve(c *conn.Conn, r *http.Request) {
	defer h.active.Done()
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			logf(r, "server: panic serving %v: %v\n%s", r.RemoteAddr, v, debug.Stack())
		}
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

// logf logs through the ErrorLog of the http.Server that served r, or the
// log package's standard logger, as net/http logs a handler's panic.
func logf(r *http.Request, format string, args ...any) {
	if s, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
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

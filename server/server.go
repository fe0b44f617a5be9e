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
	"strings"
	"sync"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
)

// Defaults for the zero values of [Options].
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxHeaderBytes   = 16 << 10
)

// Options configure an upgrade. A nil *Options is the zero value, which is
// safe: same-origin browser requests only, no subprotocol, and the
// defaults of conn.Options.
type Options struct {
	// Subprotocols are the subprotocols the server speaks, in order of
	// preference. The first one the client offered is chosen; if none
	// is, the connection goes on without a subprotocol.
	Subprotocols []string

	// OriginPatterns allow browser requests from other origins: path.Match
	// patterns on the origin's host[:port], such as "*.example.com" or
	// "localhost:*". "*" allows any origin of a host without a port.
	OriginPatterns []string

	// HandshakeTimeout bounds reading the request (UpgradeConn) and
	// writing the response. Zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// MaxHeaderBytes bounds the request UpgradeConn reads; a larger one
	// gets 431. Zero means DefaultMaxHeaderBytes.
	MaxHeaderBytes int

	// Header holds extra fields for the 101 response, such as Set-Cookie.
	Header http.Header

	// Deflate, if not nil, accepts permessage-deflate (RFC 7692) from
	// clients that offer it, as browsers do: the first acceptable offer
	// is taken, and when none is the connection goes on uncompressed.
	// Its fields are the server's own wishes, granted whatever the
	// client offered. ServerNoContextTakeover and
	// ClientNoContextTakeover have the server's or the client's
	// messages compressed each on its own, which spares the connection
	// the history it otherwise holds for that direction (2^bits bytes);
	// ServerMaxWindowBits and ClientMaxWindowBits (8 to 15, 0 meaning
	// 15) bound the windows and so that history. Conn.CompressionLevel
	// and Conn.CompressionThreshold say how messages are compressed.
	Deflate *handshake.DeflateParams

	// Conn configures the connection: read limit, buffers, keepalive,
	// close timeout, backpressure and compression.
	Conn conn.Options
}

func (o *Options) handshakeTimeout() time.Duration {
	if o.HandshakeTimeout > 0 {
		return o.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

// An agreement is what the server answers an acceptable request with.
type agreement struct {
	protocol   string
	extensions string
	deflate    *conn.Deflate
}

// check validates a request against RFC 6455 and the origin policy, and
// chooses the subprotocol and extensions.
func (o *Options) check(req *handshake.Request) (agreement, error) {
	if err := req.Check(); err != nil {
		return agreement{}, err
	}
	if err := handshake.CheckOrigin(req.Origin, req.Host, o.OriginPatterns); err != nil {
		return agreement{}, err
	}
	a := agreement{protocol: handshake.SelectSubprotocol(req.Protocol, o.Subprotocols)}
	if o.Deflate != nil && req.Extensions != "" {
		// An offer list that does not parse is declined like an unacceptable
		// offer: the extension is optional, the connection is not.
		if offers, err := handshake.ParseExtensions(req.Extensions); err == nil {
			if p, ok := handshake.NegotiateDeflate(offers, *o.Deflate); ok {
				a.extensions = handshake.FormatExtensions([]handshake.Extension{p.Extension()})
				a.deflate = &conn.Deflate{
					ReadNoContextTakeover:  p.ClientNoContextTakeover,
					WriteNoContextTakeover: p.ServerNoContextTakeover,
					ReadWindowBits:         p.ClientMaxWindowBits,
					WriteWindowBits:        p.ServerMaxWindowBits,
				}
			}
		}
	}
	return a, nil
}

// newConn hands an upgraded connection to the conn package.
// newConn makes the Conn for nc, reading buffered first and through
// readBuf, if it is not nil.
func (o *Options) newConn(nc net.Conn, buffered, readBuf []byte, a agreement) *conn.Conn {
	co := o.Conn
	co.Subprotocol = a.protocol
	co.Extensions = a.extensions
	co.Deflate = a.deflate
	co.ReadBuffer = readBuf // never one shared by every connection
	return conn.New(nc, frame.Server, buffered, &co)
}

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

// Upgrade upgrades the HTTP/1.1 request r to a WebSocket connection. On
// success the response has been written, the connection hijacked from
// net/http, and any bytes net/http had already read from it are the
// start of the Conn's input. On failure Upgrade has answered with the
// right status and returns the reason, a *handshake.Error for a bad
// request.
//
// Upgrade clears the deadlines http.Server set on the connection.
// HTTP/2 requests cannot be upgraded (RFC 8441 is not supported).
//
// The Conn reads through the buffer of the bufio.Reader that Hijack
// returns, when it is large enough, rather than allocate one of its own:
// net/http keeps that reader alive while the handler runs and never reuses
// it for a hijacked connection. A ResponseWriter whose Hijacker pools its
// readers for reuse must not be given to Upgrade.
func Upgrade(w http.ResponseWriter, r *http.Request, opts *Options) (*conn.Conn, error) {
	if opts == nil {
		opts = &noOptions
	}
	req := handshake.FromHTTP(r)
	agreed, err := opts.check(&req)
	if err != nil {
		reject(w, err)
		return nil, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		err = fmt.Errorf("server: cannot hijack the connection of an %s request: %w", r.Proto, err)
		http.Error(w, "websocket: cannot upgrade this connection", http.StatusInternalServerError)
		return nil, err
	}
	readBuf, buffered := takeReadBuffer(brw.Reader)
	nc.SetDeadline(time.Now().Add(opts.handshakeTimeout()))
	// The response is built in the spare buffer of the hijacked bufio.Writer.
	resp := handshake.AppendResponse(brw.Writer.AvailableBuffer(), req.Key, agreed.protocol, agreed.extensions, opts.Header)
	if _, err := nc.Write(resp); err != nil {
		nc.Close()
		return nil, fmt.Errorf("server: writing the handshake response: %w", err)
	}
	nc.SetDeadline(time.Time{})
	return opts.newConn(nc, buffered, readBuf, agreed), nil
}

// reject answers a failed handshake.
func reject(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	var he *handshake.Error
	if errors.As(err, &he) {
		status = he.Status
	}
	switch status {
	case http.StatusUpgradeRequired:
		w.Header().Set("Sec-WebSocket-Version", "13")
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodGet)
	}
	http.Error(w, err.Error(), status)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

var errHeaderTooLarge = &handshake.Error{Status: http.StatusRequestHeaderFieldsTooLarge, Err: errors.New("server: request header too large")}

// UpgradeConn reads an opening handshake from nc, a connection just
// accepted, and upgrades it without net/http: no *http.Request is built.
// It returns the Conn and the request's fields (Target holds the path and
// query). On failure it writes an HTTP error response with the right
// status, closes nc, and returns the reason.
func UpgradeConn(nc net.Conn, opts *Options) (*conn.Conn, handshake.Request, error) {
	if opts == nil {
		opts = &noOptions
	}
	maxHeader := opts.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	nc.SetDeadline(time.Now().Add(opts.handshakeTimeout()))
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	n, end := 0, -1
	for end < 0 {
		if n == len(buf) {
			if len(buf) >= maxHeader {
				return nil, handshake.Request{}, fail(nc, errHeaderTooLarge)
			}
			buf = append(buf, make([]byte, min(len(buf), maxHeader-len(buf)))...)
			*bp = buf
		}
		m, err := nc.Read(buf[n:])
		if m > 0 {
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
	head := string(buf[:end])
	req, err := parseRequest(head)
	if err != nil {
		return nil, req, fail(nc, err)
	}
	agreed, err := opts.check(&req)
	if err != nil {
		return nil, req, fail(nc, err)
	}
	c := opts.newConn(nc, buf[end:n], nil, agreed)
	resp := handshake.AppendResponse(buf[:0], req.Key, agreed.protocol, agreed.extensions, opts.Header)
	*bp = resp[:cap(resp)]
	if _, err := nc.Write(resp); err != nil {
		c.CloseNow()
		return nil, req, fmt.Errorf("server: writing the handshake response: %w", err)
	}
	nc.SetDeadline(time.Time{})
	return c, req, nil
}

// fail answers a rejected raw handshake and closes nc.
func fail(nc net.Conn, err error) error {
	status := http.StatusBadRequest
	var he *handshake.Error
	if errors.As(err, &he) {
		status = he.Status
	}
	nc.Write(handshake.AppendError(nil, status, err.Error()))
	nc.Close()
	return err
}

// parseRequest parses an HTTP/1.x request head (request line, fields,
// blank line) into the fields the handshake needs. The strings alias head.
func parseRequest(head string) (handshake.Request, error) {
	var req handshake.Request
	line, rest, _ := strings.Cut(head, "\r\n")
	method, line, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(line, " ")
	if !ok1 || !ok2 || method == "" || target == "" {
		return req, &handshake.Error{Status: http.StatusBadRequest, Err: errors.New("server: malformed request line")}
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		return req, &handshake.Error{Status: http.StatusBadRequest, Err: fmt.Errorf("server: malformed HTTP version %q", proto)}
	}
	req.Method, req.Target, req.ProtoMajor, req.ProtoMinor = method, target, major, minor
	hosts := 0
	for {
		line, rest, _ = strings.Cut(rest, "\r\n")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// RFC 9112, Section 5.2: obs-fold is to be rejected (or replaced) by a server.
			return req, &handshake.Error{Status: http.StatusBadRequest, Err: errors.New("server: folded header line")}
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return req, &handshake.Error{Status: http.StatusBadRequest, Err: fmt.Errorf("server: malformed header line %q", line)}
		}
		value = strings.Trim(value, " \t")
		var field *string
		switch {
		case strings.EqualFold(name, "Host"):
			hosts++
			field = &req.Host
		case strings.EqualFold(name, "Upgrade"):
			field = &req.Upgrade
		case strings.EqualFold(name, "Connection"):
			field = &req.Connection
		case strings.EqualFold(name, "Sec-WebSocket-Key"):
			req.KeyCount++
			field = &req.Key
		case strings.EqualFold(name, "Sec-WebSocket-Version"):
			field = &req.Version
		case strings.EqualFold(name, "Origin"):
			field = &req.Origin
		case strings.EqualFold(name, "Sec-WebSocket-Protocol"):
			field = &req.Protocol
		case strings.EqualFold(name, "Sec-WebSocket-Extensions"):
			field = &req.Extensions
		default:
			continue
		}
		if *field == "" {
			*field = value
		} else {
			*field += ", " + value
		}
	}
	if hosts > 1 {
		return req, &handshake.Error{Status: http.StatusBadRequest, Err: errors.New("server: more than one Host header")}
	}
	return req, nil
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

	mu       sync.Mutex
	conns    map[*conn.Conn]struct{}
	shutdown bool
	active   sync.WaitGroup
}

// ServeHTTP implements http.Handler. After Shutdown it answers 503.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if h.shutdown {
		h.mu.Unlock()
		http.Error(w, "websocket: server shutting down", http.StatusServiceUnavailable)
		return
	}
	h.active.Add(1)
	h.mu.Unlock()
	defer h.active.Done()

	c, err := Upgrade(w, r, h.Options)
	if err != nil {
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
		go c.Close(frame.CloseGoingAway, "server shutting down")
	}
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		if c.State() == conn.Open {
			c.Close(frame.CloseNormalClosure, "")
		}
		c.CloseNow()
	}()
	h.Serve(c, r)
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
		go c.Close(frame.CloseGoingAway, "server shutting down")
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

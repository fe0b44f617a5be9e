//go:build js && wasm

package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/jsws"
)

// A Conn is a WebSocket connection after the opening handshake.
//
// Under GOOS=js GOARCH=wasm a Conn is the browser's WebSocket object, which
// client.Dial opens: the browser does the framing, masking, compression,
// answers to pings and the closing handshake, and a Conn has the same
// methods as elsewhere, with these differences:
//
//   - Messages arrive whole and are queued as the browser delivers them,
//     since the browser has no receive backpressure. A message longer
//     than Options.ReadLimit fails the connection, reported as a
//     *[ProtocolError] with code 1009 wrapping [ErrReadLimit]; the queue
//     holds at most twice the read limit in bytes (64 MiB with no limit),
//     and a message that would pass that fails the connection with a
//     *ProtocolError with code 1008. The browser may only send close
//     codes 1000 and 3000-4999, so on the wire these failures close with
//     4009 and 4008, with a reason naming 1009 or 1008.
//   - [Conn.Ping] is not available: the browser's API cannot send pings.
//     It answers the server's pings by itself.
//   - [Conn.Close] accepts only the codes the browser may send, 1000 and
//     3000-4999 (or CloseNoStatusReceived for no code), and a reason of
//     at most 123 bytes. [Conn.CloseNow] cannot drop the connection
//     without a Close frame: the browser sends one without a code.
//   - [Conn.Writer] gathers the message and sends it at Close. Writes
//     return once the browser has the message; [Conn.BufferedAmount] is
//     the bufferedAmount attribute, which Options.MaxBufferedAmount
//     bounds by polling it.
//   - [Conn.LocalAddr] is the page's origin and [Conn.RemoteAddr] the
//     URL, both in the network "websocket": the browser does not tell a
//     page IP addresses.
//   - Options.MaxFragments, ReadBufferSize and WriteBufferSize have no
//     effect; client.Dial rejects the options the browser cannot honour.
//   - [Conn.Stats] counts messages and their bytes; the wire, compression,
//     ping and pong counters and RTT stay zero, as the browser shows no
//     frames. Options.OnOpen and OnClose run as natively, OnClose on a
//     goroutine that waits for the end of the connection.
type Conn struct {
	s    *jsws.Socket
	opts Options // defaults filled in

	subprotocol, extensions string

	rlock   chan struct{} // held by the reader: a mutex that a context can abandon
	readErr error         // sticky; guarded by rlock
	mr      messageReader // guarded by rlock

	closeSent atomic.Bool // Close was called
	shut      atomic.Bool // CloseNow was called, or Close gave up waiting

	mu         sync.Mutex
	sentCode   CloseCode
	sentReason string
	failure    error // set when this endpoint failed the connection (backpressure)

	stats connStats // messages and their bytes; the browser shows no frames
}

const (
	backpressurePoll   = 10 * time.Millisecond // BackpressureBlock checks bufferedAmount this often
	browserMaxReason   = frame.MaxControlPayload - 2
	errBrowserCloseFmt = "conn: close code %d cannot be sent from a browser: its WebSocket API allows only 1000 and 3000-4999"
)

// New returns a Conn for nc, which under GOOS=js must be the connection
// client.Dial opened with the browser's WebSocket API: the browser does
// the framing, so a Conn cannot run over any other net.Conn. For other
// connections New returns an error matching [errors.ErrUnsupported].
func New(nc net.Conn, role frame.Role, h *Handshake, opts *Options) (*Conn, error) {
	s, ok := nc.(*jsws.Socket)
	if !ok {
		return nil, fmt.Errorf("conn: New is not available in the browser, whose WebSocket API does the framing; use client.Dial: %w", errors.ErrUnsupported)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if role != frame.Client {
		return nil, errors.New("conn: a browser WebSocket is always a client")
	}
	if h != nil && h.Compression != nil {
		if err := h.Compression.validate("conn: Handshake.Compression"); err != nil {
			return nil, err
		}
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	c := &Conn{s: s, opts: o, rlock: make(chan struct{}, 1)}
	c.mr.c = c
	if h != nil {
		c.subprotocol, c.extensions = h.Subprotocol, h.Extensions
	}
	if o.OnClose != nil {
		go c.awaitEnd()
	}
	if o.OnOpen != nil {
		o.OnOpen(c)
	}
	return c, nil
}

// awaitEnd calls Options.OnClose once the socket has ended, with the code
// the native Conn would report: 1009 or 1008 for the limits this Conn
// enforces (sent as 4009 and 4008), 1006 after CloseNow, and otherwise the
// code of the browser's close event, which is that of the Close frame the
// server sent (1005 if it had none, 1006 if none came).
func (c *Conn) awaitEnd() {
	<-c.s.Done()
	e := c.s.End()
	code := CloseCode(e.Code)
	switch e.Failure {
	case jsws.TooBig:
		code = CloseMessageTooBig
	case jsws.QueueFull:
		code = ClosePolicyViolation
	case jsws.Aborted:
		code = CloseAbnormalClosure
	}
	c.opts.OnClose(c, code, c.closedErr())
}

// State returns the state of the connection: the readyState attribute of
// the browser's WebSocket, or Closed once CloseNow was called.
func (c *Conn) State() State {
	if c.shut.Load() {
		return Closed
	}
	return State(c.s.ReadyState())
}

// BufferedAmount returns the bufferedAmount attribute of the browser's
// WebSocket: the bytes sent that the browser has not yet handed to the
// network.
func (c *Conn) BufferedAmount() int64 { return c.s.BufferedAmount() }

// Subprotocol returns the subprotocol the opening handshake agreed on, or
// "": the protocol attribute of the browser's WebSocket.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the extensions attribute of the browser's WebSocket:
// the Sec-WebSocket-Extensions value the server answered with, or "".
// Browsers offer permessage-deflate on every connection.
func (c *Conn) Extensions() string { return c.extensions }

// LocalAddr returns the page's origin (location.origin) in the network
// "websocket"; the browser does not tell a page its address.
func (c *Conn) LocalAddr() net.Addr { return c.s.LocalAddr() }

// RemoteAddr returns the URL of the WebSocket in the network "websocket".
func (c *Conn) RemoteAddr() net.Addr { return c.s.RemoteAddr() }

// lockRead takes rlock, unless ctx ends first.
func (c *Conn) lockRead(ctx context.Context) error {
	select {
	case c.rlock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Conn) unlockRead() { <-c.rlock }

// Read reads the next whole message, appends its payload to buf and
// returns the message type and the extended slice. The message is never
// larger than Options.ReadLimit.
//
// If ctx ends first, Read returns an error matching ctx.Err() and buf
// unchanged, and the Conn stays usable: the next Read returns the next
// message.
func (c *Conn) Read(ctx context.Context, buf []byte) (MessageType, []byte, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, buf, err
	}
	defer c.unlockRead()
	c.mr.stale()
	m, err := c.next(ctx)
	if err != nil {
		return 0, buf, err
	}
	return messageType(m), append(buf, m.Data...), nil
}

func messageType(m jsws.Message) MessageType {
	if m.Text {
		return Text
	}
	return Binary
}

// next waits for the next message. The caller holds rlock.
func (c *Conn) next(ctx context.Context) (jsws.Message, error) {
	for {
		if c.readErr != nil {
			return jsws.Message{}, c.readErr
		}
		if err := ctx.Err(); err != nil {
			return jsws.Message{}, err
		}
		m, end, ok := c.s.Next()
		if ok {
			c.stats.countMessageRead(false)
			c.stats.bytesRead.add(int64(len(m.Data)))
			return m, nil
		}
		if end != nil {
			c.readErr = c.endErr(end)
			continue
		}
		select {
		case <-c.s.Notify():
		case <-ctx.Done():
		}
	}
}

// endErr returns the error for reads of a connection that ended as e
// says, once every message before the end was read.
func (c *Conn) endErr(e *jsws.End) error {
	if err := c.localFailure(); err != nil {
		return err
	}
	switch e.Failure {
	case jsws.TooBig:
		return &ProtocolError{
			Code:   CloseMessageTooBig,
			Reason: fmt.Sprintf("message of %d bytes over the read limit of %d", e.Size, c.opts.ReadLimit),
			Err:    ErrReadLimit,
		}
	case jsws.QueueFull:
		return &ProtocolError{
			Code:   ClosePolicyViolation,
			Reason: fmt.Sprintf("%d bytes of messages arrived and were not read", e.Size),
			Err:    errQueueFull,
		}
	case jsws.Aborted:
		return errClosed
	}
	var answer *CloseError
	if e.Code != int(CloseAbnormalClosure) {
		answer = &CloseError{Code: CloseCode(e.Code), Reason: e.Reason}
	}
	if c.closeSent.Load() {
		c.mu.Lock()
		defer c.mu.Unlock()
		return &localCloseError{code: c.sentCode, reason: c.sentReason, answer: answer}
	}
	if answer == nil {
		return &CloseError{Code: CloseAbnormalClosure}
	}
	return answer
}

var errQueueFull = errors.New("conn: messages arrived faster than they were read, over the queue bound of the browser connection")

func (c *Conn) localFailure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failure
}

// closedErr is the error for writes on a connection that has ended or is
// closing, matching net.ErrClosed and saying why.
func (c *Conn) closedErr() error {
	if err := c.localFailure(); err != nil {
		return &closedError{cause: err}
	}
	e := c.s.End()
	switch {
	case e == nil && c.closeSent.Load():
		c.mu.Lock()
		defer c.mu.Unlock()
		return &localCloseError{code: c.sentCode, reason: c.sentReason}
	case e == nil, e.Failure == jsws.Aborted:
		return errClosed
	}
	err := c.endErr(e)
	if _, ok := err.(*localCloseError); ok {
		return err
	}
	return &closedError{cause: err}
}

// Reader returns the type of the next message and a reader for its
// payload, which the browser delivered whole. The reader returns [io.EOF]
// at the end of the message; it is valid until the next call of Reader or
// Read.
func (c *Conn) Reader(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.unlockRead()
	c.mr.stale()
	m, err := c.next(ctx)
	if err != nil {
		return 0, nil, err
	}
	c.mr.data = m.Data
	return messageType(m), &streamReader{r: &c.mr, gen: c.mr.gen}, nil
}

// A messageReader holds the message handed out by Reader. NetConn reads
// through it too.
type messageReader struct {
	c    *Conn
	gen  uint64 // counts the messages handed out
	data []byte // what is left of the message
}

// currentGen, passed to readContext, reads the current message whatever
// its generation.
const currentGen = ^uint64(0)

var errStaleReader = errors.New("conn: message reader used after the next call of Read or Reader")

func (r *messageReader) stale() {
	r.gen++
	r.data = nil
}

// readContext reads from the message of generation gen.
func (r *messageReader) readContext(ctx context.Context, gen uint64, p []byte) (int, error) {
	if err := r.c.lockRead(ctx); err != nil {
		return 0, err
	}
	defer r.c.unlockRead()
	if gen != currentGen && gen != r.gen {
		return 0, errStaleReader
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

type streamReader struct {
	r   *messageReader
	gen uint64
}

// Read implements [io.Reader].
func (s *streamReader) Read(p []byte) (int, error) {
	return s.r.readContext(context.Background(), s.gen, p)
}

// Write sends p as one message of type typ. It returns once the browser
// has taken the message; [Conn.BufferedAmount] counts it until the
// browser has handed it to the network.
//
// A Text message goes to the browser as a JavaScript string, so invalid
// UTF-8 in p arrives as U+FFFD; binary messages go as bytes.
//
// If ctx has ended, Write returns an error matching ctx.Err() and sends
// nothing. Under a Options.MaxBufferedAmount bound, Write may instead
// return [ErrBufferFull], or wait for bufferedAmount to fall.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	if typ != Text && typ != Binary {
		return fmt.Errorf("conn: invalid message type %d", typ)
	}
	return c.writeMessage(ctx, typ, p, nil)
}

// writeMessage sends p; pm is ignored, since the browser compresses.
func (c *Conn) writeMessage(ctx context.Context, typ MessageType, p []byte, _ *PreparedMessage) error {
	if err := c.writable(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.reserve(ctx, int64(len(p))); err != nil {
		return err
	}
	if err := c.writable(); err != nil {
		return err
	}
	if err := c.s.Send(typ == Text, p); err != nil {
		return fmt.Errorf("conn: WebSocket.send: %w", err)
	}
	c.stats.countMessageWritten(false)
	c.stats.bytesWritten.add(int64(len(p)))
	return nil
}

// writable returns the error for a write on a connection that is not
// open.
func (c *Conn) writable() error {
	if c.closeSent.Load() || c.shut.Load() || c.s.End() != nil || c.s.ReadyState() != jsws.StateOpen {
		return c.closedErr()
	}
	return nil
}

// reserve applies Options.MaxBufferedAmount to a write of n bytes. The
// browser has no event for a falling bufferedAmount, so BackpressureBlock
// polls it.
func (c *Conn) reserve(ctx context.Context, n int64) error {
	limit := c.opts.MaxBufferedAmount
	if limit <= 0 {
		return nil
	}
	for {
		cur := c.s.BufferedAmount()
		if cur == 0 || cur+n <= limit {
			return nil
		}
		switch c.opts.OnBackpressure {
		case BackpressureError:
			return ErrBufferFull
		case BackpressureClose:
			c.mu.Lock()
			if c.failure == nil {
				c.failure = ErrBufferFull
			}
			c.mu.Unlock()
			c.CloseNow()
			return ErrBufferFull
		}
		t := time.NewTimer(backpressurePoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.s.Done():
			t.Stop()
			return c.closedErr()
		}
	}
}

// Writer returns a writer for one message of type typ. The browser's API
// sends only whole messages, so the writer gathers the message and Close
// sends it, with ctx, as [Conn.Write] does. A writer used after its Close
// returns an error.
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != Text && typ != Binary {
		return nil, fmt.Errorf("conn: invalid message type %d", typ)
	}
	if err := c.writable(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &messageWriter{c: c, ctx: ctx, typ: typ}, nil
}

var errWriterClosed = errors.New("conn: message writer used after its Close")

type messageWriter struct {
	c      *Conn
	ctx    context.Context
	typ    MessageType
	buf    []byte
	closed bool
}

// Write implements [io.Writer].
func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Close implements [io.Closer]: it sends the message.
func (w *messageWriter) Close() error {
	if w.closed {
		return errWriterClosed
	}
	w.closed = true
	err := w.c.writeMessage(w.ctx, w.typ, w.buf, nil)
	w.buf = nil
	return err
}

// Ping fails under GOOS=js with an error matching
// [errors.ErrUnsupported]: the browser's WebSocket API cannot send pings.
// The browser answers the server's pings by itself.
func (c *Conn) Ping(ctx context.Context, payload []byte) (time.Duration, error) {
	return 0, fmt.Errorf("conn: Ping is not available in the browser: its WebSocket API cannot send pings (the browser answers the server's pings by itself): %w", errors.ErrUnsupported)
}

// Close performs the closing handshake ([RFC 6455, Section 7]) through
// the browser: it asks the browser to close with code and reason, and
// waits up to Options.CloseTimeout for the browser to report the
// connection closed. Messages that arrived before stay readable.
//
// The browser sends only 1000 and 3000-4999, or no code for
// [CloseNoStatusReceived], and reasons of at most 123 bytes of UTF-8:
// other codes and longer or invalid reasons return an error and close
// nothing. Close returns an error matching [net.ErrClosed] if it was
// called before or the connection is closed.
//
// [RFC 6455, Section 7]: https://www.rfc-editor.org/rfc/rfc6455#section-7
func (c *Conn) Close(code CloseCode, reason string) error {
	if err := checkBrowserClose(code, reason); err != nil {
		return err
	}
	if c.shut.Load() || c.s.End() != nil || !c.closeSent.CompareAndSwap(false, true) {
		return errClosed
	}
	c.mu.Lock()
	c.sentCode, c.sentReason = code, reason
	c.mu.Unlock()
	wire := int(code)
	if code == CloseNoStatusReceived {
		wire = -1
	}
	if err := c.s.StartClose(wire, reason); err != nil {
		c.shut.Store(true)
		c.s.Abort()
		return fmt.Errorf("conn: WebSocket.close: %w", err)
	}
	if !c.s.AwaitClose(c.opts.CloseTimeout) {
		c.shut.Store(true)
	}
	return nil
}

// checkBrowserClose reports a code or reason the browser would refuse
// to send.
func checkBrowserClose(code CloseCode, reason string) error {
	switch {
	case code == CloseNoStatusReceived:
		if reason != "" {
			return errors.New("conn: a close without a code (CloseNoStatusReceived) cannot carry a reason")
		}
	case code != CloseNormalClosure && (code < 3000 || code > 4999):
		return fmt.Errorf(errBrowserCloseFmt, code)
	}
	if len(reason) > browserMaxReason {
		return fmt.Errorf("conn: close reason is %d bytes; a Close frame holds at most %d", len(reason), browserMaxReason)
	}
	if !utf8.ValidString(reason) {
		return errors.New("conn: close reason is not valid UTF-8")
	}
	return nil
}

// CloseNow ends the connection at once: the browser sends a Close frame
// without a code (its API cannot drop a connection without one), and no
// event reaches the Conn after. Blocked reads and writes return. It
// returns an error matching [net.ErrClosed] if the connection was already
// closed.
func (c *Conn) CloseNow() error {
	if !c.shut.CompareAndSwap(false, true) {
		return errClosed
	}
	if e := c.s.End(); e != nil && c.s.Released() {
		return errClosed
	}
	c.s.Abort()
	return nil
}

// Package h2stream adapts a stream of an HTTP/2 connection, opened with
// the extended CONNECT of RFC 8441, to a net.Conn, so that a conn.Conn
// runs over it as over TCP. Reads come from the stream's body and writes
// go out as DATA frames at once; closing the Conn ends the stream, which
// is what closing the TCP connection is to a WebSocket over HTTP/1.1.
//
// Deadlines are the adapter's own: those of net/http's ResponseController
// end the stream when they pass, where a Conn needs a read interrupted by
// a context to leave the connection usable. A goroutine per stream reads
// the body, so that a Read can give up at its deadline; it ends with the
// stream.
package h2stream

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// A Stream is the half of an HTTP/2 stream a Conn writes to.
type Stream struct {
	// Write writes p as DATA frames and flushes them to the peer.
	Write func(p []byte) (int, error)
	// Abort resets the stream at once, to interrupt a Write blocked by
	// the peer's flow control.
	Abort func()
	// End ends the stream, once, when the Conn is closed.
	End func()
}

// A Conn is an HTTP/2 stream as a net.Conn.
type Conn struct {
	body          io.ReadCloser
	stream        Stream
	local, remote net.Addr

	chunks chan chunk // from the goroutine reading body
	rest   []byte     // of the last chunk, not yet read
	owner  *[]byte    // the pooled buffer rest is in
	rerr   error      // sticky, once the body has ended
	rd, wd deadline

	wmu     sync.Mutex // serializes writes
	smu     sync.Mutex // guards writing and ended
	writing bool       // a Write is in stream.Write
	ended   bool       // Close has begun: no Write may start

	closeOnce sync.Once
	closed    chan struct{}
}

// A chunk is what one read of the body gave.
type chunk struct {
	buf *[]byte
	n   int
	err error
}

const chunkSize = 16 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// New returns a Conn reading from body and writing to stream, with the
// given addresses (a placeholder if nil).
func New(body io.ReadCloser, stream Stream, local, remote net.Addr) *Conn {
	if local == nil {
		local = Addr("")
	}
	if remote == nil {
		remote = Addr("")
	}
	c := &Conn{body: body, stream: stream, local: local, remote: remote, chunks: make(chan chunk), closed: make(chan struct{})}
	c.wd.onPass = c.abortWrite
	go c.pump()
	return c
}

// pump reads the body and hands what it reads to Read, until the body
// ends or the Conn is closed.
func (c *Conn) pump() {
	for {
		bp := buffers.Get().(*[]byte)
		n, err := c.body.Read(*bp)
		select {
		case c.chunks <- chunk{bp, n, err}:
		case <-c.closed:
			buffers.Put(bp)
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements net.Conn.
func (c *Conn) Read(p []byte) (int, error) {
	if len(c.rest) == 0 && c.rerr == nil {
		select {
		case ch := <-c.chunks:
			c.rest, c.owner = (*ch.buf)[:ch.n], ch.buf
			if ch.err != nil {
				c.rerr = ch.err
			}
		case <-c.rd.wait():
			return 0, errTimeout
		case <-c.closed:
			return 0, net.ErrClosed
		}
	}
	if len(c.rest) > 0 {
		n := copy(p, c.rest)
		c.rest = c.rest[n:]
		if len(c.rest) == 0 {
			buffers.Put(c.owner)
			c.owner = nil
		}
		return n, nil
	}
	return 0, c.rerr
}

// Write implements net.Conn. A deadline that passes while a Write waits
// on the peer's flow control resets the stream, the only way to interrupt
// it; one that has passed before a Write starts leaves the stream as it
// is.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wd.passed() {
		return 0, errTimeout
	}
	c.smu.Lock()
	if c.ended {
		c.smu.Unlock()
		return 0, net.ErrClosed
	}
	c.writing = true
	c.smu.Unlock()
	n, err := c.stream.Write(p)
	c.smu.Lock()
	c.writing = false
	c.smu.Unlock()
	if err != nil && c.wd.passed() {
		err = errTimeout
	}
	return n, err
}

// abortWrite interrupts a Write in progress, if any, by resetting the
// stream. A Write that has not begun yet sees the deadline or the end.
func (c *Conn) abortWrite() {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.writing {
		c.stream.Abort()
	}
}

// Close ends the stream. Blocked Reads and Writes return, and no Write
// runs once Close has returned: a server's handler may return then, which
// forbids any later use of its ResponseWriter.
func (c *Conn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		err = nil
		close(c.closed)
		c.rd.stop()
		c.wd.stop()
		c.smu.Lock()
		c.ended = true
		c.smu.Unlock()
		c.abortWrite()
		// Waits for a Write in progress, interrupted above: none may run
		// once the stream has ended. The stream ends before the body is
		// closed, which may reset it: what was written before Close is
		// delivered, as over TCP.
		c.wmu.Lock()
		c.stream.End()
		c.body.Close()
		c.wmu.Unlock()
	})
	return err
}

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline implements net.Conn.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

// SetReadDeadline implements net.Conn.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rd.set(t); return nil }

// SetWriteDeadline implements net.Conn.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

// An Addr is a network address known only as a string, such as an
// http.Request's RemoteAddr.
type Addr string

// Network returns "tcp".
func (Addr) Network() string { return "tcp" }

func (a Addr) String() string { return string(a) }

// errTimeout is returned by reads and writes whose deadline has passed;
// it matches os.ErrDeadlineExceeded, as a net.Conn's does.
var errTimeout error = &timeoutError{}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "h2stream: i/o timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }
func (*timeoutError) Unwrap() error   { return os.ErrDeadlineExceeded }

var _ net.Error = (*timeoutError)(nil)

// A deadline is a time after which waits give up: passed is closed then,
// and replaced when the deadline is moved. onPass, if set, runs when it
// passes.
type deadline struct {
	mu      sync.Mutex
	timer   *time.Timer
	passing chan struct{} // closed once the deadline has passed
	onPass  func()
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.passing == nil || isClosed(d.passing) {
		d.passing = make(chan struct{})
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		d.pass(d.passing)
		return
	}
	ch := d.passing
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.passing == ch {
			d.pass(ch)
		}
	})
}

// pass closes ch and runs onPass. The caller holds mu.
func (d *deadline) pass(ch chan struct{}) {
	if !isClosed(ch) {
		close(ch)
		if d.onPass != nil {
			d.onPass()
		}
	}
}

// wait returns a channel that is closed once the deadline has passed.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.passing == nil {
		d.passing = make(chan struct{})
	}
	return d.passing
}

// passed reports whether the deadline has passed.
func (d *deadline) passed() bool { return isClosed(d.wait()) }

func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// ErrNotSupported is what a client's extended CONNECT meets when the
// server did not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL.
var ErrNotSupported = errors.New("h2stream: the server does not accept extended CONNECT (RFC 8441)")

package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// NetConn returns a [net.Conn] that carries a byte stream over c: each
// Write sends its bytes as one message of type typ, and Read returns the
// payloads of the messages that arrive, one after another, as a single
// stream. This lets code written for a net.Conn (a TLS session, an RPC
// framework, a tunnel) run over a WebSocket.
//
// Read returns [io.EOF] once the peer has closed the connection with code
// 1000 (normal closure) or 1001 (going away), and the peer's
// *[CloseError] for any other code. A message of the other type fails the
// connection with close code 1003 (unsupported data, [RFC 6455,
// Section 7.4.1]). Close performs the closing handshake with code 1000.
//
// Deadlines work as on any net.Conn and apply to pending calls too. Unlike
// the deadlines of other WebSocket libraries' adapters, one that passes
// does not break the connection: a Read that timed out returns an error
// matching [os.ErrDeadlineExceeded], and the next Read continues the
// stream exactly where it stopped, even in the middle of a frame. A Write
// that timed out before any byte of its frame was sent likewise leaves the
// connection usable; one that timed out in the middle of its frame closes
// it, as [Conn.Write] documents.
//
// The returned net.Conn is safe for concurrent use. Reading from c by
// other means while the adapter is in use mixes the two streams.
//
// [RFC 6455, Section 7.4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
func NetConn(c *Conn, typ MessageType) net.Conn {
	return &netConn{c: c, typ: typ}
}

type netConn struct {
	c   *Conn
	typ MessageType

	rmu     sync.Mutex // held by Read; guards reading and rerr
	reading bool       // a message's payload is being read
	rerr    error      // sticky

	rd, wd deadline
}

func (nc *netConn) Read(p []byte) (int, error) {
	nc.rmu.Lock()
	defer nc.rmu.Unlock()
	if nc.rerr != nil {
		return 0, nc.rerr
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		ctx, err := nc.rd.context()
		if err != nil {
			return 0, err
		}
		if !nc.reading {
			typ, _, err := nc.c.Reader(ctx)
			if err != nil {
				if cancelled(ctx, err) {
					continue
				}
				return 0, nc.readFailed(err)
			}
			if typ != nc.typ {
				nc.rerr = fmt.Errorf("conn: NetConn received a %v message; it carries %v messages", typ, nc.typ)
				nc.c.Close(CloseUnsupportedData, "expected "+nc.typ.String()+" messages")
				return 0, nc.rerr
			}
			nc.reading = true
		}
		n, err := nc.c.mr.readContext(ctx, currentGen, p)
		switch {
		case err == io.EOF:
			nc.reading = false
			if n == 0 {
				continue
			}
			return n, nil
		case cancelled(ctx, err):
			if n > 0 {
				return n, nil
			}
			continue
		case err != nil:
			return n, nc.readFailed(err)
		}
		return n, nil
	}
}

// readFailed records the error that ends the stream.
func (nc *netConn) readFailed(err error) error {
	var ce *CloseError
	if errors.As(err, &ce) && (ce.Code == CloseNormalClosure || ce.Code == CloseGoingAway) {
		err = io.EOF
	}
	nc.rerr = err
	return err
}

func (nc *netConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		ctx, err := nc.wd.context()
		if err != nil {
			return 0, err
		}
		err = nc.c.Write(ctx, nc.typ, p)
		switch {
		case err == nil:
			return len(p), nil
		case !cancelled(ctx, err):
			return 0, err
		case nc.c.State() == Closed:
			return 0, fmt.Errorf("conn: write deadline passed mid-frame, connection closed: %w", os.ErrDeadlineExceeded)
		}
		// Nothing was sent: the next turn reports the deadline or, if it
		// moved, writes again.
	}
}

func (nc *netConn) Close() error {
	nc.rd.stop()
	nc.wd.stop()
	return nc.c.Close(CloseNormalClosure, "")
}

func (nc *netConn) LocalAddr() net.Addr  { return nc.c.LocalAddr() }
func (nc *netConn) RemoteAddr() net.Addr { return nc.c.RemoteAddr() }

func (nc *netConn) SetDeadline(t time.Time) error {
	nc.rd.set(t)
	nc.wd.set(t)
	return nil
}

func (nc *netConn) SetReadDeadline(t time.Time) error  { nc.rd.set(t); return nil }
func (nc *netConn) SetWriteDeadline(t time.Time) error { nc.wd.set(t); return nil }

// A deadline turns a net.Conn deadline into the context a Conn's calls
// take. Calls share one context until the deadline passes and cancels it,
// so setting or moving a deadline also governs calls already waiting, as
// net.Conn requires, and calls allocate nothing. A call the context
// cancelled asks context again: it gets os.ErrDeadlineExceeded, or a
// fresh context if the deadline was moved on meanwhile, and since reads
// resume where they stopped, trying again loses nothing.
type deadline struct {
	mu     sync.Mutex
	at     time.Time // zero: none
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
}

// context returns the context for a call starting now, or an error
// matching os.ErrDeadlineExceeded if the deadline has passed.
func (d *deadline) context() (context.Context, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.passed() {
		return nil, os.ErrDeadlineExceeded
	}
	if d.ctx == nil || d.ctx.Err() != nil {
		d.ctx, d.cancel = context.WithCancel(context.Background())
	}
	return d.ctx, nil
}

// set moves the deadline to t.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at = t
	if d.timer != nil {
		d.timer.Stop()
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		d.expire()
		return
	}
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
	} else {
		d.timer.Reset(wait)
	}
}

func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.passed() {
		d.expire()
	}
}

// expire cancels the calls in progress. The caller holds mu.
func (d *deadline) expire() {
	if d.cancel != nil {
		d.cancel()
	}
}

// passed reports whether the deadline is set and has passed. The caller
// holds mu.
func (d *deadline) passed() bool { return !d.at.IsZero() && !time.Now().Before(d.at) }

// cancelled reports whether err is ctx, a deadline's context, cancelling a
// call, which then asks its deadline what to do next.
func cancelled(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, context.Canceled)
}

// stop releases the timer.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
	}
}

package reconnect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
)

var (
	// ErrGaveUp is matched by the error of a Conn that stopped after
	// Options.MaxAttempts consecutive failed dials or Options.MaxDowntime
	// without a connection; the error also wraps the last failure.
	ErrGaveUp = errors.New("reconnect: gave up")

	// ErrNotConnected is returned by a Write made while no connection is
	// open, when there is no queue. The message was not sent.
	ErrNotConnected = errors.New("reconnect: not connected; the message was not sent")

	// ErrQueueFull is returned by a Write made while no connection is
	// open, when the queue has no room under the RejectNew policy or the
	// message alone is larger than Options.QueueBytes. The message was not
	// queued.
	ErrQueueFull = errors.New("reconnect: queue full; the message was not queued")

	errClosed = fmt.Errorf("reconnect: the Conn was closed: %w", net.ErrClosed)
)

// A Conn is a WebSocket client connection that dials again when the
// connection ends or a dial fails, as its Options say. It wraps one
// [conn.Conn] at a time.
type Conn struct {
	url    string
	opts   Options
	ctx    context.Context // ends with Close; governs the dials after the first
	cancel context.CancelFunc

	mu         sync.Mutex
	cur        *conn.Conn    // the open connection, or nil
	gen        uint64        // counts the connections published in cur
	pending    *conn.Conn    // a connection being set up: OnConnect, queue flush
	changed    chan struct{} // closed and replaced when cur or final changes
	final      error         // why the Conn stopped, once it has
	closed     bool          // Close or CloseNow was called
	done       chan struct{} // closed when the redialing goroutine ends; nil if none was started
	inCallback int           // callbacks running
	q          queue
}

// Dial connects to the WebSocket server at rawURL with [client.Dial] and
// returns a Conn that keeps connected, as opts say. The first connection
// follows the same policy as the later ones: a dial that fails in a way
// [Options.Retry] accepts is tried again after a delay, until one
// succeeds, MaxAttempts is reached or ctx ends. ctx governs only this
// first connection; the later ones last until Conn.Close.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Conn, error) {
	o, err := opts.validate()
	if err != nil {
		return nil, err
	}
	if o.randN == nil {
		o.randN = randN
	}
	r := &Conn{
		url:     rawURL,
		opts:    o,
		changed: make(chan struct{}),
		q:       queue{maxMsgs: o.QueueMessages, maxBytes: o.QueueBytes, policy: o.QueuePolicy},
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if err := r.connect(ctx, nil, 0); err != nil {
		r.cancel()
		return nil, err
	}
	return r, nil
}

// Read reads the next whole message of the current connection, as
// [conn.Conn.Read] does, appending its payload to buf. When the connection
// ends and the Conn reconnects, Read waits for the next connection and
// reads from it; messages in flight when the connection ended are lost.
// Read returns an error when ctx ends (the Conn stays usable, and a
// message being received is resumed by the next Read) or when the Conn
// stops: see the package documentation, Errors.
func (r *Conn) Read(ctx context.Context, buf []byte) (conn.MessageType, []byte, error) {
	for {
		r.mu.Lock()
		c, gen, changed, final := r.cur, r.gen, r.changed, r.final
		r.mu.Unlock()
		if c == nil {
			if final != nil {
				return 0, buf, final
			}
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return 0, buf, ctx.Err()
			}
		}
		typ, p, err := c.Read(ctx, buf)
		if err == nil {
			return typ, p, nil
		}
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			return 0, buf, err
		}
		r.lost(gen, err)
	}
}

// Write sends p as one message of type typ (conn.Text or conn.Binary). On
// an open connection it is [conn.Conn.Write], and its error is that of
// conn.Conn.Write: a connection that broke before Read noticed fails the
// write, and the message may or may not have reached the server. While no
// connection is open, Write queues a copy of p if there is a queue and
// returns at once; otherwise it returns ErrNotConnected. Once the Conn has
// stopped, Write returns the error Read returns.
func (r *Conn) Write(ctx context.Context, typ conn.MessageType, p []byte) error {
	if typ != conn.Text && typ != conn.Binary {
		return fmt.Errorf("reconnect: message type %d is neither text nor binary", typ)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	if r.final != nil {
		err := r.final
		r.mu.Unlock()
		return err
	}
	if r.closed {
		r.mu.Unlock()
		return errClosed
	}
	c := r.cur
	if c == nil {
		err := ErrNotConnected
		if r.q.enabled() {
			err = r.q.push(typ, p)
		}
		r.mu.Unlock()
		return err
	}
	r.mu.Unlock()
	return c.Write(ctx, typ, p)
}

// Close stops the Conn: it performs the closing handshake on the open
// connection, if there is one, as [conn.Conn.Close] does with code and
// reason, and otherwise stops waiting and dialing. Queued messages are
// dropped. Close returns once the Conn's goroutine has ended, except when
// it is called while OnConnect or OnDisconnect runs: that goroutine then
// ends as soon as the callback returns. A second Close returns an error
// matching net.ErrClosed. As with conn.Conn.Close, the client then leaves
// the TCP close to the server, watching for it in the background for at
// most conn.Options.CloseTimeout; CloseNow leaves nothing behind. A code
// that may not be sent (see
// [conn.Conn.Close]) is refused with an error, and the Conn goes on.
func (r *Conn) Close(code conn.CloseCode, reason string) error {
	if code != conn.CloseNoStatusReceived && !code.IsValid() {
		return fmt.Errorf("reconnect: close code %d may not be sent", code)
	}
	return r.stop(func(c *conn.Conn) error { return c.Close(code, reason) })
}

// CloseNow stops the Conn as Close does, but closes the open connection,
// if there is one, at once, without a closing handshake
// ([conn.Conn.CloseNow]).
func (r *Conn) CloseNow() error {
	return r.stop((*conn.Conn).CloseNow)
}

func (r *Conn) stop(closeConn func(*conn.Conn) error) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errClosed
	}
	r.closed = true
	r.cancel()
	r.q.clear()
	c, pending, done, inCallback := r.cur, r.pending, r.done, r.inCallback > 0
	if c == nil && r.final == nil {
		// With a connection open, the final error is what its Read
		// returns now that it is closed.
		r.final = errClosed
		r.signal()
	}
	r.mu.Unlock()
	var err error
	if c != nil {
		err = closeConn(c)
	}
	if pending != nil {
		pending.CloseNow()
	}
	if done != nil && !inCallback {
		<-done
	}
	return err
}

// State returns the state of the current connection: conn.Connecting
// while the Conn waits or dials, and conn.Closed once it has stopped.
func (r *Conn) State() conn.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.cur != nil:
		return r.cur.State()
	case r.final != nil || r.closed:
		return conn.Closed
	}
	return conn.Connecting
}

// Current returns the open connection, or nil while there is none: for
// its Subprotocol, Extensions or addresses, or to Ping. Reading from it
// directly bypasses the reconnection.
func (r *Conn) Current() *conn.Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// signal wakes the readers waiting for a change of cur or final. The
// caller holds mu.
func (r *Conn) signal() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// lost handles the end, with err, of connection number gen, which a Read
// saw: it closes the connection and either records err as the final error
// (after Close) or starts the goroutine that reconnects.
func (r *Conn) lost(gen uint64, err error) {
	r.mu.Lock()
	if gen != r.gen || r.cur == nil {
		r.mu.Unlock()
		return // another reader saw it first
	}
	c := r.cur
	r.cur = nil
	if r.closed {
		if r.final == nil {
			r.final = err
		}
		r.signal()
		r.mu.Unlock()
		c.CloseNow()
		return
	}
	prev, done := r.done, make(chan struct{})
	r.done = done
	r.signal()
	r.mu.Unlock()
	c.CloseNow()
	go func() {
		defer close(done)
		if prev != nil {
			// The goroutine that opened c may not have returned yet: wait,
			// so that Close, which waits for done, waits for both.
			<-prev
		}
		r.connect(r.ctx, err, 0)
	}()
}

// connect dials until a connection opens, and publishes it. err is the
// failure that led here, after which it waits before dialing (nil for the
// first dial, made at once), and n is the number of consecutive failed
// dials so far. It returns nil once a connection is open, or why it
// stopped: ctx ended, the Conn was closed, or it gave up, in which case
// the error is also recorded as the Conn's final error.
func (r *Conn) connect(ctx context.Context, err error, n int) error {
	down := time.Now()
	for {
		if r.ctx.Err() != nil {
			return errClosed
		}
		if cerr := ctx.Err(); cerr != nil {
			return ctxError(cerr, err)
		}
		if err != nil {
			if !r.opts.Retry(err) {
				return r.giveUp(err)
			}
			if r.opts.MaxAttempts > 0 && n >= r.opts.MaxAttempts {
				return r.giveUp(fmt.Errorf("%w after %d consecutive failed dials; the last: %w", ErrGaveUp, n, err))
			}
			d := r.opts.delay(n, err, r.opts.randN)
			if max := r.opts.MaxDowntime; max > 0 {
				if next := time.Since(down) + d; next > max {
					return r.giveUp(fmt.Errorf("%w: the next dial would come %v after the connection was lost, past MaxDowntime %v; the last failure: %w",
						ErrGaveUp, next.Round(time.Millisecond), max, err))
				}
			}
			if r.opts.OnDisconnect != nil {
				r.callback(func() { r.opts.OnDisconnect(err, d) })
			}
			if !sleep(ctx, d) {
				continue
			}
		}
		c, resp, derr := client.Dial(ctx, r.url, r.opts.Client)
		if derr == nil {
			derr = r.open(ctx, c, resp)
			if derr == nil {
				return nil
			}
		}
		if ctx.Err() != nil {
			continue // not a failure of the server's: report ctx's end
		}
		n++
		err = derr
	}
}

// ctxError is the error of a connect whose ctx ended, after the failure
// last if there was one.
func ctxError(cerr, last error) error {
	if last == nil {
		return fmt.Errorf("reconnect: %w", cerr)
	}
	return fmt.Errorf("reconnect: %w; the last failure: %w", cerr, last)
}

// sleep waits for d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// open sets up a new connection: OnConnect, then the queued messages, and
// publishes it as cur once the queue is empty, so that no write overtakes
// a queued one. It returns an error if the Conn was closed or a queued
// message could not be written (that message is lost), having closed c.
func (r *Conn) open(ctx context.Context, c *conn.Conn, resp *http.Response) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		c.CloseNow()
		return errClosed
	}
	r.pending = c
	r.mu.Unlock()
	if r.opts.OnConnect != nil {
		r.callback(func() { r.opts.OnConnect(c, resp) })
	}
	for {
		r.mu.Lock()
		if r.closed {
			r.pending = nil
			r.mu.Unlock()
			c.CloseNow()
			return errClosed
		}
		m, ok := r.q.pop()
		if !ok {
			r.pending = nil
			r.cur = c
			r.gen++
			r.signal()
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		if err := c.Write(ctx, m.typ, m.p); err != nil {
			r.mu.Lock()
			r.pending = nil
			r.mu.Unlock()
			c.CloseNow()
			return fmt.Errorf("reconnect: sending a queued message: %w", err)
		}
	}
}

// giveUp records err as the final error, tells OnDisconnect, and returns
// err.
func (r *Conn) giveUp(err error) error {
	r.mu.Lock()
	if r.final == nil {
		r.final = err
		r.signal()
	}
	r.mu.Unlock()
	if r.opts.OnDisconnect != nil {
		r.callback(func() { r.opts.OnDisconnect(err, -1) })
	}
	return err
}

// callback runs f, a user callback, counting it in inCallback so that a
// Close called from it does not wait for the goroutine running it.
func (r *Conn) callback(f func()) {
	r.mu.Lock()
	r.inCallback++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inCallback--
		r.mu.Unlock()
	}()
	f()
}

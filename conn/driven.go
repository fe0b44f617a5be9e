//go:build !js

package conn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/drive"
)

// A Conn under a driver (package eventloop) is the same Conn, with the
// same rules, limits and close handshake; only the waiting moves out of
// it. Its network connection is the driver's drive.Transport, whose reads
// return drive.ErrWouldBlock instead of waiting, and the driver reads it
// through a session when the socket is readable. A read cut by
// ErrWouldBlock keeps what it received, as a read cut by its context
// does, and the next one goes on from there. The waits that Read and
// Close would do within a call (for the peer's Close frame after a
// violation, or after Close) become later reads by the driver and a
// timer for CloseTimeout; keepalive runs on the driver's ticks instead of
// a timer per connection; and gathered replies (cork.go) go out when the
// driver's read finds no more bytes, so they need no timer either.

func init() { drive.Take = take }

// A session is a Conn as a driver sees it.
type session Conn

// take implements drive.Take. It holds rlock, so that nothing reads
// while the network connection changes, and wframe, so that nothing
// writes; a write in progress (a greeting sent by an OnOpen hook, say) is
// waited for, up to CloseTimeout. The change itself is made under mu,
// which shutdown also takes to find what to close, so that a Conn closed
// meanwhile closes the transport too.
func take(x any, wrap func(net.Conn) (drive.Transport, error)) (drive.Session, error) {
	c, ok := x.(*Conn)
	if !ok {
		return nil, fmt.Errorf("conn: cannot drive a %T", x)
	}
	if !c.rlock.tryLock() {
		return nil, errors.New("conn: a Conn that is being read cannot be handed to a driver")
	}
	defer c.rlock.unlock()
	if c.driven.Load() {
		return nil, errors.New("conn: the Conn is already driven")
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.CloseTimeout)
	defer cancel()
	if err := c.wframe.lock(ctx, c); err != nil {
		return nil, fmt.Errorf("conn: waiting for a write to end before handing the Conn to a driver: %w", err)
	}
	defer c.unlockFrame()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isShut() {
		return nil, errClosed
	}
	t, err := wrap(c.nc)
	if err != nil {
		return nil, err
	}
	c.nc, c.transport = t, t
	if c.raw != nil {
		c.raw = t.Raw()
	}
	c.driven.Store(true)
	if c.keepalive != nil {
		c.keepalive.Stop()
		c.keepalive = nil
	}
	return (*session)(c), nil
}

// Read implements drive.Session.
func (s *session) Read(buf []byte) (int, []byte, error) {
	c := (*Conn)(s)
	if !c.rlock.tryLock() {
		return 0, buf, drive.ErrWouldBlock
	}
	defer c.rlock.unlock()
	if c.draining {
		return 0, buf, c.drain()
	}
	if c.readErr != nil {
		return 0, buf, c.readErr
	}
	start := len(buf)
	typ, out, err := c.readMessage(buf)
	switch {
	case err == nil:
		c.noteBatch()
		return int(typ), out, nil
	case err == drive.ErrWouldBlock:
		if c.inMsg || c.inflating {
			c.keepPartial(buf, out[start:])
		}
		return 0, buf, err
	}
	return 0, buf, c.readFailed(err)
}

// MaxBuffered implements drive.Session.
func (s *session) MaxBuffered() int64 { return s.opts.MaxBufferedAmount }

// Keepalive implements drive.Session.
func (s *session) Keepalive() time.Duration { return s.opts.KeepaliveInterval }

// Tick implements drive.Session.
func (s *session) Tick() {
	if s.opts.KeepaliveInterval > 0 {
		(*Conn)(s).keepaliveTick()
	}
}

// Err implements drive.Session.
func (s *session) Err() error { return (*Conn)(s).closedErr() }

// failDriven is fail's wait for the peer's Close frame under a driver:
// it looks through what has arrived, and if the Close frame is not there
// yet, leaves the rest to the driver's later reads (drain), bounded by
// CloseTimeout. The caller holds rlock.
func (c *Conn) failDriven(pe *frame.ProtocolError) error {
	c.readErr = pe
	c.draining = true
	if c.drain() == drive.ErrWouldBlock {
		time.AfterFunc(c.opts.CloseTimeout, c.shutdown)
	}
	return pe
}

// drain reads what arrived after this endpoint failed the connection,
// looking for the peer's Close frame, and ends the connection when it
// comes or the connection breaks. It returns drive.ErrWouldBlock while
// the wait goes on, and the error Reads return once it is over. The
// caller holds rlock.
func (c *Conn) drain() error {
	arrived, err := c.scanForClose()
	if !arrived && err == drive.ErrWouldBlock {
		return err
	}
	c.draining = false
	c.shutdown()
	return c.readErr
}

// closeDriven is Close's wait for the peer's Close frame under a driver:
// the driver's reads go on, and the peer's Close frame ends the connection
// (peerClosed); if it does not come by deadline, this ends it.
func (c *Conn) closeDriven(deadline time.Time) {
	time.AfterFunc(time.Until(deadline), func() {
		if !c.isShut() {
			c.setFailure(c.localClose())
			c.shutdown()
		}
	})
}

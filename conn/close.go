//go:build !js

package conn

import (
	"context"
	"fmt"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// Close performs the closing handshake ([RFC 6455, Section 7]): it sends a
// Close frame with code and reason, waits up to Options.CloseTimeout for
// the peer's Close frame (reading and discarding messages if no other
// goroutine is reading), and ends the connection. A server closes the
// TCP connection at once. A client leaves it to the server to close
// first, as Section 7.1.1 prefers, and returns without waiting for that:
// it watches for the server's close in the background for at most
// CloseTimeout more, and [Conn.State] reports Closed once the connection
// is closed.
//
// code must be valid on the wire ([CloseCode.IsValid]) or
// [CloseNoStatusReceived], which sends a Close frame with no body. A
// reason longer than 123 bytes is cut. Close returns at once with an
// error matching [net.ErrClosed] if a Close frame was already sent or
// the connection is closed.
//
// [RFC 6455, Section 7]: https://www.rfc-editor.org/rfc/rfc6455#section-7
func (c *Conn) Close(code CloseCode, reason string) error {
	if code != CloseNoStatusReceived && !code.IsValid() {
		return fmt.Errorf("conn: close code %d may not be sent", code)
	}
	sent, err := c.sendCloseOnce(code, reason)
	if err != nil {
		c.shutdown()
		return err
	}
	if !sent {
		return errClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.CloseTimeout)
	defer cancel()
	switch err := c.rlock.lock(ctx, c); {
	case err == nil:
		// No one is reading: wait for the peer's Close frame here. What a message
		// reader had pending lives in rbuf, which this overwrites.
		c.mr.stale()
		c.mr.pending = nil
		answered := c.awaitClose(time.Now().Add(c.opts.CloseTimeout))
		c.setFailure(c.localClose())
		if answered {
			c.finish()
		} else {
			c.shutdown()
		}
		if c.readErr == nil {
			c.readErr = c.closedErr()
		}
		c.rlock.unlock()
	case ctx.Err() != nil:
		// A reader holds rlock and has not seen the peer's Close frame in time.
		c.setFailure(c.localClose())
		c.shutdown()
	}
	return nil
}

// CloseNow closes the network connection at once, without a closing
// handshake. Blocked reads and writes return. It returns an error matching
// [net.ErrClosed] if the connection was already closed.
func (c *Conn) CloseNow() error {
	if c.isShut() {
		return errClosed
	}
	c.shutdown()
	return nil
}

// peerClosed handles the peer's Close frame: it echoes the code and reason
// unless a Close frame was already sent, and ends the connection. It
// returns the peer's *CloseError, or, if this endpoint had closed first,
// the error saying so. The caller holds rlock.
func (c *Conn) peerClosed(code CloseCode, reason string) error {
	ce := &CloseError{Code: code, Reason: reason}
	initiated := c.closeWasSent()
	c.markCloseRcvd(ce)
	var err error = ce
	if initiated {
		err = c.localClose()
	}
	c.setFailure(err)
	// Section 5.5.1: "If an endpoint receives a Close frame and did not previously send a
	// Close frame, the endpoint MUST send a Close frame in response. (When sending a Close
	// frame in response, the endpoint typically echos the status code it received.)"
	c.sendCloseOnce(code, reason)
	c.finish()
	c.readErr = err
	return err
}

// finish ends a connection whose closing handshake is complete. A server
// closes the TCP connection at once. A client waits for the server to
// close it first (Section 7.1.1: "the underlying TCP connection, in most
// normal cases, SHOULD be closed first by the server"), but in the
// background, so that the caller learns of the close without delay: a
// goroutine reads until the server closes the connection, and a timer
// closes it from this side after CloseTimeout. Both end with the Conn.
// Nothing may read nc under rlock once the peer's Close frame has
// arrived, which the callers ensure.
func (c *Conn) finish() {
	if c.role == frame.Server {
		c.shutdown()
		return
	}
	if !c.awaitingEOF.CompareAndSwap(false, true) {
		return
	}
	timer := time.AfterFunc(c.opts.CloseTimeout, c.shutdown)
	go func() {
		var discard [256]byte
		for {
			if _, err := c.nc.Read(discard[:]); err != nil {
				break
			}
		}
		timer.Stop()
		c.shutdown()
	}()
}

// localClose returns the error for a connection this endpoint closed:
// code and reason of the Close frame it sent, and the peer's answer.
func (c *Conn) localClose() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &localCloseError{code: c.sentCode, reason: c.sentReason, answer: c.peerClose}
}

func (c *Conn) markCloseRcvd(ce *CloseError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closeRcvd {
		c.peerClose = ce
		c.closeRcvd = true
	}
}

// sendClose sends a Close frame unless one was sent already, and reports
// whether the peer's answer is worth waiting for.
func (c *Conn) sendClose(code CloseCode, reason string) bool {
	sent, err := c.sendCloseOnce(code, reason)
	return err == nil && (sent || c.closeWasSent())
}

func (c *Conn) closeWasSent() bool { return c.closeSent.Load() }

// sendCloseOnce writes a Close frame if none was written yet, waiting at
// most Options.CloseTimeout. It reports whether this call wrote it.
func (c *Conn) sendCloseOnce(code CloseCode, reason string) (bool, error) {
	if !c.closeSent.CompareAndSwap(false, true) {
		return false, nil
	}
	c.mu.Lock()
	c.sentCode, c.sentReason = code, reason
	c.mu.Unlock()
	c.state.CompareAndSwap(int32(Open), int32(Closing))

	var buf [frame.MaxControlPayload]byte
	payload := frame.AppendClose(buf[:0], code, reason)
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.CloseTimeout)
	defer cancel()
	if err := c.wframe.lock(ctx, c); err != nil {
		return false, fmt.Errorf("conn: sending close frame: %w", err)
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.opts.CloseTimeout))
	_, err := c.writeFrame(true, 0, frame.OpClose, payload)
	c.nc.SetWriteDeadline(time.Time{})
	c.unlockFrame()
	if err != nil {
		return false, fmt.Errorf("conn: sending close frame: %w", err)
	}
	c.mu.Lock()
	c.closeSentOK = true
	c.mu.Unlock()
	return true, nil
}

// awaitClose reads and discards frames until the peer's Close frame
// arrives or deadline passes, and reports whether it arrived. It skips
// frames that break the rules, since the connection is failing anyway.
// The caller holds rlock.
func (c *Conn) awaitClose(deadline time.Time) bool {
	c.mu.Lock()
	rcvd := c.closeRcvd
	c.mu.Unlock()
	if rcvd {
		return true
	}
	c.nc.SetReadDeadline(deadline)
	isClose := c.inCtrl && c.ctrlOp == frame.OpClose
	for {
		ev, chunk, n, err := c.dec.Next(c.rbuf[c.rpos:c.rend])
		c.rpos += n
		if err != nil && n == 0 && ev == frame.EventNeedMore {
			return false // a malformed header: no frame boundary to find
		}
		switch ev {
		case frame.EventHeader:
			isClose = c.dec.Header().Opcode == frame.OpClose
			c.ctrlLen = 0
		case frame.EventPayload:
			if isClose {
				c.ctrlLen += copy(c.ctrl[c.ctrlLen:], chunk)
			}
		case frame.EventEnd:
			if isClose {
				code, reason, _ := frame.ParseClose(c.ctrl[:c.ctrlLen])
				c.markCloseRcvd(&CloseError{Code: code, Reason: reason})
				return true
			}
		case frame.EventNeedMore:
			if err := c.fill(); err != nil {
				return false
			}
		}
	}
}

// setFailure records why the connection ended, if nothing was recorded
// yet.
func (c *Conn) setFailure(err error) {
	c.mu.Lock()
	if c.failure == nil {
		c.failure = err
	}
	c.mu.Unlock()
}

// abort ends the connection at once because of err.
func (c *Conn) abort(err error) {
	c.setFailure(err)
	c.shutdown()
}

// closedErr is the error for operations on a connection that has ended,
// or whose Close frame was sent: it matches net.ErrClosed and says why the
// connection ended (the peer's *CloseError, a *ProtocolError, ...), or,
// while this endpoint's Close waits for the peer's answer, that this
// endpoint closed it.
func (c *Conn) closedErr() error {
	c.mu.Lock()
	failure := c.failure
	c.mu.Unlock()
	switch failure.(type) {
	case nil:
		if c.closeWasSent() {
			return c.localClose()
		}
		return errClosed
	case *localCloseError:
		return failure
	}
	return &closedError{cause: failure}
}

// shutdown closes the network connection, once.
func (c *Conn) shutdown() {
	c.mu.Lock()
	if c.isShut() {
		c.mu.Unlock()
		return
	}
	c.state.Store(int32(Closed))
	if c.closedCh != nil {
		close(c.closedCh)
	}
	if c.keepalive != nil {
		c.keepalive.Stop()
	}
	c.mu.Unlock()
	c.nc.Close()
	c.rwatch.release()
	c.wwatch.release()
	if c.opts.OnClose != nil {
		c.opts.OnClose(c, c.closeCode(), c.closedErr())
	}
}

// closeCode returns the connection's close code, for Options.OnClose: the
// code of the Close frame this endpoint sent, whether it was the first or
// the echo of the peer's (which has the same code), else that of the
// peer's Close frame, else 1006.
func (c *Conn) closeCode() CloseCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closeSentOK:
		return c.sentCode
	case c.peerClose != nil:
		return c.peerClose.Code
	}
	return CloseAbnormalClosure
}

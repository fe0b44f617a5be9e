//go:build !js

package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// Close performs the closing handshake ([RFC 6455, Section 7]): it sends a
// Close frame with code and reason, waits up to Options.CloseTimeout for
// the peer's Close frame, and ends the connection. A server closes the
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
// the connection is closed. Otherwise it returns nil once its Close frame
// is written, whether or not the peer answered in time. The error later
// Reads return says how the connection ended: it matches [net.ErrClosed]
// and, if the peer answered, a *[CloseError] with its answer; if the
// connection broke before an answer came, a *CloseError with code 1006;
// if no answer came within CloseTimeout, no *CloseError.
//
// The peer may send data messages until its Close frame
// ([RFC 6455, Section 7.1.2]). If another goroutine is inside [Conn.Read]
// or [Conn.Reader], that call receives them and the peer's Close frame, as
// it would without Close. Otherwise Close reads them itself, under the
// same rules as Read (a message that breaks them fails the connection as
// it would fail a Read), and keeps them: later calls of Read and Reader
// return them, whole and in the order they arrived, before the error
// that says the connection is closed. Close keeps at most 1 MiB of
// messages in all, or Options.ReadLimit bytes if that is less, so that a
// peer that goes on sending after this endpoint's Close frame cannot make
// the Conn hold much more than one message; the first message that would
// pass that bound, and every message after it, is read and discarded. Messages count in [Stats]
// when Close reads them, kept or discarded, so MessagesRead minus the
// messages the application received is how many were discarded. Kept
// messages that are never read go with the Conn.
//
// [RFC 6455, Section 7]: https://www.rfc-editor.org/rfc/rfc6455#section-7
// [RFC 6455, Section 7.1.2]: https://www.rfc-editor.org/rfc/rfc6455#section-7.1.2
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
	// One deadline for the whole wait, whether a reader or Close itself
	// sees the peer's Close frame.
	deadline := time.Now().Add(c.opts.CloseTimeout)
	if c.driven.Load() {
		c.closeDriven(deadline)
		return nil
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	switch err := c.rlock.lock(ctx, c); {
	case err == nil:
		// No one is reading: wait for the peer's Close frame here, keeping the
		// messages before it. What a message reader had pending lives in rbuf,
		// which this overwrites.
		c.mr.stale()
		c.mr.pending = nil
		answered := c.keepUntilClose(deadline)
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
	return true, nil
}

// A keptMessage is a data message that Close read, for a later Read or
// Reader.
type keptMessage struct {
	typ  MessageType
	data []byte // the Conn's own array; handed over when delivered
}

// keepUntilClose reads data messages as Read does, until the peer's Close
// frame arrives, a read fails, or deadline passes, and reports whether
// the peer's Close frame arrived. It keeps the messages in c.kept, up to
// keptLimit bytes in all; from the first message that would pass that
// bound on, it discards them. A message that breaks the rules fails
// the connection, as it fails a Read; a read that fails otherwise (the
// deadline, the network) leaves the caller to end the connection. The
// caller holds rlock.
func (c *Conn) keepUntilClose(deadline time.Time) bool {
	if c.readErr != nil || c.closeWasRcvd() {
		return c.closeWasRcvd()
	}
	c.nc.SetReadDeadline(deadline)
	var size int64 // of the messages kept
	full := false
	for {
		if full {
			if err := c.skipMessage(); err != nil {
				c.keepEnded(err)
				break
			}
			continue
		}
		typ, msg, err := c.readMessage(nil)
		if err != nil {
			c.keepEnded(err)
			break
		}
		if int64(len(msg)) > c.keptLimit()-size {
			full = true
			continue
		}
		if cap(msg)-len(msg) > len(msg)/4 {
			// Room left by growing for a fragmented message: keep only the bytes.
			msg = slices.Clip(bytes.Clone(msg))
		}
		size += int64(len(msg))
		c.mu.Lock()
		c.kept = append(c.kept, keptMessage{typ: typ, data: msg})
		c.hasKept.Store(true)
		c.mu.Unlock()
	}
	return c.closeWasRcvd()
}

// keepEnded handles the error that stopped keepUntilClose before the
// peer's Close frame: a passed deadline is left to Close; anything else
// is what it would be for a Read (readFailed), so that a connection that
// broke ends as 1006 whichever goroutine saw it.
func (c *Conn) keepEnded(err error) {
	if !isTimeout(err) {
		c.readFailed(err)
	}
}

// maxKept bounds the bytes of messages Close keeps for later reads.
const maxKept = 1 << 20

// keptLimit returns the bound on the bytes of messages Close keeps:
// maxKept, or Options.ReadLimit if that is less and not negative (no
// limit).
func (c *Conn) keptLimit() int64 {
	if limit := c.opts.ReadLimit; limit >= 0 && limit < maxKept {
		return limit
	}
	return maxKept
}

// skipMessage reads the next data message and discards it.
func (c *Conn) skipMessage() error {
	if err := c.nextMessage(); err != nil {
		return err
	}
	return c.discardMessage()
}

// nextKept removes the first kept message and returns it, if there is
// one. Kept messages are guarded by mu rather than rlock: a reader that
// waited for rlock while Close read them gives up waiting when the
// connection closes, and must still find them.
func (c *Conn) nextKept() (keptMessage, bool) {
	if !c.hasKept.Load() {
		return keptMessage{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.kept) == 0 {
		return keptMessage{}, false
	}
	m := c.kept[0]
	c.kept[0] = keptMessage{}
	c.kept = c.kept[1:]
	if len(c.kept) == 0 {
		c.kept = nil
		c.hasKept.Store(false)
	}
	return m, true
}

// appendTo appends the message to buf, as Read does. If buf is empty and
// too small, it hands over the message's own array instead, which the
// Conn no longer holds.
func (m keptMessage) appendTo(buf []byte) []byte {
	if len(buf) == 0 && cap(buf) < len(m.data) {
		return m.data
	}
	return append(buf, m.data...)
}

func (c *Conn) closeWasRcvd() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeRcvd
}

// awaitClose reads and discards frames until the peer's Close frame
// arrives or deadline passes, and reports whether it arrived. It skips
// frames that break the rules, since the connection is failing anyway.
// The caller holds rlock.
func (c *Conn) awaitClose(deadline time.Time) bool {
	if c.closeWasRcvd() {
		return true
	}
	c.nc.SetReadDeadline(deadline)
	arrived, _ := c.scanForClose()
	return arrived
}

// errNoBoundary is scanForClose's error for a malformed frame header,
// past which no frame boundary can be found.
var errNoBoundary = errors.New("conn: no frame boundary after a malformed header")

// scanForClose is awaitClose without the deadline: it reads and discards
// frames until the peer's Close frame arrives or a read fails, and
// reports whether it arrived and, if not, the error that stopped it.
// What it learns of the frame being received is kept in the Conn, so that
// a driver's reads can go on where a read cut by drive.ErrWouldBlock
// stopped.
func (c *Conn) scanForClose() (bool, error) {
	if c.closeWasRcvd() {
		return true, nil
	}
	for {
		ev, chunk, n, err := c.dec.Next(c.rbuf[c.rpos:c.rend])
		c.rpos += n
		if err != nil && n == 0 && ev == frame.EventNeedMore {
			return false, errNoBoundary
		}
		isClose := c.inCtrl && c.ctrlOp == frame.OpClose
		switch ev {
		case frame.EventHeader:
			op := c.dec.Header().Opcode
			c.inCtrl, c.ctrlOp, c.ctrlLen = op.IsControl(), op, 0
		case frame.EventPayload:
			if isClose {
				c.ctrlLen += uint8(copy(c.ctrlBuffer()[c.ctrlLen:], chunk))
			}
		case frame.EventEnd:
			if isClose {
				c.inCtrl = false
				code, reason, _ := frame.ParseClose(c.ctrlPayload())
				c.markCloseRcvd(&CloseError{Code: code, Reason: reason})
				return true, nil
			}
		case frame.EventNeedMore:
			if err := c.fill(); err != nil {
				return false, err
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
	nc := c.nc // a driver may have replaced it under mu (take)
	c.mu.Unlock()
	if t := c.corkTimer.Load(); t != nil {
		t.Stop()
	}
	nc.Close()
	c.rwatch.release()
	c.wwatch.release()
	if c.opts.OnClose != nil {
		c.opts.OnClose(c, c.closeCode(), c.closedErr())
	}
}

// closeCode returns the connection's close code, for Options.OnClose: the
// code this endpoint sent when it failed the connection for a violation
// by the peer; otherwise, as RFC 6455, Section 7.1.5 defines it, the code
// of the peer's Close frame (1005 if it had none), or 1006 if none was
// received.
func (c *Conn) closeCode() CloseCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pe *frame.ProtocolError
	switch {
	case errors.As(c.failure, &pe):
		return pe.Code
	case c.peerClose != nil:
		return c.peerClose.Code
	}
	return CloseAbnormalClosure
}

//go:build !js

package conn

import (
	"fmt"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/mask"
)

// Corking: replies written while the reader still holds whole frames it
// has not returned are gathered and go out in one write, as a server that
// answers pipelined requests would otherwise make one system call per
// reply. The common loop
//
//	for {
//		typ, p, err := c.Read(ctx, buf[:0])
//		...
//		err = c.Write(ctx, typ, reply)
//	}
//
// gets it without asking: Read notes (batching) whether another whole
// frame waits in its buffer, and while one does, small data frames are
// appended to a pooled buffer (the cork) instead of being written. The
// gathered frames go out, in order and before anything else is written,
//
//   - with the first write made when the reader holds no whole frame, which
//     is the reply to the last message of the batch;
//   - before the reader waits for the network, or a write that cannot be
//     gathered (a large frame, a control frame, the Close frame) goes out;
//   - when the cork is full;
//   - at the latest corkDelay after the first of them was gathered, should
//     the application stop reading in the middle of a batch.
//
// A message alone in the read buffer is never gathered, so corking adds
// no latency to a request and its reply, and a connection that is not
// pipelining holds no cork.

// corkDelay bounds how long a gathered frame waits for the rest of its
// batch.
const corkDelay = time.Millisecond

// appendFrame appends a frame with payload p to dst, masked with a new key
// if c is a client (RFC 6455, Section 5.3), and returns the extended
// slice. It does not modify p.
func (c *Conn) appendFrame(dst []byte, fin bool, rsv byte, op frame.Opcode, p []byte) []byte {
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Length: int64(len(p))}
	if c.role == frame.Server {
		return append(frame.AppendHeader(dst, h), p...)
	}
	h.Masked = true
	h.Key = mask.NewKey()
	dst = frame.AppendHeader(dst, h)
	start := len(dst)
	dst = append(dst, p...)
	h.Key.Apply(dst[start:], 0)
	return dst
}

// corkable reports whether a data frame with a payload of n bytes is to be
// gathered rather than written now. The caller holds wframe.
func (c *Conn) corkable(n int) bool {
	if n > smallFrame || !c.batching.Load() {
		return false
	}
	if c.cork != nil && len(*c.cork)+frame.MaxHeaderLen+n > cap(*c.cork) {
		return false
	}
	// Gathered payload counts in BufferedAmount; keep it well inside a bound.
	limit := c.opts.MaxBufferedAmount
	return limit <= 0 || c.corkPayload+int64(n) <= limit/4
}

// corkFrame gathers a data frame and returns its length on the wire. The
// caller holds wframe and has checked corkable.
func (c *Conn) corkFrame(fin bool, rsv byte, op frame.Opcode, p []byte) int {
	if c.cork == nil {
		c.cork = maskBuffers.Get().(*[]byte)
		*c.cork = (*c.cork)[:0]
		c.armCorkTimer()
	}
	before := len(*c.cork)
	*c.cork = c.appendFrame(*c.cork, fin, rsv, op, p)
	c.corkPayload += int64(len(p))
	c.buffered.Add(int64(len(p)))
	c.hasCork.Store(true)
	return len(*c.cork) - before
}

// writeCorkWith appends a frame to the gathered ones and writes them all,
// returning how many bytes of the new frame reached nc. If none of the
// write went out, the gathered frames stay gathered; if only part of them
// did, nothing can follow on the connection, which is ended. The caller
// holds wframe; the frame fits in the cork.
func (c *Conn) writeCorkWith(fin bool, rsv byte, op frame.Opcode, p []byte) (int, error) {
	old := len(*c.cork)
	*c.cork = c.appendFrame(*c.cork, fin, rsv, op, p)
	n, err := c.nc.Write(*c.cork)
	switch {
	case err == nil:
		c.releaseCork()
		return n - old, nil
	case n == 0:
		*c.cork = (*c.cork)[:old]
		return 0, err
	case n < old:
		err = fmt.Errorf("conn: writing gathered frames failed after %d of %d bytes, connection closed: %w", n, old, err)
		c.abort(err)
		return 0, err
	}
	c.releaseCork()
	return n - old, err
}

// corkDue reports whether gathered frames wait with no batch to wait for.
func (c *Conn) corkDue() bool { return c.hasCork.Load() && !c.batching.Load() }

// flushCork writes the gathered frames, if any. A failure ends the
// connection: the frames were accepted by writes that have returned. The
// caller holds wframe.
func (c *Conn) flushCork() error {
	if c.cork == nil {
		return nil
	}
	_, err := c.nc.Write(*c.cork)
	c.releaseCork()
	if err != nil {
		err = fmt.Errorf("conn: writing gathered frames, connection closed: %w", err)
		c.abort(err)
	}
	return err
}

// releaseCork returns the cork to its pool. The caller holds wframe.
func (c *Conn) releaseCork() {
	c.buffered.Add(-c.corkPayload)
	c.corkPayload = 0
	maskBuffers.Put(c.cork)
	c.cork = nil
	c.hasCork.Store(false)
	if t := c.corkTimer.Load(); t != nil {
		t.Stop()
	}
}

// armCorkTimer starts the bound on how long the first gathered frame
// waits. The caller holds wframe.
func (c *Conn) armCorkTimer() {
	if c.driven.Load() {
		return // the driver reads until nothing is left, which flushes
	}
	if t := c.corkTimer.Load(); t != nil {
		t.Reset(corkDelay)
		return
	}
	c.corkTimer.Store(time.AfterFunc(corkDelay, c.corkExpired))
}

// corkExpired ends the batch the reader was in, so that the gathered frames
// go out now.
func (c *Conn) corkExpired() {
	if c.isShut() {
		return
	}
	c.batching.Store(false)
	c.flushControl()
}

// noteBatch records, as Read returns a message, whether another whole
// frame waits in the read buffer. The caller holds rlock.
func (c *Conn) noteBatch() {
	b := c.rbuf[c.rpos:c.rend]
	whole := false
	if len(b) >= 2 {
		h, n, err := frame.ParseHeader(b)
		whole = err == nil && h.Length <= int64(len(b)-n)
	}
	if whole != c.batching.Load() {
		c.batching.Store(whole)
	}
}

// beforeWait ends the batch before the reader waits for the network,
// sending what was gathered. The caller holds rlock.
func (c *Conn) beforeWait() {
	if c.batching.Load() {
		c.batching.Store(false)
	}
	if c.hasCork.Load() {
		c.flushControl()
	}
}

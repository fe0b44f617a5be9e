//go:build !js

package conn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// What advance produced.
type readEvent uint8

const (
	msgStart readEvent = iota // a data message began: c.msgType
	msgData                   // payload bytes of the current message
	msgEnd                    // the current message is complete
)

// Read reads the next whole message, appends its payload to buf and
// returns the message type and the extended slice. Passing buf[:0] of a
// buffer from an earlier call reads without allocating once the buffer is
// large enough. The message is never larger than Options.ReadLimit.
//
// If ctx ends first, Read returns an error matching ctx.Err() and buf
// unchanged; the part of the message already received is kept, and the
// next Read returns the whole message. If a message was being streamed
// through [Conn.Reader], its rest is discarded.
//
// Messages that [Conn.Close] read while waiting for the peer's Close frame
// come first, then the error that says the connection is closed.
func (c *Conn) Read(ctx context.Context, buf []byte) (MessageType, []byte, error) {
	if err := c.rlock.lock(ctx, c); err != nil {
		// The connection may have closed while Close, holding rlock, kept
		// messages for this call.
		if m, ok := c.nextKept(); ok && ctx.Err() == nil {
			return m.typ, m.appendTo(buf), nil
		}
		return 0, buf, err
	}
	defer c.rlock.unlock()
	if c.driven.Load() {
		return 0, buf, errDriven
	}
	if m, ok := c.nextKept(); ok {
		return m.typ, m.appendTo(buf), nil
	}
	if c.readErr != nil {
		return 0, buf, c.readErr
	}
	if err := ctx.Err(); err != nil {
		return 0, buf, err
	}
	start := len(buf)
	watched := c.rwatch.begin(ctx)
	typ, out, err := c.readMessage(buf)
	fired := watched && c.rwatch.end()
	if err != nil {
		if fired && isTimeout(err) {
			if c.inMsg || c.inflating {
				c.keepPartial(buf, out[start:])
			}
			return 0, buf, ctx.Err()
		}
		return 0, buf, c.readFailed(err)
	}
	c.noteBatch()
	return typ, out, nil
}

// errDriven is what Read and Reader return on a Conn that a driver reads.
var errDriven = errors.New("conn: this Conn is read by an event loop (eventloop.Server), not by Read or Reader")

// keepPartial keeps part, the message a Read had received when its
// context ended, for the next Read. If reading had grown the caller's
// buffer into an array of the Conn's own, part is kept where it is;
// otherwise it is copied, since the caller may reuse its buffer. The next
// Read hands it back, without a copy when that Read starts with an empty
// buffer, and the Conn holds on to none of it.
func (c *Conn) keepPartial(buf, part []byte) {
	if cap(part) > 0 && cap(buf) > 0 && &buf[:cap(buf)][cap(buf)-1] == &part[:cap(part)][cap(part)-1] {
		part = bytes.Clone(part) // in the caller's buffer
	}
	c.partial, c.resume = part, true
}

func (c *Conn) readMessage(buf []byte) (MessageType, []byte, error) {
	c.mr.stale() // a message reader handed out earlier is now stale
	if c.resume {
		if len(buf) == 0 {
			buf = c.partial // the Conn's own: handed over, not copied
		} else {
			buf = append(buf, c.partial...)
		}
		c.partial, c.resume = nil, false
	} else if err := c.discardMessage(); err != nil {
		return 0, buf, err
	}
	for {
		if c.inflating {
			done, err := c.inflateInto(&buf)
			if done || err != nil {
				return c.msgType, buf, err
			}
			continue
		}
		ev, chunk, err := c.advance(&buf)
		if err != nil {
			return 0, buf, err
		}
		switch ev {
		case msgData:
			if n := len(buf); cap(buf) > n && len(chunk) > 0 && &buf[:n+1][n] == &chunk[0] {
				buf = buf[:n+len(chunk)] // read in place by readDirect
			} else {
				if cap(buf)-len(buf) < len(chunk) {
					buf = grow(buf, c.growth(len(buf), len(chunk)))
				}
				buf = append(buf, chunk...)
			}
		case msgEnd:
			return c.msgType, buf, nil
		}
	}
}

// discardMessage skips the rest of a message whose reading was abandoned.
func (c *Conn) discardMessage() error {
	if err := c.discardCompressed(); err != nil {
		return err
	}
	for c.inMsg {
		if _, _, err := c.advance(nil); err != nil {
			return err
		}
	}
	return nil
}

// Reader returns the type of the next message and a reader for its
// payload. The reader returns [io.EOF] at the end of the message; it is
// valid until the next call of Reader or Read, and reads with ctx. The
// rest of a message not read to the end is discarded by the next call of
// Reader or Read, except that a message whose reader failed because ctx
// ended is resumed: the next Reader returns a reader that continues it.
// Messages that [Conn.Close] kept come first, as for Read.
func (c *Conn) Reader(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.rlock.lock(ctx, c); err != nil {
		if m, ok := c.nextKept(); ok && ctx.Err() == nil {
			return m.typ, bytes.NewReader(m.data), nil
		}
		return 0, nil, err
	}
	defer c.rlock.unlock()
	if c.driven.Load() {
		return 0, nil, errDriven
	}
	if m, ok := c.nextKept(); ok {
		// Close made the message reader stale, and no kept message uses it.
		return m.typ, bytes.NewReader(m.data), nil
	}
	if c.readErr != nil {
		return 0, nil, c.readErr
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if c.mr.streaming && c.mr.cut {
		c.mr.cut = false
		return c.msgType, &streamReader{r: &c.mr, gen: c.mr.gen, ctx: ctx}, nil
	}
	watched := c.rwatch.begin(ctx)
	err := c.nextMessage()
	fired := watched && c.rwatch.end()
	if err != nil {
		if fired && isTimeout(err) {
			return 0, nil, ctx.Err()
		}
		return 0, nil, c.readFailed(err)
	}
	c.mr.streaming = true
	c.mr.cut = false
	c.mr.eof = false
	c.mr.pending = nil
	return c.msgType, &streamReader{r: &c.mr, gen: c.mr.gen, ctx: ctx}, nil
}

// A streamReader is the reader of one message, handed out by Reader. The
// state lives in the Conn's messageReader, which every message shares; a
// streamReader kept past its message finds the generation changed and
// fails instead of reading the next message.
type streamReader struct {
	r   *messageReader
	gen uint64
	ctx context.Context
}

// Read implements [io.Reader].
func (s *streamReader) Read(p []byte) (int, error) { return s.r.readContext(s.ctx, s.gen, p) }

// nextMessage discards whatever remains of the current message and reads
// up to the start of the next one.
func (c *Conn) nextMessage() error {
	c.partial, c.resume = nil, false
	c.mr.stale()
	if err := c.discardMessage(); err != nil {
		return err
	}
	for {
		ev, _, err := c.advance(nil)
		if err != nil || ev == msgStart {
			return err
		}
	}
}

// A messageReader streams the payload of one message. It is part of the
// Conn, so handing it out does not allocate.
type messageReader struct {
	c         *Conn
	gen       uint64 // counts the messages handed out or abandoned
	streaming bool   // the current message belongs to this reader
	cut       bool   // a read was interrupted by ctx
	eof       bool
	pending   []byte // payload received but not yet returned; aliases c.rbuf
}

var errStaleReader = errors.New("conn: message reader used after the next call of Read or Reader")

// stale ends the current message's reader: readers handed out for it fail
// from now on.
func (r *messageReader) stale() {
	r.streaming = false
	r.gen++
}

// currentGen, passed to readContext, reads the current message whatever
// its generation.
const currentGen = ^uint64(0)

// readContext reads from the current message under ctx, for a reader of
// generation gen.
func (r *messageReader) readContext(ctx context.Context, gen uint64, p []byte) (int, error) {
	c := r.c
	if err := c.rlock.lock(ctx, c); err != nil {
		return 0, err
	}
	defer c.rlock.unlock()
	if !r.streaming || (gen != r.gen && gen != currentGen) {
		return 0, errStaleReader
	}
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	if r.eof {
		return 0, io.EOF
	}
	if c.readErr != nil {
		return 0, c.readErr
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		r.cut = true // nothing was lost: the next Reader resumes the message
		return 0, err
	}
	r.cut = false
	watched := c.rwatch.begin(ctx)
	n, err := r.read(p)
	fired := watched && c.rwatch.end()
	if err != nil && err != io.EOF {
		if fired && isTimeout(err) {
			r.cut = true
			return n, ctx.Err()
		}
		return n, c.readFailed(err)
	}
	return n, err
}

func (r *messageReader) read(p []byte) (int, error) {
	if r.c.inflating {
		n, done, err := r.c.inflate(p)
		if done {
			r.eof = true
			if n == 0 {
				return 0, io.EOF
			}
		}
		return n, err
	}
	for {
		ev, chunk, err := r.c.advance(nil)
		if err != nil {
			return 0, err
		}
		switch ev {
		case msgData:
			n := copy(p, chunk)
			r.pending = chunk[n:]
			if n > 0 {
				return n, nil
			}
		case msgEnd:
			r.eof = true
			return 0, io.EOF
		}
	}
}

// advance reads until it has something for the message layer: the start
// of a data message, payload bytes, or the end of a message. It handles
// control frames on the way and enforces the message-level rules of RFC
// 6455. If dst is not nil, large payloads may be read straight into its
// spare capacity (see readDirect). The caller holds rlock.
func (c *Conn) advance(dst *[]byte) (readEvent, []byte, error) {
	for {
		ev, chunk, err := c.nextEvent(dst)
		if err != nil {
			return 0, nil, err
		}
		switch ev {
		case frame.EventHeader:
			h := c.dec.Header()
			if h.Opcode.IsControl() {
				if h.RSV != 0 {
					// RFC 7692, Section 6.1: "An endpoint MUST NOT set the "Per-Message
					// Compressed" bit of control frames".
					return 0, nil, c.violation(CloseProtocolError, "RSV1 set on a control frame", nil)
				}
				c.inCtrl = true
				c.ctrlOp = h.Opcode
				c.ctrlLen = 0
				continue
			}
			started, err := c.dataHeader(h)
			if err != nil {
				return 0, nil, err
			}
			if started {
				return msgStart, nil, nil
			}
		case frame.EventPayload:
			if c.inCtrl {
				c.ctrlLen += uint8(copy(c.ctrlBuffer()[c.ctrlLen:], chunk))
				continue
			}
			if c.compressed {
				c.rawSize += int64(len(chunk))
				return msgData, chunk, nil // for compressedSource
			}
			c.msgSize += int64(len(chunk))
			c.stats.bytesRead.add(int64(len(chunk)))
			if c.msgType == Text {
				if _, ok := c.utf8.Write(chunk); !ok {
					return 0, nil, c.violation(CloseInvalidFramePayloadData, "invalid UTF-8 in text message", nil)
				}
			}
			return msgData, chunk, nil
		case frame.EventEnd:
			if c.inCtrl {
				c.inCtrl = false
				if err := c.control(c.ctrlOp, c.ctrlPayload()); err != nil {
					return 0, nil, err
				}
				continue
			}
			if c.fin {
				if c.compressed {
					c.inMsg = false
					return msgEnd, nil, nil
				}
				if c.msgType == Text && !c.utf8.Complete() {
					return 0, nil, c.violation(CloseInvalidFramePayloadData, "text message ends inside a UTF-8 sequence", nil)
				}
				c.inMsg = false
				c.stats.countMessageRead(false)
				return msgEnd, nil, nil
			}
		}
	}
}

// dataHeader applies the rules for a data frame's header and reports
// whether it starts a message.
func (c *Conn) dataHeader(h frame.Header) (started bool, err error) {
	switch {
	case h.Opcode == frame.OpContinuation && !c.inMsg:
		// "If an endpoint receives a continuation frame with no message in progress" is a
		// fragmentation error: Section 5.4 allows continuations only after an unfinished first frame.
		return false, c.violation(CloseProtocolError, "continuation frame with no message to continue", nil)
	case h.Opcode != frame.OpContinuation && c.inMsg:
		// Section 5.4: "the fragments of one message MUST NOT be interleaved between the
		// fragments of another message".
		return false, c.violation(CloseProtocolError, h.Opcode.String()+" frame inside a fragmented message", nil)
	}
	if h.RSV&frame.RSV1 != 0 && h.Opcode == frame.OpContinuation {
		// RFC 7692, Section 6.1: the "Per-Message Compressed" bit is set on "the first
		// fragment of a message" only.
		return false, c.violation(CloseProtocolError, "RSV1 set on a continuation frame", nil)
	}
	if h.Opcode != frame.OpContinuation {
		c.inMsg = true
		c.msgType = MessageType(h.Opcode)
		c.msgSize = 0
		c.msgFrags = 0
		c.utf8.Reset()
		c.compressed = h.RSV&frame.RSV1 != 0
		if c.compressed {
			c.rawSize = 0
			c.inflating = true
			c.csrc.pending, c.csrc.ended = nil, false
			c.inflater.Begin(c.csrc)
		}
		started = true
	}
	c.msgFrags++
	c.fin = h.Fin
	if c.opts.MaxFragments > 0 && c.msgFrags > c.opts.MaxFragments {
		return false, c.violation(ClosePolicyViolation, "message has too many fragments", nil)
	}
	if limit := c.opts.ReadLimit; limit > 0 {
		// A compressed message is held to the limit as it is decompressed; its
		// compressed size can only pass the limit by DEFLATE's small overhead.
		size := c.msgSize
		if c.compressed {
			size, limit = c.rawSize, maxCompressedSize(limit)
		}
		if h.Length > limit-size {
			// The peer's Close frame would come after the rest of this frame,
			// which may be gigabytes long and is of no use: do not wait for it.
			// "Fail the WebSocket Connection" (Section 7.1.7) asks for no more
			// than a Close frame and the end of the connection.
			pe := &frame.ProtocolError{Code: CloseMessageTooBig, Reason: "message exceeds the read limit", Err: ErrReadLimit}
			return false, c.fail(pe, false)
		}
	}
	return started, nil
}

// nextEvent returns the next decoder event, reading from the network as
// needed.
func (c *Conn) nextEvent(dst *[]byte) (frame.Event, []byte, error) {
	for {
		if dst != nil && c.rpos == c.rend && c.inMsg && !c.inCtrl && c.dec.Remaining() >= int64(c.opts.ReadBufferSize) {
			if chunk, err := c.readDirect(dst); err != nil || len(chunk) > 0 {
				c.alive(frame.EventPayload, len(chunk))
				return frame.EventPayload, chunk, err
			}
		}
		ev, chunk, n, err := c.dec.Next(c.rbuf[c.rpos:c.rend])
		c.rpos += n
		if err != nil {
			var pe *frame.ProtocolError
			if errors.As(err, &pe) {
				if ev == frame.EventHeader {
					// The decoder consumed the rejected header; note what it was, so that
					// awaitClose knows whether the peer's Close frame is the one arriving.
					h := c.dec.Header()
					c.inCtrl, c.ctrlOp, c.ctrlLen = h.Opcode.IsControl(), h.Opcode, 0
				}
				return 0, nil, c.violation(pe.Code, pe.Reason, nil)
			}
			return 0, nil, err
		}
		if ev != frame.EventNeedMore {
			c.alive(ev, len(chunk))
			return ev, chunk, nil
		}
		if err := c.fill(); err != nil {
			return 0, nil, err
		}
	}
}

// keepaliveProgress is how much of a frame's payload counts as a sign of
// life for keepalive, as a complete frame does.
const keepaliveProgress = 4096

// alive notes, for keepalive, what the peer's bytes amounted to: a
// complete frame, or keepaliveProgress bytes of payload, shows the peer
// alive. Bytes alone do not, so that a peer trickling a byte at a time
// inside a frame does not hold the connection forever.
func (c *Conn) alive(ev frame.Event, payload int) {
	if c.opts.KeepaliveInterval <= 0 {
		return
	}
	switch ev {
	case frame.EventPayload:
		c.progress += payload
		if c.progress < keepaliveProgress {
			return
		}
	case frame.EventEnd:
	default:
		return
	}
	c.progress = 0
	c.lastActivity.Store(time.Now().UnixNano())
}

// readDirect reads payload of the current data frame straight into the
// spare capacity of *dst, unmasking it there, which saves a copy and lets
// one system call read far more than rbuf holds. It grows *dst as
// [Conn.growth] says. The caller makes sure rbuf is empty and the decoder
// is inside a data frame's payload.
func (c *Conn) readDirect(dst *[]byte) ([]byte, error) {
	b := *dst
	remaining := c.dec.Remaining()
	if cap(b)-len(b) < c.opts.ReadBufferSize {
		b = grow(b, c.growth(len(b), 0))
		*dst = b
	}
	space := b[len(b):cap(b)]
	if int64(len(space)) > remaining {
		space = space[:remaining]
	}
	c.beforeWait()
	n, err := c.nc.Read(space)
	if n == 0 {
		return nil, err
	}
	c.stats.wireRead.add(int64(n))
	_, chunk, _, _ := c.dec.Next(space[:n]) // EventPayload of exactly these n bytes
	return chunk, nil
}

// growth returns how many bytes of room to add to a message buffer holding
// have bytes, when pending bytes of the message (counted in msgSize) must
// go in now. It at most doubles what has arrived (adding at least 64 KiB),
// so that a peer that announces a long frame and sends little of it gets
// little memory. It goes no further than the end of a final frame, where
// the message ends, nor past the read limit. A frame that is not final
// does not bound the growth: a message sent in many small fragments must
// still grow by doubling, or each fragment would copy the whole message
// again. When the frame would end a little past one doubling, it grows to
// the frame's end at once, which spares a last copy of the whole message
// for its final few bytes.
func (c *Conn) growth(have, pending int) int {
	n := int64(max(have, 64<<10))
	if c.fin {
		if end := int64(pending) + c.dec.Remaining(); end <= n+n/4 {
			n = end
		}
	} else if limit := c.opts.ReadLimit; limit > 0 {
		n = min(n, int64(pending)+limit-c.msgSize)
	}
	return max(int(min(n, 1<<30)), pending)
}

// grow returns b with room for n more bytes: an array of exactly that
// size, where append would round it up further.
func grow(b []byte, n int) []byte {
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}

// fill reads more bytes into rbuf. The decoder has consumed everything
// before it.
func (c *Conn) fill() error {
	c.rpos, c.rend = 0, 0
	c.beforeWait()
	var n int
	var err error
	if c.raw != nil {
		n, err = c.fillRaw()
	} else {
		n, err = c.nc.Read(c.rbuf)
	}
	if n > 0 {
		c.rend = n
		c.stats.wireRead.add(int64(n))
		return nil
	}
	if err == nil {
		return nil
	}
	return err
}

// ctrlBuffer returns the array that collects the payload of the control
// frame being received, making it on first use. The caller holds rlock.
func (c *Conn) ctrlBuffer() *[frame.MaxControlPayload]byte {
	if c.ctrl == nil {
		c.ctrl = new([frame.MaxControlPayload]byte)
	}
	return c.ctrl
}

// ctrlPayload returns the payload of the control frame received. The
// caller holds rlock.
func (c *Conn) ctrlPayload() []byte {
	if c.ctrl == nil {
		return nil
	}
	return c.ctrl[:c.ctrlLen]
}

// control acts on a complete control frame.
func (c *Conn) control(op frame.Opcode, payload []byte) error {
	switch op {
	case frame.OpPing:
		c.stats.pingsReceived.add(1)
		// Section 5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
		// response ... the Pong frame ... MUST have identical "Application data"". Only the most
		// recent ping is answered if several arrive while a write is in progress (Section 5.5.3).
		c.ctrlMu.Lock()
		if c.pong == nil {
			c.pong = new([frame.MaxControlPayload]byte)
		}
		c.pongLen = uint8(copy(c.pong[:], payload))
		c.ctrlMu.Unlock()
		c.pendingPong.Store(true)
		c.flushControl()
	case frame.OpPong:
		c.countPong(payload)
		c.mu.Lock()
		if ch, ok := c.pings[string(payload)]; ok {
			close(ch)
			delete(c.pings, string(payload))
		}
		c.mu.Unlock()
	case frame.OpClose:
		code, reason, err := frame.ParseClose(payload)
		if err != nil {
			// The peer has sent its Close frame, bad as it is: answer it, but wait for no other.
			c.markCloseRcvd(nil)
			var pe *frame.ProtocolError
			errors.As(err, &pe)
			return c.violation(pe.Code, pe.Reason, nil)
		}
		return c.peerClosed(code, reason)
	}
	return nil
}

// violation fails the connection because the peer broke the protocol
// ([RFC 6455, Section 7.1.7]): it sends a Close frame with code, waits a
// bounded time for the peer's answer while discarding what arrives, and
// closes the connection. The caller holds rlock.
//
// [RFC 6455, Section 7.1.7]: https://www.rfc-editor.org/rfc/rfc6455#section-7.1.7
func (c *Conn) violation(code CloseCode, reason string, cause error) error {
	return c.fail(&frame.ProtocolError{Code: code, Reason: reason, Err: cause}, true)
}

// fail fails the connection with pe, waiting for the peer's Close frame
// only if await is set. The caller holds rlock.
func (c *Conn) fail(pe *frame.ProtocolError, await bool) error {
	c.setFailure(pe)
	if c.sendClose(pe.Code, pe.Reason) && await {
		if c.driven.Load() {
			return c.failDriven(pe)
		}
		c.awaitClose(time.Now().Add(c.opts.CloseTimeout))
	}
	c.shutdown()
	c.readErr = pe
	return pe
}

// readFailed turns a network error from reading into the error the reader
// returns, and ends the connection. The caller holds rlock.
func (c *Conn) readFailed(err error) error {
	if c.readErr != nil {
		return c.readErr
	}
	var pe *frame.ProtocolError
	var ce *CloseError
	switch {
	case errors.As(err, &pe), errors.As(err, &ce):
		c.readErr = err
		return err
	}
	if !c.isShut() {
		// The connection ended without a Close frame (Section 7.1.5: "the WebSocket Connection
		// Close Code is considered to be 1006").
		c.setFailure(&CloseError{Code: CloseAbnormalClosure})
		c.shutdown()
	}
	c.readErr = c.closedErr()
	return c.readErr
}

// isTimeout reports whether err, or an error it wraps, is a timeout: a
// passed deadline of the network connection. It does not allocate, as
// errors.As with a net.Error target would, since a compressed message's
// io.EOF passes through it on every read.
func isTimeout(err error) bool {
	for err != nil {
		if err == os.ErrDeadlineExceeded {
			return true
		}
		if t, ok := err.(interface{ Timeout() bool }); ok && t.Timeout() {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if isTimeout(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

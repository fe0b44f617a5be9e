//go:build !js

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

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/mask"
)

// Write sends p as one message of type typ, in a single frame. It returns
// when the frame has been written to the network, or, if the reader is in
// the middle of a batch of messages that arrived together, when the frame
// has been gathered with the replies to the batch, which go out in one
// write (see the package documentation, "Writing").
//
// If ctx ends before any byte of the frame was written, Write returns an
// error matching ctx.Err() and the Conn stays usable. If it ends in the
// middle of the frame, the frame cannot be completed: the connection is
// closed and Write returns ctx's error. Under a
// Options.MaxBufferedAmount bound, Write may instead return
// [ErrBufferFull].
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	if typ != Text && typ != Binary {
		return fmt.Errorf("conn: invalid message type %d", typ)
	}
	return c.writeMessage(ctx, typ, p, nil)
}

// writeMessage sends p as one message in a single frame, compressed if it
// reaches the threshold. pm, if not nil, is the PreparedMessage holding p,
// whose shared compressed form is sent when the Conn compresses without
// context takeover.
func (c *Conn) writeMessage(ctx context.Context, typ MessageType, p []byte, pm *PreparedMessage) error {
	blocks := c.blocks()
	if !blocks {
		if err := c.reserve(int64(len(p)), nil); err != nil {
			return err
		}
		defer c.unreserve(int64(len(p)))
	}
	if err := c.wmsg.lock(ctx, c); err != nil {
		return err
	}
	defer c.wmsg.unlock()
	if blocks {
		c.reserve(int64(len(p)), nil) // takes it: nothing else is buffered
		defer c.unreserve(int64(len(p)))
	}
	op := frame.Opcode(typ)
	compressed := c.deflater != nil && len(p) >= c.threshold
	var err error
	switch {
	case !compressed:
		err = c.writeDataFrame(ctx, true, 0, op, p)
	case pm != nil && c.writeNoTakeover:
		payload := pm.compressedFor(c.level, c.writeBits)
		err = c.writeDataFrame(ctx, true, frame.RSV1, op, payload)
	default:
		err = c.writeCompressed(ctx, op, p)
	}
	if err == nil {
		c.stats.bytesWritten.add(int64(len(p)))
		c.stats.countMessageWritten(compressed)
	}
	return err
}

// reserve counts n more bytes in BufferedAmount, applying the
// backpressure policy. With Options.MaxBufferedAmount set, BufferedAmount
// stays within it, except that a write larger than the bound is taken when
// nothing else is buffered: under BackpressureError and BackpressureClose a
// write that would pass it fails with ErrBufferFull, after flush, if not
// nil, has sent what a message writer gathered, which counts too. Under
// BackpressureBlock a write reserves only once it holds wmsg, so it has
// waited for the writes before it, and only its own bytes are buffered.
func (c *Conn) reserve(n int64, flush func() error) error {
	limit := c.opts.MaxBufferedAmount
	if limit <= 0 {
		c.buffered.Add(n)
		return nil
	}
	for {
		cur := c.buffered.Load()
		if q := c.queued(); cur+q == 0 || cur+q+n <= limit {
			if c.buffered.CompareAndSwap(cur, cur+n) {
				return nil
			}
			continue
		}
		if flush != nil {
			if err := flush(); err != nil {
				return err
			}
			flush = nil
			continue
		}
		switch c.opts.OnBackpressure {
		case BackpressureBlock:
			// Only a message writer's own bytes can be buffered now, and
			// those that fit no frame yet are not sent until they do.
			c.buffered.Add(n)
			return nil
		case BackpressureClose:
			c.abort(ErrBufferFull)
		}
		return ErrBufferFull
	}
}

// blocks reports whether writes wait for the writes before them, under
// the BackpressureBlock policy with a bound, before they count.
func (c *Conn) blocks() bool {
	return c.opts.MaxBufferedAmount > 0 && c.opts.OnBackpressure == BackpressureBlock
}

// unreserve takes n bytes that were written, or given up, out of
// BufferedAmount.
func (c *Conn) unreserve(n int64) { c.buffered.Add(-n) }

// writeDataFrame writes one frame of a data message under ctx. The caller
// holds wmsg.
func (c *Conn) writeDataFrame(ctx context.Context, fin bool, rsv byte, op frame.Opcode, p []byte) error {
	if err := c.wframe.lock(ctx, c); err != nil {
		return err
	}
	defer c.unlockFrame()
	if c.closeWasSent() {
		return c.closedErr()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.corkable(len(p)) {
		c.countFrameWritten(op, c.corkFrame(fin, rsv, op, p), nil)
		return nil
	}
	n, fired, err := c.timedWrite(ctx, fin, rsv, op, p)
	if err == nil {
		return nil
	}
	if fired && isTimeout(err) {
		if n == 0 {
			return ctx.Err()
		}
		err = ctx.Err()
	}
	if c.isShut() {
		return c.closedErr()
	}
	if !fired && isTimeout(err) {
		err = fmt.Errorf("conn: the peer read no frame for %v (Options.WriteTimeout), connection closed: %w", c.opts.WriteTimeout, err)
	} else if n == 0 {
		err = fmt.Errorf("conn: write failed, connection closed: %w", err)
	} else {
		// Part of a frame went out: nothing can follow it.
		err = fmt.Errorf("conn: write failed after %d bytes of a frame, connection closed: %w", n, err)
	}
	c.abort(err)
	return err
}

// timedWrite writes one frame under ctx and Options.WriteTimeout, and
// reports how many bytes of it went out and whether ctx ended. The caller
// holds wframe.
func (c *Conn) timedWrite(ctx context.Context, fin bool, rsv byte, op frame.Opcode, p []byte) (n int, fired bool, err error) {
	if c.opts.WriteTimeout > 0 {
		// Set before the watcher, whose deadline in the past, when ctx ends,
		// must win over this one.
		c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	}
	watched := c.wwatch.begin(ctx)
	n, err = c.writeFrame(fin, rsv, op, p)
	fired = watched && c.wwatch.end()
	if c.opts.WriteTimeout > 0 {
		c.nc.SetWriteDeadline(time.Time{})
	}
	return n, fired, err
}

// A Conn holds no write buffer of its own, so an idle one costs less: a
// small frame goes out from a pooled buffer, header and payload in one
// write; a server writes a larger payload from where it is, and a client
// masks it through a larger pooled buffer.
const smallFrame = 4096

var (
	frameBuffers = sync.Pool{New: func() any { b := make([]byte, 0, smallFrame+frame.MaxHeaderLen); return &b }}
	maskBuffers  = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}
)

// A vectored holds what a writev of a frame header and its payload needs,
// pooled: it escapes to the heap, and few connections write large frames
// at any one time.
type vectored struct {
	hdr  [frame.MaxHeaderLen]byte
	arr  [2][]byte
	bufs net.Buffers
}

var vectors = sync.Pool{New: func() any { return new(vectored) }}

// writeFrame writes one frame and returns how many bytes of it reached nc.
// The caller holds wframe. It does not modify p.
func (c *Conn) writeFrame(fin bool, rsv byte, op frame.Opcode, p []byte) (int, error) {
	n, err := c.sendFrame(fin, rsv, op, p)
	c.countFrameWritten(op, n, err)
	return n, err
}

// sendFrame is writeFrame without the counting.
func (c *Conn) sendFrame(fin bool, rsv byte, op frame.Opcode, p []byte) (int, error) {
	if c.cork != nil {
		if len(*c.cork)+frame.MaxHeaderLen+len(p) <= cap(*c.cork) {
			return c.writeCorkWith(fin, rsv, op, p)
		}
		if err := c.flushCork(); err != nil {
			return 0, err
		}
	}
	if len(p) <= smallFrame {
		bp := frameBuffers.Get().(*[]byte)
		n, err := c.nc.Write(c.appendFrame((*bp)[:0], fin, rsv, op, p))
		frameBuffers.Put(bp)
		return n, err
	}
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Length: int64(len(p))}
	if c.role == frame.Server {
		// Header and payload in one writev, without copying the payload.
		v := vectors.Get().(*vectored)
		v.bufs = append(v.arr[:0], frame.AppendHeader(v.hdr[:0], h), p)
		n, err := v.bufs.WriteTo(c.nc)
		v.arr = [2][]byte{}
		vectors.Put(v)
		return int(n), err
	}
	// Section 5.3: the client masks every frame "with a new masking key", which must be
	// unpredictable; the payload is masked in chunks so p is never copied whole.
	h.Masked = true
	h.Key = mask.NewKey()
	pool := &maskBuffers
	bp := pool.Get().(*[]byte)
	scratch := (*bp)[:cap(*bp)]
	buf := frame.AppendHeader(scratch[:0], h)
	moved, pos := 0, 0
	for {
		k := min(len(p), len(scratch)-len(buf))
		start := len(buf)
		buf = append(buf, p[:k]...)
		pos = h.Key.Apply(buf[start:], pos)
		p = p[k:]
		n, err := c.nc.Write(buf)
		moved += n
		if err != nil || len(p) == 0 {
			pool.Put(bp)
			return moved, err
		}
		buf = scratch[:0]
	}
}

// unlockFrame releases wframe and sends any control frame that was
// queued while it was held.
func (c *Conn) unlockFrame() {
	c.wframe.unlock()
	c.flushControl()
}

// flushControl writes the pending pong and ping, if any, when wframe is
// free. If it is not, its holder writes them on release.
func (c *Conn) flushControl() {
	for c.pendingPong.Load() || c.pendingPing.Load() || c.corkDue() {
		if !c.wframe.tryLock() {
			return
		}
		err := c.writePendingControl()
		c.wframe.unlock()
		if err != nil {
			c.abort(err)
			return
		}
	}
}

func (c *Conn) writePendingControl() error {
	if c.closeWasSent() {
		c.pendingPong.Store(false)
		c.pendingPing.Store(false)
		// Frames gathered before the Close frame go out before it.
		return c.flushCork()
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.opts.CloseTimeout))
	defer c.nc.SetWriteDeadline(time.Time{})
	if c.pendingPong.Swap(false) {
		var buf [frame.MaxControlPayload]byte
		c.ctrlMu.Lock()
		n := copy(buf[:], c.pong[:c.pongLen])
		c.ctrlMu.Unlock()
		if _, err := c.writeFrame(true, 0, frame.OpPong, buf[:n]); err != nil {
			return fmt.Errorf("conn: writing pong: %w", err)
		}
	}
	if c.pendingPing.Swap(false) {
		// The round trip is measured from the first ping still unanswered,
		// noted before the pong can arrive.
		c.stats.keepaliveSent.CompareAndSwap(0, time.Now().UnixNano())
		if _, err := c.writeFrame(true, 0, frame.OpPing, nil); err != nil {
			return fmt.Errorf("conn: writing keepalive ping: %w", err)
		}
	}
	if c.corkDue() {
		return c.flushCork()
	}
	return nil
}

// Writer returns a writer for a new message of type typ. Writes to it are
// gathered into frames of Options.WriteBufferSize bytes; Close sends the
// last frame. No other message can be written until then, though control
// frames still go out between the fragments. ctx governs every frame the
// writer sends, as for [Conn.Write]. After Close the writer returns an
// error; it never writes into a later message.
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != Text && typ != Binary {
		return nil, fmt.Errorf("conn: invalid message type %d", typ)
	}
	if err := c.wmsg.lock(ctx, c); err != nil {
		return nil, err
	}
	if c.mw == nil {
		c.mw = &messageWriter{c: c}
	}
	w := c.mw
	gen := w.gen.Add(1)
	w.ctx = ctx
	w.op = frame.Opcode(typ)
	w.open = true
	w.sent = false
	w.compressing = false
	w.err = nil
	w.takeBuffer(c.opts.WriteBufferSize)
	return &streamWriter{w: w, gen: gen}, nil
}

// A streamWriter is the writer of one message, handed out by Writer. The
// state lives in the Conn's messageWriter, which every message shares; a
// streamWriter kept past its message finds the generation changed and
// fails instead of writing into the next message.
type streamWriter struct {
	w   *messageWriter
	gen uint64
}

// Write implements [io.Writer].
func (s *streamWriter) Write(p []byte) (int, error) {
	if s.gen != s.w.gen.Load() {
		return 0, errWriterClosed
	}
	return s.w.Write(p)
}

// Close implements [io.Closer].
func (s *streamWriter) Close() error {
	if s.gen != s.w.gen.Load() {
		return errWriterClosed
	}
	return s.w.Close()
}

// A messageWriter streams one message. It is part of the Conn, so handing
// it out does not allocate.
type messageWriter struct {
	c    *Conn
	gen  atomic.Uint64 // counts the messages written through Writer
	ctx  context.Context
	op   frame.Opcode // of the next frame
	buf  []byte
	bufp *[]byte // where buf came from, in writeBuffers
	open bool
	sent bool // a frame of the message went out
	err  error

	// With permessage-deflate, a message is compressed unless it ends,
	// shorter than the threshold, before its first frame is full.
	compressing bool
	out         *[]byte // compressed output, from compressedBuffers
}

var errWriterClosed = errors.New("conn: message writer used after its Close")

// Write implements [io.Writer].
func (w *messageWriter) Write(p []byte) (int, error) {
	if !w.open {
		return 0, errWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if err := w.c.reserve(int64(len(p)), w.flushGathered); err != nil {
		return 0, err
	}
	written := 0
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(false); err != nil {
				w.c.unreserve(int64(len(p)))
				return written, err
			}
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
		written += n
	}
	return written, nil
}

// flushGathered sends what the writer has gathered, if anything, as a
// frame of the message.
func (w *messageWriter) flushGathered() error {
	if len(w.buf) == 0 {
		return nil
	}
	return w.flush(false)
}

func (w *messageWriter) flush(fin bool) error {
	c := w.c
	payload, rsv := w.buf, byte(0)
	if c.deflater != nil && !w.compressing && !w.sent && (!fin || len(w.buf) >= c.threshold) {
		w.compressing = true
		w.out = compressedBuffers.Get().(*[]byte)
	}
	if w.compressing {
		out := c.deflater.Append((*w.out)[:0], w.buf)
		if fin {
			out = c.deflater.Finish(out)
		}
		*w.out = out
		payload = out
		if !w.sent {
			rsv = frame.RSV1
		}
	}
	var err error
	if len(payload) > 0 || fin {
		err = c.writeDataFrame(w.ctx, fin, rsv, w.op, payload)
	}
	size := int64(len(w.buf))
	c.unreserve(size)
	w.buf = w.buf[:0]
	if err != nil {
		if w.sent && c.State() != Closed {
			// The peer is inside the message, and no other can follow it.
			err = streamCut(err)
			c.abort(err)
		}
		w.err = err
		w.release()
		return err
	}
	c.stats.bytesWritten.add(size)
	if len(payload) > 0 || fin {
		w.sent = true
		w.op = frame.OpContinuation
	}
	if fin {
		c.stats.countMessageWritten(w.compressing)
		w.release()
	}
	return nil
}

// release returns the compression buffer. A compressed message that did
// not end leaves the history out of step with the peer's, so it is
// forgotten (see writeCompressed).
func (w *messageWriter) release() {
	if !w.compressing {
		return
	}
	if w.err != nil {
		w.c.deflater.Reset()
	}
	if cap(*w.out) <= maxPooledCompressed {
		*w.out = (*w.out)[:0]
		compressedBuffers.Put(w.out)
	}
	w.out = nil
	w.compressing = false
}

// Close sends the final frame of the message and releases the Conn for the
// next message.
func (w *messageWriter) Close() error {
	if !w.open {
		return errWriterClosed
	}
	w.open = false
	defer w.c.wmsg.unlock()
	defer w.releaseBuffer()
	if w.err != nil {
		w.c.unreserve(int64(len(w.buf)))
		return w.err
	}
	return w.flush(true)
}

// writeBuffers hold what a message writer gathers into a frame, between
// Conn.Writer and Close, for writers of the default frame size.
var writeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, defaultWriteBufferSize); return &b }}

// takeBuffer gives the writer a buffer of the given capacity.
func (w *messageWriter) takeBuffer(size int) {
	if size == defaultWriteBufferSize {
		w.bufp = writeBuffers.Get().(*[]byte)
		w.buf = (*w.bufp)[:0]
		return
	}
	w.buf = make([]byte, 0, size)
}

func (w *messageWriter) releaseBuffer() {
	if w.bufp != nil {
		writeBuffers.Put(w.bufp)
		w.bufp = nil
	}
	w.buf = nil
}

// Ping sends a Ping frame with payload (at most 125 bytes) and waits for
// the matching Pong frame, returning the round-trip time. Pongs are
// received by the goroutine that reads, so Ping needs a concurrent reader.
// If payload is empty, Ping uses a payload of its own to tell its pong
// from others.
func (c *Conn) Ping(ctx context.Context, payload []byte) (time.Duration, error) {
	if len(payload) > frame.MaxControlPayload {
		return 0, fmt.Errorf("conn: ping payload of %d bytes; at most %d are allowed", len(payload), frame.MaxControlPayload)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	if len(payload) == 0 {
		c.pingCounter++
		payload = fmt.Appendf(nil, "ping %d", c.pingCounter)
	}
	key := string(payload)
	if c.pings == nil {
		c.pings = make(map[string]chan struct{})
	}
	ch, ok := c.pings[key]
	if !ok {
		ch = make(chan struct{})
		c.pings[key] = ch
	}
	c.mu.Unlock()

	start := time.Now()
	if err := c.writeControl(ctx, frame.OpPing, payload); err != nil {
		c.forgetPing(key, ch)
		return 0, err
	}
	select {
	case <-ch:
		rtt := time.Since(start)
		c.stats.rtt.Store(int64(rtt))
		return rtt, nil
	case <-ctx.Done():
		c.forgetPing(key, ch)
		return 0, ctx.Err()
	case <-c.done():
		return 0, c.closedErr()
	}
}

func (c *Conn) forgetPing(key string, ch chan struct{}) {
	c.mu.Lock()
	if c.pings[key] == ch {
		delete(c.pings, key)
	}
	c.mu.Unlock()
}

// writeControl writes a control frame under ctx.
func (c *Conn) writeControl(ctx context.Context, op frame.Opcode, payload []byte) error {
	if err := c.wframe.lock(ctx, c); err != nil {
		return err
	}
	defer c.unlockFrame()
	if c.closeWasSent() {
		return c.closedErr()
	}
	// The lock is taken without waiting when it is free, whatever ctx
	// says, so a ctx that has already ended is seen here.
	if err := ctx.Err(); err != nil {
		return err
	}
	n, fired, err := c.timedWrite(ctx, true, 0, op, payload)
	if err != nil {
		if fired && n == 0 {
			return ctx.Err()
		}
		if c.isShut() {
			return c.closedErr()
		}
		err = fmt.Errorf("conn: writing %v: %w", op, err)
		c.abort(err)
		return err
	}
	return nil
}

// keepaliveTick runs on the keepalive timer: it fails a connection whose
// peer has been silent for KeepaliveTimeout and pings one silent for
// KeepaliveInterval.
func (c *Conn) keepaliveTick() {
	if c.isShut() {
		return
	}
	interval, timeout := c.opts.KeepaliveInterval, c.opts.KeepaliveTimeout
	idle := time.Since(time.Unix(0, c.lastActivity.Load()))
	if idle >= timeout {
		c.abort(ErrKeepalive)
		return
	}
	next := interval - idle
	if idle >= interval {
		c.pendingPing.Store(true)
		c.flushControl()
		next = min(interval, timeout-idle)
	}
	c.mu.Lock()
	if c.keepalive != nil && !c.isShut() {
		c.keepalive.Reset(next)
	}
	c.mu.Unlock()
}

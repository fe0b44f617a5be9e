//go:build !js

package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/deflate"
)

func windowBits(bits int) int {
	if bits == 0 {
		return deflate.MaxWindowBits
	}
	return bits
}

// Compression thresholds for a zero Options.CompressionThreshold.
const (
	thresholdTakeover   = 128 // a short message can still refer to earlier ones
	thresholdStandalone = 512 // a short message on its own rarely shrinks
)

// setUpDeflate turns on permessage-deflate with the parameters p that the
// opening handshake agreed, as they apply to this endpoint's role.
func (c *Conn) setUpDeflate(p Compression) {
	readNoTakeover, readBits := p.ClientNoContextTakeover, p.ClientMaxWindowBits
	writeNoTakeover, writeBits := p.ServerNoContextTakeover, p.ServerMaxWindowBits
	if c.role == frame.Client {
		readNoTakeover, writeNoTakeover = writeNoTakeover, readNoTakeover
		readBits, writeBits = writeBits, readBits
	}
	c.dec.RSV = frame.RSV1
	level := c.opts.CompressionLevel
	if level == 0 {
		level = deflate.DefaultCompression
	}
	c.level = level
	c.writeNoTakeover, c.writeBits = writeNoTakeover, windowBits(writeBits)
	c.deflater = deflate.NewCompressor(level, c.writeBits, !writeNoTakeover)
	c.inflater = deflate.NewDecompressor(windowBits(readBits), !readNoTakeover)
	c.csrc = &compressedSource{c: c}
	switch t := c.opts.CompressionThreshold; {
	case t < 0:
		c.threshold = 0
	case t > 0:
		c.threshold = t
	case writeNoTakeover:
		c.threshold = thresholdStandalone
	default:
		c.threshold = thresholdTakeover
	}
}

// A compressedSource yields the payload of the compressed message being
// received, frame after frame, to the Decompressor. It reads through
// advance, so control frames between the fragments are handled as usual.
type compressedSource struct {
	c       *Conn
	pending []byte // aliases c.rbuf
	ended   bool   // the last frame of the message is complete
}

func (s *compressedSource) Read(p []byte) (int, error) {
	for len(s.pending) == 0 {
		if s.ended {
			return 0, io.EOF
		}
		ev, chunk, err := s.c.advance(nil)
		if err != nil {
			return 0, err
		}
		switch ev {
		case msgData:
			s.pending = chunk
		case msgEnd:
			s.ended = true
		}
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

// maxCompressedSize bounds the compressed size of a message that
// decompresses to at most limit bytes: DEFLATE adds at most 5 bytes per
// 65,535 stored and a few more per message.
func maxCompressedSize(limit int64) int64 { return limit + limit>>10 + 1024 }

// inflate decompresses more of the current message into p, applying the
// read limit and UTF-8 validation to what comes out, and reports whether
// the message ended. The caller holds rlock and c.inflating is true.
func (c *Conn) inflate(p []byte) (n int, done bool, err error) {
	if limit := c.opts.ReadLimit; limit > 0 && int64(len(p)) > limit-c.msgSize {
		p = p[:limit-c.msgSize+1] // one byte more shows the limit is passed
	}
	n, err = c.inflater.Read(p)
	for try := 0; err != nil && isTimeout(err) && !c.rwatch.interrupted() && try < 2; try++ {
		// A timeout from the context of an earlier read, which the flate reader
		// kept while it handed out what it had decompressed: no context has
		// ended now, so carry on (the Decompressor resumes the message).
		if n > 0 {
			err = nil
			break
		}
		n, err = c.inflater.Read(p)
	}
	if n > 0 {
		c.msgSize += int64(n)
		c.stats.bytesRead.add(int64(n))
		if c.opts.ReadLimit > 0 && c.msgSize > c.opts.ReadLimit {
			return 0, false, c.violation(CloseMessageTooBig, "message exceeds the read limit", ErrReadLimit)
		}
		if c.msgType == Text {
			if _, ok := c.utf8.Write(p[:n]); !ok {
				return 0, false, c.violation(CloseInvalidFramePayloadData, "invalid UTF-8 in text message", nil)
			}
		}
	}
	switch {
	case err == nil:
		return n, false, nil
	case err == io.EOF:
		c.inflating = false
		if c.msgType == Text && !c.utf8.Complete() {
			return 0, false, c.violation(CloseInvalidFramePayloadData, "text message ends inside a UTF-8 sequence", nil)
		}
		c.stats.countMessageRead(true)
		return n, true, nil
	case errors.Is(err, deflate.ErrCorrupt):
		// RFC 7692, Section 6.2 leaves the code open; the payload is not what its RSV1 bit
		// says it is, which Section 7.4.1 of RFC 6455 calls 1007.
		return 0, false, c.violation(CloseInvalidFramePayloadData, "invalid compressed data", err)
	}
	return n, false, err
}

// inflateInto decompresses more of the current message into the spare
// capacity of *dst, growing it as needed (never past the read limit), and
// reports whether the message ended.
func (c *Conn) inflateInto(dst *[]byte) (bool, error) {
	b := *dst
	if cap(b)-len(b) < probeSize {
		// Little room is left: decompress into a probe first. The end of a
		// message that fits is often learnt from a read that returns no
		// bytes, which should not cost the caller a larger buffer.
		pp := probes.Get().(*[probeSize]byte)
		defer probes.Put(pp)
		n, done, err := c.inflate(pp[:])
		if n > cap(b)-len(b) {
			m := max(len(b), 16<<10)
			if limit := c.opts.ReadLimit; limit > 0 {
				m = int(min(int64(m), limit-c.msgSize+int64(n)))
			}
			b = grow(b, max(m, n))
		}
		*dst = append(b, pp[:n]...)
		return done, err
	}
	n, done, err := c.inflate(b[len(b):cap(b)])
	*dst = b[:len(b)+n]
	return done, err
}

// probeSize is the size of the probes inflateInto decompresses into when
// the caller's buffer is nearly full.
const probeSize = 512

var probes = sync.Pool{New: func() any { return new([probeSize]byte) }}

// discardCompressed skips the rest of a compressed message. With context
// takeover it must still be decompressed, since the peer's later messages
// may refer to it.
func (c *Conn) discardCompressed() error {
	if !c.inflating {
		return nil
	}
	// A pooled scratch buffer, not one on the stack: every Read passes
	// through here, and a large frame would grow the stack of each reading
	// goroutine for good (see TestIdleStack).
	scratch := probes.Get().(*[probeSize]byte)
	defer probes.Put(scratch)
	for c.inflating {
		if _, _, err := c.inflate(scratch[:]); err != nil {
			return err
		}
	}
	return nil
}

// compressedBuffers hold compressed messages on their way out.
var compressedBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledCompressed is the largest buffer given back to the pool, so
// that one huge message does not pin its buffer.
const maxPooledCompressed = 1 << 20

// writeCompressed sends p as one compressed frame. The caller holds wmsg.
func (c *Conn) writeCompressed(ctx context.Context, op frame.Opcode, p []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bp := compressedBuffers.Get().(*[]byte)
	out := c.deflater.Compress((*bp)[:0], p)
	err := c.writeDataFrame(ctx, true, frame.RSV1, op, out)
	if err != nil {
		// The peer never got the message, so the history no longer matches
		// its own. Forgetting ours keeps later messages decodable: they can
		// only refer to what both sides have.
		c.deflater.Reset()
	}
	if cap(out) <= maxPooledCompressed {
		*bp = out[:0]
		compressedBuffers.Put(bp)
	}
	return err
}

// errStreamCut is wrapped by the error of a streamed message whose frames
// could not all be sent.
var errStreamCut = errors.New("conn: a streamed message was cut after its first frame, so the connection was closed")

func streamCut(err error) error { return fmt.Errorf("%w: %w", errStreamCut, err) }

package deflate

import "sync/atomic"

// A Compressor compresses the messages one endpoint sends, as
// [RFC 7692, Section 7.2.1] describes: each message is DEFLATE data (RFC
// 1951) ending in a sync flush whose final 0x00 0x00 0xff 0xff are left
// off.
//
// Between messages a Compressor holds only its history, the last
// 2^windowBits bytes it compressed, and only with context takeover
// ([RFC 7692, Section 7.1.1]); the hash tables and buffers that compressing
// takes are borrowed from a pool shared by all Compressors for the length
// of one message.
//
// A Compressor must not be used by more than one goroutine at a time.
//
// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
// [RFC 7692, Section 7.2.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.1
type Compressor struct {
	// hist is a ring of the last bytes compressed, at most window of
	// them; once it holds window bytes, histPos is where the oldest is.
	hist    []byte
	histPos int32

	window   int32
	level    int8
	takeover bool

	// e is the pooled encoder while a message is in progress.
	e *encoder

	// id names the Compressor to the encoders it borrowed, and gen counts
	// its messages, so that an encoder handed back to the Compressor that
	// released it knows its tables still hold that Compressor's history.
	id  uint64
	gen uint64
}

// lastID numbers Compressors.
var lastID atomic.Uint64

// NewCompressor returns a Compressor for the messages one endpoint sends.
//
// windowBits is the base-two logarithm of the LZ77 window
// ([RFC 7692, Section 7.1.2]): no back-reference in the output reaches
// further back than 2^windowBits bytes. Values below 8 count as 8 and
// values above 15 as 15.
//
// With takeover, a message may refer back to the messages before it
// (context takeover, [RFC 7692, Section 7.1.1]), and the Compressor keeps
// the last 2^windowBits bytes it compressed from one message to the next.
// Without it, each message stands alone and nothing is kept.
//
// level is [BestSpeed] (1) to [BestCompression] (9), or
// [DefaultCompression], which is level 2; levels below 1 count as 1 and
// levels above 9 as 9. Level 1 matches greedily with one candidate per
// position; levels 2 and 3 greedily over hash chains of 4 and 16
// candidates; levels 4 to 9 lazily over chains of 16 to 4096. Each block is
// sent stored, with the fixed Huffman code or with a dynamic one, whichever
// is smallest.
//
// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
// [RFC 7692, Section 7.1.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.2
func NewCompressor(level, windowBits int, takeover bool) *Compressor {
	if level == DefaultCompression {
		level = defaultLevel
	}
	return &Compressor{
		window:   1 << clampWindowBits(windowBits),
		level:    int8(min(max(level, BestSpeed), BestCompression)),
		takeover: takeover,
		id:       lastID.Add(1),
	}
}

// begin returns the encoder of the message in progress, starting one if
// there is none. hint is the size of the input at hand, which bounds the
// history worth copying into a fresh encoder (histSpan).
func (c *Compressor) begin(hint int) *encoder {
	if c.e != nil {
		return c.e
	}
	e := encoderPool.Get().(*encoder)
	c.e = e
	e.level = levels[c.level]
	e.window = int(c.window)
	if !c.takeover || e.owner != c.id || e.ownerGen != c.gen {
		// The encoder holds someone else's data: start afresh from our
		// history.
		e.invalidate()
		e.win = e.win[:0]
		if c.takeover {
			// The last keep bytes of the ring, oldest first.
			keep := min(len(c.hist), histSpan(hint))
			if p := int(c.histPos); keep > p {
				e.win = append(e.win, c.hist[len(c.hist)-(keep-p):]...)
				e.win = append(e.win, c.hist[:p]...)
			} else {
				e.win = append(e.win, c.hist[p-keep:p]...)
			}
		}
	} else if len(e.win) == cap(e.win) {
		e.slide()
	}
	e.owner = 0
	e.pos = len(e.win)
	e.blockStart = e.pos
	e.msgLen = 0
	e.bits, e.nbits = 0, 0
	return e
}

// Append compresses p as more of the current message, starting a message
// if none is in progress, and appends the output bytes that are complete to
// dst, returning the extended slice. The output may lag the input: bytes
// and bits are held until more input or [Compressor.Finish] completes them.
// Append does not retain p or dst, and they must not overlap.
//
// A message that begins on a pooled state that another Compressor used
// last draws on as much of the history as the first input at hand
// warrants (the whole 32 KiB for 1 KiB or more, the last 12 KiB or so for
// 300 bytes), so a message sent in pieces is best begun with a large one.
func (c *Compressor) Append(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	e := c.begin(len(p))
	e.out = dst
	for len(p) > 0 {
		if len(e.win) == cap(e.win) {
			e.tokenize(false)
			e.slide()
		}
		n := copy(e.win[len(e.win):cap(e.win)], p)
		e.win = e.win[:len(e.win)+n]
		e.msgLen += n
		p = p[n:]
	}
	e.flushBytes()
	dst = e.out
	e.out = nil
	return dst
}

// Finish ends the current message and appends the rest of its output to
// dst, returning the extended slice. The output ends with a sync flush, an
// empty stored block, whose last four bytes 0x00 0x00 0xff 0xff are left
// off, as [RFC 7692, Section 7.2.1] requires ("Remove 4 octets (that are
// 0x00 0x00 0xff 0xff) from the tail end"). A message with no input is the
// single byte 0x00, the first byte of that empty block.
//
// After Finish the Compressor holds nothing but its history.
//
// [RFC 7692, Section 7.2.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.1
func (c *Compressor) Finish(dst []byte) []byte {
	e := c.e
	if e == nil {
		// An empty message: the stored block's 3 header bits, padded.
		return append(dst, 0)
	}
	e.out = dst
	e.tokenize(true)
	e.writeBits(0, 3) // BFINAL 0, BTYPE 00: the sync flush's empty block
	e.alignByte()
	dst = e.out
	e.out = nil

	if c.takeover {
		c.remember(e.win[len(e.win)-min(e.msgLen, len(e.win)):])
		// The last 3 bytes were too few to hash; the next message may
		// give them a key.
		e.hashed = max(len(e.win)-3, 0)
		e.owner = c.id
	}
	c.gen++
	e.ownerGen = c.gen
	c.e = nil
	encoderPool.Put(e)
	return dst
}

// remember adds msg, the latest message or the tail of it, to the
// history ring.
func (c *Compressor) remember(msg []byte) {
	w := int(c.window)
	if c.hist == nil {
		c.hist = make([]byte, 0, w)
	}
	if len(msg) >= w {
		c.hist = append(c.hist[:0], msg[len(msg)-w:]...)
		c.histPos = 0
		return
	}
	if n := min(w-len(c.hist), len(msg)); n > 0 {
		c.hist = append(c.hist, msg[:n]...)
		msg = msg[n:]
	}
	for len(msg) > 0 {
		n := copy(c.hist[c.histPos:], msg)
		msg = msg[n:]
		c.histPos += int32(n)
		if int(c.histPos) == w {
			c.histPos = 0
		}
	}
}

// Compress compresses msg as one whole message: it is Append(dst, msg)
// followed by Finish.
func (c *Compressor) Compress(dst, msg []byte) []byte {
	return c.Finish(c.Append(dst, msg))
}

// Reset abandons the message in progress, if any, and forgets the
// history, as after a connection failed in the middle of a message. It
// keeps the memory of the history for the next message.
func (c *Compressor) Reset() {
	if c.e != nil {
		c.e.out = nil
		c.e.owner = 0
		encoderPool.Put(c.e)
		c.e = nil
	}
	c.hist = c.hist[:0]
	c.histPos = 0
	c.gen++
}

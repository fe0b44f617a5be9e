package deflate

import (
	"fmt"
	"io"
	"slices"
	"sync"
)

// A Decompressor decompresses the messages the peer sends, as
// [RFC 7692, Section 7.2.2] describes, with a DEFLATE decoder of its own.
//
// Between messages a Decompressor holds only its history, the last
// 2^windowBits bytes of output, and only with context takeover
// ([RFC 7692, Section 7.1.1]); the decoder's window, tables and input
// buffer are borrowed from a pool shared by all Decompressors for the
// length of one message.
//
// A Decompressor must not be used by more than one goroutine at a time.
//
// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
// [RFC 7692, Section 7.2.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2
type Decompressor struct {
	// hist is the last window bytes of output, oldest first from
	// histPos: hist[histPos:] then hist[:histPos]. It is a ring once
	// full, and until then histPos is 0.
	hist     []byte
	st       *inflater
	err      error // why the message in progress failed, for stateFailed
	window   int32
	histPos  int32
	takeover bool
	state    uint8
}

// The states of a Decompressor.
const (
	stateIdle   = iota // no message begun
	stateActive        // a message is being read
	stateEnded         // the message was read to its end
	stateFailed        // the message was corrupt
)

// trailer is what the Decompressor appends to each message: the
// 0x00 0x00 0xff 0xff that [RFC 7692, Section 7.2.2] says to append,
// then an empty stored block with BFINAL set, so that the decoder sees
// the end of a DEFLATE stream, and a payload cut in the middle of a block
// is an error.
//
// [RFC 7692, Section 7.2.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2
var trailer = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// maxPooledRecord bounds the input buffer an inflater keeps in the pool:
// one that grew larger for a large message is dropped.
const maxPooledRecord = 1 << 20

// An inflater is the pooled working state of a message being
// decompressed: the decoder, with its window of output and its tables,
// and the source of its input.
type inflater struct {
	decoder
	src      source
	trailer  bool // the trailer has been appended to src.rec
	draining bool // the data is complete; src is being read to its end
}

var inflaterPool = sync.Pool{New: func() any { return new(inflater) }}

// A source holds the compressed bytes of a message that the decoder has
// not used yet, read from the message's reader.
type source struct {
	r    io.Reader
	rec  []byte // bytes read from r; the decoder is at rec[pos]
	pos  int
	off  int64 // bytes of the message dropped from the front of rec
	eof  bool  // r returned io.EOF
	pend error // an error r returned along with data, not yet handed out
}

// fill reads more of r into rec. It returns nil if rec grew, io.EOF at the
// end of r, and otherwise the error of r.
func (s *source) fill() error {
	if s.eof {
		return io.EOF
	}
	if s.pend != nil {
		err := s.pend
		s.pend = nil
		return err
	}
	for range 100 {
		if cap(s.rec)-len(s.rec) < 512 {
			// Drop what the decoder is done with, but for 8 bytes that
			// its bit buffer may give back at a stored block; or grow.
			if drop := s.pos - 8; drop > 0 && drop >= len(s.rec)/2 {
				n := copy(s.rec, s.rec[drop:])
				s.rec = s.rec[:n]
				s.pos -= drop
				s.off += int64(drop)
			} else {
				s.rec = slices.Grow(s.rec, max(4096, len(s.rec)))
			}
		}
		n, err := s.r.Read(s.rec[len(s.rec):cap(s.rec)])
		s.rec = s.rec[:len(s.rec)+n]
		switch {
		case err == io.EOF:
			s.eof = true
			if n > 0 {
				return nil
			}
			return io.EOF
		case err != nil:
			if n > 0 {
				s.pend = err
				return nil
			}
			return err
		case n > 0:
			return nil
		}
	}
	return io.ErrNoProgress
}

// eofReader is an empty io.Reader.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// NewDecompressor returns a Decompressor for the messages the peer sends,
// compressed with an LZ77 window of 2^windowBits bytes
// ([RFC 7692, Section 7.1.2]); values below 8 count as 8 and values above 15
// as 15. With takeover, the peer's messages may refer back to the ones
// before them (context takeover, [RFC 7692, Section 7.1.1]), and the
// Decompressor keeps the last 2^windowBits bytes of output from one message
// to the next.
//
// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
// [RFC 7692, Section 7.1.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.2
func NewDecompressor(windowBits int, takeover bool) *Decompressor {
	return &Decompressor{
		window:   1 << clampWindowBits(windowBits),
		takeover: takeover,
	}
}

// Begin starts a message whose compressed payload src yields: the payloads
// of the message's frames one after the other, without the
// 0x00 0x00 0xff 0xff that [RFC 7692, Section 7.2.2] says to append, since
// the Decompressor appends it itself. src must return io.EOF at the end of
// the payload; a nil src is an empty payload. The Decompressor keeps src
// until the message has been read to its end, or until Begin or Reset.
//
// If the previous message was not read to its end, Begin abandons it and
// forgets the history, as [Decompressor.Reset] does: the peer's next
// messages may refer to the part that was not read.
//
// [RFC 7692, Section 7.2.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2
func (d *Decompressor) Begin(src io.Reader) {
	if d.state == stateActive || d.state == stateFailed {
		d.Reset()
	}
	if src == nil {
		src = eofReader{} // an empty payload, which is not valid DEFLATE data
	}
	st := inflaterPool.Get().(*inflater)
	st.src = source{r: src, rec: st.src.rec[:0]}
	st.trailer, st.draining = false, false
	st.decoder.reset(d.hist[d.histPos:], d.hist[:d.histPos])
	d.st = st
	d.err = nil
	d.state = stateActive
}

// Read reads decompressed bytes of the message into p. It returns io.EOF
// at the end of the message, after which the history has taken in the
// message and the pooled state has been released; later calls return
// io.EOF until the next Begin.
//
// Output is made only as fast as it is read, never more than about
// 32 KiB ahead, so the caller bounds the size of a message, and a
// decompression bomb, by counting what Read returns.
//
// If src returns an error other than io.EOF (a timeout, say), Read returns
// that error and the message is not lost: the decoder stops before the
// symbol it could not finish, keeping the compressed bytes it has not
// used, and a later Read goes on from there, reading src again. Read
// returns output already made before it waits for src.
//
// A payload that is not valid DEFLATE data gives an error matching
// [ErrCorrupt], and every later Read gives it again until Begin or Reset.
// Read with no message begun returns an error.
func (d *Decompressor) Read(p []byte) (int, error) {
	switch d.state {
	case stateIdle:
		return 0, errNoMessage
	case stateEnded:
		return 0, io.EOF
	case stateFailed:
		return 0, d.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	st := d.st
	if st.draining {
		return 0, d.end()
	}
	n := 0
	for {
		if st.rpos < st.wpos {
			c := copy(p[n:], st.win[st.rpos:st.wpos])
			st.rpos += c
			n += c
			if n == len(p) {
				return n, nil
			}
		}
		if st.mode == modeDone {
			st.draining = true
			return n, d.end()
		}
		err := st.step(st.src.rec, &st.src.pos, len(p)-n)
		switch {
		case err == nil || st.wpos > st.rpos:
			continue
		case err != errShort:
			return n, d.fail(err)
		case n > 0:
			return n, nil // rather than wait for src
		case st.trailer:
			return 0, d.fail(errUnexpectedEnd)
		}
		switch err := st.src.fill(); err {
		case nil:
		case io.EOF:
			st.src.rec = append(st.src.rec, trailer[:]...)
			st.trailer = true
		default:
			return 0, err
		}
	}
}

// fail handles corrupt input.
func (d *Decompressor) fail(err error) error {
	st := d.st
	d.err = fmt.Errorf("%w: %w, at byte %d of the payload", ErrCorrupt, err, st.src.off+int64(st.src.pos)-int64(st.nb>>3))
	d.release()
	d.state = stateFailed
	return d.err
}

// end finishes a message whose DEFLATE data is complete: it reads src to
// its end (the peer may have sent a block with BFINAL set followed by a
// sync flush, as in [RFC 7692, Section 7.2.3.4]), takes the output into
// the history and releases the pooled state. It returns io.EOF, or an
// error of src, after which the next Read tries again.
//
// [RFC 7692, Section 7.2.3.4]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.3.4
func (d *Decompressor) end() error {
	st := d.st
	for {
		st.src.rec, st.src.pos = st.src.rec[:0], 0
		err := st.src.fill()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if d.takeover {
		d.takeHistory()
	}
	d.release()
	d.state = stateEnded
	return io.EOF
}

// takeHistory makes the history the last window bytes of the old history
// followed by the message, whose output, or the last 32 KiB of it, is at
// the end of the decoder's window.
func (d *Decompressor) takeHistory() {
	st := d.st
	w := int(d.window)
	if d.hist == nil {
		d.hist = make([]byte, 0, w)
	}
	out := st.win[:st.wpos]
	if len(out) >= w {
		d.hist = append(d.hist[:0], out[len(out)-w:]...)
		d.histPos = 0
		return
	}
	// No slide has happened: out is the whole message, shorter than the
	// window. It goes on the end of the history, or round the ring.
	if len(d.hist) < w {
		n := min(w-len(d.hist), len(out))
		d.hist = append(d.hist, out[:n]...)
		out = out[n:]
	}
	pos := int(d.histPos)
	for len(out) > 0 {
		n := copy(d.hist[pos:], out)
		out = out[n:]
		if pos += n; pos == w {
			pos = 0
		}
	}
	d.histPos = int32(pos)
}

// release returns the pooled state.
func (d *Decompressor) release() {
	st := d.st
	if st == nil {
		return
	}
	d.st = nil
	st.src.r = nil
	st.src.pend = nil
	st.h1, st.h2 = nil, nil
	if cap(st.src.rec) > maxPooledRecord {
		st.src.rec = nil
	}
	inflaterPool.Put(st)
}

// Reset abandons the message in progress, if any, and forgets the
// history. It keeps the memory of the history for the next message.
func (d *Decompressor) Reset() {
	d.release()
	d.hist, d.histPos = d.hist[:0], 0
	d.err = nil
	d.state = stateIdle
}

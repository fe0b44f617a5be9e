package deflate

import (
	"compress/flate"
	"fmt"
	"io"
	"slices"
	"sync"
)

// A Decompressor decompresses the messages the peer sends, as
// [RFC 7692, Section 7.2.2] describes, with the DEFLATE reader of
// [compress/flate].
//
// Between messages a Decompressor holds only its history, the last
// 2^windowBits bytes of output, and only with context takeover
// ([RFC 7692, Section 7.1.1]); the flate reader and buffers that
// decompressing takes are borrowed from a pool shared by all Decompressors
// for the length of one message.
//
// A Decompressor must not be used by more than one goroutine at a time.
//
// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
// [RFC 7692, Section 7.2.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2
type Decompressor struct {
	hist     []byte // the last window bytes of output, oldest first
	st       *inflater
	err      error // why the message in progress failed, for stateFailed
	window   int32
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
// then an empty stored block with BFINAL set, so that the flate reader
// sees the end of a DEFLATE stream and reports io.EOF.
//
// [RFC 7692, Section 7.2.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2
var trailer = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// maxPooledRecord bounds the record buffer an inflater keeps in the pool:
// one that grew larger for a large message is dropped.
const maxPooledRecord = 1 << 20

// An inflater is the pooled working state of a message being
// decompressed.
type inflater struct {
	fr    io.Reader
	reset flate.Resetter
	src   source

	// ring holds the last bytes of output, for the history; it is used
	// only with context takeover.
	ring     [maxWindow]byte
	ringPos  int
	ringFull bool

	delivered int64 // bytes of output returned by Read
	skip      int64 // bytes of output to discard after a restart
	restart   bool  // the flate reader failed on an error of src
	draining  bool  // the flate reader is done; src is being read to its end
}

var inflaterPool = sync.Pool{New: func() any {
	st := new(inflater)
	fr := flate.NewReader(&st.src)
	st.fr = fr
	st.reset = fr.(flate.Resetter)
	return st
}}

// A source hands the compressed bytes of a message to the flate reader.
// It implements io.ByteReader, so the flate reader reads it byte by byte
// with no bufio.Reader of its own, and it records every byte it pulls from
// the message, so that after an error of the message's reader the flate
// reader can start over from the recorded bytes.
type source struct {
	r    io.Reader
	rec  []byte // every byte read from r in this message
	pos  int    // next byte of rec for the flate reader
	eof  bool   // r returned io.EOF
	tail int    // bytes of trailer handed out after rec
	err  error  // the error of r the flate reader failed on
	pend error  // an error r returned along with data, not yet handed out
}

// fill reads more of r into rec. It returns nil if rec grew, io.EOF at the
// end of r, and otherwise the error of r.
func (s *source) fill() error {
	if s.eof {
		return io.EOF
	}
	if s.pend != nil {
		s.err, s.pend = s.pend, nil
		return s.err
	}
	for range 100 {
		if cap(s.rec)-len(s.rec) < 512 {
			s.rec = slices.Grow(s.rec, max(4096, len(s.rec)))
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
			s.err = err
			return err
		case n > 0:
			return nil
		}
	}
	s.err = io.ErrNoProgress
	return s.err
}

// ReadByte implements io.ByteReader for the flate reader.
func (s *source) ReadByte() (byte, error) {
	if s.pos >= len(s.rec) {
		if err := s.fill(); err != nil {
			if err != io.EOF {
				return 0, err
			}
			if s.tail < len(trailer) {
				s.tail++
				return trailer[s.tail-1], nil
			}
			return 0, io.EOF
		}
	}
	s.pos++
	return s.rec[s.pos-1], nil
}

// Read implements io.Reader for the flate reader.
func (s *source) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if s.pos >= len(s.rec) {
		if err := s.fill(); err != nil {
			if err != io.EOF {
				return 0, err
			}
			if s.tail < len(trailer) {
				n := copy(p, trailer[s.tail:])
				s.tail += n
				return n, nil
			}
			return 0, io.EOF
		}
	}
	n := copy(p, s.rec[s.pos:])
	s.pos += n
	return n, nil
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
	st.delivered, st.skip = 0, 0
	st.restart, st.draining = false, false
	st.ringPos, st.ringFull = 0, false
	st.reset.Reset(&st.src, d.hist)
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
// that error and the message is not lost: a later Read starts the flate
// reader over on the compressed bytes read so far, skips the output
// already returned, and goes on reading src. To that end the Decompressor
// keeps every compressed byte of the message until the message ends.
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
	if st.restart {
		st.src.pos, st.src.tail, st.src.err = 0, 0, nil
		st.reset.Reset(&st.src, d.hist)
		st.skip = st.delivered
		st.restart = false
	}
	for st.skip > 0 {
		n, err := st.fr.Read(p[:min(int64(len(p)), st.skip)])
		st.skip -= int64(n)
		if err != nil {
			if err == io.EOF && st.skip == 0 {
				st.draining = true
				return 0, d.end()
			}
			return 0, d.fail(err)
		}
	}
	n, err := st.fr.Read(p)
	if n > 0 {
		st.delivered += int64(n)
		if d.takeover {
			st.remember(p[:n], int(d.window))
		}
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		st.draining = true
		return n, d.end()
	default:
		return n, d.fail(err)
	}
}

// fail handles an error of the flate reader: one that came from src
// leaves the message to be resumed; any other means corrupt input.
func (d *Decompressor) fail(err error) error {
	st := d.st
	if st.src.err != nil {
		err = st.src.err
		st.restart = true
		return err
	}
	d.err = fmt.Errorf("%w: %w", ErrCorrupt, err)
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
			st.src.err = nil
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

// remember adds out to the ring of the last window bytes of output.
func (st *inflater) remember(out []byte, window int) {
	ring := st.ring[:window]
	if len(out) >= window {
		copy(ring, out[len(out)-window:])
		st.ringPos, st.ringFull = 0, true
		return
	}
	for len(out) > 0 {
		n := copy(ring[st.ringPos:], out)
		out = out[n:]
		st.ringPos += n
		if st.ringPos == window {
			st.ringPos, st.ringFull = 0, true
		}
	}
}

// takeHistory makes the history the last window bytes of the old history
// followed by the message.
func (d *Decompressor) takeHistory() {
	st := d.st
	w := int(d.window)
	if d.hist == nil {
		d.hist = make([]byte, 0, w)
	}
	if st.ringFull {
		d.hist = append(d.hist[:0], st.ring[st.ringPos:w]...)
		d.hist = append(d.hist, st.ring[:st.ringPos]...)
		return
	}
	m := st.ringPos
	keep := min(len(d.hist), w-m)
	n := copy(d.hist, d.hist[len(d.hist)-keep:])
	d.hist = append(d.hist[:n], st.ring[:m]...)
}

// release returns the pooled state.
func (d *Decompressor) release() {
	st := d.st
	if st == nil {
		return
	}
	d.st = nil
	st.src.r = nil
	st.src.err, st.src.pend = nil, nil
	if cap(st.src.rec) > maxPooledRecord {
		st.src.rec = nil
	}
	inflaterPool.Put(st)
}

// Reset abandons the message in progress, if any, and forgets the
// history. It keeps the memory of the history for the next message.
func (d *Decompressor) Reset() {
	d.release()
	d.hist = d.hist[:0]
	d.err = nil
	d.state = stateIdle
}

package deflate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
)

// bitWriter writes DEFLATE bits, least significant first, for hand-made
// test streams.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

func (w *bitWriter) bits(v uint64, n uint) *bitWriter {
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
	return w
}

// code writes a Huffman code of n bits, most significant bit first.
func (w *bitWriter) code(c uint32, n uint) *bitWriter {
	return w.bits(uint64(reverse(c, n)), n)
}

func (w *bitWriter) bytes() []byte {
	out := w.out
	if w.n > 0 {
		out = append(out, byte(w.acc))
	}
	return out
}

// canonical returns the canonical Huffman codes for lengths.
func canonical(lengths []uint8) []uint32 {
	var count [16]uint32
	for _, n := range lengths {
		count[n]++
	}
	count[0] = 0
	var next [16]uint32
	c := uint32(0)
	for n := 1; n < 16; n++ {
		c = (c + count[n-1]) << 1
		next[n] = c
	}
	codes := make([]uint32, len(lengths))
	for i, n := range lengths {
		if n > 0 {
			codes[i] = next[n]
			next[n]++
		}
	}
	return codes
}

// clItem is a code-length symbol with its extra bits.
type clItem struct{ sym, extra int }

// dynamicHeader writes a block header of type 2 with the given HLIT, HDIST
// (as counts) and code-length code, then items.
func (w *bitWriter) dynamicHeader(final bool, hlit, hdist int, cl [19]uint8, items []clItem) {
	f := uint64(0)
	if final {
		f = 1
	}
	w.bits(f, 1).bits(2, 2)
	w.bits(uint64(hlit-257), 5).bits(uint64(hdist-1), 5).bits(19-4, 4)
	for _, s := range codeOrder {
		w.bits(uint64(cl[s]), 3)
	}
	codes := canonical(cl[:])
	for _, it := range items {
		w.code(codes[it.sym], uint(cl[it.sym]))
		switch it.sym {
		case 16:
			w.bits(uint64(it.extra), 2)
		case 17:
			w.bits(uint64(it.extra), 3)
		case 18:
			w.bits(uint64(it.extra), 7)
		}
	}
}

// lengthItems writes lengths literally (each below 16), as items.
func lengthItems(lengths []uint8) []clItem {
	items := make([]clItem, len(lengths))
	for i, n := range lengths {
		items[i] = clItem{sym: int(n)}
	}
	return items
}

// clFlat is a complete code-length code: symbols 0 to 15 of 4 bits.
var clFlat = func() (cl [19]uint8) {
	for i := range 16 {
		cl[i] = 4
	}
	return
}()

// clRepeat is a complete code-length code with the repeat symbols: 0 to
// 12 and 16 to 18, of 4 bits.
var clRepeat = func() (cl [19]uint8) {
	for i := range 13 {
		cl[i] = 4
	}
	cl[16], cl[17], cl[18] = 4, 4, 4
	return
}()

// dynamicBlock writes a whole dynamic block: lit and dist lengths (written
// literally with clFlat), then the symbols, each a literal/length symbol
// with, for lengths, its extra bits, distance symbol and extra bits.
func dynamicBlock(final bool, lit, dist []uint8, syms [][]int) []byte {
	var w bitWriter
	w.dynamicHeader(final, len(lit), len(dist), clFlat, lengthItems(append(append([]uint8(nil), lit...), dist...)))
	lc, dc := canonical(lit), canonical(dist)
	for _, s := range syms {
		w.code(lc[s[0]], uint(lit[s[0]]))
		if s[0] > 256 {
			c := s[0] - 257
			w.bits(uint64(s[1]), uint(lengthExtra[c]))
			w.code(dc[s[2]], uint(dist[s[2]]))
			w.bits(uint64(s[3]), uint(distExtra[s[2]]))
		}
	}
	return w.bytes()
}

// litLengths returns literal/length code lengths of hlit symbols: those of
// syms of the given length, the others 0.
func litLengths(hlit int, n uint8, syms ...int) []uint8 {
	l := make([]uint8, hlit)
	for _, s := range syms {
		l[s] = n
	}
	return l
}

// complete8 returns 258 literal/length lengths forming a complete code:
// 254 symbols of 8 bits, 4 of 9 (0, 1, 256 and 257).
func complete8() []uint8 {
	l := make([]uint8, 258)
	for i := range l {
		l[i] = 8
	}
	l[0], l[1], l[256], l[257] = 9, 9, 9, 9
	return l
}

// An inflateCase is a hand-made payload, valid or not.
type inflateCase struct {
	name    string
	payload []byte
	want    error // nil: valid data
	hist    []byte
}

// inflateCases returns a payload for each kind of invalid data, and valid
// ones at the edges.
func inflateCases() []inflateCase {
	var w bitWriter
	return []inflateCase{{
		name:    "block type 11",
		payload: []byte{0x07, 0x00},
		want:    errBlockType,
	}, {
		name:    "stored LEN and NLEN disagree",
		payload: []byte{0x01, 0x05, 0x00, 0xfa, 0xfe, 'H', 'e', 'l', 'l', 'o'},
		want:    errStoredLen,
	}, {
		name:    "stored block longer than the data",
		payload: []byte{0x00, 0x64, 0x00, 0x9b, 0xff, 'H', 'e'},
		want:    errUnexpectedEnd,
	}, {
		name:    "fixed block cut in the middle",
		payload: (&bitWriter{}).bits(1, 1).bits(1, 2).code(0x30+'a', 8).bytes(),
		want:    nil, // the appended sync flush is read as codes: see below
	}, {
		name: "code-length code over-subscribed",
		payload: func() []byte {
			var cl [19]uint8
			cl[0], cl[1], cl[2] = 1, 1, 1
			w := bitWriter{}
			w.dynamicHeader(true, 257, 1, cl, nil)
			return w.bytes()
		}(),
		want: errOversub,
	}, {
		name: "code-length code incomplete",
		payload: func() []byte {
			var cl [19]uint8
			cl[0], cl[1], cl[2] = 2, 2, 2
			w := bitWriter{}
			w.dynamicHeader(true, 257, 1, cl, nil)
			return w.bytes()
		}(),
		want: errIncomplete,
	}, {
		name:    "literal/length code over-subscribed",
		payload: dynamicBlock(true, litLengths(257, 1, 'a', 'b', 256), []uint8{1, 1}, nil),
		want:    errOversub,
	}, {
		name:    "literal/length code incomplete",
		payload: dynamicBlock(true, litLengths(257, 2, 'a', 256), []uint8{1, 1}, [][]int{{'a'}, {256}}),
		want:    errIncomplete,
	}, {
		name:    "literal/length code of one symbol of one bit",
		payload: dynamicBlock(true, litLengths(257, 1, 256), []uint8{0}, [][]int{{256}}),
	}, {
		name:    "distance code over-subscribed",
		payload: dynamicBlock(true, complete8(), []uint8{1, 1, 1}, [][]int{{'a'}, {256}}),
		want:    errOversub,
	}, {
		name:    "distance code incomplete",
		payload: dynamicBlock(true, complete8(), []uint8{2, 2, 2}, [][]int{{'a'}, {256}}),
		want:    errIncomplete,
	}, {
		name:    "distance code of one symbol of two bits",
		payload: dynamicBlock(true, complete8(), []uint8{2}, [][]int{{'a'}, {256}}),
		want:    errIncomplete,
	}, {
		name:    "distance code of one symbol of one bit, used",
		payload: dynamicBlock(true, complete8(), []uint8{1}, [][]int{{'a'}, {257, 0, 0, 0}, {256}}),
	}, {
		name: "distance code of one symbol of one bit, the unused code",
		payload: func() []byte {
			lit := complete8()
			lc := canonical(lit)
			var w bitWriter
			w.dynamicHeader(true, 258, 1, clFlat, lengthItems(append(lit, 1)))
			w.code(lc['a'], 8).code(lc[257], 9) // 'a', then length 3...
			w.bits(1, 1)                        // ...and distance code 1, which has no symbol
			return w.bytes()
		}(),
		want: errBadSymbol,
	}, {
		name:    "distance code empty, unused",
		payload: dynamicBlock(true, complete8(), []uint8{0}, [][]int{{'a'}, {256}}),
	}, {
		name: "distance code empty, used",
		payload: func() []byte {
			lit := complete8()
			lc := canonical(lit)
			var w bitWriter
			w.dynamicHeader(true, 258, 1, clFlat, lengthItems(append(lit, 0)))
			w.code(lc['a'], 8).code(lc[257], 9) // a match; the distance code has no symbols
			return w.bytes()
		}(),
		want: errBadSymbol,
	}, {
		name: "repeat of the previous length first",
		payload: func() []byte {
			var w bitWriter
			w.dynamicHeader(true, 257, 1, clRepeat, []clItem{{16, 0}})
			return w.bytes()
		}(),
		want: errRepeatFirst,
	}, {
		name: "repeat past HLIT+HDIST",
		payload: func() []byte {
			var w bitWriter
			// 257+1 lengths: 2*138 zeros is 276.
			w.dynamicHeader(true, 257, 1, clRepeat, []clItem{{18, 127}, {18, 127}})
			return w.bytes()
		}(),
		want: errRepeatPast,
	}, {
		name: "repeat of the previous length past HLIT+HDIST",
		payload: func() []byte {
			var w bitWriter
			items := []clItem{{8, 0}}
			for range 257 / 6 {
				items = append(items, clItem{16, 3})
			}
			items = append(items, clItem{16, 3}) // 1+43*6 = 259 > 258
			w.dynamicHeader(true, 257, 1, clRepeat, items)
			return w.bytes()
		}(),
		want: errRepeatPast,
	}, {
		name: "HLIT of 287",
		payload: func() []byte {
			var w bitWriter
			w.dynamicHeader(true, 287, 1, clFlat, nil)
			return w.bytes()
		}(),
		want: errHLIT,
	}, {
		name: "HDIST of 31",
		payload: func() []byte {
			var w bitWriter
			w.dynamicHeader(true, 257, 31, clFlat, nil)
			return w.bytes()
		}(),
		want: errHDIST,
	}, {
		name:    "no end-of-block code",
		payload: dynamicBlock(true, litLengths(257, 1, 'a', 'b'), []uint8{1, 1}, nil),
		want:    errNoEOB,
	}, {
		name:    "fixed literal/length symbol 286",
		payload: w.bits(1, 1).bits(1, 2).code(0xc0+286-280, 8).bytes(),
		want:    errBadLenSym,
	}, {
		name:    "fixed literal/length symbol 287",
		payload: (&bitWriter{}).bits(1, 1).bits(1, 2).code(0xc0+287-280, 8).bytes(),
		want:    errBadLenSym,
	}, {
		name:    "fixed distance symbol 30",
		payload: (&bitWriter{}).bits(1, 1).bits(1, 2).code(0x30+'a', 8).code(1, 7).code(30, 5).bytes(),
		want:    errBadDistSym,
	}, {
		name:    "fixed distance symbol 31",
		payload: (&bitWriter{}).bits(1, 1).bits(1, 2).code(0x30+'a', 8).code(1, 7).code(31, 5).bytes(),
		want:    errBadDistSym,
	}, {
		name:    "distance of 2 after 1 byte",
		payload: (&bitWriter{}).bits(1, 1).bits(1, 2).code(0x30+'a', 8).code(1, 7).code(1, 5).code(0, 7).bytes(),
		want:    errDistTooFar,
	}, {
		name:    "distance of 1 after 1 byte",
		payload: (&bitWriter{}).bits(1, 1).bits(1, 2).code(0x30+'a', 8).code(1, 7).code(0, 5).code(0, 7).bytes(),
	}, {
		name:    "distance of 4 after 1 byte and 3 of history",
		payload: (&bitWriter{}).bits(1, 1).bits(1, 2).code(0x30+'a', 8).code(1, 7).code(3, 5).code(0, 7).bytes(),
		hist:    []byte("xyz"),
	}, {
		name:    "distance of 5 after 1 byte and 3 of history",
		payload: (&bitWriter{}).bits(1, 1).bits(1, 2).code(0x30+'a', 8).code(1, 7).code(4, 5).bits(0, 1).code(0, 7).bytes(),
		hist:    []byte("xyz"),
		want:    errDistTooFar,
	}}
}

// TestInflateCorrupt checks each kind of invalid data for its error, and
// that compress/flate rejects it too.
func TestInflateCorrupt(t *testing.T) {
	t.Parallel()
	for _, tt := range inflateCases() {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := flateDecode(tt.hist, tt.payload)
			d := NewDecompressor(15, true)
			d.hist = append([]byte(nil), tt.hist...)
			got, err := readMessage(d, bytes.NewReader(tt.payload), 100)
			if (err == nil) != (wantErr == nil) {
				t.Errorf("payload %x: %v; compress/flate: %v", tt.payload, err, wantErr)
			}
			if tt.name == "fixed block cut in the middle" {
				return // whatever the appended bytes decode to
			}
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("payload %x: %v, want no error", tt.payload, err)
			case tt.want == nil && !bytes.Equal(got, want):
				t.Fatalf("payload %x: %q, compress/flate %q", tt.payload, got, want)
			case tt.want != nil && (!errors.Is(err, tt.want) || !errors.Is(err, ErrCorrupt)):
				t.Fatalf("payload %x: %v, want %v matching ErrCorrupt", tt.payload, err, tt.want)
			}
		})
	}
}

// cutReader returns its data up to cut, then err (with the data before
// it if with), then the rest.
type cutReader struct {
	data []byte
	cut  int
	with bool
	done bool
}

func (r *cutReader) Read(p []byte) (int, error) {
	if !r.done {
		if r.cut == 0 {
			r.done = true
			return 0, os.ErrDeadlineExceeded
		}
		n := copy(p[:min(len(p), r.cut)], r.data)
		r.data, r.cut = r.data[n:], r.cut-n
		if r.cut == 0 && r.with {
			r.done = true
			return n, os.ErrDeadlineExceeded
		}
		return n, nil
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestDecompressCutEverywhere cuts the source of messages of every kind
// of block at every byte with a timeout, and checks that the timeout is
// returned once and that the message then reads on to the right end.
func TestDecompressCutEverywhere(t *testing.T) {
	t.Parallel()
	msgs := [][]byte{[]byte("Hello, Hello, Hello"), text(11, 3000), random(11, 600), repetitive(5000), chatMessages(11, 1)[0]}
	var payloads [][]byte
	for _, level := range []int{0, 1, 6} {
		for _, m := range msgs {
			if level == 0 {
				payloads = append(payloads, flateCompress(t, 0, 1<<15, false, [][]byte{m})[0])
				continue
			}
			payloads = append(payloads, NewCompressor(level, 15, false).Compress(nil, m))
		}
	}
	for i, p := range payloads {
		m := msgs[i%len(msgs)]
		for _, with := range []bool{false, true} {
			for cut := range len(p) + 1 {
				d := NewDecompressor(15, true)
				d.hist = []byte("some history")
				name := fmt.Sprintf("payload %d, cut at %d of %d, with data %v", i, cut, len(p), with)
				d.Begin(&cutReader{data: p, cut: cut, with: with})
				var got []byte
				buf := make([]byte, 1+cut%700)
				timeouts := 0
				for {
					n, err := d.Read(buf)
					got = append(got, buf[:n]...)
					if err == io.EOF {
						break
					}
					if errors.Is(err, os.ErrDeadlineExceeded) {
						timeouts++
						continue
					}
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
				}
				if timeouts != 1 {
					t.Fatalf("%s: %d timeouts, want 1", name, timeouts)
				}
				if !bytes.Equal(got, m) {
					t.Fatalf("%s: got %d bytes, want %d", name, len(got), len(m))
				}
			}
		}
	}
}

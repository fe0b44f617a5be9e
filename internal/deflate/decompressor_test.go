package deflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// readMessage reads one whole message from d through src, with reads of
// up to bufSize bytes, retrying after errors of src that are timeouts.
func readMessage(d *Decompressor, src io.Reader, bufSize int) ([]byte, error) {
	d.Begin(src)
	var out []byte
	buf := make([]byte, bufSize)
	for {
		n, err := d.Read(buf)
		if n > len(buf) {
			return out, fmt.Errorf("Read returned %d bytes into %d", n, len(buf))
		}
		out = append(out, buf[:n]...)
		switch {
		case err == io.EOF:
			return out, nil
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, iotest.ErrTimeout):
			continue
		case err != nil:
			return out, err
		}
	}
}

func hexBytes(s ...byte) []byte { return s }

// TestDecompressRFC7692Examples decodes the payloads of RFC 7692,
// Section 7.2.3, and the two forms of an empty message.
func TestDecompressRFC7692Examples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		takeover bool
		payloads [][]byte
		want     []string
	}{{
		name:     "7.2.3.1 one compressed block",
		payloads: [][]byte{hexBytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00)},
		want:     []string{"Hello"},
	}, {
		name:     "7.2.3.2 sharing the LZ77 window",
		takeover: true,
		payloads: [][]byte{
			hexBytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00),
			hexBytes(0xf2, 0x00, 0x11, 0x00, 0x00),
		},
		want: []string{"Hello", "Hello"},
	}, {
		name:     "7.2.3.3 a block with no compression",
		payloads: [][]byte{hexBytes(0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00)},
		want:     []string{"Hello"},
	}, {
		name:     "7.2.3.4 a block with BFINAL set",
		payloads: [][]byte{hexBytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00)},
		want:     []string{"Hello"},
	}, {
		name:     "7.2.3.5 two blocks in one message",
		payloads: [][]byte{hexBytes(0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00)},
		want:     []string{"Hello"},
	}, {
		name:     "empty message as an empty stored block",
		payloads: [][]byte{hexBytes(0x00)},
		want:     []string{""},
	}, {
		name:     "empty message as an empty fixed block",
		payloads: [][]byte{hexBytes(0x02, 0x00)},
		want:     []string{""},
	}, {
		name:     "BFINAL block followed by more bytes, which are ignored",
		takeover: true,
		payloads: [][]byte{
			hexBytes(0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0xde, 0xad),
			hexBytes(0xf2, 0x00, 0x11, 0x00, 0x00),
		},
		want: []string{"Hello", "Hello"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, bufSize := range []int{1, 3, 4096} {
				d := NewDecompressor(15, tt.takeover)
				var got []string
				for _, p := range tt.payloads {
					r := bytes.NewReader(p)
					out, err := readMessage(d, r, bufSize)
					if err != nil {
						t.Fatalf("payload %x: %v", p, err)
					}
					if r.Len() != 0 {
						t.Errorf("payload %x: %d bytes left unread", p, r.Len())
					}
					got = append(got, string(out))
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("reads of %d: messages mismatch (-want +got):\n%s", bufSize, diff)
				}
			}
		})
	}
}

// sources are the ways TestDecompress hands a payload to the
// Decompressor.
var sources = []struct {
	name string
	wrap func(p []byte, r *rand.Rand) io.Reader
}{
	{"whole", func(p []byte, _ *rand.Rand) io.Reader { return bytes.NewReader(p) }},
	{"OneByteReader", func(p []byte, _ *rand.Rand) io.Reader { return iotest.OneByteReader(bytes.NewReader(p)) }},
	{"DataErrReader", func(p []byte, _ *rand.Rand) io.Reader { return iotest.DataErrReader(bytes.NewReader(p)) }},
	{"TimeoutReader", func(p []byte, _ *rand.Rand) io.Reader { return iotest.TimeoutReader(bytes.NewReader(p)) }},
	{"flaky", func(p []byte, r *rand.Rand) io.Reader { return &flakyReader{data: p, r: r} }},
}

// flakyReader returns its data in pieces of random sizes, and now and
// then a timeout, alone or with data; with mustFail, at least one timeout
// comes after the first piece.
type flakyReader struct {
	data     []byte
	r        *rand.Rand
	errs     int
	reads    int
	mustFail bool
}

func (f *flakyReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, io.EOF
	}
	f.reads++
	if f.mustFail && f.errs == 0 {
		if f.reads == 1 && len(f.data) > 1 {
			n := copy(p[:min(len(p), len(f.data)/2)], f.data)
			f.data = f.data[n:]
			return n, nil
		}
		f.errs++
		return 0, os.ErrDeadlineExceeded
	}
	switch f.r.IntN(8) {
	case 0:
		f.errs++
		return 0, os.ErrDeadlineExceeded
	case 1:
		f.errs++
		n := copy(p[:min(len(p), 1+f.r.IntN(100))], f.data)
		f.data = f.data[n:]
		return n, os.ErrDeadlineExceeded
	}
	n := copy(p[:min(len(p), 1+f.r.IntN(3000))], f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestDecompress reads messages that compress/flate made, with and
// without takeover, for every window size, through sources that deliver
// a byte at a time or fail with timeouts.
func TestDecompress(t *testing.T) {
	t.Parallel()
	msgs := append(chatMessages(4, 20), text(1, 70000), nil, random(1, 3000), repetitive(40000), text(1, 70000))
	for _, wb := range testWindows() {
		for _, takeover := range []bool{true, false} {
			for _, level := range []int{flate.BestSpeed, flate.DefaultCompression} {
				payloads := flateCompress(t, level, 1<<wb, takeover, msgs)
				for _, src := range sources {
					t.Run(fmt.Sprintf("window%d/takeover=%v/level%d/%s", wb, takeover, level, src.name), func(t *testing.T) {
						t.Parallel()
						r := rand.New(rand.NewPCG(uint64(wb), uint64(level+2)))
						d := NewDecompressor(wb, takeover)
						for i, p := range payloads {
							got, err := readMessage(d, src.wrap(p, r), 1+r.IntN(5000))
							if err != nil {
								t.Fatalf("message %d: %v", i, err)
							}
							if !bytes.Equal(got, msgs[i]) {
								t.Fatalf("message %d: got %d bytes %.30q, want %d bytes %.30q", i, len(got), got, len(msgs[i]), msgs[i])
							}
						}
					})
				}
			}
		}
	}
}

// TestDecompressOurs reads what our Compressor made, at every level and
// window size.
func TestDecompressOurs(t *testing.T) {
	t.Parallel()
	msgs := append(chatMessages(5, 30), text(2, 100000), nil, random(2, 5000), repetitive(40000))
	for _, wb := range testWindows() {
		for _, takeover := range []bool{true, false} {
			for _, level := range []int{1, 2, 6} {
				t.Run(fmt.Sprintf("window%d/takeover=%v/level%d", wb, takeover, level), func(t *testing.T) {
					t.Parallel()
					c := NewCompressor(level, wb, takeover)
					d := NewDecompressor(wb, takeover)
					for i, m := range msgs {
						got, err := readMessage(d, bytes.NewReader(c.Compress(nil, m)), 4096)
						if err != nil {
							t.Fatalf("message %d: %v", i, err)
						}
						if !bytes.Equal(got, m) {
							t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(m))
						}
					}
				})
			}
		}
	}
}

// TestDecompressTimeout checks that an error of the source in the middle
// of a message is returned as it is, and that the message then goes on
// exactly where it stopped, over and over.
func TestDecompressTimeout(t *testing.T) {
	t.Parallel()
	msgs := [][]byte{text(3, 200000), repetitive(100000), text(4, 50000)}
	payloads := compressMessages(NewCompressor(BestSpeed, 15, true), msgs, nil)
	r := rand.New(rand.NewPCG(1, 2))
	d := NewDecompressor(15, true)
	for i, p := range payloads {
		src := &flakyReader{data: p, r: r, mustFail: true}
		d.Begin(src)
		var got []byte
		buf := make([]byte, 1000)
		timeouts := 0
		for {
			n, err := d.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err == nil {
				continue
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("message %d: Read: %v, want a timeout or io.EOF", i, err)
			}
			timeouts++
		}
		if timeouts == 0 || timeouts != src.errs {
			t.Errorf("message %d: %d timeouts returned, source made %d", i, timeouts, src.errs)
		}
		if !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(msgs[i]))
		}
	}
}

// TestDecompressWindow checks that the history is exactly 2^windowBits
// bytes: a back-reference that reaches that far into the last message
// decodes, and one byte further does not.
func TestDecompressWindow(t *testing.T) {
	t.Parallel()
	for _, wb := range testWindows() {
		w := 1 << wb
		first := random(uint64(wb), w)
		// A fixed block holding one match of length 4 and distance w (or
		// w+1), then the sync flush: written with the encoder's own bit
		// writer.
		ref := func(dist int) []byte {
			e := &encoder{}
			e.writeBits(1<<1, 3)
			e.emitMatch(4, dist)
			e.writeTokens(fixedLitLen[:], fixedDist[:])
			e.writeBits(0, 3)
			e.alignByte()
			return e.out
		}
		for _, tt := range []struct {
			dist    int
			wantErr error
		}{{dist: w}, {dist: w + 1, wantErr: ErrCorrupt}} {
			if tt.dist > maxWindow {
				continue
			}
			d := NewDecompressor(wb, true)
			if _, err := readMessage(d, bytes.NewReader(NewCompressor(1, wb, false).Compress(nil, first)), 4096); err != nil {
				t.Fatal(err)
			}
			got, err := readMessage(d, bytes.NewReader(ref(tt.dist)), 4096)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("window %d, distance %d: %v, want %v", wb, tt.dist, err, tt.wantErr)
			}
			if err == nil && !bytes.Equal(got, first[:4]) {
				t.Errorf("window %d, distance %d: got %x, want %x", wb, tt.dist, got, first[:4])
			}
		}
	}
}

// TestDecompressCorrupt feeds invalid payloads, which must give an error
// matching ErrCorrupt, again on every later Read, and leave the
// Decompressor usable after Begin.
func TestDecompressCorrupt(t *testing.T) {
	t.Parallel()
	good := NewCompressor(BestSpeed, 15, false).Compress(nil, text(1, 5000))
	tests := []struct {
		name    string
		payload []byte
	}{{
		name:    "reserved block type 11",
		payload: hexBytes(0x07, 0x00),
	}, {
		name:    "stored block with LEN and NLEN that disagree",
		payload: hexBytes(0x00, 0x05, 0x00, 0x00, 0x00, 'H', 'e', 'l', 'l', 'o'),
	}, {
		name:    "stored block cut short",
		payload: hexBytes(0x00, 0x05, 0x00, 0xfa, 0xff, 'H', 'e'),
	}, {
		name:    "back-reference with no history",
		payload: hexBytes(0x02, 0x13, 0x00, 0x00),
	}, {
		name:    "dynamic block with an over-subscribed code-length code",
		payload: hexBytes(0x04, 0x00, 0xfe, 0xff, 0xff, 0xff, 0xff),
	}, {
		name:    "compressed data cut in the middle",
		payload: good[:len(good)/2],
	}, {
		name:    "compressed data with a flipped byte",
		payload: append(append(append([]byte(nil), good[:10]...), good[10]^0xff), good[11:]...),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecompressor(15, true)
			_, err := readMessage(d, bytes.NewReader(tt.payload), 4096)
			if tt.name == "compressed data with a flipped byte" && err == nil {
				t.Skip("the flip happened to leave valid data")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("payload %x: %v, want an error matching ErrCorrupt", tt.payload, err)
			}
			if _, err2 := d.Read(make([]byte, 10)); err2 != err {
				t.Errorf("Read after the error: %v, want %v again", err2, err)
			}
			got, err := readMessage(d, bytes.NewReader(hexBytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00)), 4096)
			if err != nil || string(got) != "Hello" {
				t.Errorf("next message: %q, %v", got, err)
			}
		})
	}
}

// TestDecompressRandom feeds random bytes: no panic, and the output is
// what compress/flate makes of the same bytes.
func TestDecompressRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 9))
	d := NewDecompressor(15, false)
	for i := range 3000 {
		p := random(uint64(i), r.IntN(200))
		if i%3 == 0 && len(p) > 0 {
			p[0] = p[0]&^7 | 4 // a dynamic block, which random bytes get further into
		}
		got, err := readMessage(d, bytes.NewReader(p), 1+r.IntN(100))
		want, wantErr := flateDecode(nil, p)
		if (err == nil) != (wantErr == nil) || err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("payload %x: %v; compress/flate: %v", p, err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("payload %x: %x, compress/flate %x", p, got, want)
		}
	}
}

func TestDecompressStates(t *testing.T) {
	t.Parallel()
	d := NewDecompressor(15, true)
	if _, err := d.Read(make([]byte, 10)); err == nil || err == io.EOF {
		t.Errorf("Read before Begin: %v, want an error", err)
	}
	hello := hexBytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00)
	if got, err := readMessage(d, bytes.NewReader(hello), 100); err != nil || string(got) != "Hello" {
		t.Fatalf("first message: %q, %v", got, err)
	}
	if n, err := d.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read after the end: %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := d.Read(nil); n != 0 || err != io.EOF {
		t.Errorf("empty Read after the end: %d, %v; want 0, io.EOF", n, err)
	}

	// A message abandoned half-read: Begin forgets the history, so a
	// message referring to it is corrupt.
	d.Begin(bytes.NewReader(NewCompressor(1, 15, false).Compress(nil, text(1, 100000))))
	d.Read(make([]byte, 10))
	_, err := readMessage(d, bytes.NewReader(hexBytes(0xf2, 0x00, 0x11, 0x00, 0x00)), 100)
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("message referring to forgotten history: %v, want ErrCorrupt", err)
	}

	// Reset forgets the history too.
	readMessage(d, bytes.NewReader(hello), 100)
	d.Reset()
	_, err = readMessage(d, bytes.NewReader(hexBytes(0xf2, 0x00, 0x11, 0x00, 0x00)), 100)
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("after Reset: %v, want ErrCorrupt", err)
	}
}

// TestDecompressBomb reads 100 MiB of zeros, about 100 KiB compressed,
// with a small buffer, and checks that the heap grows by nothing like the
// output: the Decompressor makes output only as fast as it is read.
func TestDecompressBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MiB of output")
	}
	const size = 100 << 20
	c := NewCompressor(BestSpeed, 15, true)
	zeros := make([]byte, 64<<10)
	var payload []byte
	for range size / len(zeros) {
		payload = c.Append(payload, zeros)
	}
	payload = c.Finish(payload)
	t.Logf("%d bytes of zeros compress to %d", size, len(payload))

	d := NewDecompressor(15, true)
	buf := make([]byte, 4096)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d.Begin(bytes.NewReader(payload))
	total := 0
	for {
		n, err := d.Read(buf)
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if total != size {
		t.Errorf("read %d bytes, want %d", total, size)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("reading %d bytes allocated %d bytes", size, grew)
	}

	// A caller that stops at its limit just resets.
	d.Begin(bytes.NewReader(payload))
	total = 0
	for total < 1<<20 {
		n, _ := d.Read(buf)
		total += n
	}
	d.Reset()
}

func TestDecompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	msgs := chatMessages(6, 100)
	payloads := compressMessages(NewCompressor(BestSpeed, 15, true), msgs, nil)
	d := NewDecompressor(15, true)
	var r bytes.Reader
	buf := make([]byte, 4096)
	read := func(i int) {
		r.Reset(payloads[i])
		d.Begin(&r)
		for {
			if _, err := d.Read(buf); err != nil {
				break
			}
		}
	}
	for i := range msgs {
		read(i)
	}
	d.Reset()
	i := 0
	allocs := testing.AllocsPerRun(len(msgs)-1, func() {
		read(i)
		i++
	})
	if allocs != 0 {
		t.Errorf("Begin and Read allocate %v times per message", allocs)
	}
}

package deflate

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// FuzzRoundTrip compresses arbitrary data, cut into messages and the
// messages into Append calls where cuts says, at the level, window size
// and takeover given, and checks that compress/flate, the test inflater
// and our Decompressor all give the messages back, and that no
// back-reference is longer than the window.
//
// Each byte of cuts is one piece of input: its high 7 bits, times a scale
// that grows with the data, are the length of the piece, and its low bit
// ends the message after the piece. repeat repeats data (up to 64 KiB), so
// that small inputs still fill blocks and windows.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("Hello"), uint8(7), uint8(0), true, []byte{5, 11}, uint8(0))
	f.Add([]byte(`{"type":"message","text":"hi"}`), uint8(1), uint8(1), true, []byte{9, 3, 200, 1}, uint8(5))
	f.Add([]byte("abcabcabdabcab"), uint8(0), uint8(5), false, []byte{}, uint8(63))
	f.Add([]byte{0, 1, 2, 3, 255, 254, 0, 0, 0, 0}, uint8(3), uint8(8), true, []byte{1, 1, 1}, uint8(30))
	f.Fuzz(func(t *testing.T, data []byte, wb, level uint8, takeover bool, cuts []byte, repeat uint8) {
		if len(data) > 4096 {
			data = data[:4096]
		}
		if repeat > 0 && len(data) > 0 {
			data = bytes.Repeat(data, 1+int(repeat)%64)
			data = data[:min(len(data), 64<<10)]
		}
		windowBits := MinWindowBits + int(wb)%8
		lvl := int(level) % 10
		if lvl == 0 {
			lvl = DefaultCompression
		}
		scale := 1 + len(data)/256

		c := NewCompressor(lvl, windowBits, takeover)
		var msgs, payloads [][]byte
		var msg, out []byte
		rest := data
		for _, b := range cuts {
			n := min(int(b>>1)*scale, len(rest))
			msg = append(msg, rest[:n]...)
			out = c.Append(out, rest[:n])
			rest = rest[n:]
			if b&1 == 1 {
				msgs = append(msgs, msg)
				payloads = append(payloads, c.Finish(out))
				msg, out = nil, nil
			}
		}
		msgs = append(msgs, append(msg, rest...))
		payloads = append(payloads, c.Finish(c.Append(out, rest)))

		checkDecodes(t, msgs, payloads, 1<<windowBits, takeover)

		d := NewDecompressor(windowBits, takeover)
		for i, p := range payloads {
			got, err := readMessage(d, iotest.HalfReader(bytes.NewReader(p)), 1+i%300)
			if err != nil {
				t.Fatalf("message %d: Decompressor: %v", i, err)
			}
			if !bytes.Equal(got, msgs[i]) {
				t.Fatalf("message %d: Decompressor gives %d bytes, want %d", i, len(got), len(msgs[i]))
			}
		}
	})
}

// FuzzDecompress feeds arbitrary bytes, cut into messages where cuts
// says, to a Decompressor, and to compress/flate with the same history:
// the Decompressor must never panic, never return more than it was asked
// for, stop at the caller's limit, fail only with ErrCorrupt, resume after
// timeouts of its source, and agree with compress/flate on every message
// up to the first failure: on the output, and on whether the message is
// valid. Where both fail, the output of one must be a prefix of the
// other's.
func FuzzDecompress(f *testing.F) {
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xf2, 0x00, 0x11, 0x00, 0x00}, uint8(7), true, []byte{7})
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, uint8(0), false, []byte{})
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x02, 0x00}, uint8(3), true, []byte{8, 2})
	f.Add([]byte{0x04, 0x00, 0xfe, 0xff, 0xff, 0xff}, uint8(7), false, []byte{3})
	f.Add(NewCompressor(1, 15, false).Compress(nil, bytes.Repeat([]byte{0}, 64<<10)), uint8(7), false, []byte{})
	// Streams of compress/flate at every level, and of our Compressor,
	// two messages each with takeover.
	msgs := [][]byte{text(21, 2000), text(22, 700)}
	for level := -2; level <= 9; level++ {
		p := flateCompress(f, level, 1<<15, true, msgs)
		f.Add(append(append([]byte(nil), p[0]...), p[1]...), uint8(7), true, []byte{byte(min(255, len(p[0])))})
	}
	for _, level := range []int{1, 2, 4, 9} {
		c := NewCompressor(level, 15, true)
		p0 := c.Compress(nil, msgs[0][:200])
		p1 := c.Compress(nil, msgs[1][:300])
		f.Add(append(p0, p1...), uint8(7), true, []byte{byte(len(p0))})
		f.Add(c.Compress(nil, random(23, 300)), uint8(5), true, []byte{})
	}
	for _, tc := range inflateCases() {
		if len(tc.hist) == 0 {
			f.Add(tc.payload, uint8(7), true, []byte{})
			continue
		}
		// A first message of a stored block holds the history.
		n := byte(len(tc.hist))
		first := append([]byte{0x00, n, 0x00, ^n, 0xff}, tc.hist...)
		f.Add(append(first, tc.payload...), uint8(7), true, []byte{byte(len(first))})
	}
	f.Fuzz(func(t *testing.T, data []byte, wb uint8, takeover bool, cuts []byte) {
		const limit = 1 << 20 // the caller's limit on a message
		windowBits := MinWindowBits + int(wb)%8
		window := 1 << windowBits
		var payloads [][]byte
		rest := data
		for _, b := range cuts {
			n := min(int(b), len(rest))
			payloads = append(payloads, rest[:n])
			rest = rest[n:]
		}
		payloads = append(payloads, rest)

		d := NewDecompressor(windowBits, takeover)
		var hist []byte
		buf := make([]byte, 1+len(data)%1000)
		for i, p := range payloads {
			var src io.Reader = bytes.NewReader(p)
			switch i % 3 {
			case 1:
				src = iotest.OneByteReader(src)
			case 2:
				src = &cutReader{data: p, cut: len(data) % (len(p) + 1), with: wb&128 != 0}
			}
			d.Begin(src)
			var got []byte
			var err error
			for len(got) <= limit {
				var n int
				n, err = d.Read(buf)
				if n > len(buf) {
					t.Fatalf("Read returned %d bytes into %d", n, len(buf))
				}
				got = append(got, buf[:n]...)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					continue
				}
				if err != nil {
					break
				}
			}
			if len(got) > limit {
				return // the caller would fail the connection here
			}
			if err != io.EOF && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("message %d: %v, want io.EOF or ErrCorrupt", i, err)
			}
			var dict []byte
			if takeover {
				dict = lastN(hist, window)
			}
			want, wantErr := flateDecode(dict, p)
			if (err == io.EOF) != (wantErr == nil) {
				t.Fatalf("message %d: %v; compress/flate: %v", i, err, wantErr)
			}
			if err != io.EOF {
				if !bytes.HasPrefix(got, want) && !bytes.HasPrefix(want, got) {
					t.Fatalf("message %d: both fail, but %d bytes of output disagree with compress/flate's %d", i, len(got), len(want))
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("message %d: %d bytes, compress/flate %d", i, len(got), len(want))
			}
			hist = lastN(append(hist, got...), window)
		}
	})
}

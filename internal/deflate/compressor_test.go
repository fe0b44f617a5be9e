package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTables checks the tables built at initialization against the ones
// printed in RFC 1951, Section 3.2.5, and the code lookups against them.
func TestTables(t *testing.T) {
	t.Parallel()
	wantLengthBase := [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	wantLengthExtra := [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	wantDistBase := [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	wantDistExtra := [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	if diff := cmp.Diff(wantLengthBase, lengthBase); diff != "" {
		t.Errorf("lengthBase mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLengthExtra, lengthExtra); diff != "" {
		t.Errorf("lengthExtra mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantDistBase, distBase); diff != "" {
		t.Errorf("distBase mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantDistExtra, distExtra); diff != "" {
		t.Errorf("distExtra mismatch (-want +got):\n%s", diff)
	}
	for l := minMatch; l <= maxMatch; l++ {
		c := lengthCode[l-minMatch]
		lo, hi := int(lengthBase[c]), int(lengthBase[c])+1<<lengthExtra[c]
		if l < lo || l >= hi || (l == maxMatch) != (c == 28) {
			t.Errorf("length %d has code %d, which covers %d..%d", l, 257+int(c), lo, hi-1)
		}
	}
	for d := 1; d <= maxWindow; d++ {
		c := distCode(uint32(d - 1))
		lo, hi := int(distBase[c]), int(distBase[c])+1<<distExtra[c]
		if d < lo || d >= hi {
			t.Fatalf("distance %d has code %d, which covers %d..%d", d, c, lo, hi-1)
		}
	}
}

// kraft returns the Kraft sum of lengths in units of 2^-15, and the
// longest length.
func kraft(lengths []uint8) (sum, longest int) {
	for _, n := range lengths {
		if n > 0 {
			sum += 1 << (15 - n)
			longest = max(longest, int(n))
		}
	}
	return sum, longest
}

func TestBuildLengths(t *testing.T) {
	t.Parallel()
	fib := make([]uint32, 40)
	fib[0], fib[1] = 1, 1
	for i := 2; i < len(fib); i++ {
		fib[i] = fib[i-1] + fib[i-2]
	}
	tests := []struct {
		name    string
		freq    []uint32
		maxBits int
		want    []uint8 // nil: only check validity
	}{{
		name:    "none",
		freq:    []uint32{0, 0, 0},
		maxBits: 15,
		want:    []uint8{0, 0, 0},
	}, {
		name:    "one symbol gets one bit",
		freq:    []uint32{0, 7, 0},
		maxBits: 15,
		want:    []uint8{0, 1, 0},
	}, {
		name:    "two symbols",
		freq:    []uint32{3, 0, 9},
		maxBits: 15,
		want:    []uint8{1, 0, 1},
	}, {
		name:    "skewed",
		freq:    []uint32{1, 1, 2, 4, 8},
		maxBits: 15,
		want:    []uint8{4, 4, 3, 2, 1},
	}, {
		name:    "skewed limited to 3 bits",
		freq:    []uint32{1, 1, 2, 4, 8},
		maxBits: 3,
	}, {
		name:    "Fibonacci frequencies limited to 15 bits",
		freq:    fib[:30],
		maxBits: 15,
	}, {
		name:    "Fibonacci frequencies limited to 7 bits",
		freq:    fib[:19],
		maxBits: 7,
	}, {
		name:    "equal frequencies",
		freq:    []uint32{4, 4, 4, 4},
		maxBits: 15,
		want:    []uint8{2, 2, 2, 2},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s huffScratch
			got := make([]uint8, len(tt.freq))
			s.buildLengths(tt.freq, got, tt.maxBits)
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("buildLengths(%v) mismatch (-want +got):\n%s", tt.freq, diff)
				}
			}
			checkLengths(t, tt.freq, got, tt.maxBits)
		})
	}
}

// checkLengths checks that lengths is a complete prefix code (or a single
// one-bit code) of at most maxBits for the symbols of freq, and, if no
// limit applied, an optimal one.
func checkLengths(t *testing.T, freq []uint32, lengths []uint8, maxBits int) {
	t.Helper()
	used := 0
	for i, f := range freq {
		if (f != 0) != (lengths[i] != 0) {
			t.Fatalf("symbol %d: frequency %d, length %d", i, f, lengths[i])
		}
		if f != 0 {
			used++
		}
	}
	sum, longest := kraft(lengths)
	switch {
	case used == 0:
	case used == 1:
		if sum != 1<<14 {
			t.Fatalf("single symbol: lengths %v", lengths)
		}
	case sum != 1<<15:
		t.Fatalf("lengths %v: Kraft sum %d/32768, want 1", lengths, sum)
	}
	if longest > maxBits {
		t.Fatalf("lengths %v: longest %d, limit %d", lengths, longest, maxBits)
	}
	// Compare the cost with an unlimited Huffman code built by merging
	// the two lightest weights: with no limit in play, they must agree.
	if used < 2 {
		return
	}
	var ws []uint64
	for _, f := range freq {
		if f != 0 {
			ws = append(ws, uint64(f))
		}
	}
	optimal := uint64(0)
	for len(ws) > 1 {
		slicesSortU64(ws)
		m := ws[0] + ws[1]
		optimal += m
		ws = append(ws[2:], m)
	}
	cost := uint64(0)
	for i, f := range freq {
		cost += uint64(f) * uint64(lengths[i])
	}
	if cost < optimal {
		t.Fatalf("lengths %v cost %d, below the optimum %d", lengths, cost, optimal)
	}
	var s huffScratch
	unlimited := make([]uint8, len(freq))
	s.buildLengths(freq, unlimited, 64)
	if _, l := kraft(unlimited); l <= maxBits && cost != optimal {
		t.Fatalf("lengths %v cost %d, optimum %d", lengths, cost, optimal)
	}
}

func slicesSortU64(s []uint64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestBuildLengthsRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 5))
	for range 2000 {
		n := 2 + r.IntN(numLitLen-1)
		freq := make([]uint32, n)
		for i := range freq {
			switch r.IntN(4) {
			case 0:
			case 1:
				freq[i] = uint32(1 + r.IntN(3))
			case 2:
				freq[i] = uint32(1 + r.IntN(300))
			default:
				freq[i] = uint32(1) << r.IntN(20)
			}
		}
		maxBits := maxLitLenBits
		if n <= numCodeLen && r.IntN(2) == 0 {
			maxBits = maxCodeLenBits
		}
		lengths := make([]uint8, n)
		var s huffScratch
		s.buildLengths(freq, lengths, maxBits)
		checkLengths(t, freq, lengths, maxBits)
	}
}

// TestRFC7692Examples checks the output for the "Hello" messages of
// RFC 7692, Section 7.2.3.1, and for the empty message.
func TestRFC7692Examples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  string
		want []byte
	}{{
		name: "7.2.3.1 Hello in one fixed-Huffman block",
		msg:  "Hello",
		want: []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
	}, {
		name: "empty message",
		msg:  "",
		want: []byte{0x00},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for level := BestSpeed; level <= BestCompression; level++ {
				got := NewCompressor(level, 15, true).Compress(nil, []byte(tt.msg))
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("level %d: Compress(%q) mismatch (-want +got):\n%s", level, tt.msg, diff)
				}
			}
		})
	}
}

// TestTakeoverSharesWindow checks that with context takeover a repeated
// message becomes a back-reference into the last one, as in RFC 7692,
// Section 7.2.3.2, and without it does not.
func TestTakeoverSharesWindow(t *testing.T) {
	t.Parallel()
	hello := []byte("Hello")
	for _, takeover := range []bool{true, false} {
		c := NewCompressor(BestSpeed, 15, takeover)
		first := c.Compress(nil, hello)
		second := c.Compress(nil, hello)
		var dict []byte
		if takeover {
			dict = hello
		}
		got, st, err := testInflate(dict, withTail(second))
		if err != nil || string(got) != "Hello" {
			t.Fatalf("takeover %v: second message %x decodes to %q, %v", takeover, second, got, err)
		}
		if wantRef := takeover; (st.MaxDist == 5) != wantRef {
			t.Errorf("takeover %v: second message %x has longest distance %d", takeover, second, st.MaxDist)
		}
		if takeover && len(second) >= len(first) {
			t.Errorf("takeover: second message %x is no shorter than the first %x", second, first)
		}
	}
}

// roundTripSets are the message sequences of TestRoundTrip.
func roundTripSets() []struct {
	name string
	msgs [][]byte
} {
	chat := chatMessages(9, 40)
	return []struct {
		name string
		msgs [][]byte
	}{{
		name: "small",
		msgs: [][]byte{nil, []byte("a"), nil, []byte("a"), []byte("ab"), []byte("abc"), []byte("abcd"), []byte("abcdabcd")},
	}, {
		name: "chat",
		msgs: chat,
	}, {
		name: "text",
		msgs: [][]byte{text(1, 64<<10), text(2, 3000), text(1, 64<<10), text(3, 70000)},
	}, {
		name: "random and repetitive",
		msgs: [][]byte{random(1, 64<<10), repetitive(64 << 10), random(1, 40000), bytes.Repeat([]byte{0}, 100000), random(2, 1)},
	}, {
		name: "mixed",
		msgs: [][]byte{append(text(4, 20000), random(4, 20000)...), append(random(5, 30000), text(5, 30000)...), chat[0], chat[0]},
	}}
}

// TestRoundTrip compresses message sequences at every level and window
// size, with and without takeover, whole and in pieces, and decodes them
// with compress/flate and with the test inflater, which also checks that
// no back-reference is longer than the window.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	levels := testLevels()
	for _, set := range roundTripSets() {
		for _, level := range levels {
			for _, wb := range testWindows() {
				for _, takeover := range []bool{true, false} {
					name := fmt.Sprintf("%s/level%d/window%d/takeover=%v", set.name, level, wb, takeover)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						r := rand.New(rand.NewPCG(uint64(level+10), uint64(wb)))
						whole := compressMessages(NewCompressor(level, wb, takeover), set.msgs, nil)
						checkDecodes(t, set.msgs, whole, 1<<wb, takeover)
						pieces := compressMessages(NewCompressor(level, wb, takeover), set.msgs, r)
						checkDecodes(t, set.msgs, pieces, 1<<wb, takeover)
					})
				}
			}
		}
	}
}

// TestRoundTripLarge is TestRoundTrip for 1 MiB messages, at a few levels.
func TestRoundTripLarge(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("large messages: the non-race run covers them")
	}
	t.Parallel()
	msgs := [][]byte{text(11, 1<<20), random(11, 1<<20), repetitive(1 << 20), text(11, 1<<20)}
	for _, level := range []int{1, 2, 6} {
		for _, wb := range []int{8, 11, 15} {
			for _, takeover := range []bool{true, false} {
				t.Run(fmt.Sprintf("level%d/window%d/takeover=%v", level, wb, takeover), func(t *testing.T) {
					t.Parallel()
					r := rand.New(rand.NewPCG(uint64(level), uint64(wb)))
					checkDecodes(t, msgs, compressMessages(NewCompressor(level, wb, takeover), msgs, nil), 1<<wb, takeover)
					checkDecodes(t, msgs, compressMessages(NewCompressor(level, wb, takeover), msgs, r), 1<<wb, takeover)
				})
			}
		}
	}
}

// TestInterleaved runs several Compressors of different settings by turns
// in one goroutine, so that each message starts on a pooled encoder that
// another stream used last, and must enter its history afresh.
func TestInterleaved(t *testing.T) {
	t.Parallel()
	type stream struct {
		c        *Compressor
		window   int
		takeover bool
		msgs     [][]byte
		payloads [][]byte
	}
	var streams []*stream
	for i, cfg := range []struct{ level, wb int }{{1, 15}, {2, 9}, {6, 12}, {1, 8}, {9, 15}} {
		streams = append(streams, &stream{
			c:        NewCompressor(cfg.level, cfg.wb, i != 3),
			window:   1 << cfg.wb,
			takeover: i != 3,
		})
	}
	r := rand.New(rand.NewPCG(3, 3))
	chat := chatMessages(3, 200)
	for i := range 400 {
		s := streams[r.IntN(len(streams))]
		var m []byte
		switch i % 5 {
		case 0:
			m = text(uint64(i), r.IntN(40000))
		default:
			m = chat[r.IntN(len(chat))]
		}
		s.msgs = append(s.msgs, m)
		s.payloads = append(s.payloads, s.c.Compress(nil, m))
	}
	for _, s := range streams {
		checkDecodes(t, s.msgs, s.payloads, s.window, s.takeover)
	}
}

// recordTB is a testing.TB whose Fatalf records the failure and ends the
// goroutine, so that a test can check that a checker fails.
type recordTB struct {
	testing.TB
	failure string
}

func (r *recordTB) Helper() {}

func (r *recordTB) Fatalf(format string, args ...any) {
	r.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs check with a recordTB and returns the failure it reported.
func failure(t *testing.T, check func(testing.TB)) string {
	r := &recordTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.failure
}

// TestWindowChecker shows that the window check of checkDecodes can fail:
// compress/flate reaches 4 KiB back in data that repeats every 4 KiB,
// which a 512-byte window forbids, while our Compressor does not.
func TestWindowChecker(t *testing.T) {
	t.Parallel()
	msg := bytes.Repeat(random(1, 4096), 16) // 64 KiB
	flatePayload := flateCompress(t, flate.DefaultCompression, 1<<15, false, [][]byte{msg})
	got := failure(t, func(tb testing.TB) {
		checkDecodes(tb, [][]byte{msg}, flatePayload, 1<<9, false)
	})
	if got == "" {
		t.Fatalf("checkDecodes with window 512 accepts compress/flate output")
	}
	t.Logf("checkDecodes on compress/flate output, window 512: %s", got)
	if got := failure(t, func(tb testing.TB) {
		checkDecodes(tb, [][]byte{msg}, flatePayload, 1<<15, false)
	}); got != "" {
		t.Fatalf("checkDecodes with window 32768 rejects compress/flate output: %s", got)
	}
	for _, wb := range testWindows() {
		p := NewCompressor(BestSpeed, wb, false).Compress(nil, msg)
		_, st, err := testInflate(nil, withTail(p))
		if err != nil || st.MaxDist > 1<<wb {
			t.Errorf("window %d: longest distance %d, %v", wb, st.MaxDist, err)
		}
		if wb == 9 && len(p) < len(msg)/2 {
			t.Errorf("window 9: %d bytes compress to %d, impossible without reaching 4096 back", len(msg), len(p))
		}
	}
}

// TestHistoryReach checks that with takeover the history really serves:
// a message repeating one 20 KiB back compresses to almost nothing with a
// window of 32 KiB, and cannot with 16 KiB.
func TestHistoryReach(t *testing.T) {
	t.Parallel()
	first := random(8, 20<<10)
	second := first[:4096]
	for _, tt := range []struct {
		wb      int
		maxSize int
		minSize int
	}{{wb: 15, maxSize: 100}, {wb: 14, minSize: 4000}} {
		c := NewCompressor(BestSpeed, tt.wb, true)
		msgs := [][]byte{first, second}
		payloads := compressMessages(c, msgs, nil)
		checkDecodes(t, msgs, payloads, 1<<tt.wb, true)
		if n := len(payloads[1]); n > tt.maxSize && tt.maxSize > 0 || n < tt.minSize {
			t.Errorf("window %d: second message is %d bytes", tt.wb, n)
		}
	}
}

func TestCompressorReset(t *testing.T) {
	t.Parallel()
	c := NewCompressor(BestSpeed, 15, true)
	c.Compress(nil, text(1, 1000))
	c.Append(nil, text(2, 100000)) // abandoned
	c.Reset()
	msgs := [][]byte{text(1, 1000), text(1, 1000)}
	checkDecodes(t, msgs, compressMessages(c, msgs, nil), 1<<15, true)
}

// TestClamp checks the documented treatment of out-of-range arguments.
func TestClamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level, windowBits int
		wantLevel         int8
		wantWindow        int32
	}{
		{level: DefaultCompression, windowBits: 15, wantLevel: 2, wantWindow: 1 << 15},
		{level: 0, windowBits: 7, wantLevel: 1, wantWindow: 1 << 8},
		{level: -5, windowBits: 0, wantLevel: 1, wantWindow: 1 << 8},
		{level: 10, windowBits: 16, wantLevel: 9, wantWindow: 1 << 15},
		{level: 5, windowBits: 11, wantLevel: 5, wantWindow: 1 << 11},
	}
	for _, tt := range tests {
		c := NewCompressor(tt.level, tt.windowBits, true)
		if c.level != tt.wantLevel || c.window != tt.wantWindow {
			t.Errorf("NewCompressor(%d, %d, true) has level %d, window %d; want %d, %d", tt.level, tt.windowBits, c.level, c.window, tt.wantLevel, tt.wantWindow)
		}
		d := NewDecompressor(tt.windowBits, true)
		if d.window != tt.wantWindow {
			t.Errorf("NewDecompressor(%d, true) has window %d, want %d", tt.windowBits, d.window, tt.wantWindow)
		}
	}
}

// TestAppendOutputIsPrefix checks that what Append returns is final: the
// bytes of one message, Append by Append, then Finish, decode as a whole.
func TestAppendOutputIsPrefix(t *testing.T) {
	t.Parallel()
	msg := text(3, 300000)
	c := NewCompressor(BestSpeed, 15, false)
	var out []byte
	grew := 0
	for i := 0; i < len(msg); i += 10000 {
		before := len(out)
		out = c.Append(out, msg[i:min(i+10000, len(msg))])
		if len(out) > before {
			grew++
		}
	}
	out = c.Finish(out)
	if grew == 0 {
		t.Errorf("Append never produced output for a %d-byte message", len(msg))
	}
	checkDecodes(t, [][]byte{msg}, [][]byte{out}, 1<<15, false)
}

func TestCompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	msgs := chatMessages(2, 100)
	for _, level := range []int{1, 2, 6} {
		c := NewCompressor(level, 15, true)
		dst := make([]byte, 0, 64<<10)
		for _, m := range msgs {
			dst = c.Compress(dst[:0], m)
		}
		i := 0
		allocs := testing.AllocsPerRun(200, func() {
			dst = c.Compress(dst[:0], msgs[i%len(msgs)])
			i++
		})
		if allocs != 0 {
			t.Errorf("level %d: Compress allocates %v times per message", level, allocs)
		}
	}
}

// TestIdleMemory checks what an idle Compressor or Decompressor holds:
// its history with takeover, and only its struct without.
func TestIdleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	msg := text(1, 40<<10)
	for _, wb := range []int{15, 10} {
		for _, takeover := range []bool{true, false} {
			want := 64.0
			if takeover {
				want += float64(int(1) << wb)
			}
			c := idleBytes(func() any {
				c := NewCompressor(1, wb, takeover)
				c.Compress(nil, msg)
				return c
			})
			payload := NewCompressor(1, wb, false).Compress(nil, msg)
			d := idleBytes(func() any {
				d := NewDecompressor(wb, takeover)
				d.Begin(bytes.NewReader(payload))
				for {
					if _, err := d.Read(make([]byte, 4096)); err != nil {
						break
					}
				}
				return d
			})
			t.Logf("window %d takeover %v: Compressor %.0f bytes, Decompressor %.0f bytes", wb, takeover, c, d)
			if c > want+64 || d > want+64 {
				t.Errorf("window %d takeover %v: idle Compressor holds %.0f bytes, Decompressor %.0f; want about %.0f", wb, takeover, c, d, want)
			}
		}
	}
}

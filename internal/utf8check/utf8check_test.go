package utf8check

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// result is what one Write followed by Complete reports.
type result struct {
	N        int
	OK       bool
	Complete bool
}

// kosme is the Greek word Autobahn's section 6 builds its cases around.
const kosme = "κόσμε"

func TestValidatorWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want result
	}{{
		name: "empty",
		in:   nil,
		want: result{N: 0, OK: true, Complete: true},
	}, {
		name: "ASCII",
		in:   []byte("Hello, world"),
		want: result{N: 12, OK: true, Complete: true},
	}, {
		name: "NUL and DEL",
		in:   []byte{0x00, 0x7F},
		want: result{N: 2, OK: true, Complete: true},
	}, {
		name: "two-byte",
		in:   []byte("é"),
		want: result{N: 2, OK: true, Complete: true},
	}, {
		name: "three-byte",
		in:   []byte("€"),
		want: result{N: 3, OK: true, Complete: true},
	}, {
		name: "four-byte",
		in:   []byte("😀"),
		want: result{N: 4, OK: true, Complete: true},
	}, {
		name: "Autobahn 6.2 kosme",
		in:   []byte(kosme),
		want: result{N: len(kosme), OK: true, Complete: true},
	}, {
		name: "last before surrogates U+D7FF",
		in:   []byte{0xED, 0x9F, 0xBF},
		want: result{N: 3, OK: true, Complete: true},
	}, {
		name: "first after surrogates U+E000",
		in:   []byte{0xEE, 0x80, 0x80},
		want: result{N: 3, OK: true, Complete: true},
	}, {
		name: "noncharacter U+FFFF is valid UTF-8",
		in:   []byte{0xEF, 0xBF, 0xBF},
		want: result{N: 3, OK: true, Complete: true},
	}, {
		name: "largest code point U+10FFFF",
		in:   []byte{0xF4, 0x8F, 0xBF, 0xBF},
		want: result{N: 4, OK: true, Complete: true},
	}, {
		name: "overlong C0",
		in:   []byte{0xC0, 0x80},
		want: result{N: 0, OK: false, Complete: false},
	}, {
		name: "overlong C1",
		in:   []byte{0xC1, 0xBF},
		want: result{N: 0, OK: false, Complete: false},
	}, {
		name: "overlong E0 80 fails at the 80",
		in:   []byte{0xE0, 0x80, 0xAF},
		want: result{N: 1, OK: false, Complete: false},
	}, {
		name: "overlong E0 9F fails at the 9F",
		in:   []byte{0xE0, 0x9F, 0xBF},
		want: result{N: 1, OK: false, Complete: false},
	}, {
		name: "overlong F0 80 fails at the 80",
		in:   []byte{0xF0, 0x80, 0x80, 0xAF},
		want: result{N: 1, OK: false, Complete: false},
	}, {
		name: "overlong F0 8F fails at the 8F",
		in:   []byte{0xF0, 0x8F, 0xBF, 0xBF},
		want: result{N: 1, OK: false, Complete: false},
	}, {
		name: "high surrogate ED A0 fails at the A0",
		in:   []byte{0xED, 0xA0, 0x80},
		want: result{N: 1, OK: false, Complete: false},
	}, {
		name: "low surrogate ED BF fails at the BF",
		in:   []byte{0xED, 0xBF, 0xBF},
		want: result{N: 1, OK: false, Complete: false},
	}, {
		name: "above U+10FFFF F4 90 fails at the 90",
		in:   []byte{0xF4, 0x90, 0x80, 0x80},
		want: result{N: 1, OK: false, Complete: false},
	}, {
		name: "lone F5",
		in:   []byte{0xF5},
		want: result{N: 0, OK: false, Complete: false},
	}, {
		name: "five-byte form F8",
		in:   []byte{0xF8, 0x88, 0x80, 0x80, 0x80},
		want: result{N: 0, OK: false, Complete: false},
	}, {
		name: "FE",
		in:   []byte{'a', 0xFE},
		want: result{N: 1, OK: false, Complete: false},
	}, {
		name: "FF",
		in:   []byte{'a', 'b', 0xFF},
		want: result{N: 2, OK: false, Complete: false},
	}, {
		name: "stray continuation byte",
		in:   []byte{0x80},
		want: result{N: 0, OK: false, Complete: false},
	}, {
		name: "continuation byte after a complete character",
		in:   []byte{0xC3, 0xA9, 0xBF},
		want: result{N: 2, OK: false, Complete: false},
	}, {
		name: "two-byte lead then ASCII",
		in:   []byte{0xC3, 'A'},
		want: result{N: 1, OK: false, Complete: false},
	}, {
		name: "three-byte lead, one continuation, then ASCII",
		in:   []byte{0xE2, 0x82, 'A'},
		want: result{N: 2, OK: false, Complete: false},
	}, {
		name: "four-byte lead, two continuations, then a lead byte",
		in:   []byte{0xF0, 0x9F, 0x98, 0xC3, 0xA9},
		want: result{N: 3, OK: false, Complete: false},
	}, {
		name: "truncated two-byte at end",
		in:   []byte{'a', 0xC3},
		want: result{N: 2, OK: true, Complete: false},
	}, {
		name: "truncated three-byte at end",
		in:   []byte{0xE2, 0x82},
		want: result{N: 2, OK: true, Complete: false},
	}, {
		name: "truncated four-byte at end",
		in:   []byte{0xF0, 0x9F, 0x98},
		want: result{N: 3, OK: true, Complete: false},
	}, {
		name: "Autobahn 6.3 kosme with a code point above U+10FFFF",
		in:   []byte(kosme + "\xf4\x90\x80\x80" + "edited"),
		want: result{N: len(kosme) + 1, OK: false, Complete: false},
	}, {
		name: "surrogate after a long ASCII stretch and a Latin letter",
		in:   []byte(strings.Repeat("a", 40) + "é" + strings.Repeat("b", 20) + "\xed\xa0\x80" + strings.Repeat("c", 40)),
		want: result{N: 40 + 2 + 20 + 1, OK: false, Complete: false},
	}, {
		name: "bad byte deep in CJK text",
		in:   []byte(strings.Repeat("漢字", 10) + "\xe6\xbc" + "x"),
		want: result{N: 60 + 2, OK: false, Complete: false},
	}, {
		name: "long valid mixed text",
		in:   []byte(strings.Repeat("ASCII text, "+kosme+", 東京, 😀. ", 20)),
		want: result{N: 20 * len("ASCII text, "+kosme+", 東京, 😀. "), OK: true, Complete: true},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Validator
			n, ok := v.Write(tt.in)
			got := result{N: n, OK: ok, Complete: v.Complete()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Write(%x) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if got, want := Valid(tt.in), tt.want.OK && tt.want.Complete; got != want {
				t.Errorf("Valid(%x) = %v, want %v", tt.in, got, want)
			}
		})
	}
}

func TestValidatorFailureIsSticky(t *testing.T) {
	t.Parallel()
	var v Validator
	if n, ok := v.Write([]byte{'a', 0xFF}); n != 1 || ok {
		t.Fatalf("Write(61 ff) = %d, %v; want 1, false", n, ok)
	}
	for _, p := range [][]byte{nil, []byte("b"), []byte("valid text")} {
		if n, ok := v.Write(p); n != 0 || ok {
			t.Errorf("Write(%q) after a failure = %d, %v; want 0, false", p, n, ok)
		}
		if v.Complete() {
			t.Errorf("Complete() after a failure = true")
		}
	}
	v.Reset()
	if !v.Complete() {
		t.Errorf("Complete() after Reset = false")
	}
	if n, ok := v.Write([]byte("b")); n != 1 || !ok {
		t.Errorf("Write(\"b\") after Reset = %d, %v; want 1, true", n, ok)
	}
}

func TestValidatorResetDropsPendingSequence(t *testing.T) {
	t.Parallel()
	var v Validator
	if _, ok := v.Write([]byte{0xE2, 0x82}); !ok || v.Complete() {
		t.Fatalf("Write(e2 82): ok %v, Complete %v; want true, false", ok, v.Complete())
	}
	v.Reset()
	// A continuation byte that would have finished € is now a stray.
	if n, ok := v.Write([]byte{0xAC}); n != 0 || ok {
		t.Errorf("Write(ac) after Reset = %d, %v; want 0, false", n, ok)
	}
}

func TestValidatorEmptyWrites(t *testing.T) {
	t.Parallel()
	var v Validator
	if n, ok := v.Write([]byte{0xF0, 0x9F}); n != 2 || !ok {
		t.Fatalf("Write(f0 9f) = %d, %v; want 2, true", n, ok)
	}
	if n, ok := v.Write(nil); n != 0 || !ok || v.Complete() {
		t.Fatalf("Write(nil) = %d, %v, Complete %v; want 0, true, false", n, ok, v.Complete())
	}
	if n, ok := v.Write([]byte{0x98, 0x80}); n != 2 || !ok || !v.Complete() {
		t.Fatalf("Write(98 80) = %d, %v, Complete %v; want 2, true, true", n, ok, v.Complete())
	}
}

func TestAllocs(t *testing.T) {
	text := benchInputs[len(benchInputs)-1].text
	bad := append(append([]byte(nil), text[:1000]...), 0xFF)
	allocs := testing.AllocsPerRun(100, func() {
		var v Validator
		v.Write(text[:333])
		v.Write(text[333:])
		v.Complete()
		v.Reset()
		v.Write(bad)
		Valid(text)
	})
	if allocs != 0 {
		t.Errorf("Validator and Valid allocate %v times per run, want 0", allocs)
	}
}

// The reference below decides validity by brute force from the definition
// and unicode/utf8, sharing nothing with the automaton.

// properPrefixes holds every non-empty proper prefix of the UTF-8 encoding
// of every Unicode scalar value.
var properPrefixes = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool)
	var buf [utf8.UTFMax]byte
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue // surrogates
		}
		n := utf8.EncodeRune(buf[:], r)
		for k := 1; k < n; k++ {
			m[string(buf[:k])] = true
		}
	}
	return m
})

// isValidPrefix reports whether some string of bytes can follow q to make
// valid UTF-8: q is valid, or it is valid up to a tail that starts the
// encoding of some scalar value.
func isValidPrefix(q []byte) bool {
	if utf8.Valid(q) {
		return true
	}
	prefixes := properPrefixes()
	for k := 1; k < utf8.UTFMax && k <= len(q); k++ {
		if prefixes[string(q[len(q)-k:])] && utf8.Valid(q[:len(q)-k]) {
			return true
		}
	}
	return false
}

// refFailIndex returns the smallest i such that p[:i+1] is not a prefix of
// any valid UTF-8, or -1 if there is none. Being such a prefix is
// preserved by shortening, so a binary search finds it.
func refFailIndex(p []byte) int {
	i := sort.Search(len(p), func(i int) bool { return !isValidPrefix(p[:i+1]) })
	if i == len(p) {
		return -1
	}
	return i
}

// feed writes p to a new Validator in the pieces that cut returns, one
// after another, and reports the index in p at which it failed (-1 if it
// did not) and whether it ended Complete. It checks the per-Write contract
// on the way.
func feed(t *testing.T, p []byte, cut func(rest []byte) int) (fail int, complete bool) {
	t.Helper()
	var v Validator
	off := 0
	for {
		k := min(max(cut(p[off:]), 0), len(p)-off)
		n, ok := v.Write(p[off : off+k])
		if !ok {
			if n < 0 || n >= k {
				t.Fatalf("input %x: Write(%x) at offset %d = %d, false; n out of range", p, p[off:off+k], off, n)
			}
			if v.Complete() {
				t.Fatalf("input %x: Complete after a failed Write", p)
			}
			return off + n, false
		}
		if n != k {
			t.Fatalf("input %x: Write(%x) at offset %d = %d, true; want %d", p, p[off:off+k], off, n, k)
		}
		off += k
		if off == len(p) {
			return -1, v.Complete()
		}
	}
}

// checkAllSplits checks p whole, cut in two at every point, cut in three
// at pairs of points near the failure, and fed a byte at a time, against
// the reference.
func checkAllSplits(t *testing.T, p []byte) {
	t.Helper()
	wantFail := refFailIndex(p)
	wantValid := utf8.Valid(p)
	if wantValid && wantFail >= 0 {
		t.Fatalf("reference: valid %x fails at %d", p, wantFail)
	}
	check := func(how string, fail int, complete bool) {
		t.Helper()
		if fail != wantFail {
			t.Fatalf("%s: input %x fails at %d, want %d", how, p, fail, wantFail)
		}
		if fail < 0 && complete != wantValid {
			t.Fatalf("%s: input %x: Complete() = %v, want %v", how, p, complete, wantValid)
		}
	}
	if got := Valid(p); got != wantValid {
		t.Fatalf("Valid(%x) = %v, want %v", p, got, wantValid)
	}
	fail, complete := feed(t, p, func(rest []byte) int { return len(rest) })
	check("whole", fail, complete)
	for i := 0; i <= len(p); i++ {
		first := true
		fail, complete := feed(t, p, func(rest []byte) int {
			if first {
				first = false
				return i
			}
			return len(rest)
		})
		check(fmt.Sprintf("split at %d", i), fail, complete)
	}
	fail, complete = feed(t, p, func([]byte) int { return 1 })
	check("byte at a time", fail, complete)
}

// encodeForce encodes r in exactly n bytes with the UTF-8 bit layout and no
// checks, so it can produce overlong forms, surrogates and values above
// U+10FFFF.
func encodeForce(r uint32, n int) []byte {
	switch n {
	case 1:
		return []byte{byte(r)}
	case 2:
		return []byte{0xC0 | byte(r>>6&0x1F), 0x80 | byte(r&0x3F)}
	case 3:
		return []byte{0xE0 | byte(r>>12&0x0F), 0x80 | byte(r>>6&0x3F), 0x80 | byte(r&0x3F)}
	default:
		return []byte{0xF0 | byte(r>>18&0x07), 0x80 | byte(r>>12&0x3F), 0x80 | byte(r>>6&0x3F), 0x80 | byte(r&0x3F)}
	}
}

// stressInputs are sequences in the spirit of Markus Kuhn's UTF-8 decoder
// stress test and Autobahn's section 6, plus every boundary code point
// forced into every length that holds it.
func stressInputs() [][]byte {
	ins := [][]byte{
		[]byte(kosme),
		[]byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
		[]byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited"),
		// Five- and six-byte forms, dead since RFC 3629.
		{0xF8, 0x88, 0x80, 0x80, 0x80},
		{0xFB, 0xBF, 0xBF, 0xBF, 0xBF},
		{0xFC, 0x84, 0x80, 0x80, 0x80, 0x80},
		{0xFD, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF},
		// Continuation bytes alone and in runs.
		{0x80}, {0xBF}, {0x80, 0xBF}, {0x80, 0xBF, 0x80}, {0x80, 0xBF, 0x80, 0xBF},
		// Lead bytes followed by a space.
		{0xC0, ' '}, {0xDF, ' '}, {0xE0, ' '}, {0xEF, ' '}, {0xF0, ' '}, {0xF7, ' '},
		{0xF8, ' '}, {0xFB, ' '}, {0xFC, ' '}, {0xFD, ' '},
		// Sequences with their last byte missing, alone and concatenated.
		{0xC0}, {0xE0, 0x80}, {0xF0, 0x80, 0x80}, {0xDF}, {0xEF, 0xBF}, {0xF7, 0xBF, 0xBF},
		{0xC2}, {0xE0, 0xA0}, {0xF0, 0x90, 0x80}, {0xF4, 0x8F, 0xBF},
		{0xC2, 0xE0, 0xA0, 0xF0, 0x90, 0x80, 0xDF, 0xEF, 0xBF, 0xF4, 0x8F, 0xBF},
		// Impossible bytes.
		{0xFE}, {0xFF}, {0xFE, 0xFE, 0xFF, 0xFF},
		// Overlong forms of '/' and of NUL, and the largest overlongs.
		{0xC0, 0xAF}, {0xE0, 0x80, 0xAF}, {0xF0, 0x80, 0x80, 0xAF},
		{0xC0, 0x80}, {0xE0, 0x80, 0x80}, {0xF0, 0x80, 0x80, 0x80},
		{0xC1, 0xBF}, {0xE0, 0x9F, 0xBF}, {0xF0, 0x8F, 0xBF, 0xBF},
		// Single and paired surrogates.
		{0xED, 0xA0, 0x80}, {0xED, 0xAD, 0xBF}, {0xED, 0xAE, 0x80}, {0xED, 0xAF, 0xBF},
		{0xED, 0xB0, 0x80}, {0xED, 0xBE, 0x80}, {0xED, 0xBF, 0xBF},
		{0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}, {0xED, 0xAF, 0xBF, 0xED, 0xBF, 0xBF},
		// Noncharacters, which are valid UTF-8.
		{0xEF, 0xBF, 0xBE}, {0xEF, 0xBF, 0xBF}, {0xEF, 0xB7, 0x90}, {0xF4, 0x8F, 0xBF, 0xBE},
	}
	boundaries := []uint32{
		0x00, 0x7F, 0x80, 0x7FF, 0x800, 0xFFF, 0x1000, 0xCFFF, 0xD000, 0xD7FF,
		0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x3FFFF,
		0x40000, 0xFFFFF, 0x100000, 0x10FFFF, 0x110000, 0x13FFFF, 0x140000, 0x1FFFFF,
	}
	limit := []uint32{1: 0x7F, 2: 0x7FF, 3: 0xFFFF, 4: 0x1FFFFF}
	for _, r := range boundaries {
		for n := 1; n <= 4; n++ {
			if r <= limit[n] {
				ins = append(ins, encodeForce(r, n))
			}
		}
	}
	return ins
}

// pad surrounds p with runs of ASCII long enough to send the validator
// through its word-at-a-time and block paths on the way to p.
func pad(p []byte, before, after int) []byte {
	b := bytes.Repeat([]byte{'x'}, before)
	b = append(b, p...)
	return append(b, bytes.Repeat([]byte{'y'}, after)...)
}

func TestDifferentialStress(t *testing.T) {
	t.Parallel()
	ins := stressInputs()
	// Each input alone, padded, after a character that leaves the
	// validator in the middle of its block path, and all concatenated.
	for _, p := range ins {
		checkAllSplits(t, p)
		for _, before := range []int{1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 70} {
			checkAllSplits(t, pad(p, before, 3))
			checkAllSplits(t, pad(p, before, 20))
		}
		checkAllSplits(t, append([]byte("東京"), p...))
		checkAllSplits(t, append([]byte("aé😀"+strings.Repeat("z", 13)), p...))
	}
	var all []byte
	for _, p := range ins {
		all = append(all, p...)
	}
	checkAllSplits(t, all)
}

// TestDifferentialCodePoints writes every scalar value in every length
// class, in runs long enough for the block path, and the encodings of
// every surrogate, which must all fail at their second byte.
func TestDifferentialCodePoints(t *testing.T) {
	t.Parallel()
	var buf []byte
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			s := encodeForce(uint32(r), 3)
			var v Validator
			if n, ok := v.Write(s); n != 1 || ok {
				t.Fatalf("Write(%x) for surrogate %U = %d, %v; want 1, false", s, r, n, ok)
			}
			continue
		}
		buf = utf8.AppendRune(buf, r)
		if len(buf) >= 4096 || r == utf8.MaxRune {
			var v Validator
			if n, ok := v.Write(buf); n != len(buf) || !ok || !v.Complete() {
				t.Fatalf("Write of valid runes ending at %U = %d, %v, Complete %v", r, n, ok, v.Complete())
			}
			buf = buf[:0]
		}
	}
	// Every overlong form in every length fails at the byte the
	// reference names.
	for r := uint32(0); r <= 0xFFFF; r++ {
		for n := 2; n <= 4; n++ {
			if !utf8.ValidRune(rune(r)) || utf8.RuneLen(rune(r)) >= n {
				continue
			}
			s := encodeForce(r, n)
			var v Validator
			got, ok := v.Write(s)
			if want := refFailIndex(s); ok || got != want {
				t.Fatalf("Write(%x), overlong %U in %d bytes = %d, %v; want %d, false", s, r, n, got, ok, want)
			}
		}
	}
}

// interestingBytes are the bytes at the edges of the classes the
// automaton tells apart.
var interestingBytes = []byte{
	0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
	0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5,
	0xF7, 0xF8, 0xFE, 0xFF,
}

func TestDifferentialRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	runes := []rune("aZ~éßκό€東京漢😀🚀\u0080\u07ff\u0800\ud7ff\ue000\ufffd\uffff\U00010000\U0010ffff")
	for range 3000 {
		var p []byte
		switch rng.IntN(3) {
		case 0: // random bytes, mostly from the edges of the classes
			for range rng.IntN(48) {
				if rng.IntN(4) == 0 {
					p = append(p, byte(rng.Uint32()))
				} else {
					p = append(p, interestingBytes[rng.IntN(len(interestingBytes))])
				}
			}
		default: // valid text with one or two bytes changed or cut off
			for range rng.IntN(40) {
				if rng.IntN(2) == 0 {
					p = append(p, bytes.Repeat([]byte{'a'}, rng.IntN(20))...)
				}
				p = utf8.AppendRune(p, runes[rng.IntN(len(runes))])
			}
			for range rng.IntN(3) {
				if len(p) > 0 {
					p[rng.IntN(len(p))] = interestingBytes[rng.IntN(len(interestingBytes))]
				}
			}
			if len(p) > 0 && rng.IntN(4) == 0 {
				p = p[:rng.IntN(len(p))]
			}
		}
		checkAllSplits(t, p)
	}
}

// TestDifferentialLongText corrupts long texts of each benchmark kind at
// every position and checks the failure index against the reference, with
// the text whole and in uneven pieces.
func TestDifferentialLongText(t *testing.T) {
	t.Parallel()
	for _, in := range benchInputs {
		text := in.text[:min(len(in.text), 300)]
		text = text[:len(text)-len(incompleteTail(text))]
		for i := range text {
			for _, b := range []byte{0x80, 0xC0, 0xED, 0xF5, 'a'} {
				p := append([]byte(nil), text...)
				p[i] = b
				want := refFailIndex(p)
				for _, piece := range []int{len(p), 5, 13, 64} {
					fail, complete := feed(t, p, func([]byte) int { return piece })
					if fail != want || (want < 0 && complete != utf8.Valid(p)) {
						t.Fatalf("%s with %02x at %d in pieces of %d: fail %d, complete %v; want fail %d, complete %v",
							in.name, b, i, piece, fail, complete, want, utf8.Valid(p))
					}
				}
			}
		}
	}
}

// incompleteTail returns the bytes of a character cut off at the end of
// the valid prefix p.
func incompleteTail(p []byte) []byte {
	for k := 0; k < utf8.UTFMax && k <= len(p); k++ {
		if utf8.Valid(p[:len(p)-k]) {
			return p[len(p)-k:]
		}
	}
	return nil
}

func TestReference(t *testing.T) {
	t.Parallel()
	// The reference itself, on cases worked out by hand.
	tests := []struct {
		name string
		in   []byte
		want int
	}{{
		name: "valid",
		in:   []byte("aé€😀"),
		want: -1,
	}, {
		name: "truncated",
		in:   []byte{0xF0, 0x9F, 0x98},
		want: -1,
	}, {
		name: "overlong E0 80",
		in:   []byte{0xE0, 0x80},
		want: 1,
	}, {
		name: "surrogate ED A0",
		in:   []byte{0xED, 0xA0},
		want: 1,
	}, {
		name: "above U+10FFFF F4 90",
		in:   []byte{0xF4, 0x90},
		want: 1,
	}, {
		name: "lone F5",
		in:   []byte{0xF5},
		want: 0,
	}, {
		name: "C0",
		in:   []byte{'a', 0xC0},
		want: 1,
	}, {
		name: "lead then ASCII",
		in:   []byte{0xE2, 0x82, 'a'},
		want: 2,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refFailIndex(tt.in); got != tt.want {
				t.Errorf("refFailIndex(%x) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

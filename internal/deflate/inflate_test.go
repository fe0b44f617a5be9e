package deflate

import (
	"errors"
	"fmt"
)

// This file is a small, slow, strict DEFLATE decoder written from
// RFC 1951 for the tests: a second oracle beside compress/flate, and the
// one that reports how far back the back-references reach.

// inflateStats is what testInflate reports besides the output.
type inflateStats struct {
	MaxDist int // the longest back-reference distance
	Stored  int // blocks of each type
	Fixed   int
	Dynamic int
}

var errTestInflate = errors.New("test inflater: invalid data")

// testInflate decodes data, a permessage-deflate payload with the
// 0x00 0x00 0xff 0xff re-appended, as the continuation of hist. It
// requires the data to end exactly after a block, the last of which is
// stored and empty, or after a block with BFINAL set (followed by at most
// a sync flush). Codes must be complete, except for a single code of one
// bit. Back-references may reach into hist.
func testInflate(hist, data []byte) (out []byte, st inflateStats, err error) {
	z := &testDecoder{in: data, out: append([]byte(nil), hist...)}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(testDecodeError); ok {
				err = fmt.Errorf("%w: %s at byte %d", errTestInflate, string(e), z.pos)
				return
			}
			panic(r)
		}
	}()
	emptyStoredLast := false
	for z.pos < len(z.in) {
		final := z.bits(1)
		typ := z.bits(2)
		emptyStoredLast = false
		switch typ {
		case 0:
			z.st.Stored++
			n := z.stored()
			emptyStoredLast = n == 0
		case 1:
			z.st.Fixed++
			z.codes(&fixedLitDec, &fixedDistDec)
		case 2:
			z.st.Dynamic++
			var lit, dist testHuffman
			z.dynamicHeader(&lit, &dist)
			z.codes(&lit, &dist)
		default:
			z.fail("block type 11")
		}
		if final == 1 {
			// Anything after a final block is ignored, as compress/flate
			// does; a permessage-deflate payload may have a sync flush
			// there (RFC 7692, Section 7.2.3.4).
			return z.out[len(hist):], z.st, nil
		}
		if z.nb >= 8 {
			z.fail("more than a byte of bits left over")
		}
		if z.pos == len(z.in) && z.nb > 0 && z.buf != 0 {
			z.fail("nonzero padding at the end")
		}
		if z.pos == len(z.in) {
			break
		}
	}
	if !emptyStoredLast {
		return nil, z.st, fmt.Errorf("%w: does not end with an empty stored block", errTestInflate)
	}
	return z.out[len(hist):], z.st, nil
}

type testDecodeError string

type testDecoder struct {
	in  []byte
	pos int
	buf uint64 // bits not yet used, nb of them
	nb  uint
	out []byte
	st  inflateStats
}

func (z *testDecoder) fail(msg string) { panic(testDecodeError(msg)) }

// bits returns the next n bits, least significant first.
func (z *testDecoder) bits(n uint) int {
	for z.nb < n {
		if z.pos >= len(z.in) {
			z.fail("unexpected end of data")
		}
		z.buf |= uint64(z.in[z.pos]) << z.nb
		z.pos++
		z.nb += 8
	}
	v := int(z.buf & (1<<n - 1))
	z.buf >>= n
	z.nb -= n
	return v
}

// stored decodes the rest of a stored block and returns its length.
func (z *testDecoder) stored() int {
	z.buf, z.nb = 0, 0 // skip to the byte boundary
	if z.pos+4 > len(z.in) {
		z.fail("short stored block header")
	}
	n := int(z.in[z.pos]) | int(z.in[z.pos+1])<<8
	nn := int(z.in[z.pos+2]) | int(z.in[z.pos+3])<<8
	if n != ^nn&0xffff {
		z.fail("stored block LEN and NLEN disagree")
	}
	z.pos += 4
	if z.pos+n > len(z.in) {
		z.fail("short stored block")
	}
	z.out = append(z.out, z.in[z.pos:z.pos+n]...)
	z.pos += n
	return n
}

// testHuffman is a canonical Huffman code in the form decode reads it:
// the number of codes of each length and the symbols in code order.
type testHuffman struct {
	count  [16]int
	symbol []int
}

// build makes the code for lengths, rejecting over-subscribed codes and
// incomplete ones other than a lone one-bit code. An empty code is
// accepted; decoding with it fails. The fixed distance code, 30 codes of
// 5 bits, is the one incomplete code that build is told to allow.
func (h *testHuffman) build(z *testDecoder, lengths []int, incomplete bool) {
	*h = testHuffman{}
	for _, n := range lengths {
		h.count[n]++
	}
	h.count[0] = 0
	left := 1
	total := 0
	for n := 1; n <= 15; n++ {
		left <<= 1
		left -= h.count[n]
		total += h.count[n]
		if left < 0 {
			z.fail("over-subscribed code")
		}
	}
	if left > 0 && total > 0 && !(total == 1 && h.count[1] == 1) && !incomplete {
		z.fail("incomplete code")
	}
	var offs [16]int
	for n := 1; n < 15; n++ {
		offs[n+1] = offs[n] + h.count[n]
	}
	h.symbol = make([]int, total)
	for sym, n := range lengths {
		if n != 0 {
			h.symbol[offs[n]] = sym
			offs[n]++
		}
	}
}

// decode reads one symbol, a bit at a time: canonical codes of each length
// are consecutive integers, starting where the shorter ones left off,
// doubled.
func (z *testDecoder) decode(h *testHuffman) int {
	code, first, index := 0, 0, 0
	for n := 1; n <= 15; n++ {
		code |= z.bits(1)
		count := h.count[n]
		if code-first < count {
			return h.symbol[index+code-first]
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	z.fail("no such code")
	return 0
}

var fixedLitDec, fixedDistDec testHuffman

func init() {
	var lengths [288]int
	for i := range lengths {
		switch {
		case i < 144:
			lengths[i] = 8
		case i < 256:
			lengths[i] = 9
		case i < 280:
			lengths[i] = 7
		default:
			lengths[i] = 8
		}
	}
	var z testDecoder
	fixedLitDec.build(&z, lengths[:], false)
	var dl [30]int
	for i := range dl {
		dl[i] = 5
	}
	fixedDistDec.build(&z, dl[:], true)
}

// dynamicHeader reads the code lengths of a dynamic block.
func (z *testDecoder) dynamicHeader(lit, dist *testHuffman) {
	hlit := z.bits(5) + 257
	hdist := z.bits(5) + 1
	hclen := z.bits(4) + 4
	if hlit > 286 {
		z.fail("HLIT over 286")
	}
	if hdist > 30 {
		z.fail("HDIST over 30")
	}
	order := [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
	var clLengths [19]int
	for i := 0; i < hclen; i++ {
		clLengths[order[i]] = z.bits(3)
	}
	var cl testHuffman
	cl.build(z, clLengths[:], false)
	lengths := make([]int, hlit+hdist)
	for i := 0; i < len(lengths); {
		sym := z.decode(&cl)
		if sym < 16 {
			lengths[i] = sym
			i++
			continue
		}
		rep, v := 0, 0
		switch sym {
		case 16:
			if i == 0 {
				z.fail("repeat with no previous length")
			}
			v = lengths[i-1]
			rep = 3 + z.bits(2)
		case 17:
			rep = 3 + z.bits(3)
		case 18:
			rep = 11 + z.bits(7)
		}
		if i+rep > len(lengths) {
			z.fail("repeat past the end of the lengths")
		}
		for ; rep > 0; rep-- {
			lengths[i] = v
			i++
		}
	}
	if lengths[256] == 0 {
		z.fail("no end-of-block code")
	}
	lit.build(z, lengths[:hlit], false)
	dist.build(z, lengths[hlit:], false)
}

// codes decodes the symbols of a Huffman block up to end-of-block.
func (z *testDecoder) codes(lit, dist *testHuffman) {
	for {
		sym := z.decode(lit)
		switch {
		case sym < 256:
			z.out = append(z.out, byte(sym))
			continue
		case sym == 256:
			return
		case sym > 285:
			z.fail("invalid length symbol")
		}
		c := sym - 257
		length := int(lengthBase[c]) + z.bits(uint(lengthExtra[c]))
		dc := z.decode(dist)
		if dc >= 30 {
			z.fail("invalid distance symbol")
		}
		d := int(distBase[dc]) + z.bits(uint(distExtra[dc]))
		if d > len(z.out) {
			z.fail("distance too far back")
		}
		z.st.MaxDist = max(z.st.MaxDist, d)
		for range length {
			z.out = append(z.out, z.out[len(z.out)-d])
		}
	}
}

package deflate

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// This file is the DEFLATE decoder (RFC 1951) behind the Decompressor.
//
// It decodes from the bytes the source has recorded, src.rec, through a
// 64-bit bit buffer, into a window of output, win, that also serves the
// back-references. Huffman codes are decoded with tables: a primary table
// indexed by the next litRootBits (distRootBits) bits of input gives the
// symbol and its code length directly, or, for longer codes, the place of a
// secondary table indexed by the bits after those.
//
// The decoder stops between symbols whenever the recorded input runs out
// (errShort), with its state (block, bit buffer and input position) as it
// was before the symbol it could not finish; reading more input and calling
// it again goes on from there. So an error of the message's reader costs
// nothing but the call that returned it.

// Decoder errors, each wrapped with ErrCorrupt by the Decompressor.
var (
	errBlockType     = errors.New("reserved block type 11")
	errStoredLen     = errors.New("stored block LEN and NLEN disagree")
	errOversub       = errors.New("over-subscribed Huffman code")
	errIncomplete    = errors.New("incomplete Huffman code")
	errHLIT          = errors.New("HLIT over 286")
	errHDIST         = errors.New("HDIST over 30")
	errRepeatFirst   = errors.New("code length repeat with no previous length")
	errRepeatPast    = errors.New("code length repeat past HLIT+HDIST")
	errNoEOB         = errors.New("no code for end-of-block")
	errBadSymbol     = errors.New("invalid Huffman code")
	errBadLenSym     = errors.New("literal/length symbol 286 or 287")
	errBadDistSym    = errors.New("distance symbol 30 or 31")
	errDistTooFar    = errors.New("distance reaches before the start of the history")
	errUnexpectedEnd = errors.New("data ends in the middle of a block")
	errTableSize     = errors.New("table of Huffman codes too large") // cannot happen for codes that pass the checks

	// errShort is not a corruption: the decoder needs more input.
	errShort = errors.New("more input needed")
)

// The sizes of the decoding tables. A secondary table of 2^k entries
// under a primary entry holds a complete subtree of depth k, hence at
// least k+1 codes; the bounds below follow from that and the number of
// symbols (286 and 30).
const (
	litRootBits   = 10
	distRootBits  = 8
	clRootBits    = 7
	litTableSize  = 1<<litRootBits + 1536 // 286 codes, at most 32/6 entries each
	distTableSize = 1<<distRootBits + 512 // 30 codes, at most 128/8 entries each
	clTableSize   = 1 << clRootBits
)

// A table entry is a uint32:
//
//	bits 0-3   the code length (for a link, unused)
//	bits 4-7   the kind, below
//	bits 8-15  the literal byte, the number of extra bits, or for a link the
//	           index bits of the secondary table
//	bits 16-31 the base length or distance, or for a link the offset of the
//	           secondary table
const (
	kindLit  = 0 << 4 // a literal byte, or a code-length symbol
	kindLen  = 1 << 4 // a length (literal/length table) or a distance (distance table)
	kindEOB  = 2 << 4 // end of block
	kindLink = 3 << 4 // a secondary table
	kindBad  = 4 << 4 // a symbol that must not appear: 286, 287, 30, 31
	kindNone = 5 << 4 // no code has these bits
	kindMask = 15 << 4
)

// The size of the output window: 32 KiB of history and 32 KiB of new
// output, plus room past the end for what the last symbols decoded before
// the end may write: a match of 258 bytes and 7 more of a word copy, or 48
// literals.
const (
	winHist  = maxWindow
	winLimit = 2 * maxWindow
	winSize  = winLimit + 512
)

// Symbol information, the entry of each symbol but for its code length.
var (
	litInfo  [288]uint32
	distInfo [32]uint32
	clInfo   [19]uint32
)

// The tables of the fixed Huffman code (RFC 1951, Section 3.2.6), built
// once.
var fixedLitTable [litTableSize]uint32
var fixedDistTable [distTableSize]uint32

func init() {
	for i := range 256 {
		litInfo[i] = kindLit | uint32(i)<<8
	}
	litInfo[endBlock] = kindEOB
	for c := range 29 {
		litInfo[257+c] = kindLen | uint32(lengthExtra[c])<<8 | uint32(lengthBase[c])<<16
	}
	litInfo[286], litInfo[287] = kindBad, kindBad
	for c := range 30 {
		distInfo[c] = kindLen | uint32(distExtra[c])<<8 | uint32(distBase[c])<<16
	}
	distInfo[30], distInfo[31] = kindBad, kindBad
	for i := range clInfo {
		clInfo[i] = kindLit | uint32(i)<<8
	}

	var lengths [288]uint8
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
	if buildTable(fixedLitTable[:], lengths[:], litInfo[:], litRootBits) != nil {
		panic("deflate: fixed literal/length code")
	}
	for i := range 32 {
		lengths[i] = 5
	}
	if buildTable(fixedDistTable[:], lengths[:32], distInfo[:], distRootBits) != nil {
		panic("deflate: fixed distance code")
	}
}

// buildTable fills t with the decoding table of the canonical Huffman code
// with the given code lengths (RFC 1951, Section 3.2.2), the entry of
// symbol i being info[i] with its length. It rejects over-subscribed codes
// and incomplete ones, except, as compress/flate and zlib do, a code of a
// single symbol of one bit and a code of no symbols at all.
func buildTable(t []uint32, lengths []uint8, info []uint32, root uint) error {
	var count [16]int
	for _, n := range lengths {
		count[n]++
	}
	count[0] = 0
	left, total, maxLen := 1, 0, uint(0)
	for n := 1; n <= 15; n++ {
		left = left<<1 - count[n]
		if left < 0 {
			return errOversub
		}
		if count[n] > 0 {
			total += count[n]
			maxLen = uint(n)
		}
	}
	// With no code longer than fill bits, the primary table is made of
	// copies of its first 2^fill entries.
	rootSize := 1 << root
	fillSize := 1 << min(max(maxLen, 1), root)
	if left > 0 {
		if total > 1 || total == 1 && count[1] != 1 {
			return errIncomplete
		}
		for i := range t[:fillSize] {
			t[i] = kindNone
		}
	}
	var next [16]uint32
	code := uint32(0)
	for n := 1; n <= 15; n++ {
		code = (code + uint32(count[n-1])) << 1
		next[n] = code
	}
	if maxLen > root {
		// The longest code under each primary entry decides the size of
		// its secondary table.
		var deepest [1 << litRootBits]uint8
		codes := next
		for _, n := range lengths {
			if n == 0 {
				continue
			}
			c := codes[n]
			codes[n]++
			if uint(n) > root {
				p := reverse(c, uint(n)) & uint32(rootSize-1)
				deepest[p] = max(deepest[p], n)
			}
		}
		off := rootSize
		for p := range deepest[:rootSize] {
			if deepest[p] == 0 {
				continue
			}
			sb := uint(deepest[p]) - root
			if off+1<<sb > len(t) {
				return errTableSize
			}
			t[p] = kindLink | uint32(sb)<<8 | uint32(off)<<16
			off += 1 << sb
		}
	}
	for sym, n := range lengths {
		if n == 0 {
			continue
		}
		c := next[n]
		next[n]++
		r := reverse(c, uint(n))
		e := info[sym] | uint32(n)
		if uint(n) <= root {
			for j := int(r); j < fillSize; j += 1 << n {
				t[j] = e
			}
			continue
		}
		link := t[r&uint32(rootSize-1)]
		off, sb := int(link>>16), uint(link>>8&0xff)
		for j := int(r >> root); j < 1<<sb; j += 1 << (uint(n) - root) {
			t[off+j] = e
		}
	}
	for n := fillSize; n < rootSize; n *= 2 {
		copy(t[n:2*n], t[:n])
	}
	return nil
}

// reverse returns the n low bits of c in reverse order.
func reverse(c uint32, n uint) uint32 {
	return uint32(bits.Reverse16(uint16(c))) >> (16 - n)
}

// The modes of the decoder.
const (
	modeHeader = iota // at the start of a block
	modeStored        // in a stored block, stored bytes left
	modeHuff          // in a Huffman-coded block
	modeDone          // after the final block
)

// decoder is the state of the DEFLATE decoder, part of the pooled
// inflater.
type decoder struct {
	b      uint64 // bit buffer: nb bits of input, least significant first
	nb     uint
	mode   uint8
	final  bool  // the block in progress is the last
	slid   bool  // win has been slid: the output is more than 32 KiB
	stored int   // bytes left of the stored block in progress
	err    error // the data is corrupt: why

	// win holds the output: win[:wpos] is the output of the message,
	// before any slide, and the last 32 KiB at least of it after one;
	// win[rpos:wpos] has not been delivered yet.
	rpos, wpos int

	// h1 and h2 are the history the message continues, oldest first: the
	// Decompressor's ring of history in two pieces. Back-references reach
	// into it until 32 KiB of output is made.
	h1, h2 []byte

	lit     *[litTableSize]uint32 // the tables of the block in progress
	dist    *[distTableSize]uint32
	litDyn  [litTableSize]uint32
	distDyn [distTableSize]uint32
	clTable [clTableSize]uint32
	lengths [286 + 30]uint8

	win [winSize]byte
}

// reset prepares the decoder for a message continuing h1 then h2.
func (z *decoder) reset(h1, h2 []byte) {
	z.b, z.nb = 0, 0
	z.mode, z.final, z.slid = modeHeader, false, false
	z.stored, z.err = 0, nil
	z.rpos, z.wpos = 0, 0
	z.h1, z.h2 = h1, h2
	z.lit, z.dist = nil, nil
}

// need makes sure the bit buffer holds n bits (n <= 56), reading bytes of
// in from *pos. It reports false if in runs out first.
func (z *decoder) need(in []byte, pos *int, n uint) bool {
	for z.nb < n {
		if *pos >= len(in) {
			return false
		}
		z.b |= uint64(in[*pos]) << z.nb
		*pos++
		z.nb += 8
	}
	return true
}

// consume drops n bits of the bit buffer.
func (z *decoder) consume(n uint) {
	z.b >>= n
	z.nb -= n
}

// step decodes into win, from in at *pos, until win[wpos:] holds want
// bytes or more, a block ends, the window is full, the data ends
// (modeDone) or the input runs out (errShort). An error of corrupt data
// is returned again by every later call. It must be called with all
// output delivered (rpos == wpos).
func (z *decoder) step(in []byte, pos *int, want int) error {
	if z.err != nil {
		return z.err
	}
	if z.wpos >= winLimit {
		// Slide: keep the last 32 KiB.
		copy(z.win[:winHist], z.win[z.wpos-winHist:z.wpos])
		z.rpos, z.wpos = winHist, winHist
		z.slid = true
		z.h1, z.h2 = nil, nil
	}
	limit := min(z.wpos+want, winLimit)
	for z.wpos < limit {
		var err error
		switch z.mode {
		case modeHeader:
			err = z.header(in, pos)
		case modeStored:
			err = z.copyStored(in, pos, limit)
		case modeHuff:
			err = z.huffman(in, pos, limit)
		case modeDone:
			return nil
		}
		if err != nil {
			if err != errShort {
				z.err = err
			}
			return err
		}
	}
	return nil
}

// endBlock moves on after the end of a block.
func (z *decoder) endBlock() {
	if z.final {
		z.mode = modeDone
	} else {
		z.mode = modeHeader
	}
}

// header reads the header of a block, and for a dynamic block its code
// lengths, and builds the tables. On errShort it leaves the state as it
// was.
func (z *decoder) header(in []byte, pos *int) error {
	p0, b0, nb0 := *pos, z.b, z.nb
	err := z.header1(in, pos)
	if err == errShort {
		*pos, z.b, z.nb = p0, b0, nb0
	}
	return err
}

func (z *decoder) header1(in []byte, pos *int) error {
	if !z.need(in, pos, 3) {
		return errShort
	}
	z.final = z.b&1 == 1
	typ := z.b >> 1 & 3
	z.consume(3)
	switch typ {
	case 0:
		// Go to the byte boundary, and give back the whole bytes of the
		// bit buffer.
		z.consume(z.nb & 7)
		*pos -= int(z.nb >> 3)
		z.b, z.nb = 0, 0
		if len(in)-*pos < 4 {
			return errShort
		}
		n := binary.LittleEndian.Uint16(in[*pos:])
		nn := binary.LittleEndian.Uint16(in[*pos+2:])
		if n != ^nn {
			return errStoredLen
		}
		*pos += 4
		z.stored = int(n)
		z.mode = modeStored
		if n == 0 {
			z.endBlock()
		}
		return nil
	case 1:
		z.lit, z.dist = &fixedLitTable, &fixedDistTable
		z.mode = modeHuff
		return nil
	case 2:
		if err := z.dynamicHeader(in, pos); err != nil {
			return err
		}
		z.lit, z.dist = &z.litDyn, &z.distDyn
		z.mode = modeHuff
		return nil
	}
	return errBlockType
}

// codeOrder is the order of the code lengths of the code-length code
// (RFC 1951, Section 3.2.7).
var codeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicHeader reads the code lengths of a dynamic block and builds its
// tables.
func (z *decoder) dynamicHeader(in []byte, pos *int) error {
	if !z.need(in, pos, 14) {
		return errShort
	}
	hlit := int(z.b&31) + 257
	hdist := int(z.b>>5&31) + 1
	hclen := int(z.b>>10&15) + 4
	z.consume(14)
	if hlit > numLitLen {
		return errHLIT
	}
	if hdist > numDist {
		return errHDIST
	}
	var cl [19]uint8
	for i := range hclen {
		if !z.need(in, pos, 3) {
			return errShort
		}
		cl[codeOrder[i]] = uint8(z.b & 7)
		z.consume(3)
	}
	if err := buildTable(z.clTable[:], cl[:], clInfo[:], clRootBits); err != nil {
		return err
	}
	n := hlit + hdist
	lengths := z.lengths[:n]
	for i := 0; i < n; {
		e, err := z.slowSym(z.clTable[:], clRootBits, in, pos)
		if err != nil {
			return err
		}
		sym := uint8(e >> 8)
		if sym < 16 {
			lengths[i] = sym
			i++
			continue
		}
		var rep int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return errRepeatFirst
			}
			if !z.need(in, pos, 2) {
				return errShort
			}
			v = lengths[i-1]
			rep = 3 + int(z.b&3)
			z.consume(2)
		case 17:
			if !z.need(in, pos, 3) {
				return errShort
			}
			rep = 3 + int(z.b&7)
			z.consume(3)
		default:
			if !z.need(in, pos, 7) {
				return errShort
			}
			rep = 11 + int(z.b&127)
			z.consume(7)
		}
		if i+rep > n {
			return errRepeatPast
		}
		for range rep {
			lengths[i] = v
			i++
		}
	}
	if lengths[endBlock] == 0 {
		return errNoEOB
	}
	if err := buildTable(z.litDyn[:], lengths[:hlit], litInfo[:], litRootBits); err != nil {
		return err
	}
	return buildTable(z.distDyn[:], lengths[hlit:], distInfo[:], distRootBits)
}

// slowSym reads one symbol of table t, a byte of input at a time. Its
// entry comes back with the code consumed; for kindNone and kindBad
// entries it returns an error.
func (z *decoder) slowSym(t []uint32, root uint, in []byte, pos *int) (uint32, error) {
	z.need(in, pos, maxLitLenBits) // as many bits as there are, up to 15
	e := t[z.b&(1<<root-1)]
	if e&kindMask == kindLink {
		e = t[int(e>>16)+int(z.b>>root&(1<<(e>>8&0xff)-1))]
	}
	n := uint(e & 15)
	switch e & kindMask {
	case kindNone:
		if z.nb < maxLitLenBits {
			return 0, errShort // may be the padding
		}
		return 0, errBadSymbol
	case kindBad:
		if z.nb < n {
			return 0, errShort
		}
		return e, errBadSymbol
	}
	if z.nb < n {
		return 0, errShort
	}
	z.consume(n)
	return e, nil
}

// copyStored copies bytes of a stored block.
func (z *decoder) copyStored(in []byte, pos *int, limit int) error {
	n := min(z.stored, limit-z.wpos, len(in)-*pos)
	if n == 0 {
		return errShort
	}
	copy(z.win[z.wpos:], in[*pos:*pos+n])
	*pos += n
	z.wpos += n
	z.stored -= n
	if z.stored == 0 {
		z.endBlock()
	}
	return nil
}

// huffman decodes symbols of a Huffman block until win reaches limit or
// the block ends: while 8 bytes of input are at hand, fast, refilling the
// bit buffer a word at a time; then a symbol at a time with checks.
func (z *decoder) huffman(in []byte, pos *int, limit int) error {
	lt, dt := z.lit, z.dist
	win := &z.win
	p, b, nb, w := *pos, z.b, z.nb, z.wpos
	var err error
	for w < limit {
		if p+8 > len(in) {
			// Near the end of the input: one symbol at a time.
			*pos, z.b, z.nb, z.wpos = p, b, nb, w
			err = z.slowHuffman(in, pos, limit)
			return err
		}
		b |= binary.LittleEndian.Uint64(in[p:]) << nb
		p += int(63-nb) >> 3
		nb |= 56

		e := lt[b&(1<<litRootBits-1)]
		if e&kindMask == kindLink {
			e = lt[int(e>>16)+int(b>>litRootBits&(1<<(e>>8&0xff)-1))]
		}
		n := uint(e & 15)
		b >>= n
		nb -= n
		if e&kindMask == kindLit {
			win[w] = byte(e >> 8)
			w++
			// More literals, while the bits are there for any code. They
			// may go past limit, as a match may.
			for nb >= maxLitLenBits {
				e = lt[b&(1<<litRootBits-1)]
				if e&kindMask != kindLit {
					break
				}
				n = uint(e & 15)
				b >>= n
				nb -= n
				win[w] = byte(e >> 8)
				w++
			}
			continue
		}
		if e&kindMask != kindLen {
			switch e & kindMask {
			case kindEOB:
				*pos, z.b, z.nb, z.wpos = p, b, nb, w
				z.endBlock()
				return nil
			case kindBad:
				err = errBadLenSym
			default:
				err = errBadSymbol
			}
			goto fail
		}
		length := int(e>>16) + int(b&(1<<(e>>8&0xff)-1))
		n = uint(e >> 8 & 0xff)
		b >>= n
		nb -= n

		e = dt[b&(1<<distRootBits-1)]
		if e&kindMask == kindLink {
			e = dt[int(e>>16)+int(b>>distRootBits&(1<<(e>>8&0xff)-1))]
		}
		n = uint(e & 15)
		b >>= n
		nb -= n
		if e&kindMask != kindLen {
			err = errBadSymbol
			if e&kindMask == kindBad {
				err = errBadDistSym
			}
			goto fail
		}
		dist := int(e>>16) + int(b&(1<<(e>>8&0xff)-1))
		n = uint(e >> 8 & 0xff)
		b >>= n
		nb -= n

		if dist > w {
			if dist-w > len(z.h1)+len(z.h2) {
				err = errDistTooFar
				goto fail
			}
			w = z.copyHist(w, dist, length)
			continue
		}
		if dist >= 8 {
			// Word by word, as copyMatch does, without the call.
			src, end := w-dist, w+length
			for ; w < end; w, src = w+8, src+8 {
				binary.LittleEndian.PutUint64(win[w:], binary.LittleEndian.Uint64(win[src:]))
			}
			w = end
			continue
		}
		w = copyMatch(win, w, dist, length)
	}
	*pos, z.b, z.nb, z.wpos = p, b, nb, w
	return nil

fail:
	*pos, z.b, z.nb, z.wpos = p, b, nb, w
	return err
}

// copyMatch copies length bytes from dist back to win[w:], and returns
// the new w. It may write up to 7 bytes past the match, which win has
// room for and which later output overwrites.
func copyMatch(win *[winSize]byte, w, dist, length int) int {
	src := w - dist
	end := w + length
	switch {
	case dist >= 8 && length <= 32:
		// Word by word: with dist >= 8 every word read is complete.
		for ; w < end; w, src = w+8, src+8 {
			binary.LittleEndian.PutUint64(win[w:], binary.LittleEndian.Uint64(win[src:]))
		}
	case dist >= length:
		copy(win[w:end], win[src:src+length])
	case dist == 1:
		v := uint64(win[src]) * 0x0101010101010101
		for ; w < end; w += 8 {
			binary.LittleEndian.PutUint64(win[w:], v)
		}
	default:
		// Overlapping: each copy doubles what there is to copy from.
		for w < end {
			w += copy(win[w:end], win[src:w])
		}
	}
	return end
}

// copyHist copies a match that starts in the history, dist > w.
func (z *decoder) copyHist(w, dist, length int) int {
	k := dist - w // bytes from the end of the history to the start
	start := len(z.h1) + len(z.h2) - k
	if length <= k {
		// All in the history, and mostly in one piece of it, with room
		// to copy word by word.
		seg, off := z.h1, start
		if start >= len(z.h1) {
			seg, off = z.h2, start-len(z.h1)
		}
		if off+length+7 <= len(seg) {
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(z.win[w+i:], binary.LittleEndian.Uint64(seg[off+i:]))
			}
			return w + length
		}
	}
	n := min(k, length)
	end := w + n
	if start < len(z.h1) {
		w += copy(z.win[w:end], z.h1[start:])
		start = 0
	} else {
		start -= len(z.h1)
	}
	if w < end {
		copy(z.win[w:end], z.h2[start:])
	}
	if length > n {
		return copyMatch(&z.win, end, dist, length-n)
	}
	return end
}

// slowHuffman decodes symbols one at a time with the input checked, until
// win reaches limit, the block ends, or the input runs out in the middle
// of a symbol, which leaves the state as it was before that symbol.
func (z *decoder) slowHuffman(in []byte, pos *int, limit int) error {
	for z.wpos < limit {
		p0, b0, nb0 := *pos, z.b, z.nb
		err := z.slowHuffSym(in, pos)
		if err == errShort {
			*pos, z.b, z.nb = p0, b0, nb0
		}
		if err != nil || z.mode != modeHuff {
			return err
		}
	}
	return nil
}

func (z *decoder) slowHuffSym(in []byte, pos *int) error {
	e, err := z.slowSym(z.lit[:], litRootBits, in, pos)
	if err != nil {
		if e&kindMask == kindBad {
			return errBadLenSym
		}
		return err
	}
	switch e & kindMask {
	case kindLit:
		z.win[z.wpos] = byte(e >> 8)
		z.wpos++
		return nil
	case kindEOB:
		z.endBlock()
		return nil
	}
	n := uint(e >> 8 & 0xff)
	if !z.need(in, pos, n) {
		return errShort
	}
	length := int(e>>16) + int(z.b&(1<<n-1))
	z.consume(n)
	e, err = z.slowSym(z.dist[:], distRootBits, in, pos)
	if err != nil {
		if e&kindMask == kindBad {
			return errBadDistSym
		}
		return err
	}
	n = uint(e >> 8 & 0xff)
	if !z.need(in, pos, n) {
		return errShort
	}
	dist := int(e>>16) + int(z.b&(1<<n-1))
	z.consume(n)
	if dist > z.wpos {
		if dist-z.wpos > len(z.h1)+len(z.h2) {
			return errDistTooFar
		}
		z.wpos = z.copyHist(z.wpos, dist, length)
		return nil
	}
	z.wpos = copyMatch(&z.win, z.wpos, dist, length)
	return nil
}

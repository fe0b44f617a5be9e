package deflate

import (
	"encoding/binary"
	"slices"
	"sync"
)

// Sizes of the pooled encoder.
const (
	// winCap is the capacity of the window buffer: up to 32 KiB of
	// history that back-references may reach, and the input after it.
	winCap = 3 * maxWindow

	// maxBlockBytes bounds the input one block covers, so that a block
	// sent uncompressed fits one stored block even when its last match
	// runs past the bound.
	maxBlockBytes = maxStored - maxMatch

	// A block ends when it has fullTokens tokens. The token buffer has
	// room for a few more, which the lazy matcher's pending choice and the
	// literals the fast matcher skipped over last may take.
	maxTokens  = 1 << 14
	fullTokens = maxTokens - 2
	tokenSlack = 64

	fastBits  = 14 // hash table of the fast matcher: 64 KiB
	chainBits = 15 // hash heads of the chain matcher: 128 KiB

	// maxOff bounds encoder.off; past it the tables are cleared.
	maxOff = 1 << 30
)

// A token is a literal byte (below matchBit), or a back-reference:
// matchBit | (length-3)<<16 | (distance-1).
type token = uint32

const matchBit = 1 << 31

// An encoder is the working state of a message being compressed. It is
// large, 240 KiB at level 1 and 430 KiB at the others, so it is pooled and
// held only while a message is in progress; an idle Compressor holds none.
type encoder struct {
	// win holds history followed by the input of the message; bytes
	// win[:pos] have been tokenized, and the tokens so far cover
	// win[blockStart:pos]. Positions before hashed have been offered to
	// the hash tables.
	win        []byte
	pos        int
	blockStart int
	hashed     int

	// The hash tables hold positions as index+off, so that moving the
	// window or handing the encoder to another stream is a change of off,
	// not a clearing of the tables: a stored value below off is a position
	// that no longer exists. Every value read from a table is checked
	// against the window bounds before use, whatever it holds.
	off   int32
	fast  *[1 << fastBits]int32
	head  *[1 << chainBits]int32
	prev  *[maxWindow]int32
	level levelParams

	// window is the largest distance a back-reference may have.
	window int

	ntok     int
	tokens   [maxTokens + tokenSlack]token
	litFreq  [numLitLen]uint32
	distFreq [numDist]uint32

	// out is the caller's dst while Append or Finish runs, nil otherwise;
	// bits holds nbits (< 32) bits not yet appended to it.
	out   []byte
	bits  uint64
	nbits uint

	// Dynamic Huffman code of the block being written.
	litLen   [numLitLen]uint8
	distLen  [numDist]uint8
	litCode  [numLitLen]uint32
	distCode [numDist]uint32
	clFreq   [numCodeLen]uint32
	clLen    [numCodeLen]uint8
	clCode   [numCodeLen]uint32
	rle      [numLitLen + numDist]uint16 // symbol | extra<<5
	nrle     int
	hlit     int
	hdist    int
	hclen    int
	hs       huffScratch

	// owner and ownerGen name the Compressor, and its message count, whose
	// history the window and tables still hold after the encoder was
	// released; owner 0 is nobody.
	owner    uint64
	ownerGen uint64
	msgLen   int
}

var encoderPool = sync.Pool{New: func() any {
	return &encoder{win: make([]byte, 0, winCap), off: 1}
}}

// levelParams are the matcher's settings for one compression level.
type levelParams struct {
	chain  int  // candidates tried per position; 0 selects the fast matcher
	nice   int  // a match this long ends the search
	lazy   int  // lazy matching looks for a longer match while the one in hand is shorter than this; 0 is greedy
	good   int  // a match in hand this long cuts the chain of the lazy look to a quarter
	insert int  // greedy: matches up to this long have their inner positions hashed
	skip   bool // greedy and fast matchers: step faster through data with no matches
}

var levels = [BestCompression + 1]levelParams{
	1: {chain: 0, skip: true},
	2: {chain: 4, nice: 16, insert: 8, skip: true},
	3: {chain: 16, nice: 32, insert: 16, skip: true},
	4: {chain: 16, nice: 16, lazy: 4, good: 4},
	5: {chain: 32, nice: 32, lazy: 16, good: 8},
	6: {chain: 128, nice: 128, lazy: 16, good: 8},
	7: {chain: 256, nice: 128, lazy: 32, good: 8},
	8: {chain: 1024, nice: maxMatch, lazy: 128, good: 32},
	9: {chain: 4096, nice: maxMatch, lazy: maxMatch, good: 32},
}

// invalidate makes every position held in the tables stale, in O(1).
func (e *encoder) invalidate() {
	e.off += int32(len(e.win)) + 1
	if e.off > maxOff-winCap {
		e.clearTables()
	}
	e.hashed = 0
}

// clearTables empties the tables and restarts off; it runs only once
// every gigabyte or so of input.
func (e *encoder) clearTables() {
	if e.fast != nil {
		clear(e.fast[:])
	}
	if e.head != nil {
		clear(e.head[:])
		clear(e.prev[:])
	}
	e.off = 1 // a zeroed entry then stands below off
	e.hashed = 0
}

// slide drops the bytes that no back-reference can reach any more: all but
// e.window bytes before pos. The current block must have been written.
func (e *encoder) slide() {
	from := e.pos - e.window
	if from <= 0 {
		return
	}
	n := copy(e.win, e.win[from:])
	e.win = e.win[:n]
	e.pos -= from
	e.blockStart -= from
	e.hashed = max(e.hashed-from, 0)
	e.off += int32(from)
	if e.off > maxOff-winCap {
		e.clearTables()
	}
}

// tokenize turns win[pos:] into tokens, writing blocks as they fill. If
// final is false it leaves the last maxMatch bytes, which a longer input
// might extend a match into; then it writes the block so far, so that the
// window can slide.
func (e *encoder) tokenize(final bool) {
	end := len(e.win)
	limit := end
	if !final {
		limit = end - maxMatch
	}
	if e.hashed < e.pos {
		e.catchUp(end)
	}
	for e.pos < limit {
		stop := min(limit, e.blockStart+maxBlockBytes)
		if e.level.chain == 0 {
			e.matchFast(stop, end)
		} else if e.level.lazy == 0 {
			e.matchGreedy(stop, end)
		} else {
			e.matchLazy(stop, end)
		}
		if final && e.pos > end-4 {
			// Too few bytes left to hash: they go as literals.
			for e.pos < end && e.ntok < maxTokens {
				e.literal(e.win[e.pos])
				e.pos++
			}
		}
		e.hashed = e.pos
		if e.ntok >= fullTokens || e.pos-e.blockStart >= maxBlockBytes {
			e.writeBlock()
		}
	}
	if e.ntok > 0 {
		e.writeBlock()
	}
}

// literal appends a literal token.
func (e *encoder) literal(b byte) {
	e.tokens[e.ntok] = token(b)
	e.ntok++
	e.litFreq[b]++
}

// catchUp offers the positions from e.hashed to e.pos, history that the
// tables do not hold yet, to the tables, with an effort in proportion to
// the input at hand (pending bytes): the last max(2 KiB, 2*pending) bytes
// at every position, the 32*pending bytes before them at every 4th
// position, and older history not at all (histSpan). The matchers make up
// for the sparse part by extending matches backwards. So a 300-byte message
// with 32 KiB of history costs about 4500 insertions, not 32768, and a
// message of 1 KiB or more gets all of its history.
func (e *encoder) catchUp(end int) {
	from, to := e.hashed, min(e.pos, end-3)
	if from >= to {
		e.hashed = e.pos
		return
	}
	pending := end - e.pos
	dense := to - min(to-from, denseSpan(pending))
	sparse := max(from, to-histSpan(pending))
	if e.level.chain == 0 {
		e.insertFast(sparse, dense, 4)
		e.insertFast(dense, to, 1)
	} else {
		e.insertChain(sparse, dense, 4)
		e.insertChain(dense, to, 1)
	}
	e.hashed = e.pos
}

// insertFast enters every step-th position from from to to, each of which
// has 4 bytes to hash, into the table of the fast matcher.
func (e *encoder) insertFast(from, to, step int) {
	if e.fast == nil {
		e.fast = new([1 << fastBits]int32)
	}
	t := e.fast
	win := e.win
	off := e.off
	i := from
	if step == 1 {
		// Four positions from one 8-byte load.
		for ; i+4 <= to && i+8 <= len(win); i += 4 {
			u := binary.LittleEndian.Uint64(win[i:])
			v := int32(i) + off
			t[hash4(uint32(u), fastBits)] = v
			t[hash4(uint32(u>>8), fastBits)] = v + 1
			t[hash4(uint32(u>>16), fastBits)] = v + 2
			t[hash4(uint32(u>>24), fastBits)] = v + 3
		}
	}
	for ; i < to; i += step {
		t[hash4(binary.LittleEndian.Uint32(win[i:]), fastBits)] = int32(i) + off
	}
}

// insertChain enters every step-th position from from to to, each of
// which has 4 bytes to hash, into the hash chains.
func (e *encoder) insertChain(from, to, step int) {
	e.chainTables()
	head, prev := e.head, e.prev
	win := e.win
	off := e.off
	for i := from; i < to; i += step {
		h := hash4(binary.LittleEndian.Uint32(win[i:]), chainBits)
		v := int32(i) + off
		prev[v&(maxWindow-1)] = head[h]
		head[h] = v
	}
}

// denseSpan and histSpan are the bytes of history that catchUp enters into
// the tables at every position, and in all, for pending bytes of input.
func denseSpan(pending int) int { return max(2048, 2*pending) }
func histSpan(pending int) int  { return denseSpan(pending) + 32*pending }

func (e *encoder) chainTables() {
	if e.head == nil {
		e.head = new([1 << chainBits]int32)
		e.prev = new([maxWindow]int32)
	}
}

// hash4 hashes 4 bytes into b bits (multiplicative hashing with the 32-bit
// golden ratio).
func hash4(u uint32, b uint) uint32 {
	return (u * 0x9e3779b1) >> (32 - b)
}

// The bit writer. RFC 1951, Section 3.1.1 packs data elements least
// significant bit first.

// writeBits appends the n low bits of v; n is at most 32.
func (e *encoder) writeBits(v uint64, n uint) {
	e.bits |= v << e.nbits
	e.nbits += n
	if e.nbits >= 32 {
		e.out = binary.LittleEndian.AppendUint32(e.out, uint32(e.bits))
		e.bits >>= 32
		e.nbits -= 32
	}
}

// flushBytes appends the complete bytes held in the bit buffer.
func (e *encoder) flushBytes() {
	for e.nbits >= 8 {
		e.out = append(e.out, byte(e.bits))
		e.bits >>= 8
		e.nbits -= 8
	}
}

// alignByte pads the output with zero bits to a byte boundary and appends
// everything.
func (e *encoder) alignByte() {
	e.nbits = (e.nbits + 7) &^ 7
	e.flushBytes()
}

// writeBlock writes the tokens as one block, stored, fixed-Huffman or
// dynamic-Huffman, whichever is smallest (RFC 1951, Section 3.2.3), and
// starts a new block.
func (e *encoder) writeBlock() {
	data := e.win[e.blockStart:e.pos]
	e.litFreq[endBlock]++

	// Extra bits are the same with either Huffman code.
	extra := 0
	for c := range lengthExtra {
		extra += int(e.litFreq[257+c]) * int(lengthExtra[c])
	}
	for c := range distExtra {
		extra += int(e.distFreq[c]) * int(distExtra[c])
	}
	fixedBits := 3 + extra
	for s, f := range e.litFreq {
		fixedBits += int(f) * int(fixedLitLenBits[s])
	}
	for _, f := range e.distFreq {
		fixedBits += int(f) * fixedDistBits
	}
	dynBits := 3 + extra + e.buildDynamic()
	storedBlocks := max(1, (len(data)+maxStored-1)/maxStored)
	storedBits := 3 + int(-(e.nbits+3)&7) + 32 + (storedBlocks-1)*(8+32) + 8*len(data)

	switch {
	case storedBits <= fixedBits && storedBits <= dynBits:
		e.writeStored(data)
	case fixedBits <= dynBits:
		e.out = slices.Grow(e.out, fixedBits/8+8)
		e.writeBits(1<<1, 3) // BFINAL 0, BTYPE 01
		e.writeTokens(fixedLitLen[:], fixedDist[:])
	default:
		e.out = slices.Grow(e.out, dynBits/8+8)
		e.writeBits(2<<1, 3) // BFINAL 0, BTYPE 10
		e.writeDynamicHeader()
		e.writeTokens(e.litCode[:], e.distCode[:])
	}

	e.ntok = 0
	clear(e.litFreq[:])
	clear(e.distFreq[:])
	e.blockStart = e.pos
}

// writeStored writes data as stored blocks (RFC 1951, Section 3.2.4).
func (e *encoder) writeStored(data []byte) {
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), maxStored)
		e.writeBits(0, 3) // BFINAL 0, BTYPE 00
		e.alignByte()
		e.out = append(e.out, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		e.out = append(e.out, data[:n]...)
		data = data[n:]
	}
}

// buildDynamic builds the dynamic Huffman code of the block and the
// encoding of its header (RFC 1951, Section 3.2.7), and returns the size in
// bits of the header after BTYPE and of the block's codes, extra bits
// excepted.
func (e *encoder) buildDynamic() int {
	e.hs.buildLengths(e.litFreq[:], e.litLen[:], maxLitLenBits)
	e.hs.buildLengths(e.distFreq[:], e.distLen[:], maxLitLenBits)
	e.hlit = numLitLen
	for e.hlit > 257 && e.litLen[e.hlit-1] == 0 {
		e.hlit--
	}
	e.hdist = numDist
	for e.hdist > 1 && e.distLen[e.hdist-1] == 0 {
		e.hdist--
	}
	if e.distLen[0] == 0 && e.hdist == 1 {
		// A block of literals only: one distance code of one bit, which
		// is never used.
		e.distLen[0] = 1
	}

	// Run-length encode the code lengths, as one sequence of hlit+hdist.
	var seq [numLitLen + numDist]uint8
	n := copy(seq[:], e.litLen[:e.hlit])
	n += copy(seq[n:], e.distLen[:e.hdist])
	clear(e.clFreq[:])
	e.nrle = 0
	put := func(sym, extra int) {
		e.rle[e.nrle] = uint16(sym | extra<<5)
		e.nrle++
		e.clFreq[sym]++
	}
	for i := 0; i < n; {
		v := seq[i]
		run := 1
		for i+run < n && seq[i+run] == v {
			run++
		}
		i += run
		if v == 0 {
			for run >= 11 {
				k := min(run, 138)
				put(18, k-11)
				run -= k
			}
			if run >= 3 {
				put(17, run-3)
				run = 0
			}
		} else {
			put(int(v), 0)
			run--
			for run >= 3 {
				k := min(run, 6)
				put(16, k-3)
				run -= k
			}
		}
		for ; run > 0; run-- {
			put(int(v), 0)
		}
	}
	e.hs.buildLengths(e.clFreq[:], e.clLen[:], maxCodeLenBits)
	e.hclen = numCodeLen
	for e.hclen > 4 && e.clLen[codeLenOrder[e.hclen-1]] == 0 {
		e.hclen--
	}

	size := 5 + 5 + 4 + 3*e.hclen
	for _, r := range e.rle[:e.nrle] {
		sym := r & 31
		size += int(e.clLen[sym])
		switch sym {
		case 16:
			size += 2
		case 17:
			size += 3
		case 18:
			size += 7
		}
	}
	for s, f := range e.litFreq {
		size += int(f) * int(e.litLen[s])
	}
	for s, f := range e.distFreq {
		size += int(f) * int(e.distLen[s])
	}
	return size
}

// writeDynamicHeader makes the codes whose lengths buildDynamic chose,
// and writes the header it prepared.
func (e *encoder) writeDynamicHeader() {
	buildCodes(e.litLen[:e.hlit], e.litCode[:])
	buildCodes(e.distLen[:e.hdist], e.distCode[:])
	buildCodes(e.clLen[:], e.clCode[:])
	e.writeBits(uint64(e.hlit-257), 5)
	e.writeBits(uint64(e.hdist-1), 5)
	e.writeBits(uint64(e.hclen-4), 4)
	for _, sym := range codeLenOrder[:e.hclen] {
		e.writeBits(uint64(e.clLen[sym]), 3)
	}
	for _, r := range e.rle[:e.nrle] {
		sym := r & 31
		c := e.clCode[sym]
		e.writeBits(uint64(c&0xffff), uint(c>>16))
		switch sym {
		case 16:
			e.writeBits(uint64(r>>5), 2)
		case 17:
			e.writeBits(uint64(r>>5), 3)
		case 18:
			e.writeBits(uint64(r>>5), 7)
		}
	}
}

// writeTokens writes the block's tokens and the end-of-block symbol with
// the given codes.
func (e *encoder) writeTokens(lit, dist []uint32) {
	lit = lit[:numLitLen]
	dist = dist[:numDist]
	acc, nb, out := e.bits, e.nbits, e.out
	for _, t := range e.tokens[:e.ntok] {
		if t < matchBit {
			c := lit[t&0xff]
			acc |= uint64(c&0xffff) << nb
			nb += uint(c >> 16)
		} else {
			l := (t >> 16) & 0xff
			lc := lengthCode[l]
			c := lit[257+int(lc)]
			acc |= uint64(c&0xffff) << nb
			nb += uint(c >> 16)
			acc |= uint64(l+minMatch-uint32(lengthBase[lc])) << nb
			nb += uint(lengthExtra[lc])
			if nb >= 32 {
				out = binary.LittleEndian.AppendUint32(out, uint32(acc))
				acc >>= 32
				nb -= 32
			}
			d := t & 0xffff
			dc := distCode(d)
			c = dist[dc]
			acc |= uint64(c&0xffff) << nb
			nb += uint(c >> 16)
			acc |= uint64(d+1-uint32(distBase[dc])) << nb
			nb += uint(distExtra[dc])
		}
		if nb >= 32 {
			out = binary.LittleEndian.AppendUint32(out, uint32(acc))
			acc >>= 32
			nb -= 32
		}
	}
	e.bits, e.nbits, e.out = acc, nb, out
	c := lit[endBlock]
	e.writeBits(uint64(c&0xffff), uint(c>>16))
}

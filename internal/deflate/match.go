package deflate

import (
	"encoding/binary"
	"math/bits"
)

// The matchers find LZ77 back-references (RFC 1951, Section 2) in
// e.win[e.pos:end] and append tokens for win[e.pos:stop], or a little past
// stop when a match runs over it; they may stop earlier when the token
// buffer fills. Matches are at least 4 bytes long, so that the 4 bytes at
// every position can serve as its hash key, and they never reach further
// back than e.window bytes, nor before the start of the window buffer.
//
// Every position read from a hash table is checked before use: it must lie
// in win and be 1 to e.window bytes before the position being matched. The
// tables may hold anything at all, and the output is still valid.

// matchLen returns the length of the common prefix of a and b.
func matchLen(a, b []byte) int {
	n := 0
	for len(a) >= 8 && len(b) >= 8 {
		x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b)
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		a, b = a[8:], b[8:]
		n += 8
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return n + i
		}
	}
	return n + min(len(a), len(b))
}

// emitLiterals appends a literal token for each byte of lits.
func (e *encoder) emitLiterals(lits []byte) {
	toks := e.tokens[e.ntok : e.ntok+len(lits)]
	for i, b := range lits {
		toks[i] = token(b)
		e.litFreq[b]++
	}
	e.ntok += len(lits)
}

// emitMatch appends a back-reference of length 4..258 and distance
// 1..32768.
func (e *encoder) emitMatch(length, dist int) {
	e.tokens[e.ntok] = matchBit | token(length-minMatch)<<16 | token(dist-1)
	e.ntok++
	e.litFreq[257+int(lengthCode[length-minMatch])]++
	e.distFreq[distCode(uint32(dist-1))]++
}

// matchFast is the matcher of BestSpeed: one hash table entry per key,
// one candidate per position, greedy, and in data without matches a step
// that grows with the distance from the last match. A match found is
// extended backwards over the literals before it.
func (e *encoder) matchFast(stop, end int) {
	if e.fast == nil {
		e.fast = new([1 << fastBits]int32)
	}
	table := e.fast
	win := e.win[:end]
	off := e.off
	window := e.window
	i := e.pos
	lit := i
	last := end - 4 // the last position with 4 bytes to hash
	rep := 0        // the distance of the last match
	for i < stop && i <= last && e.ntok+(i-lit) < fullTokens {
		cv := binary.LittleEndian.Uint32(win[i:])
		if i == lit && rep > 0 && i-rep >= 0 && binary.LittleEndian.Uint32(win[i-rep:]) == cv {
			// Right after a match, first try the data going on at the
			// same distance, as it does after a match cut at 258 bytes.
			n := 4 + matchLen(win[i-rep+4:], win[i+4:min(end, i+maxMatch)])
			e.emitMatch(n, rep)
			i += n
			lit = i
			continue
		}
		h := hash4(cv, fastBits)
		cand := int(table[h] - off)
		table[h] = int32(i) + off
		if cand < 0 || cand >= i || i-cand > window || binary.LittleEndian.Uint32(win[cand:]) != cv {
			step := 1
			if e.level.skip {
				step += min((i-lit)>>5, tokenSlack/2)
			}
			i += step
			continue
		}
		n := 4 + matchLen(win[cand+4:], win[i+4:min(end, i+maxMatch)])
		for n < maxMatch && i > lit && cand > 0 && win[i-1] == win[cand-1] {
			i--
			cand--
			n++
		}
		e.emitLiterals(win[lit:i])
		rep = i - cand
		e.emitMatch(n, rep)
		i += n
		lit = i
		// Hash the position just before the next one, which the step
		// over the match skipped.
		if j := i - 1; j <= last {
			table[hash4(binary.LittleEndian.Uint32(win[j:]), fastBits)] = int32(j) + off
		}
	}
	i = min(i, end)
	e.emitLiterals(win[lit:i])
	e.pos = i
}

// findMatch returns the longest match for position i that is longer than
// best, trying first the distance rep (if not 0) and then up to chain
// candidates of the hash chain that starts at cand (an index into win,
// possibly stale), and stopping at one of nice bytes; it returns length 0
// if there is none.
func (e *encoder) findMatch(i, cand, end, best, chain, nice, rep int) (length, dist int) {
	win := e.win[:end]
	maxLen := min(maxMatch, end-i)
	if best >= maxLen {
		return 0, 0
	}
	nice = min(nice, maxLen)
	lowest := max(0, i-e.window)
	prev := e.prev
	off := e.off
	cv := binary.LittleEndian.Uint32(win[i:])
	if r := i - rep; rep > 0 && r >= lowest && binary.LittleEndian.Uint32(win[r:]) == cv {
		n := 4 + matchLen(win[r+4:r+maxLen], win[i+4:i+maxLen])
		if n > best {
			best, length, dist = n, n, rep
			if n >= nice {
				return length, dist
			}
		}
	}
	if maxLen < 8 {
		// Too close to the end for 8-byte loads.
		for ; chain > 0 && cand >= lowest && cand < i; chain-- {
			if n := matchLen(win[cand:cand+maxLen], win[i:i+maxLen]); n > best {
				best, length, dist = n, n, i-cand
			}
			next := int(prev[(int32(cand)+off)&(maxWindow-1)] - off)
			if next >= cand {
				break
			}
			cand = next
		}
		return length, dist
	}
	cv8 := binary.LittleEndian.Uint64(win[i:])
	cur := win[i : i+maxLen]
	for ; chain > 0 && cand >= lowest && cand < i; chain-- {
		// A candidate cannot beat best unless it matches at best (the
		// test skips most candidates with one byte read once best is
		// long); then the first 8 bytes are compared at once.
		if best < 8 || win[cand+best] == cur[best] {
			x := binary.LittleEndian.Uint64(win[cand:]) ^ cv8
			n := bits.TrailingZeros64(x) >> 3
			if x == 0 {
				n = 8 + matchLen(win[cand+8:cand+maxLen], cur[8:])
			}
			if n > best {
				best, length, dist = n, n, i-cand
				if n >= nice {
					break
				}
			}
		}
		next := int(prev[(int32(cand)+off)&(maxWindow-1)] - off)
		if next >= cand {
			break // stale: chains only run backwards
		}
		cand = next
	}
	return length, dist
}

// insert adds position i, which has 4 bytes to hash, to the hash chains
// and returns the chain that was there before, as an index into win.
func (e *encoder) insert(i int) int {
	h := hash4(binary.LittleEndian.Uint32(e.win[i:]), chainBits)
	v := int32(i) + e.off
	old := e.head[h]
	e.prev[v&(maxWindow-1)] = old
	e.head[h] = v
	return int(old - e.off)
}

// backUp extends a match of length n from i to cand backwards over the
// literals from lit, and returns the new i, cand and n.
func (e *encoder) backUp(i, cand, n, lit int) (int, int, int) {
	win := e.win
	for n < maxMatch && i > lit && cand > 0 && win[i-1] == win[cand-1] {
		i--
		cand--
		n++
	}
	return i, cand, n
}

// matchGreedy is the matcher of levels 2 and 3: hash chains, and the first
// longest match at each position is taken. In data without matches it
// steps faster, as matchFast does.
func (e *encoder) matchGreedy(stop, end int) {
	e.chainTables()
	p := e.level
	i := e.pos
	lit := i
	last := end - 4
	rep := 0
	for i < stop && i <= last && e.ntok+(i-lit) < fullTokens {
		cand := e.insert(i)
		r := 0
		if i == lit {
			r = rep
		}
		n, dist := e.findMatch(i, cand, end, minMatch, p.chain, p.nice, r)
		if n == 0 {
			step := 1
			if p.skip {
				step += min((i-lit)>>5, tokenSlack/2)
			}
			i += step
			continue
		}
		rep = dist
		start, _, n2 := e.backUp(i, i-dist, n, lit)
		e.emitLiterals(e.win[lit:start])
		e.emitMatch(n2, dist)
		if n <= p.insert {
			for j := i + 1; j < i+n && j <= last; j++ {
				e.insert(j)
			}
		}
		i = start + n2
		lit = i
	}
	i = min(i, end)
	e.emitLiterals(e.win[lit:i])
	e.pos = i
}

// matchLazy is the matcher of levels 4 to 9: hash chains, and a match is
// taken only if the next position has no longer one (RFC 1951, Section 4
// describes this "lazy matching").
func (e *encoder) matchLazy(stop, end int) {
	e.chainTables()
	p := e.level
	i := e.pos
	last := end - 4
	// A pending choice for position i-1: a match of prevLen bytes, or a
	// literal if prevLen is 0.
	pending := false
	prevLen, prevDist := 0, 0
	rep := 0
	for i < stop && i <= last && e.ntok < fullTokens {
		cand := e.insert(i)
		n, dist := 0, 0
		if prevLen < p.lazy {
			chain := p.chain
			if prevLen >= p.good {
				chain >>= 2
			}
			n, dist = e.findMatch(i, cand, end, max(prevLen, minMatch), chain, p.nice, rep)
		}
		if prevLen > 0 && n <= prevLen {
			// The match at i-1 is as good as it gets: take it.
			e.emitMatch(prevLen, prevDist)
			rep = prevDist
			matchEnd := i - 1 + prevLen
			for j := i + 1; j < matchEnd && j <= last; j++ {
				e.insert(j)
			}
			i = matchEnd
			pending, prevLen = false, 0
			continue
		}
		if pending {
			e.literal(e.win[i-1])
		}
		pending, prevLen, prevDist = true, n, dist
		i++
	}
	if pending {
		if prevLen > 0 {
			e.emitMatch(prevLen, prevDist)
			i = i - 1 + prevLen
		} else {
			e.literal(e.win[i-1])
		}
	}
	e.pos = i
}

package deflate

import (
	"math/bits"
	"slices"
)

// A Huffman code is kept as one uint32 per symbol: the code's length in
// bits 16..23 and the code itself, bit-reversed so that it can be written
// least significant bit first as RFC 1951, Section 3.1.1 packs it, in bits
// 0..15. A zero entry is a symbol that has no code.
func packCode(code uint16, n uint8) uint32 { return uint32(n)<<16 | uint32(code) }

// codeLenOrder is the order in which the code lengths of the code-length
// alphabet are sent (RFC 1951, Section 3.2.7).
var codeLenOrder = [numCodeLen]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// fixedLitLen and fixedDist are the fixed Huffman codes of RFC 1951,
// Section 3.2.6, and fixedLitLenBits and fixedDistBits their lengths.
var (
	fixedLitLen     [288]uint32
	fixedDist       [numDist]uint32
	fixedLitLenBits [288]uint8
)

const fixedDistBits = 5

func init() {
	for i := range fixedLitLenBits {
		switch {
		case i < 144:
			fixedLitLenBits[i] = 8
		case i < 256:
			fixedLitLenBits[i] = 9
		case i < 280:
			fixedLitLenBits[i] = 7
		default:
			fixedLitLenBits[i] = 8
		}
	}
	buildCodes(fixedLitLenBits[:], fixedLitLen[:])
	var distBits [numDist]uint8
	for i := range distBits {
		distBits[i] = fixedDistBits
	}
	buildCodes(distBits[:], fixedDist[:])
}

// buildCodes assigns the canonical codes of RFC 1951, Section 3.2.2 to
// symbols with the code lengths lengths (0 means unused), and stores them
// packed in codes. The lengths must describe a valid prefix code of at most
// 15 bits.
func buildCodes(lengths []uint8, codes []uint32) {
	var count [maxLitLenBits + 1]uint16
	for _, n := range lengths {
		count[n]++
	}
	count[0] = 0
	var next [maxLitLenBits + 1]uint16
	code := uint16(0)
	for n := 1; n <= maxLitLenBits; n++ {
		code = (code + count[n-1]) << 1
		next[n] = code
	}
	for sym, n := range lengths {
		if n == 0 {
			codes[sym] = 0
			continue
		}
		c := next[n]
		next[n]++
		codes[sym] = packCode(bits.Reverse16(c)>>(16-n), n)
	}
}

// huffScratch is the working memory of buildLengths, kept in the pooled
// encoder so that building a code allocates nothing.
type huffScratch struct {
	keys   [numLitLen]uint64 // frequency<<16 | symbol, sorted
	weight [2 * numLitLen]uint32
	parent [2 * numLitLen]uint16
	depth  [2 * numLitLen]uint16
	count  [numLitLen + 1]int32 // leaves per depth
	byFreq [256]uint16
	sorted [numLitLen]uint64
}

// countingSort sorts keys, whose frequencies are 1..maxFreq.
func (s *huffScratch) countingSort(keys []uint64, maxFreq int) {
	byFreq := s.byFreq[:maxFreq+1]
	clear(byFreq)
	for _, k := range keys {
		byFreq[k>>16]++
	}
	at := uint16(0)
	for f, c := range byFreq {
		byFreq[f] = at
		at += c
	}
	sorted := s.sorted[:len(keys)]
	for _, k := range keys {
		f := k >> 16
		sorted[byFreq[f]] = k
		byFreq[f]++
	}
	copy(keys, sorted)
}

// buildLengths computes the code lengths of an optimal prefix code for the
// symbol frequencies freq with no code longer than maxBits, and stores them
// in lengths (0 for a symbol of frequency 0). The code is complete unless
// only one symbol occurs, which then gets a code of one bit: the one
// incomplete code RFC 1951 allows ("If only one distance code is used, it is
// encoded using one bit, not zero bits", Section 3.2.7) and that inflaters
// accept for every alphabet. len(freq) must be at most numLitLen, and
// 2^maxBits must exceed the number of symbols that occur.
func (s *huffScratch) buildLengths(freq []uint32, lengths []uint8, maxBits int) {
	n := 0
	maxFreq := uint32(0)
	for sym, f := range freq {
		lengths[sym] = 0
		if f != 0 {
			s.keys[n] = uint64(f)<<16 | uint64(sym)
			n++
			maxFreq = max(maxFreq, f)
		}
	}
	switch n {
	case 0:
		return
	case 1:
		lengths[s.keys[0]&0xffff] = 1
		return
	}
	keys := s.keys[:n]
	if maxFreq < uint32(len(s.byFreq)) {
		// Small blocks have small counts: a counting sort, which keeps
		// the symbols of equal frequency in order, as the sort below
		// does.
		s.countingSort(keys, int(maxFreq))
	} else {
		slices.Sort(keys)
	}

	// Huffman's construction with two queues: the leaves in increasing
	// weight, and the internal nodes, which are made in increasing
	// weight. Leaves are nodes 0..n-1, internal nodes n..2n-2.
	for i, k := range keys {
		s.weight[i] = uint32(k >> 16)
	}
	leaf, inner, next := 0, n, n
	pick := func() int {
		if leaf < n && (inner >= next || s.weight[leaf] <= s.weight[inner]) {
			leaf++
			return leaf - 1
		}
		inner++
		return inner - 1
	}
	for next < 2*n-1 {
		a := pick()
		b := pick()
		s.weight[next] = s.weight[a] + s.weight[b]
		s.parent[a] = uint16(next)
		s.parent[b] = uint16(next)
		next++
	}
	// A parent is always made after its children, so one pass from the
	// root down sets every depth.
	root := 2*n - 2
	s.depth[root] = 0
	clear(s.count[:n])
	maxDepth := 0
	for i := root - 1; i >= 0; i-- {
		d := s.depth[s.parent[i]] + 1
		s.depth[i] = d
		if i < n {
			s.count[d]++
			maxDepth = max(maxDepth, int(d))
		}
	}

	// Limit the depth to maxBits, keeping the code complete: while some
	// leaves are too deep, take two sibling leaves at the deepest level i,
	// move one up into their parent's place, and hang the other, with a
	// leaf from level j <= i-2, below that leaf's old place. Each step
	// keeps the Kraft sum at exactly 1. (The count at the deepest level of
	// a complete code is always even.)
	for i := maxDepth; i > maxBits; i-- {
		for s.count[i] > 0 {
			j := i - 2
			for j > 0 && s.count[j] == 0 {
				j--
			}
			if j == 0 {
				// Unreachable: it would take 2^maxBits symbols.
				return
			}
			s.count[i] -= 2
			s.count[i-1]++
			s.count[j+1] += 2
			s.count[j]--
		}
	}

	// The rarest symbols get the longest codes.
	k := 0
	for d := min(maxDepth, maxBits); d > 0; d-- {
		for c := s.count[d]; c > 0; c-- {
			lengths[keys[k]&0xffff] = uint8(d)
			k++
		}
	}
}

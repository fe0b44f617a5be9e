package deflate

import (
	"errors"
	"math/bits"
)

// Compression levels for [NewCompressor]. Levels 1 to 3 match greedily,
// levels 4 to 9 lazily; see [NewCompressor] for what each tier does.
const (
	// BestSpeed is the fastest level: a greedy matcher that probes one
	// earlier position per input position.
	BestSpeed = 1
	// BestCompression is the slowest level: lazy matching over long hash
	// chains.
	BestCompression = 9
	// DefaultCompression selects level 2, a greedy matcher over hash
	// chains of 4: on messages of a few hundred bytes about as fast as
	// BestSpeed and 10% smaller, on large text about half as fast and 12%
	// smaller.
	DefaultCompression = -1
)

// defaultLevel is the level DefaultCompression stands for.
const defaultLevel = 2

// The range of window sizes, as base-two logarithms, that
// [RFC 7692, Section 7.1.2] lets the two endpoints negotiate.
//
// [RFC 7692, Section 7.1.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.2
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// ErrCorrupt is matched (with [errors.Is]) by the error a [Decompressor]
// returns for a payload that is not valid DEFLATE data. The error says
// what was wrong and at which byte of the payload.
var ErrCorrupt = errors.New("deflate: invalid compressed data")

// errNoMessage is returned by Decompressor.Read when no message was begun.
var errNoMessage = errors.New("deflate: Read with no message begun")

// clampWindowBits brings windowBits into MinWindowBits..MaxWindowBits.
func clampWindowBits(windowBits int) int {
	return min(max(windowBits, MinWindowBits), MaxWindowBits)
}

// Sizes from RFC 1951, Sections 3.2.5 to 3.2.7.
const (
	minMatch   = 3   // shortest length a back-reference may have
	maxMatch   = 258 // longest length a back-reference may have
	maxWindow  = 1 << MaxWindowBits
	endBlock   = 256 // the end-of-block symbol
	numLitLen  = 286 // literal/length symbols that may appear in data
	numDist    = 30  // distance symbols that may appear in data
	numCodeLen = 19  // code-length symbols
	maxStored  = 65535

	maxLitLenBits  = 15 // longest code, literal/length and distance alphabets
	maxCodeLenBits = 7  // longest code of the code-length alphabet
)

// lengthBase, lengthExtra, distBase and distExtra are the tables of
// RFC 1951, Section 3.2.5: the smallest length (distance) each length
// (distance) code stands for, and how many extra bits follow the code.
// They are built at initialization from the rule the RFC's table follows.
var (
	lengthBase  [29]uint16
	lengthExtra [29]uint8
	distBase    [30]uint16
	distExtra   [30]uint8

	// lengthCode maps a match length minus 3 to its length code minus
	// 257.
	lengthCode [256]uint8
)

func init() {
	// Length codes 257..264 stand for 3..10 with no extra bits; then each
	// group of four codes has one more extra bit than the group before.
	// Code 285 is the exception: 258, with no extra bits.
	base := 3
	for c := 0; c < 28; c++ {
		extra := 0
		if c >= 8 {
			extra = c/4 - 1
		}
		lengthBase[c] = uint16(base)
		lengthExtra[c] = uint8(extra)
		base += 1 << extra
	}
	lengthBase[28] = maxMatch
	lengthExtra[28] = 0
	for c := 0; c < 28; c++ {
		for l := int(lengthBase[c]); l < int(lengthBase[c])+1<<lengthExtra[c] && l < maxMatch; l++ {
			lengthCode[l-minMatch] = uint8(c)
		}
	}
	lengthCode[maxMatch-minMatch] = 28

	// Distance codes 0..3 stand for 1..4; then each pair of codes has one
	// more extra bit than the pair before.
	base = 1
	for c := 0; c < 30; c++ {
		extra := 0
		if c >= 4 {
			extra = c/2 - 1
		}
		distBase[c] = uint16(base)
		distExtra[c] = uint8(extra)
		base += 1 << extra
	}
}

// distCode returns the distance code for a distance of d+1 (d is 0..32767).
func distCode(d uint32) uint32 {
	if d < 4 {
		return d
	}
	// d has its top bit at position t >= 2; the code is 2t plus the bit
	// below the top one.
	t := uint32(bits.Len32(d)) - 1
	return 2*t + (d>>(t-1))&1
}

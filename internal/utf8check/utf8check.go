package utf8check

import (
	"encoding/binary"
	"math/bits"
)

// The validator is a deterministic finite automaton over bytes in the
// "shift DFA" form: every state is a shift amount (a multiple of 6), and
// table[b] packs, for each state s, the next state in bits s..s+5. One step
// is then a single shift, next = table[b] >> s, and only the low 6 bits of
// the result are meaningful. The 64-bit shift instructions of amd64 and
// arm64 ignore the high bits of the count, so there the compiler drops the
// "& 63" and the loop-carried dependency per byte is a single shift.
//
// The automaton is the minimal one for "is a prefix of some valid UTF-8
// string" (RFC 3629, Section 4), so it enters stateReject at exactly the
// first byte that no continuation can redeem.
const (
	stateAccept = 0 * 6 // on a character boundary; the zero value
	stateReject = 1 * 6 // sticky: every byte leads back here
	stateTail1  = 2 * 6 // one more 80..BF to go
	stateTail2  = 3 * 6 // two more 80..BF to go
	stateTail3  = 4 * 6 // three more 80..BF to go
	stateE0     = 5 * 6 // after E0: A0..BF (no overlongs), then one more
	stateED     = 6 * 6 // after ED: 80..9F (no surrogates), then one more
	stateF0     = 7 * 6 // after F0: 90..BF (no overlongs), then two more
	stateF4     = 8 * 6 // after F4: 80..8F (nothing above U+10FFFF), then two more
)

// table is the transition table described above. It is filled once at
// package initialization and never written again.
var table = *buildTable()

func buildTable() *[256]uint64 {
	var t [256]uint64
	set := func(from uint64, lo, hi int, to uint64) {
		for b := lo; b <= hi; b++ {
			t[b] &^= 63 << from
			t[b] |= to << from
		}
	}
	// Everything not listed below is an error, from every state.
	for _, s := range []uint64{stateAccept, stateReject, stateTail1, stateTail2, stateTail3, stateE0, stateED, stateF0, stateF4} {
		set(s, 0x00, 0xFF, stateReject)
	}
	set(stateAccept, 0x00, 0x7F, stateAccept)
	set(stateAccept, 0xC2, 0xDF, stateTail1)
	set(stateAccept, 0xE0, 0xE0, stateE0)
	set(stateAccept, 0xE1, 0xEC, stateTail2)
	set(stateAccept, 0xED, 0xED, stateED)
	set(stateAccept, 0xEE, 0xEF, stateTail2)
	set(stateAccept, 0xF0, 0xF0, stateF0)
	set(stateAccept, 0xF1, 0xF3, stateTail3)
	set(stateAccept, 0xF4, 0xF4, stateF4)
	set(stateTail1, 0x80, 0xBF, stateAccept)
	set(stateTail2, 0x80, 0xBF, stateTail1)
	set(stateTail3, 0x80, 0xBF, stateTail2)
	set(stateE0, 0xA0, 0xBF, stateTail1)
	set(stateED, 0x80, 0x9F, stateTail1)
	set(stateF0, 0x90, 0xBF, stateTail2)
	set(stateF4, 0x80, 0x8F, stateTail2)
	return &t
}

// hiBits has the top bit of every byte of a word set: a word of ASCII
// bytes has none of them.
const hiBits = 0x8080808080808080

// blockLen is how many bytes the automaton runs over between checks for a
// rejection and for a return to ASCII. A rejection inside a block is
// located by running the block again one byte at a time. runBlock is
// unrolled for exactly this length.
const blockLen = 16

// shortLen is the length of the block run after a stretch of ASCII: as
// long as the longest sequence, so that a lone multi-byte character
// between runs of ASCII costs little.
const shortLen = 4

// A Validator checks a UTF-8 stream that arrives in pieces, such as the
// payload of a text message that arrives in frames and reads of any size,
// and fails at the first byte that can never be part of valid UTF-8, as
// [RFC 6455, Section 8.1] asks of an endpoint: "When an endpoint is to
// interpret a byte stream as UTF-8 but finds that the byte stream is not,
// in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
// Connection_."
//
// The zero value is ready to use. A Validator holds no reference to the
// bytes it is given.
//
// [RFC 6455, Section 8.1]: https://www.rfc-editor.org/rfc/rfc6455#section-8.1
type Validator struct {
	state uint8 // one of the state constants
}

// Write validates p as the continuation of everything written since the
// zero value or the last [Validator.Reset].
//
// If every byte of p is consistent with valid UTF-8, Write returns
// len(p), true; a sequence cut at the end of p is not an error, it is
// completed by the next Write (see [Validator.Complete]). Otherwise Write
// returns the index in p of the first byte that no continuation could make
// valid, and false: for E0 80 that is the 80 (an overlong form), for ED A0
// the A0 (a surrogate), for F4 90 the 90 (above U+10FFFF), for a lone F5
// the F5, for a lead byte followed by ASCII the ASCII byte. The failure is
// sticky: every later Write returns 0, false until Reset.
//
// Write is not an [io.Writer]: it reports a verdict, not an I/O error. It
// does not retain p and does not allocate.
func (v *Validator) Write(p []byte) (n int, ok bool) {
	s := uint64(v.state)
	if s == stateReject {
		return 0, false
	}
	// q is what is left of p. Capping it at its length lets the compiler
	// drop the capacity arithmetic from every reslice below.
	q := p[:len(p):len(p)]
	for len(q) >= blockLen {
		// On a character boundary in front of ASCII, skip the ASCII:
		// a word at a time through a long stretch of it, or to the
		// first non-ASCII byte within the word. Then run the automaton
		// over one character's worth of bytes only, as text that is
		// mostly ASCII (JSON, say) has a lone non-ASCII character now
		// and then, and come back here as soon as possible.
		if s&63 == stateAccept {
			if w := binary.LittleEndian.Uint64(q[0:8]) & hiBits; w&0x80 == 0 {
				if w == 0 {
					q = skipASCII(q[8:])
					if len(q) < blockLen {
						break
					}
				} else {
					// The load is little-endian, so the lowest
					// set bit belongs to the first byte that is
					// not ASCII.
					q = q[bits.TrailingZeros64(w)/8:]
				}
				// Two- and three-byte characters of the commonest
				// kinds (Latin, Greek, Cyrillic, most CJK) need no
				// run of the automaton, whose steps depend on each
				// other.
				if b0, b1 := q[0], q[1]; b1&0xC0 == 0x80 {
					if b0-0xC2 <= 0xDF-0xC2 {
						q = q[2:]
						continue
					}
					if (b0-0xE1 <= 0xEC-0xE1 || b0-0xEE <= 1) && q[2]&0xC0 == 0x80 {
						q = q[3:]
						continue
					}
				}
				next := runShort(s, (*[shortLen]byte)(q))
				if next&63 == stateReject {
					return v.fail(len(p) - len(q) + locate(q[:shortLen], s))
				}
				s = next
				q = q[shortLen:]
				continue
			}
		}
		// Text with few or no ASCII bytes runs through the automaton a
		// block at a time.
		next := runBlock(s, (*[blockLen]byte)(q))
		if next&63 == stateReject {
			return v.fail(len(p) - len(q) + locate(q[:blockLen], s))
		}
		s = next
		q = q[blockLen:]
	}
	for i, b := range q {
		s = table[b] >> (s & 63)
		if s&63 == stateReject {
			return v.fail(len(p) - len(q) + i)
		}
	}
	v.state = uint8(s & 63)
	return len(p), true
}

// fail records a rejection and returns Write's results for one at index i.
func (v *Validator) fail(i int) (int, bool) {
	v.state = stateReject
	return i, false
}

// runShort is runBlock for shortLen bytes.
func runShort(s uint64, b *[shortLen]byte) uint64 {
	s = table[b[0]] >> (s & 63)
	s = table[b[1]] >> (s & 63)
	s = table[b[2]] >> (s & 63)
	s = table[b[3]] >> (s & 63)
	return s
}

// runBlock runs the automaton over b from state s and returns the state it
// ends in. The low 6 bits of the result are the state; the rest is noise.
func runBlock(s uint64, b *[blockLen]byte) uint64 {
	s = table[b[0]] >> (s & 63)
	s = table[b[1]] >> (s & 63)
	s = table[b[2]] >> (s & 63)
	s = table[b[3]] >> (s & 63)
	s = table[b[4]] >> (s & 63)
	s = table[b[5]] >> (s & 63)
	s = table[b[6]] >> (s & 63)
	s = table[b[7]] >> (s & 63)
	s = table[b[8]] >> (s & 63)
	s = table[b[9]] >> (s & 63)
	s = table[b[10]] >> (s & 63)
	s = table[b[11]] >> (s & 63)
	s = table[b[12]] >> (s & 63)
	s = table[b[13]] >> (s & 63)
	s = table[b[14]] >> (s & 63)
	s = table[b[15]] >> (s & 63)
	return s
}

// skipASCII returns p without the ASCII bytes at its start, looking at
// whole words where it can.
func skipASCII(p []byte) []byte {
	// As in unicode/utf8.Valid, testing with > rather than >= keeps the
	// reslice free of the fixup for a pointer past the end. (Write passes
	// a slice whose capacity is its length, which keeps it free of
	// capacity arithmetic too.)
	for len(p) > 64 {
		w := ((binary.LittleEndian.Uint64(p[0:8]) |
			binary.LittleEndian.Uint64(p[8:16])) |
			(binary.LittleEndian.Uint64(p[16:24]) |
				binary.LittleEndian.Uint64(p[24:32]))) |
			((binary.LittleEndian.Uint64(p[32:40]) |
				binary.LittleEndian.Uint64(p[40:48])) |
				(binary.LittleEndian.Uint64(p[48:56]) |
					binary.LittleEndian.Uint64(p[56:64])))
		if w&hiBits != 0 {
			break
		}
		p = p[64:]
	}
	for len(p) > 32 {
		w := (binary.LittleEndian.Uint64(p[0:8]) |
			binary.LittleEndian.Uint64(p[8:16])) |
			(binary.LittleEndian.Uint64(p[16:24]) |
				binary.LittleEndian.Uint64(p[24:32]))
		if w&hiBits != 0 {
			break
		}
		p = p[32:]
	}
	for len(p) >= 8 {
		if w := binary.LittleEndian.Uint64(p[0:8]) & hiBits; w != 0 {
			return p[bits.TrailingZeros64(w)/8:]
		}
		p = p[8:]
	}
	for len(p) > 0 && p[0] < 0x80 {
		p = p[1:]
	}
	return p
}

// locate runs the automaton over q from state s one byte at a time and
// returns the index of the byte that leads to stateReject. The caller
// knows that one does.
func locate(q []byte, s uint64) int {
	for j, b := range q {
		s = table[b] >> (s & 63)
		if s&63 == stateReject {
			return j
		}
	}
	return len(q) // not reached when the caller is right
}

// Complete reports whether the input written so far is valid UTF-8 that
// ends on a character boundary: no byte was rejected and no sequence is
// pending. At the end of a text message, a Validator that is not Complete
// means the message is not valid UTF-8.
func (v *Validator) Complete() bool {
	return v.state == stateAccept
}

// Reset prepares v for a new message, forgetting any pending sequence and
// any failure.
func (v *Validator) Reset() {
	v.state = stateAccept
}

// Valid reports whether p is entirely valid UTF-8, such as the reason in a
// Close frame must be ([RFC 6455, Section 5.5.1]). It agrees with
// [unicode/utf8.Valid].
//
// [RFC 6455, Section 5.5.1]: https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1
func Valid(p []byte) bool {
	var v Validator
	_, ok := v.Write(p)
	return ok && v.Complete()
}

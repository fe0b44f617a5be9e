package wstest

import "fmt"

// checkDistances walks a DEFLATE stream ([RFC 1951]) without producing
// its output, counting it, and reports an error if any back-reference
// reaches further
// than window octets, or further back than the output so far (history
// octets of earlier messages plus this message's own). That is zlib's
// "invalid distance too far back", which Autobahn meets when a peer
// ignores a max_window_bits below 15 that it agreed to; the standard
// library's inflater, whose window is always 32 KiB, cannot see it.
//
// It stops quietly at the end of the input, at a final block, or at
// anything malformed: the inflater itself reports those.
//
// [RFC 1951]: https://www.rfc-editor.org/rfc/rfc1951
func checkDistances(in []byte, window, history int) (int, error) {
	br := bitReader{in: in}
	pos := 0 // octets this stream has produced so far
	reach := func(dist int) error {
		if avail := min(window, history+pos); dist > avail {
			return fmt.Errorf("%w: distance %d too far back (window %d octets, %d available)", errInflate, dist, window, avail)
		}
		return nil
	}
	for {
		final, ok := br.bits(1)
		if !ok {
			return pos, nil
		}
		typ, ok := br.bits(2)
		if !ok {
			return pos, nil
		}
		switch typ {
		case 0: // stored
			br.align()
			n, ok := br.bits(16)
			if !ok {
				return pos, nil
			}
			if _, ok := br.bits(16); !ok {
				return pos, nil
			}
			if !br.skip(int(n)) {
				return pos, nil
			}
			pos += int(n)
		case 1, 2:
			lit, dist := fixedLit, fixedDist
			if typ == 2 {
				var ok bool
				if lit, dist, ok = br.dynamicTables(); !ok {
					return pos, nil
				}
			}
			for {
				sym, ok := lit.decode(&br)
				if !ok {
					return pos, nil
				}
				if sym < 256 {
					pos++
					continue
				}
				if sym == 256 {
					break
				}
				sym -= 257
				if sym >= len(lengthBase) {
					return pos, nil
				}
				extra, ok := br.bits(uint(lengthExtra[sym]))
				if !ok {
					return pos, nil
				}
				length := int(lengthBase[sym]) + int(extra)
				ds, ok := dist.decode(&br)
				if !ok || ds >= len(distBase) {
					return pos, nil
				}
				dextra, ok := br.bits(uint(distExtra[ds]))
				if !ok {
					return pos, nil
				}
				if err := reach(int(distBase[ds]) + int(dextra)); err != nil {
					return pos, err
				}
				pos += length
			}
		default:
			return pos, nil
		}
		if final == 1 {
			return pos, nil
		}
	}
}

// Base values and extra bits of the length and distance codes
// ([RFC 1951, Section 3.2.5]).
//
// [RFC 1951, Section 3.2.5]: https://www.rfc-editor.org/rfc/rfc1951#section-3.2.5
var (
	lengthBase  = [...]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [...]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [...]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [...]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// The order of code length code lengths in a dynamic block header.
	codeLengthOrder = [...]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// The fixed Huffman codes ([RFC 1951, Section 3.2.6]).
//
// [RFC 1951, Section 3.2.6]: https://www.rfc-editor.org/rfc/rfc1951#section-3.2.6
var fixedLit, fixedDist = func() (*huffman, *huffman) {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	var d [30]uint8
	for i := range d {
		d[i] = 5
	}
	lit, _ := newHuffman(l[:])
	dist, _ := newHuffman(d[:])
	return lit, dist
}()

// bitReader reads a DEFLATE stream least significant bit first.
type bitReader struct {
	in   []byte
	off  int
	buf  uint64
	nbit uint
}

func (b *bitReader) bits(n uint) (uint32, bool) {
	for b.nbit < n {
		if b.off >= len(b.in) {
			return 0, false
		}
		b.buf |= uint64(b.in[b.off]) << b.nbit
		b.off++
		b.nbit += 8
	}
	v := uint32(b.buf & (1<<n - 1))
	b.buf >>= n
	b.nbit -= n
	return v, true
}

// fill buffers at least n bits if the input has them.
func (b *bitReader) fill(n uint) bool {
	for b.nbit < n && b.off < len(b.in) {
		b.buf |= uint64(b.in[b.off]) << b.nbit
		b.off++
		b.nbit += 8
	}
	return b.nbit >= n
}

// align drops the bits left in the current octet.
func (b *bitReader) align() {
	b.buf >>= b.nbit % 8
	b.nbit -= b.nbit % 8
}

// skip passes over n whole octets after align.
func (b *bitReader) skip(n int) bool {
	for n > 0 && b.nbit >= 8 {
		b.buf >>= 8
		b.nbit -= 8
		n--
	}
	if b.off+n > len(b.in) {
		return false
	}
	b.off += n
	return true
}

// dynamicTables reads the code tables of a dynamic block.
func (b *bitReader) dynamicTables() (lit, dist *huffman, ok bool) {
	hlit, ok1 := b.bits(5)
	hdist, ok2 := b.bits(5)
	hclen, ok3 := b.bits(4)
	if !ok1 || !ok2 || !ok3 {
		return nil, nil, false
	}
	nlit, ndist := int(hlit)+257, int(hdist)+1
	var cl [19]uint8
	for i := 0; i < int(hclen)+4; i++ {
		v, ok := b.bits(3)
		if !ok {
			return nil, nil, false
		}
		cl[codeLengthOrder[i]] = uint8(v)
	}
	clh, ok := newHuffman(cl[:])
	if !ok {
		return nil, nil, false
	}
	lengths := make([]uint8, nlit+ndist)
	for i := 0; i < len(lengths); {
		sym, ok := clh.decode(b)
		if !ok {
			return nil, nil, false
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep uint32
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return nil, nil, false
			}
			val = lengths[i-1]
			rep, ok = b.bits(2)
			rep += 3
		case 17:
			rep, ok = b.bits(3)
			rep += 3
		default:
			rep, ok = b.bits(7)
			rep += 11
		}
		if !ok || i+int(rep) > len(lengths) {
			return nil, nil, false
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lit, ok = newHuffman(lengths[:nlit]); !ok {
		return nil, nil, false
	}
	if dist, ok = newHuffman(lengths[nlit:]); !ok {
		return nil, nil, false
	}
	return lit, dist, true
}

// fastBits is how many bits the lookup table of a code covers.
const fastBits = 9

// huffman is a canonical Huffman code: counts per length and symbols in
// code order, decoded one bit at a time, plus a table for the codes of up
// to fastBits bits, indexed by the next bits of the stream.
type huffman struct {
	count  [16]uint16
	symbol []uint16
	fast   [1 << fastBits]uint16 // symbol<<4 | length, or 0
}

// newHuffman builds the code for the given code lengths; it reports false
// for an over-subscribed set of lengths.
func newHuffman(lengths []uint8) (*huffman, bool) {
	h := &huffman{symbol: make([]uint16, 0, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	left := 1
	for l := 1; l < 16; l++ {
		left <<= 1
		left -= int(h.count[l])
		if left < 0 {
			return nil, false
		}
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + int(h.count[l])
	}
	h.symbol = h.symbol[:len(lengths)]
	n := 0
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(s)
			offs[l]++
			n++
		}
	}
	h.symbol = h.symbol[:n]
	// Codes are assigned in order of length, then symbol (RFC 1951,
	// Section 3.2.2), and sent most significant bit first.
	var next [16]int
	code := 0
	for l := 1; l < 16; l++ {
		if l > 1 {
			code = (code + int(h.count[l-1])) << 1
		}
		next[l] = code
	}
	for s, l := range lengths {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		if l > fastBits {
			continue
		}
		r := 0
		for i := 0; i < int(l); i++ {
			r |= (c >> i & 1) << (int(l) - 1 - i)
		}
		for k := r; k < len(h.fast); k += 1 << l {
			h.fast[k] = uint16(s)<<4 | uint16(l)
		}
	}
	return h, true
}

func (h *huffman) decode(b *bitReader) (int, bool) {
	if b.fill(fastBits) {
		if e := h.fast[b.buf&(1<<fastBits-1)]; e != 0 {
			n := uint(e & 15)
			b.buf >>= n
			b.nbit -= n
			return int(e >> 4), true
		}
	}
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		v, ok := b.bits(1)
		if !ok {
			return 0, false
		}
		code |= int(v)
		count := int(h.count[l])
		if code-first < count {
			return int(h.symbol[index+code-first]), true
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, false
}

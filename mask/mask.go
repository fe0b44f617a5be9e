// Package mask implements the client-to-server masking of RFC 6455,
// Section 5.3.
package mask

import "crypto/rand"

// A Key is a 4-byte masking key.
type Key [4]byte

// NewKey returns a masking key from a cryptographically strong source.
func NewKey() Key {
	var k Key
	rand.Read(k[:])
	return k
}

// Apply XORs b in place with k, starting at key position pos (taken modulo
// 4), and returns the key position that follows b.
func (k Key) Apply(b []byte, pos int) int {
	pos &= 3
	for i := range b {
		b[i] ^= k[pos]
		pos = (pos + 1) & 3
	}
	return pos
}

package handshake

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
)

// The GUID that Section 1.3 appends to the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a
// Sec-WebSocket-Key, as [RFC 6455, Section 4.2.2] defines it: the base64
// of the SHA-1 of the key concatenated with a fixed GUID.
//
// [RFC 6455, Section 4.2.2]: https://www.rfc-editor.org/rfc/rfc6455#section-4.2.2
func AcceptKey(key string) string {
	var buf [64]byte
	b := append(append(buf[:0], key...), acceptGUID...)
	sum := sha1.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// appendAccept appends AcceptKey(key) to dst.
func appendAccept(dst []byte, key string) []byte {
	var buf [64]byte
	b := append(append(buf[:0], key...), acceptGUID...)
	sum := sha1.Sum(b)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// NewKey returns a new Sec-WebSocket-Key: 16 random bytes, base64-encoded,
// as [RFC 6455, Section 4.1] requires ("a randomly selected 16-byte
// value").
//
// [RFC 6455, Section 4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-4.1
func NewKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// validKey reports whether key is the base64 of exactly 16 bytes
// ([RFC 4648, Section 4]): 22 characters of the base64 alphabet and "==".
// As encoding/base64's decoder does by default, it accepts any value of
// the 4 bits the last of the 22 carries past the 16 bytes, which RFC 4648
// lets a decoder do ("decoders MAY chose to reject an encoding if the pad
// bits have not been set to zero").
//
// [RFC 4648, Section 4]: https://www.rfc-editor.org/rfc/rfc4648#section-4
func validKey(key string) bool {
	if len(key) != 24 || key[22] != '=' || key[23] != '=' {
		return false
	}
	for i := 0; i < 22; i++ {
		if !isBase64[key[i]] {
			return false
		}
	}
	return true
}

// isBase64 reports which bytes are in the base64 alphabet of
// RFC 4648, Table 1.
var isBase64 = [256]bool{
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true, 'G': true, 'H': true, 'I': true, 'J': true, 'K': true, 'L': true, 'M': true,
	'N': true, 'O': true, 'P': true, 'Q': true, 'R': true, 'S': true, 'T': true, 'U': true, 'V': true, 'W': true, 'X': true, 'Y': true, 'Z': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true, 'g': true, 'h': true, 'i': true, 'j': true, 'k': true, 'l': true, 'm': true,
	'n': true, 'o': true, 'p': true, 'q': true, 'r': true, 's': true, 't': true, 'u': true, 'v': true, 'w': true, 'x': true, 'y': true, 'z': true,
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true, '+': true, '/': true,
}

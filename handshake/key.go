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

// validKey reports whether key is the base64 of exactly 16 bytes.
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var b [18]byte
	var src [24]byte
	copy(src[:], key)
	n, err := base64.StdEncoding.Decode(b[:], src[:])
	return err == nil && n == 16
}

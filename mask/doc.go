// Package mask implements the masking of RFC 6455, Section 5.3: every frame
// a client sends carries a 4-byte masking key, and each payload byte i is
// XORed with key byte i mod 4. Masking and unmasking are the same operation.
//
// [NewKey] draws a fresh key for each frame, as [RFC 6455, Section 5.3]
// requires, from crypto/rand, the strong source that
// [RFC 6455, Section 10.3] asks for. To keep the per-frame cost low, keys are
// taken from batches of random bytes read from crypto/rand at once; each
// byte is handed out only once and is cleared from the batch when it is.
//
// [Key.Apply] masks a payload in place. It takes and returns the key position,
// so a payload that arrives or leaves in several chunks can be masked chunk by
// chunk with the same result as masking it whole. On amd64 it uses AVX2 or
// SSE2 instructions, chosen when the program starts; building with the
// purego tag selects the portable Go code instead, which masks eight bytes
// at a time.
//
// # Concurrency
//
// [NewKey] is safe for concurrent use by any number of goroutines. [Key.Apply]
// only touches the slice it is given, so calls on different slices may run
// at once; calls on overlapping slices must not.
//
// # Errors
//
// Nothing in the package returns an error or panics on any input: Apply
// accepts any slice (nil included) and any position, negative ones
// included, and crypto/rand reports no errors since Go 1.24 (a program whose
// system random source fails is stopped by the runtime).
//
// [RFC 6455, Section 5.3]: https://www.rfc-editor.org/rfc/rfc6455#section-5.3
// [RFC 6455, Section 10.3]: https://www.rfc-editor.org/rfc/rfc6455#section-10.3
package mask

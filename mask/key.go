package mask

import (
	"crypto/rand"
	"sync"
)

// randBatch is how many random bytes NewKey reads from crypto/rand at once:
// 64 keys. A read of 4 bytes costs about 40 ns where the kernel offers
// getrandom in the vDSO (Linux 6.11 and later) and over a microsecond where
// it takes a system call; a batch brings either down to a few nanoseconds
// a key.
const randBatch = 256

// A randBuf holds random bytes not handed out yet: b[n:].
type randBuf struct {
	b [randBatch]byte
	n int
}

// randBufs holds the batches. A batch is used by one goroutine at a time,
// between Get and Put, so no byte is ever handed out twice; a batch the
// pool drops is simply lost.
var randBufs = sync.Pool{
	New: func() any { return &randBuf{n: randBatch} },
}

// NewKey returns a fresh masking key from crypto/rand, as
// [RFC 6455, Section 5.3] requires: "the masking key MUST be derived from
// a strong source of entropy, and the masking key for a given frame MUST
// NOT make it simple for a server/proxy to predict the masking key for a
// subsequent frame." Call it once per frame.
//
// The bytes come from batches read from crypto/rand ahead of use. Each byte
// is used for one key only and is zeroed in the batch once taken, so a key
// reveals nothing about any other. Because of the batches, keys do not
// follow a deterministic source installed with
// testing/cryptotest.SetGlobalRandom. NewKey is safe for concurrent use.
//
// [RFC 6455, Section 5.3]: https://www.rfc-editor.org/rfc/rfc6455#section-5.3
func NewKey() Key {
	r := randBufs.Get().(*randBuf)
	if r.n > randBatch-len(Key{}) {
		// crypto/rand.Read never returns an error: if the system source
		// fails, the runtime stops the program rather than hand out
		// predictable bytes.
		rand.Read(r.b[:])
		r.n = 0
	}
	var k Key
	copy(k[:], r.b[r.n:])
	clear(r.b[r.n : r.n+len(k)])
	r.n += len(k)
	randBufs.Put(r)
	return k
}

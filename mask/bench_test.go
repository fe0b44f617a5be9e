package mask

import (
	"fmt"
	"testing"
)

// benchSizes are the payload sizes the benchmarks report.
var benchSizes = []struct {
	name string
	n    int
}{
	{"16B", 16},
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// BenchmarkApply masks payloads with the kernel Apply picks by default.
func BenchmarkApply(b *testing.B) {
	k := Key{1, 2, 3, 4}
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			buf := make([]byte, s.n)
			b.SetBytes(int64(s.n))
			for b.Loop() {
				k.Apply(buf, 1)
			}
		})
	}
}

// BenchmarkCopy is the baseline for BenchmarkApply: copy() of the same
// sizes, which the runtime does with memmove.
func BenchmarkCopy(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			src := make([]byte, s.n)
			dst := make([]byte, s.n)
			b.SetBytes(int64(s.n))
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}

// BenchmarkKernel masks payloads with each kernel this build has.
func BenchmarkKernel(b *testing.B) {
	k := Key{1, 2, 3, 4}
	for _, kern := range kernels() {
		for _, s := range benchSizes {
			b.Run(kern.name+"/"+s.name, func(b *testing.B) {
				defer kern.use(b)()
				buf := make([]byte, s.n)
				b.SetBytes(int64(s.n))
				for b.Loop() {
					k.Apply(buf, 1)
				}
			})
		}
	}
}

// BenchmarkShort compares the byte loop with the word kernel on short
// payloads; where the word kernel starts to win is byteLoopMax.
func BenchmarkShort(b *testing.B) {
	k := Key{1, 2, 3, 4}
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 32} {
		buf := make([]byte, n)
		b.Run(fmt.Sprintf("bytes/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				pos := 1
				for i := range buf {
					buf[i] ^= k[pos]
					pos = (pos + 1) & 3
				}
			}
		})
		b.Run(fmt.Sprintf("words/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				xorWords(buf, k.pattern(1))
			}
		})
	}
}

func BenchmarkNewKey(b *testing.B) {
	for b.Loop() {
		NewKey()
	}
}

func BenchmarkNewKeyParallel(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			NewKey()
		}
	})
}

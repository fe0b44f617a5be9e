//go:build amd64 && !purego

package mask

import (
	"fmt"
	"testing"
)

// BenchmarkAsmThreshold compares the assembly kernels with the portable
// word kernel around asmMin, the length from which Apply calls assembly.
func BenchmarkAsmThreshold(b *testing.B) {
	k := Key{1, 2, 3, 4}
	for _, n := range []int{32, 64, 96, 128, 256, 512} {
		buf := make([]byte, n)
		b.Run(fmt.Sprintf("avx2/%d", n), func(b *testing.B) {
			if !hasAVX2() {
				b.Skip("no AVX2")
			}
			b.SetBytes(int64(n))
			for b.Loop() {
				xorAVX2(buf, k.pattern(1))
			}
		})
		b.Run(fmt.Sprintf("sse2/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				xorSSE2(buf, k.pattern(1))
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

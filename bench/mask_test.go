// Package bench compares this module's packages with the peer libraries.
// It holds tests and benchmarks only.
package bench

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/gobwas/ws"

	"github.com/rfc6455/websocket/mask"
)

// maskSizes are the payload sizes of mask's own benchmarks.
var maskSizes = []struct {
	name string
	n    int
}{
	{"16B", 16},
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// TestMaskAgreesWithGobwas checks that mask.Key.Apply and ws.Cipher mask
// alike for every length up to 300 and every key position, so that the
// benchmark compares two implementations of the same thing.
func TestMaskAgreesWithGobwas(t *testing.T) {
	t.Parallel()
	k := mask.Key{0x37, 0xfa, 0x21, 0x3d}
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 300; n++ {
		for pos := range 4 {
			orig := make([]byte, n)
			for i := range orig {
				orig[i] = byte(rng.Uint32())
			}
			got := bytes.Clone(orig)
			want := bytes.Clone(orig)
			k.Apply(got, pos)
			ws.Cipher(want, [4]byte(k), pos)
			if !bytes.Equal(got, want) {
				t.Fatalf("len %d, pos %d: Apply =\n%x\nws.Cipher =\n%x", n, pos, got, want)
			}
		}
	}
}

// BenchmarkMask runs gobwas/ws's ws.Cipher, mask.Key.Apply and a copy()
// baseline on the same sizes in one run, so that their ratios can be
// quoted. All start at key position 1.
func BenchmarkMask(b *testing.B) {
	k := mask.Key{1, 2, 3, 4}
	for _, s := range maskSizes {
		b.Run(s.name+"/gobwas", func(b *testing.B) {
			buf := make([]byte, s.n)
			b.SetBytes(int64(s.n))
			for b.Loop() {
				ws.Cipher(buf, [4]byte(k), 1)
			}
		})
		b.Run(s.name+"/mask", func(b *testing.B) {
			buf := make([]byte, s.n)
			b.SetBytes(int64(s.n))
			for b.Loop() {
				k.Apply(buf, 1)
			}
		})
		b.Run(s.name+"/copy", func(b *testing.B) {
			src := make([]byte, s.n)
			dst := make([]byte, s.n)
			b.SetBytes(int64(s.n))
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}

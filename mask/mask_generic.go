//go:build !amd64 || purego

package mask

import "math"

// asmMin is the payload length from which Apply hands b to assembly. This
// build has none, so no slice is that long and Apply always takes the
// portable word kernel.
const asmMin = math.MaxInt

// xorAsm is never reached in this build; it stands in for the assembly
// kernels so that Apply reads the same on every architecture.
func xorAsm(b []byte, key uint64) {
	xorWords(b, key)
}

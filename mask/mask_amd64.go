//go:build amd64 && !purego

package mask

// asmMin is the payload length from which Apply hands b to an assembly
// kernel. The kernels need at least 32 bytes to align their stores, and
// BenchmarkAsmThreshold shows the portable word kernel as fast or faster
// up to 64 bytes (3.4 ns against 4.0 ns) and slower from 96 on (4.6 ns
// against 4.2 ns, 7.2 ns against 5.5 ns at 256).
const asmMin = 96

// useAVX2 selects the AVX2 kernel over the SSE2 one, which every amd64
// processor has. It is set once, before main runs; tests clear it to run
// the SSE2 kernel on machines that have AVX2.
var useAVX2 = hasAVX2()

// xorAsm XORs b with the repeating 8-byte pattern key, whose low byte
// applies to b[0], using the kernel useAVX2 selects. len(b) must be at
// least 32.
func xorAsm(b []byte, key uint64) {
	if useAVX2 {
		xorAVX2(b, key)
		return
	}
	xorSSE2(b, key)
}

// hasAVX2 reports whether the processor has AVX2 and the operating system
// saves the YMM registers, following the Intel SDM's recipe: CPUID leaf 1
// must show OSXSAVE and AVX, XCR0 must enable the XMM and YMM state, and
// CPUID leaf 7 must show AVX2.
func hasAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	const (
		osxsave = 1 << 27 // CPUID.1:ECX
		avx     = 1 << 28 // CPUID.1:ECX
		avx2    = 1 << 5  // CPUID.(7,0):EBX
		xmmYMM  = 1<<1 | 1<<2
	)
	_, _, ecx1, _ := cpuid(1, 0)
	if ecx1&(osxsave|avx) != osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&xmmYMM != xmmYMM {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&avx2 != 0
}

// cpuid executes CPUID with EAX=leaf and ECX=sub.
//
//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv returns XCR0. Only call it when CPUID reports OSXSAVE.
//
//go:noescape
func xgetbv() (eax, edx uint32)

// xorSSE2 is xorAsm with 16-byte vectors. len(b) must be at least 32.
//
//go:noescape
func xorSSE2(b []byte, key uint64)

// xorAVX2 is xorAsm with 32-byte vectors. len(b) must be at least 32.
//
//go:noescape
func xorAVX2(b []byte, key uint64)

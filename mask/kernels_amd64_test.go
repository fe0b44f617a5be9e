//go:build amd64 && !purego

package mask

import "testing"

// kernels lists the masking kernels this build can run, the one Apply
// picks by default first. use makes Apply run the kernel and returns a
// function that restores the default; tests that call it must not run in
// parallel with others.
func kernels() []kernel {
	ks := []kernel{{
		name: "sse2",
		use: func(t testing.TB) func() {
			old := useAVX2
			useAVX2 = false
			return func() { useAVX2 = old }
		},
	}}
	if hasAVX2() {
		ks = append([]kernel{{
			name: "avx2",
			use: func(t testing.TB) func() {
				old := useAVX2
				useAVX2 = true
				return func() { useAVX2 = old }
			},
		}}, ks...)
	}
	return ks
}

func TestDefaultKernel(t *testing.T) {
	if useAVX2 != hasAVX2() {
		t.Errorf("useAVX2 = %v, want %v (what CPUID reports)", useAVX2, hasAVX2())
	}
	t.Logf("AVX2: %v", useAVX2)
}

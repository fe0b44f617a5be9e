//go:build !amd64 || purego

package mask

import "testing"

// kernels lists the masking kernels this build can run: only the portable
// one without assembly.
func kernels() []kernel {
	return []kernel{{
		name: "generic",
		use:  func(t testing.TB) func() { return func() {} },
	}}
}

package utf8check

import (
	"testing"
	"unicode/utf8"
)

// FuzzValidator feeds random bytes to a Validator in pieces whose lengths
// come from cuts, and checks the verdict against unicode/utf8.Valid and the
// failure index against the brute-force reference: the first byte at which
// the input stops being a prefix of any valid UTF-8. It also checks Valid,
// and the same input fed a byte at a time.
func FuzzValidator(f *testing.F) {
	for _, p := range stressInputs() {
		f.Add(pad(p, 17, 3), []byte{5, 0, 9})
	}
	for _, in := range benchInputs {
		f.Add(in.text[:100], []byte{16, 3, 40})
	}
	f.Add([]byte(kosme+"\xf4\x90\x80\x80edited"), []byte{11, 1, 1})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		if len(data) > 4096 {
			data = data[:4096] // keep the quadratic reference quick
		}
		wantFail := refFailIndex(data)
		wantValid := utf8.Valid(data)
		if wantValid && wantFail >= 0 {
			t.Fatalf("reference: valid %x fails at %d", data, wantFail)
		}
		if got := Valid(data); got != wantValid {
			t.Fatalf("Valid(%x) = %v, want %v", data, got, wantValid)
		}
		k := 0
		fail, complete := feed(t, data, func(rest []byte) int {
			if k < len(cuts) {
				k++
				return int(cuts[k-1])
			}
			return len(rest)
		})
		if fail != wantFail || (fail < 0 && complete != wantValid) {
			t.Fatalf("%x in pieces %v: fail %d, complete %v; want fail %d, complete %v", data, cuts, fail, complete, wantFail, wantValid)
		}
		fail, complete = feed(t, data, func([]byte) int { return 1 })
		if fail != wantFail || (fail < 0 && complete != wantValid) {
			t.Fatalf("%x a byte at a time: fail %d, complete %v; want fail %d, complete %v", data, fail, complete, wantFail, wantValid)
		}
	})
}

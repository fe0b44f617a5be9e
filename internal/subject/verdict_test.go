package subject

import (
	"testing"

	"github.com/rfc6455/websocket/internal/wstest"
)

func TestFailures(t *testing.T) {
	const ok, info, failed, nonStrict, unclean = wstest.OK, wstest.Informational, wstest.Behavior("FAILED"), wstest.Behavior("NON-STRICT"), wstest.Behavior("UNCLEAN")
	tests := []struct {
		id            string
		behavior      wstest.Behavior
		behaviorClose wstest.Behavior
		fails         bool
	}{
		{"1.1.1", ok, ok, false},
		{"1.1.1", ok, info, false},
		{"1.1.1", failed, ok, true},
		{"1.1.1", nonStrict, ok, true},
		{"1.1.1", info, ok, true}, // only three cases may be informational
		{"1.1.1", ok, unclean, true},
		{"1.1.1", ok, failed, true},
		{"7.1.6", info, ok, false},
		{"7.13.1", info, info, false},
		{"7.13.2", ok, ok, true}, // Autobahn always says INFORMATIONAL here
	}
	for _, tt := range tests {
		r := &wstest.Result{ID: tt.id, Behavior: tt.behavior, BehaviorClose: tt.behaviorClose}
		failures, counts := Failures([]*wstest.Result{r})
		if got := len(failures) > 0; got != tt.fails {
			t.Errorf("case %s, behavior %s, close %s: failed %v, want %v (%q)", tt.id, tt.behavior, tt.behaviorClose, got, tt.fails, failures)
		}
		if counts[tt.behavior] != 1 {
			t.Errorf("case %s: counts %v, want one %s", tt.id, counts, tt.behavior)
		}
	}
}

// TestCases checks the selection: section 9 only when asked, and of
// sections 12 and 13 the quick rows unless WSTEST_DEFLATE=full.
func TestCases(t *testing.T) {
	count := func(cases []wstest.Case, prefix string) int {
		n := 0
		for _, c := range cases {
			if len(c.ID) >= len(prefix) && c.ID[:len(prefix)] == prefix {
				n++
			}
		}
		return n
	}
	t.Setenv("WSTEST_DEFLATE", "")
	all, err := Cases(false)
	if err != nil {
		t.Fatal(err)
	}
	small, err := Cases(true)
	if err != nil {
		t.Fatal(err)
	}
	if count(all, "9.") == 0 || count(small, "9.") != 0 {
		t.Errorf("section 9: %d cases with it, %d without, want some and none", count(all, "9."), count(small, "9."))
	}
	t.Setenv("WSTEST_DEFLATE", "full")
	full, err := Cases(false)
	if err != nil {
		t.Fatal(err)
	}
	// Of 18 rows per subsection, the quick form keeps 4.
	if q, f := count(all, "12.")+count(all, "13."), count(full, "12.")+count(full, "13."); f != 216 || q*18 != f*4 {
		t.Errorf("sections 12 and 13: %d cases quick, %d full; want 216 full and 4 rows in 18 quick", q, f)
	}
}

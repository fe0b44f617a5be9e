package subject

import (
	"fmt"
	"os"

	"github.com/rfc6455/websocket/internal/wstest"
)

// informational are the cases Autobahn always judges INFORMATIONAL: the
// RFC leaves their outcome open.
var informational = map[string]bool{"7.1.6": true, "7.13.1": true, "7.13.2": true}

// Failures returns one line for every result a conformant subject must
// not get: a behaviour other than OK (INFORMATIONAL for the cases
// Autobahn always judges so), or a closing handshake judged neither OK
// nor INFORMATIONAL. It also counts the results by behaviour.
func Failures(results []*wstest.Result) (failures []string, counts map[wstest.Behavior]int) {
	counts = map[wstest.Behavior]int{}
	for _, r := range results {
		counts[r.Behavior]++
		want := wstest.OK
		if informational[r.ID] {
			want = wstest.Informational
		}
		closeOK := r.BehaviorClose == wstest.OK || r.BehaviorClose == wstest.Informational
		if r.Behavior != want || !closeOK {
			failures = append(failures, fmt.Sprintf("case %s (%s): behavior %s, close %s: %s / %s",
				r.ID, r.Description, r.Behavior, r.BehaviorClose, r.Result, r.ResultClose))
		}
	}
	return failures, counts
}

// deflateQuickRows are the rows of each 12.x and 13.x subsection the
// conformance tests run by default (16, 256 and 1024 octets, and 8192 in
// 256-octet frames); the other rows are 4 KiB to 128 KiB messages, a
// thousand each, which take minutes per role on two cores.
var deflateQuickRows = map[int]bool{1: true, 3: true, 4: true, 11: true}

// Cases selects the catalogue the conformance tests run: every case, but
// section 9 (messages of up to 16 MiB) when withoutBig is set, and of
// sections 12 and 13 (permessage-deflate) only deflateQuickRows unless
// the environment sets WSTEST_DEFLATE=full, as .ci/run does.
func Cases(withoutBig bool) ([]wstest.Case, error) {
	var exclude []string
	if withoutBig {
		exclude = append(exclude, "9.*")
	}
	if os.Getenv("WSTEST_DEFLATE") != "full" {
		for row := 1; row <= 18; row++ {
			if !deflateQuickRows[row] {
				exclude = append(exclude, fmt.Sprintf("12.*.%d", row), fmt.Sprintf("13.*.%d", row))
			}
		}
	}
	return wstest.Select(wstest.Catalogue(), []string{"*"}, exclude)
}

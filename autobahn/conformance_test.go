package autobahn_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/rfc6455/websocket/internal/subject"
	"github.com/rfc6455/websocket/internal/wstest"
)

// informational are the cases Autobahn always judges INFORMATIONAL: the
// RFC leaves their outcome open.
var informational = map[string]bool{"7.1.6": true, "7.13.1": true, "7.13.2": true}

// checkResults fails the test for every case that is not OK (or
// INFORMATIONAL where Autobahn always says so), in behaviour or in the
// closing handshake.
func checkResults(t *testing.T, results []*wstest.Result) {
	t.Helper()
	counts := map[wstest.Behavior]int{}
	for _, r := range results {
		counts[r.Behavior]++
		want := wstest.OK
		if informational[r.ID] {
			want = wstest.Informational
		}
		closeOK := r.BehaviorClose == wstest.OK || r.BehaviorClose == wstest.Informational
		if r.Behavior != want || !closeOK {
			t.Errorf("case %s (%s): behavior %s, close %s: %s / %s", r.ID, r.Description, r.Behavior, r.BehaviorClose, r.Result, r.ResultClose)
		}
	}
	t.Logf("%d cases: %v", len(results), counts)
}

// Sections 12 and 13 (permessage-deflate) run in their quick form by
// default (deflateQuickRows, a few seconds); WSTEST_DEFLATE=full runs all
// 216 cases (several minutes per role on two cores), as .ci/run does.
// deflateQuickRows are the rows of each 12.x and 13.x subsection run by
// default (16, 256 and 1024 octets, and 8192 in 256-octet frames); the
// other rows are 4 KiB to 128 KiB messages, a thousand each.
var deflateQuickRows = map[int]bool{1: true, 3: true, 4: true, 11: true}

func selectCases(t *testing.T) []wstest.Case {
	var exclude []string
	if testing.Short() {
		exclude = append(exclude, "9.*")
	}
	if os.Getenv("WSTEST_DEFLATE") != "full" {
		for row := 1; row <= 18; row++ {
			if !deflateQuickRows[row] {
				exclude = append(exclude, fmt.Sprintf("12.*.%d", row), fmt.Sprintf("13.*.%d", row))
			}
		}
	}
	cases, err := wstest.Select(wstest.Catalogue(), []string{"*"}, exclude)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestServerConformance runs the whole Go-native Autobahn catalogue
// against our server.
func TestServerConformance(t *testing.T) {
	s := httptest.NewServer(subject.EchoHandler())
	defer s.Close()
	c := &wstest.Client{
		URL:      "ws" + strings.TrimPrefix(s.URL, "http"),
		Agent:    "rfc6455-websocket",
		Cases:    selectCases(t),
		Parallel: 4,
	}
	results, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(c.Cases) {
		t.Fatalf("%d results for %d cases", len(results), len(c.Cases))
	}
	checkResults(t, results)
}

// TestClientConformance runs the whole catalogue against our client
// through the fuzzing server protocol.
func TestClientConformance(t *testing.T) {
	srv := &wstest.Server{Cases: selectCases(t)}
	s := httptest.NewServer(srv)
	defer s.Close()
	const agent = "rfc6455-websocket"
	// No case timeout of the client's own: the suite drops each case's
	// connection at the case's limit.
	err := subject.RunClient(context.Background(), "ws"+strings.TrimPrefix(s.URL, "http"), agent, nil, 0, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	results := srv.Results()[agent]
	if len(results) != len(srv.Cases) {
		t.Fatalf("%d results for %d cases", len(results), len(srv.Cases))
	}
	checkResults(t, results)
}

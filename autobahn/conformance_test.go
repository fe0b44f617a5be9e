package autobahn_test

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rfc6455/websocket/internal/subject"
	"github.com/rfc6455/websocket/internal/wstest"
)

// checkResults fails the test for every case a conformant subject must
// not get (subject.Failures).
func checkResults(t *testing.T, results []*wstest.Result) {
	t.Helper()
	failures, counts := subject.Failures(results)
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d cases: %v", len(results), counts)
}

// selectCases is the catalogue, without section 9 under -short; see
// subject.Cases for the rows of sections 12 and 13 it runs.
func selectCases(t *testing.T) []wstest.Case {
	cases, err := subject.Cases(testing.Short())
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
	runServerCases(t, "ws"+strings.TrimPrefix(s.URL, "http"), "rfc6455-websocket")
}

// runServerCases runs the catalogue against the echo server at url and
// checks the results.
func runServerCases(t *testing.T, url, agent string) {
	t.Helper()
	c := &wstest.Client{URL: url, Agent: agent, Cases: selectCases(t), Parallel: 4}
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

// TestEventLoopConformance runs the whole catalogue against our echo
// server on event loops, through both of the ways a connection reaches
// them: upgraded from net/http, and accepted from a listener.
func TestEventLoopConformance(t *testing.T) {
	for _, path := range []string{"http", "listener"} {
		t.Run(path, func(t *testing.T) {
			s := subject.EventLoopEcho()
			defer s.Close()
			var url string
			if path == "http" {
				hs := httptest.NewServer(s)
				defer hs.Close()
				url = "ws" + strings.TrimPrefix(hs.URL, "http")
			} else {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				go s.Serve(l)
				url = "ws://" + l.Addr().String()
			}
			runServerCases(t, url, "rfc6455-websocket-eventloop")
		})
	}
}

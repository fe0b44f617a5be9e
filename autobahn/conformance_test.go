package autobahn_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rfc6455/websocket/autobahn/wstest"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

// informational are the cases Autobahn always judges INFORMATIONAL: the
// RFC leaves their outcome open.
var informational = map[string]bool{"7.1.6": true, "7.13.1": true, "7.13.2": true}

// echoHandler is the echo server of cmd/echoserver.
func echoHandler() http.Handler {
	return &server.Handler{
		Options: &server.Options{Conn: conn.Options{ReadLimit: 64 << 20}},
		Serve: func(c *conn.Conn, r *http.Request) {
			ctx := context.Background()
			var buf []byte
			for {
				typ, msg, err := c.Read(ctx, buf[:0])
				if err != nil {
					return
				}
				if err := c.Write(ctx, typ, msg); err != nil {
					return
				}
				buf = msg
			}
		},
	}
}

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
			want = wstest.Behavior("INFORMATIONAL")
		}
		closeOK := r.BehaviorClose == wstest.OK || r.BehaviorClose == wstest.Behavior("INFORMATIONAL")
		if r.Behavior != want || !closeOK {
			t.Errorf("case %s (%s): behavior %s, close %s: %s / %s", r.ID, r.Description, r.Behavior, r.BehaviorClose, r.Result, r.ResultClose)
		}
	}
	t.Logf("%d cases: %v", len(results), counts)
}

func selectCases(t *testing.T) []wstest.Case {
	exclude := []string{}
	if testing.Short() {
		exclude = append(exclude, "9.*")
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
	s := httptest.NewServer(echoHandler())
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
	checkResults(t, results)
}

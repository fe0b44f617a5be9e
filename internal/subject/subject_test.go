package subject

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
	"github.com/rfc6455/websocket/server"
)

// TestRunClientCaseTimeout runs two cases against a fuzzing server whose
// first case completes the opening handshake and then sends nothing: the
// client closes that case after its timeout and goes on with the second.
func TestRunClientCaseTimeout(t *testing.T) {
	t.Parallel()
	cases, err := wstest.Select(wstest.Catalogue(), []string{"1.1.1", "1.1.2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &wstest.Server{Cases: cases}
	hung := make(chan struct{}, 2) // one per connection to case 1 that ended
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/runCase" || r.URL.Query().Get("case") != "1" {
			srv.ServeHTTP(w, r)
			return
		}
		c, err := server.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.Read(context.Background(), nil) // until the client gives up
		c.CloseNow()
		hung <- struct{}{}
	}))
	defer s.Close()
	base := "ws" + strings.TrimPrefix(s.URL, "http")
	const timeout = time.Second
	// Without the case timeout, nothing would end case 1 but this.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	err = runCase(ctx, base+"/runCase?case=1&agent=direct", ClientOptions(), timeout)
	if !errors.Is(err, errCaseTimeout) {
		t.Fatalf("runCase of a hung case: %v, want an error matching errCaseTimeout", err)
	}
	<-hung // the connection was closed, so the server's Read returned

	if err := RunClient(ctx, base, "agent", nil, timeout, t.Logf); err != nil {
		t.Fatal(err)
	}
	rs := srv.Results()["agent"]
	if len(rs) != 1 || rs[0].ID != "1.1.2" || !rs[0].Passed() {
		t.Fatalf("results %+v, want 1.1.2 passed after case 1 timed out", rs)
	}
	<-hung
}

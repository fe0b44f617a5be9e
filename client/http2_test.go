package client

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return nc, err
}

// TestHTTP2Fallback checks Dial with HTTP2 against a server that speaks
// HTTP/2 but does not allow extended CONNECT (this test process does not
// set GODEBUG=http2xconnect=1): it falls back to an HTTP/1.1 upgrade, and
// the next Dial goes to HTTP/1.1 at once.
func TestHTTP2Fallback(t *testing.T) {
	s := httptest.NewUnstartedServer(&server.Handler{Serve: func(c *conn.Conn, r *http.Request) {
		c.Write(r.Context(), conn.Text, []byte(r.Proto))
		c.Read(r.Context(), nil)
	}})
	cl := &countingListener{Listener: s.Listener}
	s.Listener = cl
	s.EnableHTTP2 = true
	s.StartTLS()
	defer s.Close()
	opts := &Options{HTTP2: &HTTP2{}, TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig}
	url := "wss" + strings.TrimPrefix(s.URL, "https")
	for i, wantConns := range []int32{2, 3} {
		c, resp, err := Dial(ctx, url, opts)
		if err != nil {
			t.Fatalf("Dial %d: %v", i, err)
		}
		if resp.StatusCode != 101 {
			t.Errorf("Dial %d: status %d, want 101", i, resp.StatusCode)
		}
		if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != "HTTP/1.1" {
			t.Errorf("Dial %d: the server saw %q, %v; want HTTP/1.1", i, msg, err)
		}
		c.Close(conn.CloseNormalClosure, "")
		if n := cl.n.Load(); n != wantConns {
			t.Errorf("after Dial %d: %d TCP connections, want %d", i, n, wantConns)
		}
	}
}

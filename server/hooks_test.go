package server

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
)

// hooks records the calls of conn.Options.OnOpen and OnClose.
type hooks struct {
	mu     sync.Mutex
	opened int
	codes  []conn.CloseCode
	closed chan struct{}
}

// options returns conn.Options whose OnOpen greets the client with a
// message, which only arrives intact if the handshake response went out
// before, and whose OnClose records the close code.
func (h *hooks) options() conn.Options {
	h.closed = make(chan struct{}, 10)
	return conn.Options{
		OnOpen: func(c *conn.Conn) {
			h.mu.Lock()
			h.opened++
			h.mu.Unlock()
			c.Write(ctx, conn.Text, []byte("welcome"))
		},
		OnClose: func(c *conn.Conn, code conn.CloseCode, err error) {
			h.mu.Lock()
			h.codes = append(h.codes, code)
			h.mu.Unlock()
			h.closed <- struct{}{}
		},
	}
}

// check waits for OnClose and checks that each hook was called once, with
// code.
func (h *hooks) check(t *testing.T, code conn.CloseCode) {
	t.Helper()
	select {
	case <-h.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose not called within 10 s")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.opened != 1 || len(h.codes) != 1 || h.codes[0] != code {
		t.Errorf("OnOpen called %d times, OnClose with %v; want once each, with %v", h.opened, h.codes, code)
	}
}

// TestHooks checks that Options.Conn.OnOpen and OnClose apply to the
// connections of every way to upgrade, that OnOpen runs once the
// handshake response is out, and that OnClose gets the client's code.
func TestHooks(t *testing.T) {
	tests := []struct {
		name  string
		serve func(t *testing.T, opts *Options) (url string) // serves echo with opts
	}{{
		name: "Handler",
		serve: func(t *testing.T, opts *Options) string {
			s := httptest.NewServer(&Handler{Options: opts, Serve: func(c *conn.Conn, r *http.Request) { echo(c) }})
			t.Cleanup(s.Close)
			return wsURL(s)
		},
	}, {
		name: "Upgrade",
		serve: func(t *testing.T, opts *Options) string {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c, err := Upgrade(w, r, opts); err == nil {
					echo(c)
				}
			}))
			t.Cleanup(s.Close)
			return wsURL(s)
		},
	}, {
		name: "UpgradeConn",
		serve: func(t *testing.T, opts *Options) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				if c, _, err := UpgradeConn(nc, opts); err == nil {
					echo(c)
				}
			}()
			t.Cleanup(func() { ln.Close(); <-done })
			return "ws://" + ln.Addr().String() + "/"
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h hooks
			url := tt.serve(t, &Options{Conn: h.options()})
			c, _, err := dial(t, url, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if typ, msg, err := c.Read(ctx, nil); err != nil || typ != conn.Text || string(msg) != "welcome" {
				t.Fatalf("first message: %v %q %v, want the text welcome", typ, msg, err)
			}
			if err := c.Close(4000, "done"); err != nil {
				t.Fatal(err)
			}
			h.check(t, 4000)
		})
	}
}

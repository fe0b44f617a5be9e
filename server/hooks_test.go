package server

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/internal/hooktest"
)

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
			// OnOpen greets the client with a message, which only arrives
			// intact if the handshake response went out before.
			var log hooktest.Log
			greet := func(c *conn.Conn) { c.Write(ctx, conn.Text, []byte("welcome")) }
			url := tt.serve(t, &Options{Conn: log.Options(greet)})
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
			log.Wait(t, "server", 4000, 10*time.Second)
		})
	}
}

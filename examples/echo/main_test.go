package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
)

func TestEcho(t *testing.T) {
	mux, _ := newMux(log.New(io.Discard, "", 0))
	s := httptest.NewServer(mux)
	defer s.Close()
	ctx := context.Background()
	base := "ws" + strings.TrimPrefix(s.URL, "http")
	tests := []struct {
		path    string
		welcome string
	}{
		{path: "/ws"},
		{path: "/push", welcome: "welcome over HTTP/1.1 (GET)! every message you send comes back"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c, _, err := client.Dial(ctx, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if tt.welcome != "" {
				if typ, msg, err := c.Read(ctx, nil); err != nil || typ != conn.Text || string(msg) != tt.welcome {
					t.Fatalf("welcome = %v %q %v", typ, msg, err)
				}
			}
			for _, m := range []struct {
				typ  conn.MessageType
				data string
			}{{conn.Text, `{"type":"chat","text":"hi"}`}, {conn.Binary, "\x01\x02\x03\xfa"}} {
				c.Write(ctx, m.typ, []byte(m.data))
				if typ, msg, err := c.Read(ctx, nil); err != nil || typ != m.typ || string(msg) != m.data {
					t.Errorf("echo of %v %q = %v %q %v", m.typ, m.data, typ, msg, err)
				}
			}
			if err := c.Close(conn.CloseNormalClosure, "bye"); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(page), "new WebSocket(") {
		t.Error("the page does not open a WebSocket")
	}
}

// lockedBuffer is a log destination safe for the example's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestShutdownLog checks that a connection the server closes on shutdown
// is logged as closed by the server, with 1001, not as closed by the
// client, and that the connection was compressed, as a browser's is.
func TestShutdownLog(t *testing.T) {
	var logs lockedBuffer
	mux, handlers := newMux(log.New(&logs, "", 0))
	s := httptest.NewServer(mux)
	defer s.Close()
	ctx := context.Background()
	c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/ws", &client.Options{Compression: &conn.Compression{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Extensions() == "" {
		t.Error("the example did not agree to permessage-deflate")
	}
	go c.Read(ctx, nil) // answers the server's Close frame
	c.Write(ctx, conn.Text, []byte("hi"))
	for _, h := range handlers {
		if err := h.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := logs.String()
	if !strings.Contains(got, "this endpoint closed the connection with code going away (1001)") || strings.Contains(got, "peer closed") {
		t.Errorf("log:\n%s\nwant the server's own 1001, not a close by the peer", got)
	}
}

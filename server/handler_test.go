package server

import (
	"bytes"
	"context"
	"errors"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
)

// TestHandlerReturnsAfterUpgrade checks that, over HTTP/1.1, ServeHTTP
// returns once the connection is upgraded, while Serve goes on with a
// request whose context net/http's return did not cancel, so that
// net/http lets go of its state for the connection.
func TestHandlerReturnsAfterUpgrade(t *testing.T) {
	returned := make(chan struct{})
	serveErr := make(chan error, 1)
	h := &Handler{Serve: func(c *conn.Conn, r *http.Request) {
		select {
		case <-returned:
		case <-time.After(10 * time.Second):
			serveErr <- errors.New("ServeHTTP has not returned while Serve runs")
			return
		}
		if err := r.Context().Err(); err != nil {
			serveErr <- err
			return
		}
		serveErr <- nil
		echo(c)
	}}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		close(returned)
	}))
	defer s.Close()
	c, _, err := dial(t, wsURL(s), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-serveErr; err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, conn.Text, []byte("still served")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != "still served" {
		t.Fatalf("echo = %q, %v", msg, err)
	}
	go c.Read(ctx, nil) // answers the server's Close frame
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := h.Shutdown(sctx); err != nil {
		t.Errorf("Shutdown = %v, want it to wait for Serve and succeed", err)
	}
}

// TestHandlerPanic checks that a panic in Serve is recovered and logged
// through the http.Server's ErrorLog, the connection closed, and other
// connections served on.
func TestHandlerPanic(t *testing.T) {
	var logged syncBuffer
	h := &Handler{Serve: func(c *conn.Conn, r *http.Request) {
		if r.URL.Query().Get("panic") != "" {
			panic("boom")
		}
		echo(c)
	}}
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(&logged, "", 0)
	s.Start()
	defer s.Close()
	bad, _, err := dial(t, wsURL(s)+"?panic=1", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ce *conn.CloseError
	if _, _, err := bad.Read(ctx, nil); !errors.As(err, &ce) {
		t.Errorf("Read on the connection whose Serve panicked = %v, want a *conn.CloseError", err)
	}
	if got := logged.String(); !strings.Contains(got, "panic serving") || !strings.Contains(got, "boom") {
		t.Errorf("ErrorLog got %q, want the panic", got)
	}
	good, _, err := dial(t, wsURL(s), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	good.Write(ctx, conn.Text, []byte("hi"))
	if _, msg, err := good.Read(ctx, nil); err != nil || string(msg) != "hi" {
		t.Errorf("echo after a panic elsewhere = %q, %v", msg, err)
	}
}

// A syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

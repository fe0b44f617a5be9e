package client

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

// TestOptionsValidated checks that Dial refuses options out of range
// before it connects, with an error naming the field.
func TestOptionsValidated(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		field string
	}{
		{"server window", Options{Compression: &conn.Compression{ServerMaxWindowBits: 3}}, "Options.Compression.ServerMaxWindowBits"},
		{"client window", Options{Compression: &conn.Compression{ClientMaxWindowBits: 16}}, "Options.Compression.ClientMaxWindowBits"},
		{"subprotocol", Options{Subprotocols: []string{"chat v1"}}, "Options.Subprotocols[0]"},
		{"repeated subprotocol", Options{Subprotocols: []string{"chat", "chat"}}, "Options.Subprotocols"},
		{"header injection", Options{Header: http.Header{"Origin": {"https://a\r\nX-Evil: 1"}}}, "Options.Header"},
		{"handshake header", Options{Header: http.Header{"Sec-WebSocket-Key": {"fixed"}}}, "Options.Header"},
		{"proxy header", Options{ProxyConnectHeader: http.Header{"Bad Name": {"x"}}}, "Options.ProxyConnectHeader"},
		{"host", Options{Host: "a\r\nb"}, "Options.Host"},
		{"timeout", Options{HandshakeTimeout: -1}, "Options.HandshakeTimeout"},
		{"conn", Options{Conn: conn.Options{ReadBufferSize: -1}}, "Options.ReadBufferSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.DialContext = func(context.Context, string, string) (net.Conn, error) {
				t.Error("Dial connected with invalid options")
				return nil, fmt.Errorf("no")
			}
			_, _, err := Dial(ctx, "ws://example.com/", &tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Dial = %v, want an error naming %s", err, tt.field)
			}
		})
	}
}

// TestCompressionOnlyWhenAgreed checks that asking for compression from a
// server that does not agree to it leaves the connection uncompressed:
// the server reads plain frames, and Extensions reports nothing.
func TestCompressionOnlyWhenAgreed(t *testing.T) {
	s := httptest.NewServer(&server.Handler{Serve: func(c *conn.Conn, r *http.Request) {
		// The server would fail the connection with 1002 on an RSV1 frame.
		_, msg, err := c.Read(r.Context(), nil)
		if err != nil {
			return
		}
		c.Write(r.Context(), conn.Text, msg)
	}})
	defer s.Close()
	c, _, err := Dial(ctx, wsURL(s), &Options{Compression: &conn.Compression{}, Conn: conn.Options{CompressionThreshold: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Extensions() != "" {
		t.Errorf("Extensions() = %q, want none", c.Extensions())
	}
	msg := strings.Repeat("compressible ", 100)
	if err := c.Write(ctx, conn.Text, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx, nil); err != nil || string(got) != msg {
		t.Fatalf("echo: %d bytes, %v", len(got), err)
	}
}

// TestSharedOptions checks that Dials sharing one Options value share no
// state: each connection echoes its own messages, concurrently.
func TestSharedOptions(t *testing.T) {
	s := httptest.NewServer(echoHandler())
	defer s.Close()
	opts := &Options{Subprotocols: []string{"chat"}, Compression: &conn.Compression{}, Conn: conn.Options{ReadBufferSize: 512}}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c, _, err := Dial(ctx, wsURL(s), opts)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.CloseNow()
			c.Read(ctx, nil) // the server's greeting
			for j := range 50 {
				msg := []byte(fmt.Sprintf("connection %d message %d %s", i, j, strings.Repeat("x", i*100)))
				if err := c.Write(ctx, conn.Binary, msg); err != nil {
					t.Error(err)
					return
				}
				if _, got, err := c.Read(ctx, nil); err != nil || string(got) != string(msg) {
					t.Errorf("connection %d: echo %q, %v; want %q", i, got, err, msg)
					return
				}
			}
			c.Close(conn.CloseNormalClosure, "")
		})
	}
	wg.Wait()
}

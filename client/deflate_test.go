package client

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/server"
)

// deflateEchoServer echoes every message after sending the
// Sec-WebSocket-Extensions value the server agreed to.
func deflateEchoServer(want *conn.Compression) *httptest.Server {
	return httptest.NewServer(&server.Handler{
		Options: &server.Options{Compression: want, Conn: conn.Options{CompressionThreshold: -1}},
		Serve: func(c *conn.Conn, r *http.Request) {
			c.Write(ctx, conn.Text, []byte(c.Extensions()))
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
	})
}

func TestDialDeflate(t *testing.T) {
	tests := []struct {
		name   string
		server *conn.Compression
		client *conn.Compression
		want   string // the agreed Sec-WebSocket-Extensions
	}{{
		name:   "server does not compress",
		client: &conn.Compression{},
		want:   "",
	}, {
		name:   "client does not offer",
		server: &conn.Compression{},
		want:   "",
	}, {
		name:   "defaults: context takeover both ways",
		server: &conn.Compression{},
		client: &conn.Compression{},
		want:   "permessage-deflate",
	}, {
		name:   "server asks for no context takeover",
		server: &conn.Compression{ServerNoContextTakeover: true, ClientNoContextTakeover: true},
		client: &conn.Compression{},
		want:   "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	}, {
		name:   "server limits the client's window",
		server: &conn.Compression{ClientMaxWindowBits: 9},
		client: &conn.Compression{},
		want:   "permessage-deflate; client_max_window_bits=9",
	}, {
		name:   "client limits the server's window",
		server: &conn.Compression{ServerMaxWindowBits: 12},
		client: &conn.Compression{ServerMaxWindowBits: 10, ClientNoContextTakeover: true},
		want:   "permessage-deflate; client_no_context_takeover; server_max_window_bits=10",
	}, {
		name:   "client limits its own window",
		server: &conn.Compression{},
		client: &conn.Compression{ClientMaxWindowBits: 8},
		want:   "permessage-deflate; client_max_window_bits=8",
	}, {
		name:   "smallest windows, no takeover",
		server: &conn.Compression{ServerMaxWindowBits: 8, ClientMaxWindowBits: 8, ServerNoContextTakeover: true},
		client: &conn.Compression{ClientNoContextTakeover: true},
		want:   "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8",
	}}
	var big []byte
	for i := range 3000 {
		big = fmt.Appendf(big, `{"id":%d,"name":"item %d","tags":["a","b"]},`, i, i*7%100)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := deflateEchoServer(tt.server)
			defer s.Close()
			c, _, err := Dial(ctx, wsURL(s), &Options{Proxy: noProxy, Compression: tt.client, Conn: conn.Options{CompressionThreshold: -1}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			_, serverSaw, err := c.Read(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(serverSaw) != tt.want || c.Extensions() != tt.want {
				t.Errorf("extensions: server %q, client %q; want %q", serverSaw, c.Extensions(), tt.want)
			}
			for i, msg := range [][]byte{[]byte("hello"), big, []byte("hello again"), nil, big[:5000]} {
				if err := c.Write(ctx, conn.Text, msg); err != nil {
					t.Fatal(err)
				}
				_, got, err := c.Read(ctx, nil)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("message %d: echo of %d bytes, %v; want %d bytes", i, len(got), err, len(msg))
				}
			}
		})
	}
}

func TestDialDeflateOffer(t *testing.T) {
	tests := []struct {
		name  string
		offer *conn.Compression
		want  string
	}{
		{name: "defaults", offer: &conn.Compression{}, want: "permessage-deflate; client_max_window_bits"},
		{name: "all", offer: &conn.Compression{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 11}, want: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan string, 1)
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.Header.Get("Sec-WebSocket-Extensions")
				http.Error(w, "no", http.StatusForbidden)
			}))
			defer s.Close()
			Dial(ctx, wsURL(s), &Options{Proxy: noProxy, Compression: tt.offer})
			if offer := <-got; offer != tt.want {
				t.Errorf("offer %q, want %q", offer, tt.want)
			}
		})
	}
}

// TestDialDeflateBadResponse checks that a response naming what was not
// offered, or values out of range, fails the handshake (RFC 7692, Section
// 7.1).
func TestDialDeflateBadResponse(t *testing.T) {
	tests := []struct {
		name     string
		offer    conn.Compression
		response string
	}{
		{name: "unknown parameter", response: "permessage-deflate; foo"},
		{name: "window out of range", response: "permessage-deflate; server_max_window_bits=7"},
		{name: "window with a leading zero", response: "permessage-deflate; server_max_window_bits=010"},
		{name: "duplicate parameter", response: "permessage-deflate; server_no_context_takeover; server_no_context_takeover"},
		{name: "client window above the offered", offer: conn.Compression{ClientMaxWindowBits: 10}, response: "permessage-deflate; client_max_window_bits=12"},
		{name: "server window above the offered", offer: conn.Compression{ServerMaxWindowBits: 10}, response: "permessage-deflate; server_max_window_bits=11"},
		{name: "offered server window ignored", offer: conn.Compression{ServerMaxWindowBits: 10}, response: "permessage-deflate"},
		{name: "two answers", response: "permessage-deflate, permessage-deflate"},
		{name: "another extension", response: "x-webkit-deflate-frame"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nc, brw, _ := http.NewResponseController(w).Hijack()
				defer nc.Close()
				key := r.Header.Get("Sec-WebSocket-Key")
				brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + handshake.AcceptKey(key) + "\r\nSec-WebSocket-Extensions: " + tt.response + "\r\n\r\n")
				brw.Flush()
			}))
			defer s.Close()
			offer := tt.offer
			c, _, err := Dial(ctx, wsURL(s), &Options{Proxy: noProxy, Compression: &offer})
			var he *HandshakeError
			if !errors.As(err, &he) {
				if c != nil {
					c.CloseNow()
				}
				t.Fatalf("Dial with response %q = %v, want a HandshakeError", tt.response, err)
			}
		})
	}
}

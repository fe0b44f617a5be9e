package server

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/handshake"
)

const validRequest = "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

// TestUpgradeSendsHandlerHeader checks that the fields a handler or
// middleware set in w.Header() go out with the 101, as with any response,
// beside Options.Header, while those of the handshake itself are its own.
func TestUpgradeSendsHandlerHeader(t *testing.T) {
	middleware := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "42")
			w.Header().Add("Set-Cookie", "session=abc; HttpOnly")
			w.Header().Set("Connection", "close") // the handshake's own
			next.ServeHTTP(w, r)
		})
	}
	h := &Handler{Options: &Options{Header: http.Header{"X-Static": {"yes"}}}, Serve: func(c *conn.Conn, r *http.Request) { echo(c) }}
	s := httptest.NewServer(middleware(h))
	defer s.Close()
	resp := rawRequest(t, s.Listener.Addr().String(), validRequest+"\r\n")
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for name, want := range map[string]string{"X-Request-Id": "42", "Set-Cookie": "session=abc; HttpOnly", "X-Static": "yes", "Connection": "Upgrade"} {
		if got := resp.Header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("response field %s = %q, want %q", name, got, want)
		}
	}
}

// TestHandlerReportsUpgradeErrors checks that a Handler tells its owner
// about every request it did not upgrade, and still answers as before.
func TestHandlerReportsUpgradeErrors(t *testing.T) {
	var mu sync.Mutex
	var got []error
	h := &Handler{
		Serve: func(c *conn.Conn, r *http.Request) {},
		OnUpgradeError: func(r *http.Request, err error) {
			mu.Lock()
			got = append(got, err)
			mu.Unlock()
		},
	}
	s := httptest.NewServer(h)
	defer s.Close()
	tests := []struct {
		req    string
		status int
		is     error
	}{
		{validRequest + "Origin: https://evil.example\r\n\r\n", 403, handshake.ErrOrigin},
		{strings.Replace(validRequest, "13", "8", 1) + "\r\n", 426, handshake.ErrBadVersion},
		{strings.Replace(validRequest, "Upgrade: websocket\r\n", "", 1) + "\r\n", 400, nil},
	}
	for i, tt := range tests {
		resp := rawRequest(t, s.Listener.Addr().String(), tt.req)
		if resp.StatusCode != tt.status {
			t.Errorf("request %d: status %d, want %d", i, resp.StatusCode, tt.status)
		}
		mu.Lock()
		if len(got) != i+1 {
			t.Fatalf("request %d: OnUpgradeError called %d times in all, want %d", i, len(got), i+1)
		}
		err := got[i]
		mu.Unlock()
		var he *handshake.Error
		if !errors.As(err, &he) || he.Status != tt.status || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("request %d: OnUpgradeError got %v, want a *handshake.Error with status %d", i, err, tt.status)
		}
	}
}

// TestUpgradeConnRequestHeader checks that the raw path gives access to
// every header field, so that it can authenticate.
func TestUpgradeConnRequestHeader(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	go b.Write([]byte(validRequest + "Cookie: session=abc\r\nAuthorization: Bearer t0ken\r\nX-Tenant: blue\r\n\r\n"))
	go drain(b)
	c, req, err := UpgradeConn(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for name, want := range map[string]string{"Cookie": "session=abc", "Authorization": "Bearer t0ken", "x-tenant": "blue", "Host": "h"} {
		if got := req.Header(name); got != want {
			t.Errorf("Header(%q) = %q, want %q", name, got, want)
		}
	}
}

func drain(nc net.Conn) {
	var buf [512]byte
	for {
		if _, err := nc.Read(buf[:]); err != nil {
			return
		}
	}
}

// TestOptionsValidated checks that options out of range fail the upgrade
// on both paths with 500 and an error naming the field, before anything
// reaches the wire that the field would have made invalid.
func TestOptionsValidated(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		field string
	}{
		{"window bits", Options{Compression: &conn.Compression{ServerMaxWindowBits: 3}}, "Options.Compression.ServerMaxWindowBits"},
		{"client window bits", Options{Compression: &conn.Compression{ClientMaxWindowBits: 16}}, "Options.Compression.ClientMaxWindowBits"},
		{"subprotocol", Options{Subprotocols: []string{"chat, superchat"}}, "Options.Subprotocols[0]"},
		{"origin pattern", Options{OriginPatterns: []string{"[a-"}}, "Options.OriginPatterns[0]"},
		{"header injection", Options{Header: http.Header{"X-A": {"1\r\nX-Injected: 1"}}}, "Options.Header"},
		{"handshake header", Options{Header: http.Header{"Sec-WebSocket-Accept": {"forged"}}}, "Options.Header"},
		{"timeout", Options{HandshakeTimeout: -1}, "Options.HandshakeTimeout"},
		{"max header", Options{MaxHeaderBytes: -1}, "Options.MaxHeaderBytes"},
		{"conn", Options{Conn: conn.Options{CompressionLevel: 12}}, "Options.CompressionLevel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(path string, err error, status int) {
				t.Helper()
				if err == nil || !strings.Contains(err.Error(), tt.field) {
					t.Errorf("%s: error %v, want one naming %s", path, err, tt.field)
				}
				if status != http.StatusInternalServerError {
					t.Errorf("%s: status %d, want 500", path, status)
				}
			}
			errc := make(chan error, 1)
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err := Upgrade(w, r, &tt.opts)
				errc <- err
			}))
			defer s.Close()
			resp := rawRequest(t, s.Listener.Addr().String(), validRequest+"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
			check("Upgrade", <-errc, resp.StatusCode)

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				_, _, err = UpgradeConn(nc, &tt.opts)
				errc <- err
			}()
			resp = rawRequest(t, ln.Addr().String(), validRequest+"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
			check("UpgradeConn", <-errc, resp.StatusCode)
		})
	}
}

// TestOriginWildcard checks what OriginPatterns' doc says of "*": it
// allows every origin, with a port or without.
func TestOriginWildcard(t *testing.T) {
	for _, tt := range []struct {
		patterns []string
		origin   string
		want     int
	}{
		{[]string{"*"}, "https://evil.example", 101},
		{[]string{"*"}, "https://evil.example:443", 101},
		{[]string{"*.example.com"}, "https://app.example.com", 101},
		{[]string{"*.example.com"}, "https://app.example.com:8443", 403},
		{[]string{"*.example.com:*"}, "https://app.example.com:8443", 101},
		{nil, "https://evil.example", 403},
	} {
		a, b := net.Pipe()
		go b.Write([]byte(validRequest + "Origin: " + tt.origin + "\r\n\r\n"))
		go drain(b)
		c, _, err := UpgradeConn(a, &Options{OriginPatterns: tt.patterns})
		status := 101
		var he *handshake.Error
		if errors.As(err, &he) {
			status = he.Status
		} else if err != nil {
			t.Fatal(err)
		} else {
			c.CloseNow()
		}
		if status != tt.want {
			t.Errorf("patterns %q, origin %s: status %d, want %d", tt.patterns, tt.origin, status, tt.want)
		}
		b.Close()
	}
}

// headOfSize returns a valid upgrade request head of exactly size bytes,
// padded with an X-Pad field.
func headOfSize(t *testing.T, size int) string {
	t.Helper()
	head := validRequest + "X-Pad: \r\n\r\n"
	if size < len(head) {
		t.Fatalf("no head of %d bytes", size)
	}
	return validRequest + "X-Pad: " + strings.Repeat("p", size-len(head)) + "\r\n\r\n"
}

// TestUpgradeConnMaxHeaderBytes checks that MaxHeaderBytes bounds the
// request head exactly, whatever other listeners in the process allowed
// before.
func TestUpgradeConnMaxHeaderBytes(t *testing.T) {
	upgrade := func(head string, limit int) int {
		a, b := net.Pipe()
		defer b.Close()
		go b.Write([]byte(head))
		go drain(b)
		c, _, err := UpgradeConn(a, &Options{MaxHeaderBytes: limit})
		var he *handshake.Error
		switch {
		case err == nil:
			c.CloseNow()
			return 101
		case errors.As(err, &he):
			return he.Status
		}
		t.Fatal(err)
		return 0
	}
	tests := []struct {
		name  string
		size  int
		limit int
		want  int
	}{
		{"at the limit", 1024, 1024, 101},
		{"one byte over", 1025, 1024, 431},
		{"a large head allowed", 600 << 10, 1 << 20, 101},
		{"then a small limit again", 2000, 1024, 431},
		{"the default", defaultMaxHeaderBytes, 0, 101},
		{"over the default", defaultMaxHeaderBytes + 1, 0, 431},
		{"over the default after a large head", 20 << 10, 0, 431},
	}
	for _, tt := range tests {
		if got := upgrade(headOfSize(t, tt.size), tt.limit); got != tt.want {
			t.Errorf("%s: a %d-byte head with MaxHeaderBytes %d: status %d, want %d", tt.name, tt.size, tt.limit, got, tt.want)
		}
	}
}

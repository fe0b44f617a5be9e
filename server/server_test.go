package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/mask"
)

var ctx = context.Background()

// dial performs a client handshake by hand (the client package is tested
// on its own) and returns the Conn, the response, and an error for
// non-101 answers. first, if set, is written in the same write as the
// request.
func dial(t testing.TB, rawURL string, header http.Header, protocols []string, first []byte) (*conn.Conn, *http.Response, error) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	key := handshake.NewKey()
	req := handshake.AppendRequest(nil, u, "", key, protocols, "", header)
	if _, err := nc.Write(append(req, first...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	proto, err := handshake.CheckResponse(resp, key, protocols)
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	buffered, _ := br.Peek(br.Buffered())
	c, err := conn.New(nc, frame.Client, &conn.Handshake{Subprotocol: proto, Buffered: buffered}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, resp, nil
}

func echo(c *conn.Conn) {
	var buf []byte
	for {
		typ, msg, err := c.Read(ctx, buf[:0])
		if err != nil {
			return
		}
		if c.Write(ctx, typ, msg) != nil {
			return
		}
		buf = msg
	}
}

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func TestUpgradeEcho(t *testing.T) {
	s := httptest.NewServer(&Handler{
		Options: &Options{Subprotocols: []string{"v2.chat", "chat"}},
		Serve:   func(c *conn.Conn, r *http.Request) { c.Write(ctx, conn.Text, []byte(c.Subprotocol())); echo(c) },
	})
	defer s.Close()
	tests := []struct {
		offered []string
		want    string
	}{
		{offered: []string{"chat", "v2.chat"}, want: "v2.chat"},
		{offered: []string{"chat"}, want: "chat"},
		{offered: []string{"mqtt"}, want: ""},
		{offered: nil, want: ""},
	}
	for _, tt := range tests {
		c, _, err := dial(t, wsURL(s), nil, tt.offered, nil)
		if err != nil {
			t.Fatalf("offering %q: %v", tt.offered, err)
		}
		if c.Subprotocol() != tt.want {
			t.Errorf("offering %q: client sees subprotocol %q, want %q", tt.offered, c.Subprotocol(), tt.want)
		}
		if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != tt.want {
			t.Errorf("offering %q: server sees subprotocol %q (%v), want %q", tt.offered, msg, err, tt.want)
		}
		c.Write(ctx, conn.Binary, []byte("ping?"))
		if typ, msg, err := c.Read(ctx, nil); err != nil || typ != conn.Binary || string(msg) != "ping?" {
			t.Errorf("echo = %v %q %v", typ, msg, err)
		}
		c.Close(conn.CloseNormalClosure, "")
	}
}

// rawRequest sends a request by hand and returns the response.
func rawRequest(t *testing.T, addr, req string) *http.Response {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

var rejections = []struct {
	name       string
	req        string
	wantStatus int
}{{
	name:       "POST",
	req:        "POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
	wantStatus: 405,
}, {
	name:       "version 8",
	req:        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
	wantStatus: 426,
}, {
	name:       "no key",
	req:        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
	wantStatus: 400,
}, {
	name:       "bad key",
	req:        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
	wantStatus: 400,
}, {
	name:       "no upgrade",
	req:        "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	wantStatus: 400,
}, {
	name:       "cross origin",
	req:        "GET / HTTP/1.1\r\nHost: h\r\nOrigin: https://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	wantStatus: 403,
}, {
	name:       "allowed origin",
	req:        "GET / HTTP/1.1\r\nHost: h\r\nOrigin: https://app.friend.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	wantStatus: 101,
}, {
	name:       "same origin",
	req:        "GET / HTTP/1.1\r\nHost: h:80\r\nOrigin: http://h:80\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	wantStatus: 101,
}}

var rejectOptions = &Options{OriginPatterns: []string{"*.friend.example"}}

func TestUpgradeRejects(t *testing.T) {
	errc := make(chan error, 1)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, rejectOptions)
		if err == nil {
			c.CloseNow()
		}
		errc <- err
	}))
	defer s.Close()
	for _, tt := range rejections {
		t.Run(tt.name, func(t *testing.T) {
			resp := rawRequest(t, s.Listener.Addr().String(), tt.req)
			checkRejection(t, resp, <-errc, tt.wantStatus)
		})
	}
}

func TestUpgradeConnRejects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	errc := make(chan error, 1)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			c, _, err := UpgradeConn(nc, rejectOptions)
			if err == nil {
				c.CloseNow()
			}
			errc <- err
		}
	}()
	cases := append(rejections[:len(rejections):len(rejections)], struct {
		name       string
		req        string
		wantStatus int
	}{
		name:       "header too large",
		req:        "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("x", defaultMaxHeaderBytes) + "\r\n\r\n",
		wantStatus: 431,
	}, struct {
		name       string
		req        string
		wantStatus int
	}{
		name:       "folded header",
		req:        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n  , foo\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
		wantStatus: 400,
	}, struct {
		name       string
		req        string
		wantStatus int
	}{
		name:       "HTTP/1.0",
		req:        "GET / HTTP/1.0\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
		wantStatus: 400,
	})
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			resp := rawRequest(t, ln.Addr().String(), tt.req)
			checkRejection(t, resp, <-errc, tt.wantStatus)
		})
	}
}

func checkRejection(t *testing.T, resp *http.Response, err error, wantStatus int) {
	t.Helper()
	if resp.StatusCode != wantStatus {
		t.Fatalf("status %d, want %d", resp.StatusCode, wantStatus)
	}
	if wantStatus == 101 {
		if err != nil {
			t.Errorf("upgrade error %v", err)
		}
		return
	}
	var he *handshake.Error
	if !errors.As(err, &he) || he.Status != wantStatus {
		t.Errorf("upgrade error = %v, want a *handshake.Error with status %d", err, wantStatus)
	}
	if wantStatus == 426 && resp.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Errorf("426 without Sec-WebSocket-Version: 13: %v", resp.Header)
	}
	if wantStatus == 405 && resp.Header.Get("Allow") != "GET" {
		t.Errorf("405 without Allow: GET: %v", resp.Header)
	}
}

// clientFrame returns a masked client frame.
func clientFrame(op frame.Opcode, payload string) []byte {
	h := frame.Header{Fin: true, Opcode: op, Masked: true, Key: mask.NewKey(), Length: int64(len(payload))}
	b := frame.AppendHeader(nil, h)
	n := len(b)
	b = append(b, payload...)
	h.Key.Apply(b[n:], 0)
	return b
}

// TestBufferedBytesSurvive checks that a frame sent in the same packet as
// the request reaches the Conn on both server paths.
func TestBufferedBytesSurvive(t *testing.T) {
	first := clientFrame(frame.OpText, "sent with the handshake")
	t.Run("net/http", func(t *testing.T) {
		s := httptest.NewServer(&Handler{Serve: func(c *conn.Conn, r *http.Request) { echo(c) }})
		defer s.Close()
		c, _, err := dial(t, wsURL(s), nil, nil, first)
		if err != nil {
			t.Fatal(err)
		}
		if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != "sent with the handshake" {
			t.Errorf("echo = %q, %v", msg, err)
		}
	})
	t.Run("raw", func(t *testing.T) {
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
			c, req, err := UpgradeConn(nc, nil)
			if err != nil || req.Target != "/path?q=1" {
				t.Errorf("UpgradeConn: target %q, %v", req.Target, err)
				return
			}
			echo(c)
			c.CloseNow()
		}()
		c, _, err := dial(t, "ws://"+ln.Addr().String()+"/path?q=1", nil, nil, first)
		if err != nil {
			t.Fatal(err)
		}
		if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != "sent with the handshake" {
			t.Errorf("echo = %q, %v", msg, err)
		}
	})
}

func TestShutdown(t *testing.T) {
	h := &Handler{Serve: func(c *conn.Conn, r *http.Request) { echo(c) }}
	s := httptest.NewServer(h)
	defer s.Close()
	const clients = 5
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		c, _, err := dial(t, wsURL(s), nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(ctx, conn.Text, []byte("hi"))
		c.Read(ctx, nil) // the echo: the server is serving
		go func() {
			_, _, err := c.Read(ctx, nil)
			errs <- err
		}()
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := h.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i := 0; i < clients; i++ {
		var ce *conn.CloseError
		if err := <-errs; !errors.As(err, &ce) || ce.Code != conn.CloseGoingAway {
			t.Errorf("client %d: %v, want CloseError 1001", i, err)
		}
	}
	resp := rawRequest(t, s.Listener.Addr().String(), rejections[len(rejections)-1].req)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("upgrade after Shutdown: %d, want 503", resp.StatusCode)
	}
}

// TestShutdownDeadline checks that Shutdown gives up at its context's
// deadline on a client that never answers the Close frame, closing the
// connection rather than waiting out the close timeout.
func TestShutdownDeadline(t *testing.T) {
	h := &Handler{Serve: func(c *conn.Conn, r *http.Request) { echo(c) }}
	s := httptest.NewServer(h)
	defer s.Close()
	nc, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(nc, rejections[len(rejections)-1].req)
	br := bufio.NewReader(nc)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v, %v", resp, err)
	}
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := h.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want context.DeadlineExceeded", err)
	}
	// Everything until the server closes the connection: one Close frame.
	got, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("reading until the connection closed: %v", err)
	}
	hdr, n, err := frame.ParseHeader(got)
	if err != nil || hdr.Opcode != frame.OpClose || int64(len(got)-n) != hdr.Length {
		t.Fatalf("client got %x; want one Close frame and the end of the connection", got)
	}
	if code, _, _ := frame.ParseClose(got[n:]); code != conn.CloseGoingAway {
		t.Errorf("close code %d, want 1001", code)
	}
}

// TestUpgradeConnAllocs holds the raw path to two allocations an upgrade:
// the strings of the handshake.Request it returns, and the Conn.
func TestUpgradeConnAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters allocate")
	}
	req := []byte("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://server.example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n")
	opts := &Options{Subprotocols: []string{"chat"}}
	nc := &fakeConn{}
	allocs := testing.AllocsPerRun(100, func() {
		nc.in, nc.out = req, 0
		c, _, err := UpgradeConn(nc, opts)
		if err != nil {
			t.Fatal(err)
		}
		c.CloseNow()
	})
	if allocs > 2 {
		t.Errorf("%v allocations per raw upgrade, want at most 2", allocs)
	}
}

func BenchmarkUpgrade(b *testing.B) {
	req := []byte("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://server.example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n")
	opts := &Options{Subprotocols: []string{"chat"}}
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		nc := &fakeConn{}
		for b.Loop() {
			nc.in, nc.out = req, 0
			c, _, err := UpgradeConn(nc, opts)
			if err != nil {
				b.Fatal(err)
			}
			c.CloseNow()
		}
	})
	// raw-goroutine runs each upgrade on a goroutine of its own, as a
	// server's accept loop does, so that the cost of growing a new
	// goroutine's stack shows.
	b.Run("raw-goroutine", func(b *testing.B) {
		b.ReportAllocs()
		nc := &fakeConn{}
		done := make(chan error)
		for b.Loop() {
			nc.in, nc.out = req, 0
			go func() {
				c, _, err := UpgradeConn(nc, opts)
				if err == nil {
					c.CloseNow()
				}
				done <- err
			}()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net/http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, _ := http.ReadRequest(bufio.NewReader(strings.NewReader(string(req))))
			w := &hijackRecorder{fakeConn: fakeConn{}}
			c, err := Upgrade(w, r, opts)
			if err != nil {
				b.Fatal(err)
			}
			c.CloseNow()
		}
	})
	// hijack is Upgrade alone: the request is parsed once, and the
	// ResponseWriter hands out the same connection and buffers each time.
	b.Run("hijack", func(b *testing.B) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(req))))
		if err != nil {
			b.Fatal(err)
		}
		nc := &fakeConn{}
		w := &bufHijacker{nc: nc, brw: bufio.NewReadWriter(bufio.NewReader(nc), bufio.NewWriter(nc))}
		w.header = http.Header{}
		b.ReportAllocs()
		for b.Loop() {
			w.brw.Reader.Reset(nc)
			w.brw.Writer.Reset(nc)
			c, err := Upgrade(w, r, opts)
			if err != nil {
				b.Fatal(err)
			}
			c.CloseNow()
		}
	})
}

// fakeConn is an in-memory net.Conn that reads in and discards writes.
type fakeConn struct {
	in  []byte
	out int
}

func (c *fakeConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}
func (c *fakeConn) Write(p []byte) (int, error)      { c.out += len(p); return len(p), nil }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// hijackRecorder is a ResponseWriter that can be hijacked.
type hijackRecorder struct {
	fakeConn
	header http.Header
}

func (w *hijackRecorder) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}
func (w *hijackRecorder) WriteHeader(int) {}
func (w *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return &w.fakeConn, bufio.NewReadWriter(bufio.NewReader(&w.fakeConn), bufio.NewWriter(&w.fakeConn)), nil
}

func ExampleHandler() {
	h := &Handler{Serve: func(c *conn.Conn, r *http.Request) {
		// Echo every message with its type.
		var buf []byte
		for {
			typ, msg, err := c.Read(r.Context(), buf[:0])
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
			buf = msg
		}
	}}
	s := httptest.NewServer(h)
	defer s.Close()
	fmt.Println("serving at", strings.HasPrefix(wsURL(s), "ws://127.0.0.1:"))
	// Output: serving at true
}

// BenchmarkRawHandshake measures the raw path without the Conn: parsing
// the request head, checking it and building the 101 response.
func BenchmarkRawHandshake(b *testing.B) {
	head := []byte("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://server.example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n")
	opts := &Options{Subprotocols: []string{"chat"}}
	resp := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		req, err := handshake.ParseRequest(string(head))
		if err != nil {
			b.Fatal(err)
		}
		var agreed conn.Handshake
		if err := opts.check(&req, &agreed); err != nil {
			b.Fatal(err)
		}
		resp = handshake.AppendResponse(resp[:0], req.Key, agreed.Subprotocol, agreed.Extensions, nil)
	}
}

// A bufHijacker is a ResponseWriter whose Hijack returns a given
// connection and bufio.ReadWriter, as net/http's does after reading the
// request through that bufio.Reader.
type bufHijacker struct {
	hijackRecorder
	nc  net.Conn
	brw *bufio.ReadWriter
}

func (w *bufHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.nc, w.brw, nil }

// TestUpgradeReadsThroughHijackedBuffer checks that Upgrade hands the
// bytes the hijacked bufio.Reader holds past the request to the Conn, and
// that the Conn then reads through that reader's buffer, which net/http
// keeps alive anyway, unless it needs a larger one.
func TestUpgradeReadsThroughHijackedBuffer(t *testing.T) {
	req := "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	first := clientFrame(frame.OpText, "sent with the request")
	second := clientFrame(frame.OpBinary, "sent after the response")
	tests := []struct {
		name           string
		readBufferSize int
		reused         bool
	}{
		{"default buffer", 0, true},
		{"larger buffer than net/http's", 8192, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc := &fakeConn{in: append([]byte(req), first...)}
			br := bufio.NewReaderSize(nc, 4096)
			r, err := http.ReadRequest(br)
			if err != nil {
				t.Fatal(err)
			}
			if br.Buffered() != len(first) {
				t.Fatalf("the reader holds %d bytes past the request, want %d", br.Buffered(), len(first))
			}
			nc.in = second // arrives once the response is out
			w := &bufHijacker{nc: nc, brw: bufio.NewReadWriter(br, bufio.NewWriter(nc))}
			c, err := Upgrade(w, r, &Options{Conn: conn.Options{ReadBufferSize: tt.readBufferSize}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			for _, want := range []string{"sent with the request", "sent after the response"} {
				if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != want {
					t.Fatalf("Read = %q, %v; want %q", msg, err, want)
				}
			}
			whole, _ := br.Peek(0)
			whole = whole[:cap(whole)]
			// The Conn unmasks payloads where they are in its read buffer.
			if reused := bytes.Contains(whole, []byte("sent after the response")); reused != tt.reused {
				t.Errorf("the Conn read through the hijacked reader's buffer: %v, want %v", reused, tt.reused)
			}
		})
	}
}

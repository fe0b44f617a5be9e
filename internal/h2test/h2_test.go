package h2test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

var ctx = context.Background()

// A seen records how the server saw each WebSocket request.
type seen struct {
	mu     sync.Mutex
	protos []string
}

func (s *seen) add(r *http.Request) {
	s.mu.Lock()
	s.protos = append(s.protos, r.Proto+" "+r.Method)
	s.mu.Unlock()
}

func (s *seen) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.protos...)
}

// echoHandler echoes every message, and closes with the code the client
// asks for in a text message "close NNNN".
func echoHandler(s *seen, opts *server.Options) *server.Handler {
	return &server.Handler{Options: opts, Serve: func(c *conn.Conn, r *http.Request) {
		s.add(r)
		var buf []byte
		for {
			typ, msg, err := c.Read(ctx, buf[:0])
			if err != nil {
				return
			}
			if code, ok := strings.CutPrefix(string(msg), "close "); ok {
				var n int
				fmt.Sscan(code, &n)
				c.Close(conn.CloseCode(n), "as asked")
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
			buf = msg
		}
	}}
}

// countingListener counts the connections it accepts.
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

// subject is a server over TLS with HTTP/2, or over h2c.
type subject struct {
	url    string
	opts   *client.Options
	seen   *seen
	ln     *countingListener
	server *server.Handler
}

func newSubject(t *testing.T, tlsOn bool, sopts *server.Options) *subject {
	t.Helper()
	sn := &seen{}
	h := echoHandler(sn, sopts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	sub := &subject{seen: sn, ln: cl, server: h}
	if tlsOn {
		s := httptest.NewUnstartedServer(h)
		s.Listener.Close()
		s.Listener = cl
		s.EnableHTTP2 = true
		s.StartTLS()
		t.Cleanup(s.Close)
		sub.url = "wss://" + cl.Addr().String() + "/ws"
		sub.opts = &client.Options{HTTP2: &client.HTTP2{}, TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig}
	} else {
		p := new(http.Protocols)
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		hs := &http.Server{Handler: h, Protocols: p, ReadHeaderTimeout: 5 * time.Second}
		go hs.Serve(cl)
		t.Cleanup(func() { hs.Close() })
		sub.url = "ws://" + cl.Addr().String() + "/ws"
		sub.opts = &client.Options{HTTP2: &client.HTTP2{Cleartext: true}}
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		h.Shutdown(sctx)
	})
	return sub
}

func (s *subject) dial(t *testing.T, change func(*client.Options)) *conn.Conn {
	t.Helper()
	opts := *s.opts
	if change != nil {
		change(&opts)
	}
	c, resp, err := client.Dial(ctx, s.url, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
		t.Fatalf("Dial answered with %s %s, want HTTP/2.0 200", resp.Proto, resp.Status)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func echo(t *testing.T, c *conn.Conn, typ conn.MessageType, msg []byte) {
	t.Helper()
	if err := c.Write(ctx, typ, msg); err != nil {
		t.Fatal(err)
	}
	gotType, got, err := c.Read(ctx, nil)
	if err != nil || gotType != typ || !bytes.Equal(got, msg) {
		t.Fatalf("echo of %v, %d bytes = %v, %d bytes, %v", typ, len(msg), gotType, len(got), err)
	}
}

var modes = []struct {
	name string
	tls  bool
}{{"TLS", true}, {"h2c", false}}

// TestEcho checks the echo set over both kinds of HTTP/2: messages of
// every size, a streamed message in fragments, pings, and close codes
// both ways, and that the server really saw an HTTP/2 CONNECT.
func TestEcho(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			s := newSubject(t, mode.tls, nil)
			c := s.dial(t, nil)
			for _, size := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
				echo(t, c, conn.Binary, bytes.Repeat([]byte{0xa5}, size))
			}
			echo(t, c, conn.Text, []byte("héllo, HTTP/2"))
			w, err := c.Writer(ctx, conn.Text)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				fmt.Fprintf(w, "part %d %s;", i, strings.Repeat("x", 1000))
			}
			w.Close()
			if _, got, err := c.Read(ctx, nil); err != nil || !strings.HasPrefix(string(got), "part 0") || !strings.HasSuffix(string(got), "part 9 "+strings.Repeat("x", 1000)+";") {
				t.Fatalf("streamed echo: %d bytes, %v", len(got), err)
			}
			go c.Read(ctx, nil) // for the pong
			if _, err := c.Ping(ctx, []byte("are you there")); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if got := s.seen.all(); len(got) != 1 || got[0] != "HTTP/2.0 CONNECT" {
				t.Errorf("the server saw %q, want one HTTP/2.0 CONNECT", got)
			}
		})
	}
}

// TestCloseCodes checks the closing handshake both ways over a stream.
func TestCloseCodes(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			s := newSubject(t, mode.tls, nil)
			// The server closes.
			c := s.dial(t, nil)
			c.Write(ctx, conn.Text, []byte("close 4001"))
			_, _, err := c.Read(ctx, nil)
			var ce *conn.CloseError
			if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "as asked" {
				t.Errorf("client Read = %v, want the server's 4001", err)
			}
			// The client closes.
			c = s.dial(t, nil)
			if err := c.Close(conn.CloseGoingAway, "leaving"); err != nil {
				t.Errorf("Close: %v", err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for c.State() != conn.Closed && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if c.State() != conn.Closed {
				t.Errorf("State() = %v after the closing handshake, want closed: the server did not end the stream", c.State())
			}
		})
	}
}

// TestCompression checks permessage-deflate over a stream.
func TestCompression(t *testing.T) {
	s := newSubject(t, true, &server.Options{Compression: &conn.Compression{}, Conn: conn.Options{CompressionThreshold: -1}})
	c := s.dial(t, func(o *client.Options) {
		o.Compression = &conn.Compression{}
		o.Conn.CompressionThreshold = -1
	})
	if c.Extensions() == "" {
		t.Fatal("permessage-deflate was not agreed over HTTP/2")
	}
	for i := range 50 {
		echo(t, c, conn.Text, []byte(strings.Repeat(fmt.Sprintf("message %d ", i), i+1)))
	}
}

// TestManyOnOneConnection checks that a hundred WebSockets dialed with one
// HTTP2 share one TCP connection, concurrently.
func TestManyOnOneConnection(t *testing.T) {
	s := newSubject(t, true, nil)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			c, _, err := client.Dial(ctx, s.url, s.opts)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.CloseNow()
			for j := range 10 {
				msg := fmt.Appendf(nil, "websocket %d message %d", i, j)
				if err := c.Write(ctx, conn.Text, msg); err != nil {
					t.Error(err)
					return
				}
				if _, got, err := c.Read(ctx, nil); err != nil || !bytes.Equal(got, msg) {
					t.Errorf("echo %q, %v; want %q", got, err, msg)
					return
				}
			}
			c.Close(conn.CloseNormalClosure, "")
		})
	}
	wg.Wait()
	if n := s.ln.n.Load(); n != 1 {
		t.Errorf("%d TCP connections for 100 WebSockets, want 1", n)
	}
	if n := len(s.seen.all()); n != 100 {
		t.Errorf("the server saw %d WebSockets, want 100", n)
	}
}

// TestStreamReset checks a stream the client resets in the middle of a
// message: the server's Read fails with 1006, and nothing is left behind.
func TestStreamReset(t *testing.T) {
	before := runtime.NumGoroutine()
	serverErr := make(chan error, 1)
	sn := &seen{}
	h := &server.Handler{Serve: func(c *conn.Conn, r *http.Request) {
		sn.add(r)
		c.Write(ctx, conn.Text, []byte("ready"))
		_, _, err := c.Read(ctx, nil)
		serverErr <- err
	}}
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.StartTLS()
	c, _, err := client.Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https")+"/ws", &client.Options{HTTP2: &client.HTTP2{}, TLSConfig: s.Client().Transport.(*http.Transport).TLSClientConfig})
	if err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != "ready" {
		t.Fatalf("Read = %q, %v; want the server's ready", msg, err)
	}
	w, _ := c.Writer(ctx, conn.Binary)
	w.Write(make([]byte, 10000)) // a first frame goes out, more are to come
	c.CloseNow()                 // resets the stream
	err = <-serverErr
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != conn.CloseAbnormalClosure {
		t.Errorf("server Read = %v, want 1006", err)
	}
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines left, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestShutdown checks that Handler.Shutdown closes WebSockets on streams
// with 1001, as it does those on hijacked connections.
func TestShutdown(t *testing.T) {
	s := newSubject(t, true, nil)
	c := s.dial(t, nil)
	echo(t, c, conn.Text, []byte("hello"))
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.Read(ctx, nil)
		errc <- err
	}()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.server.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	var ce *conn.CloseError
	if err := <-errc; !errors.As(err, &ce) || ce.Code != conn.CloseGoingAway {
		t.Errorf("client Read = %v, want 1001", err)
	}
}

// TestUnusedTLSConfig keeps the tls import honest: the client's TLS
// configuration reaches the HTTP/2 connection (a wrong root fails).
func TestUnusedTLSConfig(t *testing.T) {
	s := newSubject(t, true, nil)
	_, _, err := client.Dial(ctx, s.url, &client.Options{HTTP2: &client.HTTP2{}, TLSConfig: &tls.Config{}})
	if err == nil {
		t.Error("Dial succeeded with roots that do not hold the test certificate")
	}
}

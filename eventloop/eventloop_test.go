package eventloop_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/eventloop"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/server"
)

// echoServer returns a Server that echoes every message, with opts (nil
// for the defaults) for its upgrades.
func echoServer(opts *server.Options) *eventloop.Server {
	return &eventloop.Server{
		Options: opts,
		OnMessage: func(c *conn.Conn, typ conn.MessageType, data []byte) {
			c.Write(context.Background(), typ, data)
		},
	}
}

// start serves s through path ("http": upgraded from net/http;
// "listener": accepted by Serve) and returns its ws:// URL. Both end with
// the test.
func start(t *testing.T, s *eventloop.Server, path string) string {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	if path == "http" {
		hs := httptest.NewServer(s)
		t.Cleanup(hs.Close)
		return "ws" + strings.TrimPrefix(hs.URL, "http")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, eventloop.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return "ws://" + l.Addr().String()
}

var paths = []string{"http", "listener"}

func dial(t *testing.T, url string, opts *client.Options) *conn.Conn {
	t.Helper()
	c, _, err := client.Dial(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestEcho(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: queued, and read in many pieces
	tests := []struct {
		name     string
		compress bool
		typ      conn.MessageType
		msg      []byte
	}{
		{"text", false, conn.Text, []byte("hello, loop")},
		{"empty", false, conn.Binary, nil},
		{"binary 1 MiB", false, conn.Binary, big},
		{"compressed text", true, conn.Text, []byte(strings.Repeat("compress me ", 100))},
		{"compressed 1 MiB", true, conn.Binary, big},
	}
	for _, path := range paths {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				var sopts *server.Options
				var copts *client.Options
				if tt.compress {
					sopts = &server.Options{Compression: &conn.Compression{}}
					copts = &client.Options{Compression: &conn.Compression{}}
				}
				c := dial(t, start(t, echoServer(sopts), path), copts)
				if tt.compress && c.Extensions() == "" {
					t.Fatal("compression was not agreed")
				}
				ctx := context.Background()
				for i := range 3 {
					if err := c.Write(ctx, tt.typ, tt.msg); err != nil {
						t.Fatal(err)
					}
					typ, got, err := c.Read(ctx, nil)
					if err != nil {
						t.Fatalf("echo %d: %v", i, err)
					}
					if typ != tt.typ || !bytes.Equal(got, tt.msg) {
						t.Fatalf("echo %d: got %v of %d bytes, want %v of %d", i, typ, len(got), tt.typ, len(tt.msg))
					}
				}
			})
		}
	}
}

// TestPipelined sends many messages before reading any echo: they
// arrive in batches, split anywhere, and must come back whole and in
// order.
func TestPipelined(t *testing.T) {
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			c := dial(t, start(t, echoServer(nil), path), nil)
			ctx := context.Background()
			const n = 2000
			errc := make(chan error, 1)
			go func() {
				for i := range n {
					msg := fmt.Appendf(nil, "message %d %s", i, strings.Repeat("x", i%300))
					if err := c.Write(ctx, conn.Text, msg); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			for i := range n {
				_, got, err := c.Read(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				want := fmt.Appendf(nil, "message %d %s", i, strings.Repeat("x", i%300))
				if !bytes.Equal(got, want) {
					t.Fatalf("echo %d: got %.40q", i, got)
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestIdleConnsHoldNoGoroutine opens connections through both paths and
// counts goroutines once they are idle: under the event loop none waits
// for a connection.
func TestIdleConnsHoldNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the event loop is for Linux; elsewhere each Conn has a goroutine")
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			url := start(t, echoServer(nil), path)
			echoOnce(t, dial(t, url, nil)) // the loops are running
			before := settledGoroutines(0)
			const n = 200
			for range n {
				echoOnce(t, dial(t, url, nil))
			}
			if after := settledGoroutines(before + n/10); after > before+n/10 {
				t.Fatalf("%d goroutines for %d more idle connections (%d before)", after-before, n, before)
			}
		})
	}
}

func echoOnce(t *testing.T, c *conn.Conn) {
	t.Helper()
	ctx := context.Background()
	if err := c.Write(ctx, conn.Text, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// settledGoroutines returns the number of goroutines once it is at most
// want, or after a second: goroutines that are ending (net/http's, after a
// hijack) take a moment.
func settledGoroutines(want int) int {
	deadline := time.Now().Add(time.Second)
	for {
		n := runtime.NumGoroutine()
		if (want > 0 && n <= want) || time.Now().After(deadline) {
			return n
		}
		if want == 0 {
			time.Sleep(50 * time.Millisecond)
			return runtime.NumGoroutine()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// opened returns server options whose OnOpen sends each Conn to the
// channel returned, and whose OnClose sends the error each ended with.
func opened(o conn.Options) (*server.Options, chan *conn.Conn, chan error) {
	conns, closed := make(chan *conn.Conn, 16), make(chan error, 16)
	o.OnOpen = func(c *conn.Conn) { conns <- c }
	o.OnClose = func(_ *conn.Conn, _ conn.CloseCode, err error) { closed <- err }
	return &server.Options{Conn: o}, conns, closed
}

// TestWritesQueueForSlowPeer writes from a goroutine to a peer that
// does not read yet: the writes return at once, BufferedAmount shows what
// waits, and everything arrives, in order, when the peer reads.
func TestWritesQueueForSlowPeer(t *testing.T) {
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			opts, conns, _ := opened(conn.Options{})
			c := dial(t, start(t, echoServer(opts), path), nil)
			sc := <-conns
			echoOnce(t, c) // the loop has it
			// 16 × 64 KiB: more than loopback's socket buffers take at first,
			// less than the bound on what may wait.
			const n, size = 16, 64 << 10
			for i := range n {
				if err := sc.Write(context.Background(), conn.Binary, bytes.Repeat([]byte{byte(i)}, size)); err != nil {
					t.Fatal(err)
				}
			}
			for i := range n {
				_, msg, err := c.Read(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(msg) != size || msg[0] != byte(i) || msg[size-1] != byte(i) {
					t.Fatalf("message %d: %d bytes of %d", i, len(msg), msg[0])
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for sc.BufferedAmount() != 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if q := sc.BufferedAmount(); q != 0 {
				t.Errorf("BufferedAmount %d after the peer read everything", q)
			}
		})
	}
}

// TestWriterToPeerThatDoesNotRead writes from a goroutine to a peer that
// never reads: the writes never wait, and once more than the bound waits
// the connection ends with an error saying why.
func TestWriterToPeerThatDoesNotRead(t *testing.T) {
	opts, conns, closed := opened(conn.Options{})
	echoOnce(t, dial(t, start(t, echoServer(opts), "listener"), nil)) // then reads no more
	sc := <-conns
	msg := bytes.Repeat([]byte("w"), 256<<10)
	var err error
	for range 1000 {
		if err = sc.Write(context.Background(), conn.Binary, msg); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "reads too slowly") {
		t.Fatalf("writes to a peer that reads nothing: %v", err)
	}
	if err := <-closed; err == nil || !strings.Contains(err.Error(), "reads too slowly") {
		t.Fatalf("the connection ended with %v", err)
	}
}

// TestLoopDropsPeerThatDoesNotRead sends to an echo server and reads
// nothing: the replies, written on the loop, fill the socket and the
// queue, and the server closes the connection rather than hold more or
// hold up the loop.
func TestLoopDropsPeerThatDoesNotRead(t *testing.T) {
	opts, _, closed := opened(conn.Options{ReadLimit: 1 << 20})
	c := dial(t, start(t, echoServer(opts), "listener"), nil)
	msg := bytes.Repeat([]byte("x"), 256<<10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if c.Write(ctx, conn.Binary, msg) != nil {
				return
			}
		}
	}()
	select {
	case err := <-closed:
		if err == nil || !strings.Contains(err.Error(), "reads too slowly") {
			t.Fatalf("server ended the connection with %v, want the error for a peer that does not read", err)
		}
	case <-ctx.Done():
		t.Fatal("the server kept a peer that reads nothing")
	}
}

// TestKeepalive checks that the loop's ticks ping a silent peer that
// answers, and fail one that does not. The first server allows answers
// two seconds, so that a busy machine does not fail the test.
func TestKeepalive(t *testing.T) {
	opts, conns, closed := opened(conn.Options{KeepaliveInterval: 20 * time.Millisecond, KeepaliveTimeout: 2 * time.Second})
	alive := dial(t, start(t, echoServer(opts), "listener"), nil)
	<-conns
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := alive.Read(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read of a kept-alive connection: %v", err)
	}
	if got := alive.Stats().PingsReceived; got < 3 {
		t.Errorf("%d pings in 300 ms at an interval of 20 ms", got)
	}
	select {
	case err := <-closed:
		t.Fatalf("a peer answering pings was dropped: %v", err)
	default:
	}

	opts, conns, closed = opened(conn.Options{KeepaliveInterval: 20 * time.Millisecond, KeepaliveTimeout: 100 * time.Millisecond})
	dial(t, start(t, echoServer(opts), "listener"), nil) // never reads, so never answers
	<-conns
	select {
	case err := <-closed:
		if !errors.Is(err, conn.ErrKeepalive) {
			t.Fatalf("silent peer dropped with %v, want conn.ErrKeepalive", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a silent peer was kept")
	}
}

func TestCloseFromOnMessage(t *testing.T) {
	opts, _, closed := opened(conn.Options{})
	s := &eventloop.Server{
		Options: opts,
		OnMessage: func(c *conn.Conn, typ conn.MessageType, data []byte) {
			c.Close(conn.CloseNormalClosure, string(data))
		},
	}
	c := dial(t, start(t, s, "http"), nil)
	if err := c.Write(context.Background(), conn.Text, []byte("bye")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(context.Background(), nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != conn.CloseNormalClosure || ce.Reason != "bye" {
		t.Fatalf("client read %v, want the server's Close frame 1000 \"bye\"", err)
	}
	if err := <-closed; !errors.As(err, &ce) || ce.Code != conn.CloseNormalClosure {
		t.Fatalf("server's connection ended with %v, want the answer to its Close frame", err)
	}
}

func TestPanicInOnMessage(t *testing.T) {
	var logged bytes.Buffer
	var mu sync.Mutex
	s := &eventloop.Server{
		OnMessage: func(*conn.Conn, conn.MessageType, []byte) { panic("handler bug") },
		ErrorLog:  newLogger(&mu, &logged),
	}
	c := dial(t, start(t, s, "listener"), nil)
	c.Write(context.Background(), conn.Text, []byte("x"))
	_, _, err := c.Read(context.Background(), nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != conn.CloseInternalServerErr {
		t.Fatalf("client read %v, want 1011", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "handler bug") {
		t.Errorf("log %q does not tell of the panic", logged.String())
	}
}

// TestServeConnWithoutSocket serves a Conn over a pipe, which no event
// loop can wait on: a goroutine reads it, with the same OnMessage.
func TestServeConnWithoutSocket(t *testing.T) {
	a, b := net.Pipe()
	sc, err := conn.New(a, frame.Server, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := conn.New(b, frame.Client, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	s := echoServer(nil)
	defer s.Close()
	if err := s.ServeConn(sc); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c)
}

func TestShutdown(t *testing.T) {
	before := settledGoroutines(0)
	s := echoServer(nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	var clients []*conn.Conn
	for range 3 {
		c := dial(t, "ws://"+l.Addr().String(), nil)
		echoOnce(t, c)
		clients = append(clients, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Shutdown(ctx) }()
	for i, c := range clients {
		_, _, err := c.Read(context.Background(), nil)
		var ce *conn.CloseError
		if !errors.As(err, &ce) || ce.Code != conn.CloseGoingAway {
			t.Errorf("client %d read %v, want 1001", i, err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, eventloop.ErrServerClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	for _, c := range clients {
		c.CloseNow()
	}
	if after := settledGoroutines(before); after > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Shutdown, %d before:\n%s", after, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestReadServedConn checks that the application cannot read a Conn the
// loop reads: Read and Reader say so, and the connection goes on.
func TestReadServedConn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("elsewhere a goroutine reads the Conn with Read")
	}
	opts, conns, _ := opened(conn.Options{})
	c := dial(t, start(t, echoServer(opts), "listener"), nil)
	sc := <-conns
	echoOnce(t, c) // the loop has it
	if _, _, err := sc.Read(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "event loop") {
		t.Errorf("Read of a served Conn: %v", err)
	}
	if _, _, err := sc.Reader(context.Background()); err == nil || !strings.Contains(err.Error(), "event loop") {
		t.Errorf("Reader of a served Conn: %v", err)
	}
	echoOnce(t, c)
}

// TestBackpressurePolicy checks that Options.MaxBufferedAmount counts
// what waits in the loop's queue: with BackpressureError, writes to a
// peer that reads nothing fail with ErrBufferFull once the bound is
// reached, and the connection stays usable.
func TestBackpressurePolicy(t *testing.T) {
	const limit = 256 << 10
	opts, conns, _ := opened(conn.Options{MaxBufferedAmount: limit, OnBackpressure: conn.BackpressureError})
	c := dial(t, start(t, echoServer(opts), "listener"), &client.Options{Conn: conn.Options{ReadLimit: 64 << 20}})
	sc := <-conns
	echoOnce(t, c) // the loop has it
	msg := bytes.Repeat([]byte("b"), 64<<10)
	var err error
	sent := 0
	for sent < 1<<10 {
		if err = sc.Write(context.Background(), conn.Binary, msg); err != nil {
			break
		}
		sent++
		if q := sc.BufferedAmount(); q > limit+int64(len(msg)) {
			t.Fatalf("BufferedAmount %d past the bound %d and one write", q, limit)
		}
	}
	if !errors.Is(err, conn.ErrBufferFull) {
		t.Fatalf("after %d writes of 64 KiB to a peer reading nothing: %v, want ErrBufferFull", sent, err)
	}
	for range sent {
		if _, _, err := c.Read(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	echoOnce(t, c) // still usable
}

// TestBroadcastToSlowPeer writes, from OnMessage, to another connection
// whose peer reads nothing: the loop never waits for it, so the slow
// connection is dropped and the others keep being served.
func TestBroadcastToSlowPeer(t *testing.T) {
	opts, conns, closed := opened(conn.Options{})
	big := bytes.Repeat([]byte("b"), 256<<10)
	var slow atomic.Pointer[conn.Conn]
	s := &eventloop.Server{
		Options: opts,
		Loops:   1,
		OnMessage: func(c *conn.Conn, typ conn.MessageType, data []byte) {
			if sc := slow.Load(); sc != nil && string(data) == "push" {
				sc.Write(context.Background(), conn.Binary, big)
			}
			c.Write(context.Background(), typ, data)
		},
	}
	url := start(t, s, "listener")
	echoOnce(t, dial(t, url, nil)) // on the loop; then reads no more
	slow.Store(<-conns)
	pusher := dial(t, url, nil)
	<-conns
	other := dial(t, url, nil)
	<-conns
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; ; i++ {
		if err := pusher.Write(ctx, conn.Text, []byte("push")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := pusher.Read(ctx, nil); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		select {
		case err := <-closed:
			if !strings.Contains(err.Error(), "reads too slowly") {
				t.Fatalf("the slow connection ended with %v", err)
			}
			echoOnce(t, other)
			return
		default:
		}
	}
}

// TestServeConnDuringWrite hands a Conn to the server while another
// goroutine is in the middle of writing to it (a greeting larger than
// the sockets hold): the hand-over waits for the write, and both the
// greeting and the echo arrive.
func TestServeConnDuringWrite(t *testing.T) {
	greeting := bytes.Repeat([]byte("hello "), 2<<20)
	s := echoServer(nil)
	defer s.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	served := make(chan error, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			served <- err
			return
		}
		sc, _, err := server.UpgradeConn(nc, nil)
		if err != nil {
			served <- err
			return
		}
		go sc.Write(context.Background(), conn.Text, greeting)
		time.Sleep(50 * time.Millisecond) // the write fills the sockets and waits
		served <- s.ServeConn(sc)
	}()
	c := dial(t, "ws://"+l.Addr().String(), &client.Options{Conn: conn.Options{ReadLimit: 64 << 20}})
	time.Sleep(100 * time.Millisecond)
	if _, msg, err := c.Read(context.Background(), nil); err != nil || !bytes.Equal(msg, greeting) {
		t.Fatalf("greeting: %d bytes, %v", len(msg), err)
	}
	if err := <-served; err != nil {
		t.Fatalf("ServeConn: %v", err)
	}
	echoOnce(t, c)
}

// TestCloseRaces closes the server while connections arrive, and while
// they are closed as they are handed over: every connection that opened
// is closed, and no descriptor is left open.
func TestCloseRaces(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc")
	}
	before := openFiles(t)
	var opened, closed atomic.Int32
	for round := range 30 {
		s := echoServer(&server.Options{Conn: conn.Options{
			OnOpen:  func(c *conn.Conn) { opened.Add(1) },
			OnClose: func(*conn.Conn, conn.CloseCode, error) { closed.Add(1) },
		}})
		hs := httptest.NewServer(s)
		url := "ws" + strings.TrimPrefix(hs.URL, "http")
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				c, _, err := client.Dial(context.Background(), url, nil)
				if err == nil {
					c.CloseNow()
				}
			})
		}
		if round%2 == 0 {
			time.Sleep(time.Duration(round) * 100 * time.Microsecond)
		}
		s.Close()
		wg.Wait()
		hs.Close()
		s.Close() // a second Close does nothing
	}
	deadline := time.Now().Add(5 * time.Second)
	for closed.Load() != opened.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if o, c := opened.Load(), closed.Load(); o != c {
		t.Errorf("%d connections opened, %d closed", o, c)
	}
	// Sockets closed with writes queued, by earlier tests, may linger 5 s.
	deadline = time.Now().Add(6 * time.Second)
	for openFiles(t) > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := openFiles(t); after > before {
		t.Errorf("%d descriptors open, %d before", after, before)
	}
}

// TestSecondCloseKeepsOtherFiles closes a server twice, with pipes of the
// application's opened in between on the lowest free descriptors, which
// include those the loops had: the pipes still work.
func TestSecondCloseKeepsOtherFiles(t *testing.T) {
	s := echoServer(nil)
	echoOnce(t, dial(t, start(t, s, "listener"), nil))
	s.Close()
	var pipes [][2]*os.File
	for range 16 {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		pipes = append(pipes, [2]*os.File{r, w})
	}
	s.Close()
	for i, p := range pipes {
		if _, err := p[1].Write([]byte("x")); err != nil {
			t.Fatalf("pipe %d after a second Close: %v", i, err)
		}
		var b [1]byte
		if _, err := p[0].Read(b[:]); err != nil {
			t.Fatalf("pipe %d after a second Close: %v", i, err)
		}
	}
}

func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

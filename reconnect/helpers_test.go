package reconnect

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

var ctx = context.Background()

// A serveFunc plays the server on nc, the i-th connection a test server
// accepted (from 0). It owns nc.
type serveFunc func(i int, nc net.Conn)

// refuse answers the handshake request on nc with status and the extra
// header lines in header ("Retry-After: 2\r\n"), and closes nc.
func refuse(nc net.Conn, status int, header string) {
	defer nc.Close()
	if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
		return
	}
	fmt.Fprintf(nc, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n", status, http.StatusText(status), header)
}

// upgrade accepts the handshake on nc; nil if the client went away.
func upgrade(nc net.Conn) *conn.Conn {
	c, _, err := server.UpgradeConn(nc, nil)
	if err != nil {
		return nil
	}
	return c
}

// drain reads from c until it fails, then closes it.
func drain(c *conn.Conn) {
	for {
		if _, _, err := c.Read(ctx, nil); err != nil {
			c.CloseNow()
			return
		}
	}
}

// greet upgrades, sends "hello <i>", and reads until the connection ends.
func greet(i int, nc net.Conn) {
	c := upgrade(nc)
	if c == nil {
		return
	}
	c.Write(ctx, conn.Text, fmt.Appendf(nil, "hello %d", i))
	drain(c)
}

// A tcpServer serves WebSocket handshakes on a loopback listener, running
// serve for each connection. Its count of connections goes on across
// restarts when it is handed to the next one.
type tcpServer struct {
	t     testing.TB
	ln    net.Listener
	serve serveFunc
	n     *atomic.Int32
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// listen starts a tcpServer on addr ("127.0.0.1:0" for a new port).
func listen(t testing.TB, addr string, n *atomic.Int32, serve serveFunc) *tcpServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if n == nil {
		n = new(atomic.Int32)
	}
	s := &tcpServer{t: t, ln: ln, serve: serve, n: n, conns: map[net.Conn]struct{}{}}
	s.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[nc] = struct{}{}
			s.mu.Unlock()
			i := int(s.n.Add(1)) - 1
			s.wg.Go(func() { s.serve(i, nc) })
		}
	})
	t.Cleanup(s.stop)
	return s
}

func (s *tcpServer) addr() string { return s.ln.Addr().String() }
func (s *tcpServer) url() string  { return "ws://" + s.addr() + "/" }

// stop closes the listener and every connection at once, as a crashing
// server does, and waits for the serveFuncs to return.
func (s *tcpServer) stop() {
	s.ln.Close()
	s.mu.Lock()
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// A pipeNet is an in-memory network for tests under testing/synctest:
// each dial is answered by dial(i), the i-th dial from 0, which returns an
// error or plays the server on the far end of a net.Pipe.
type pipeNet struct {
	n     atomic.Int32
	serve func(i int) serveFunc // nil serveFunc: connection refused
	wg    sync.WaitGroup
}

func (p *pipeNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	i := int(p.n.Add(1)) - 1
	serve := p.serve(i)
	if serve == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	a, b := net.Pipe()
	p.wg.Go(func() { serve(i, b) })
	return a, nil
}

// clientOptions returns client options that dial through p.
func (p *pipeNet) clientOptions() *client.Options {
	return &client.Options{
		DialContext: p.dial,
		Proxy:       func(*http.Request) (*url.URL, error) { return nil, nil },
	}
}

// A disconnect is a call of OnDisconnect.
type disconnect struct {
	err  error
	next time.Duration
	at   time.Time
}

// recorder records the calls of OnDisconnect, and sends each to ch if ch
// has room.
type recorder struct {
	mu    sync.Mutex
	calls []disconnect
	ch    chan disconnect
}

func newRecorder() *recorder { return &recorder{ch: make(chan disconnect, 100)} }

func (r *recorder) onDisconnect(err error, next time.Duration) {
	d := disconnect{err: err, next: next, at: time.Now()}
	r.mu.Lock()
	r.calls = append(r.calls, d)
	r.mu.Unlock()
	select {
	case r.ch <- d:
	default:
	}
}

func (r *recorder) get() []disconnect {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]disconnect(nil), r.calls...)
}

// waitFor waits for a call of OnDisconnect whose error matches ok.
func (r *recorder) waitFor(t *testing.T, what string, ok func(error) bool) disconnect {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case d := <-r.ch:
			if ok(d.err) {
				return d
			}
		case <-timeout:
			t.Fatalf("no OnDisconnect with %s; calls: %v", what, r.get())
		}
	}
}

func isCloseCode(code conn.CloseCode) func(error) bool {
	return func(err error) bool {
		var ce *conn.CloseError
		return errors.As(err, &ce) && ce.Code == code
	}
}

func isStatus(status int) func(error) bool {
	return func(err error) bool {
		var he *client.HandshakeError
		return errors.As(err, &he) && he.Response != nil && he.Response.StatusCode == status
	}
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// goroutineEnded reports whether the Conn's redialing goroutine, if one
// was started, has ended.
func goroutineEnded(r *Conn) bool {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// maxRand makes every delay the largest full jitter allows.
func maxRand(n int64) int64 { return n - 1 }

// zeroRand makes every delay the smallest full jitter allows.
func zeroRand(int64) int64 { return 0 }

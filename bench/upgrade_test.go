package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/rfc6455/websocket/server"
)

// This file measures the server's side of the opening handshake: a
// client writes a browser's upgrade request (the Sec-WebSocket-Key of
// RFC 6455, Section 1.3, an Origin of the same host, and an offer of
// permessage-deflate that every server here declines, since none has it
// on) over an in-memory connection (net.Pipe), and reads the 101
// response; the server upgrades the connection and closes it at once.
// The in-memory connection keeps ephemeral ports and TIME_WAIT out of
// the numbers, and is the same for every library.

const upgradeRequest = "GET /chat HTTP/1.1\r\n" +
	"Host: 127.0.0.1:8080\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: http://127.0.0.1:8080\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"\r\n"

// upgradeAccept is the Sec-WebSocket-Accept for the request's key.
const upgradeAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

// upgradeAcceptField is the accept field of a response, in lower case.
var upgradeAcceptField = strings.ToLower("\r\nSec-WebSocket-Accept: " + upgradeAccept + "\r\n")

// baselineResponse is what the baseline servers write without looking
// at the request.
const baselineResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: " + upgradeAccept + "\r\n" +
	"\r\n"

// An upgradeSubject is one library's server side of the handshake:
// through net/http (viaHTTP), and from a bare net.Conn (viaConn) where
// the library has such a path. Each closes the connection at once.
type upgradeSubject struct {
	name    string
	viaHTTP func(w http.ResponseWriter, r *http.Request) error
	viaConn func(nc net.Conn) error // nil if the library has no such path
}

// gorillaUpgrader is at its defaults, as in the echo servers of
// internal/echo: a zero ReadBufferSize and WriteBufferSize reuse the
// buffers of net/http's hijacked connection (4 KiB each), and its default
// origin check admits requests that send no Origin or one of the same
// host.
var gorillaUpgrader = gorilla.Upgrader{}

var upgradeSubjects = []upgradeSubject{
	{
		// baseline hijacks and writes a fixed response: the cost of
		// net/http, net.Pipe and the client, which every library adds to.
		name: "baseline",
		viaHTTP: func(w http.ResponseWriter, r *http.Request) error {
			nc, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return err
			}
			defer nc.Close()
			rw.WriteString(baselineResponse)
			return rw.Flush()
		},
		viaConn: func(nc net.Conn) error {
			defer nc.Close()
			br := bufio.NewReader(nc)
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(line) == 2 {
					break
				}
			}
			_, err := io.WriteString(nc, baselineResponse)
			return err
		},
	},
	{
		name: "ours",
		viaHTTP: func(w http.ResponseWriter, r *http.Request) error {
			c, err := server.Upgrade(w, r, nil)
			if err != nil {
				return err
			}
			return c.CloseNow()
		},
		viaConn: func(nc net.Conn) error {
			c, _, err := server.UpgradeConn(nc, nil)
			if err != nil {
				return err
			}
			return c.CloseNow()
		},
	},
	{
		name: "gorilla",
		viaHTTP: func(w http.ResponseWriter, r *http.Request) error {
			c, err := gorillaUpgrader.Upgrade(w, r, nil)
			if err != nil {
				return err
			}
			return c.NetConn().Close()
		},
	},
	{
		name: "coder",
		viaHTTP: func(w http.ResponseWriter, r *http.Request) error {
			c, err := coder.Accept(w, r, nil)
			if err != nil {
				return err
			}
			return c.CloseNow()
		},
	},
	{
		name: "gobwas",
		viaHTTP: func(w http.ResponseWriter, r *http.Request) error {
			nc, _, _, err := ws.UpgradeHTTP(r, w)
			if err != nil {
				return err
			}
			return nc.Close()
		},
		viaConn: func(nc net.Conn) error {
			defer nc.Close()
			_, err := ws.Upgrade(nc)
			return err
		},
	},
	{
		name: "gws",
		viaHTTP: func() func(w http.ResponseWriter, r *http.Request) error {
			up := gws.NewUpgrader(&gws.BuiltinEventHandler{}, nil)
			return func(w http.ResponseWriter, r *http.Request) error {
				c, err := up.Upgrade(w, r)
				if err != nil {
					return err
				}
				return c.NetConn().Close()
			}
		}(),
	},
}

// A pipeListener accepts the server ends of net.Pipe connections.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial returns the client end of a new connection.
func (l *pipeListener) dial() (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.done:
		c.Close()
		s.Close()
		return nil, net.ErrClosed
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// An upgradeServer serves one path of one subject on a pipeListener and
// reports the result of every upgrade.
type upgradeServer struct {
	l       *pipeListener
	results chan error
}

func startUpgradeServer(tb testing.TB, s upgradeSubject, viaConn bool) *upgradeServer {
	u := &upgradeServer{l: newPipeListener(), results: make(chan error, 1)}
	if viaConn {
		go func() {
			for {
				nc, err := u.l.Accept()
				if err != nil {
					return
				}
				go func() { u.results <- s.viaConn(nc) }()
			}
		}()
		tb.Cleanup(func() { u.l.Close() })
		return u
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u.results <- s.viaHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(u.l)
	tb.Cleanup(func() { srv.Close() })
	return u
}

var errBadResponse = errors.New("not a 101 response with the right Sec-WebSocket-Accept")

// upgradeOnce performs one handshake, reading the response into buf, and
// waits for the server to be done with it.
func (u *upgradeServer) upgradeOnce(buf []byte) error {
	c, err := u.l.dial()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(c, upgradeRequest); err != nil {
		c.Close()
		return err
	}
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		if n == len(buf) {
			c.Close()
			return fmt.Errorf("%w: %q…", errBadResponse, buf[:n])
		}
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			c.Close()
			return fmt.Errorf("%w: %v after %q", errBadResponse, err, buf[:n])
		}
	}
	// The server is done with the connection before the client closes
	// its end: on a net.Pipe, SetDeadline fails once the other end is
	// closed, and gws sets one after writing its response.
	srvErr := <-u.results
	c.Close()
	if srvErr != nil {
		return srvErr
	}
	// Field names are case-insensitive (net/http writes
	// Sec-Websocket-Accept), so compare in lower case, in place.
	resp := buf[:n]
	for i, c := range resp {
		if 'A' <= c && c <= 'Z' {
			resp[i] = c + 'a' - 'A'
		}
	}
	if !bytes.HasPrefix(resp, []byte("http/1.1 101 ")) ||
		!bytes.Contains(resp, []byte(upgradeAcceptField)) ||
		bytes.Contains(resp, []byte("sec-websocket-extensions")) {
		return fmt.Errorf("%w: %q", errBadResponse, resp)
	}
	return nil
}

// An upgradeCase is one subject on one path.
type upgradeCase struct {
	name    string // path=…/lib=…
	s       upgradeSubject
	viaConn bool
}

// upgradeCases are the cases of BenchmarkUpgrade and TestUpgrade.
func upgradeCases() []upgradeCase {
	var cs []upgradeCase
	for _, viaConn := range []bool{false, true} {
		for _, s := range upgradeSubjects {
			if viaConn && s.viaConn == nil {
				continue
			}
			path := "http"
			if viaConn {
				path = "conn"
			}
			cs = append(cs, upgradeCase{name: "path=" + path + "/lib=" + s.name, s: s, viaConn: viaConn})
		}
	}
	return cs
}

// TestUpgrade checks that every server answers the request with a 101
// response with the right accept key and no extension, and upgrades.
func TestUpgrade(t *testing.T) {
	t.Parallel()
	for _, uc := range upgradeCases() {
		t.Run(uc.name, func(t *testing.T) {
			u := startUpgradeServer(t, uc.s, uc.viaConn)
			buf := make([]byte, 4096)
			for range 3 {
				if err := u.upgradeOnce(buf); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUpgrade measures one opening handshake per op, done one
// after the other: ns/op, B/op and allocs/op cover the server, net/http
// (for path=http) and the client, whose share lib=baseline shows.
func BenchmarkUpgrade(b *testing.B) {
	for _, uc := range upgradeCases() {
		b.Run(uc.name, func(b *testing.B) {
			u := startUpgradeServer(b, uc.s, uc.viaConn)
			buf := make([]byte, 4096)
			if err := u.upgradeOnce(buf); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0, cpuKnown := processCPU()
			b.ResetTimer()
			for range b.N {
				if err := u.upgradeOnce(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if cpu1, ok := processCPU(); ok && cpuKnown {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

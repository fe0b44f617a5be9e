package echo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/eventloop"
)

// HTTPPrefix is the path prefix under which EventLoop serves the variants
// through net/http and eventloop.Server.ServeHTTP: /http/takeover, ...
const HTTPPrefix = "/http"

// An EventLoop is the echo server of Server on package eventloop: the
// same endpoints, options and protocol (the negotiated: greeting, stats?
// and echoes), but every message reaches it whole, in
// eventloop.Server.OnMessage, and is echoed from there with one
// Conn.Write, as an application of the event loops would.
//
// One port serves both ways into the loops. A connection whose request
// line asks for a variant's path, /takeover say, goes to the variant's
// eventloop.Server.Serve, which reads the opening handshake itself; any
// other goes to a net/http server, which serves the browser's page at /
// and the variants under HTTPPrefix with the same eventloop.Server as
// handler (ServeHTTP: net/http reads the request and the connection is
// hijacked). A dispatcher routes each accepted connection by peeking at
// its request line, so that what reaches the loops is the bare
// *net.TCPConn they need.
//
// The byte counts of stats? are the kernel's (see kernelBytes), taken
// without touching the socket. Each answer also checks that the wire
// bytes of Conn.Stats, which the loops count, grew by as much as the
// kernel's; if not, the connection is closed with 1011 and a reason
// saying so. Where the kernel cannot count (no sock_diag), the counts of
// Conn.Stats are given instead.
type EventLoop struct {
	Logger *log.Logger

	mu         sync.Mutex
	kernelOnce sync.Once // logs that the kernel cannot count bytes
	servers    []*eventloop.Server
	http       *http.Server
	l          net.Listener
	conns      sync.Map // *conn.Conn → *loopConn
	viaHTTP    sync.Map // remote address → true while ServeHTTP upgrades it
}

// A loopConn is what EventLoop keeps of one connection.
type loopConn struct {
	v      Variant
	name   string // the endpoint, for the log: /takeover or /http/takeover
	remote string
	echoed atomic.Int64
	end    *time.Timer // connTimeout

	// The kernel's wire counts less those of Conn.Stats, at the first
	// stats? answer: the handshake's bytes. They must not change.
	baseSet         bool
	baseIn, baseOut int64
}

// eventLoops is the number of event loops of each variant's server.
const eventLoops = 2

// Serve accepts connections from l and serves them until l fails or
// Shutdown is called.
func (s *EventLoop) Serve(l net.Listener) error {
	httpL := newQueueListener(l.Addr())
	raw := make(map[string]*queueListener) // by path
	mux := http.NewServeMux()
	var servers []*eventloop.Server
	for _, v := range Variants {
		el := s.newServer(v)
		servers = append(servers, el)
		rl := newQueueListener(l.Addr())
		raw["/"+v.Name] = rl
		go func() {
			// Serve ends when Shutdown closes the server or, first, when
			// Serve below closes rl on its way out.
			if err := el.Serve(rl); !errors.Is(err, eventloop.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				s.Logger.Printf("eventloop /%s: Serve: %v", v.Name, err)
			}
		}()
		mux.HandleFunc(HTTPPrefix+"/"+v.Name, func(w http.ResponseWriter, r *http.Request) {
			// For the log: OnOpen names the connection by the way it came.
			s.viaHTTP.Store(r.RemoteAddr, true)
			defer s.viaHTTP.Delete(r.RemoteAddr)
			el.ServeHTTP(w, r)
		})
	}
	for _, p := range []string{"/{$}", HTTPPrefix + "/{$}"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, page)
		})
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: s.Logger}
	s.mu.Lock()
	s.servers, s.http, s.l = servers, hs, l
	s.mu.Unlock()
	go func() {
		if err := hs.Serve(httpL); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Printf("eventloop: net/http: %v", err)
		}
	}()

	defer func() {
		httpL.Close()
		for _, rl := range raw {
			rl.Close()
		}
	}()
	for {
		nc, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			to := httpL
			tc, ok := nc.(*net.TCPConn)
			if ok {
				line, err := peekRequestLine(tc, time.Now().Add(10*time.Second))
				if err != nil {
					s.Logger.Printf("eventloop: %v: no request line: %v", nc.RemoteAddr(), err)
				}
				// "GET /takeover HTTP/1.1"
				if f := strings.Fields(line); len(f) == 3 {
					path, _, _ := strings.Cut(f[1], "?")
					if rl := raw[path]; rl != nil {
						to = rl
					}
				}
			}
			if !to.put(nc) {
				nc.Close()
			}
		}()
	}
}

// Shutdown stops accepting and closes every WebSocket connection with
// 1001.
func (s *EventLoop) Shutdown(ctx context.Context) {
	s.mu.Lock()
	servers, hs, l := s.servers, s.http, s.l
	s.mu.Unlock()
	if l != nil {
		l.Close()
	}
	var wg sync.WaitGroup
	for _, el := range servers {
		wg.Go(func() { el.Shutdown(ctx) })
	}
	if hs != nil {
		hs.Shutdown(ctx)
	}
	wg.Wait()
}

// newServer returns the eventloop.Server of variant v: v's options, with
// hooks that greet each connection and keep what its echoes need.
func (s *EventLoop) newServer(v Variant) *eventloop.Server {
	opts := v.Options()
	opts.Conn.OnOpen = func(c *conn.Conn) {
		// New calls OnOpen before either way into the loops hands the Conn
		// to them, so the greeting is the first message, as it must be.
		lc := &loopConn{v: v, name: "/" + v.Name, remote: c.RemoteAddr().String()}
		if _, ok := s.viaHTTP.Load(lc.remote); ok {
			lc.name = HTTPPrefix + lc.name
		}
		lc.end = time.AfterFunc(connTimeout, func() { c.CloseNow() })
		s.conns.Store(c, lc)
		s.Logger.Printf("eventloop: %s %s: connected, extensions %q", lc.name, lc.remote, c.Extensions())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Write(ctx, conn.Text, []byte("negotiated:"+c.Extensions())); err != nil {
			s.Logger.Printf("eventloop: %s %s: writing the greeting: %v", lc.name, lc.remote, err)
		}
	}
	opts.Conn.OnClose = func(c *conn.Conn, code conn.CloseCode, err error) {
		v, ok := s.conns.LoadAndDelete(c)
		if !ok {
			return
		}
		lc := v.(*loopConn)
		lc.end.Stop()
		if code == conn.CloseNormalClosure {
			s.Logger.Printf("eventloop: %s %s: closed with 1000 after %d echoes", lc.name, lc.remote, lc.echoed.Load())
		} else {
			s.Logger.Printf("eventloop: %s %s: closed with %d after %d echoes: %v", lc.name, lc.remote, code, lc.echoed.Load(), err)
		}
	}
	return &eventloop.Server{
		Options:  opts,
		Loops:    eventLoops,
		ErrorLog: s.Logger,
		OnMessage: func(c *conn.Conn, typ conn.MessageType, data []byte) {
			v, ok := s.conns.Load(c)
			if !ok {
				s.Logger.Printf("eventloop: %s: a message from a connection OnOpen did not see", c.RemoteAddr())
				go c.Close(conn.CloseInternalServerErr, "no OnOpen")
				return
			}
			lc := v.(*loopConn)
			if typ == conn.Text && string(data) == StatsRequest {
				s.stats(c, lc)
				return
			}
			if err := c.Write(context.Background(), typ, data); err != nil {
				s.Logger.Printf("eventloop: %s %s: echo %d: %v", lc.name, lc.remote, lc.echoed.Load(), err)
				return
			}
			lc.echoed.Add(1)
		},
	}
}

// stats answers stats? with the kernel's byte counts, after checking
// that those of Conn.Stats kept up with them.
func (s *EventLoop) stats(c *conn.Conn, lc *loopConn) {
	fail := func(format string, args ...any) {
		reason := fmt.Sprintf(format, args...)
		s.Logger.Printf("eventloop: %s %s: %s", lc.name, lc.remote, reason)
		if len(reason) > 120 { // a Close frame's reason: at most 123 bytes
			reason = reason[:120]
		}
		go c.Close(conn.CloseInternalServerErr, reason)
	}
	cs := c.Stats()
	in, out, err := kernelBytes(c.LocalAddr(), c.RemoteAddr())
	if err != nil {
		// No sock_diag here (a container may refuse it): the counts of
		// Conn.Stats stand in. The checks use only differences between
		// answers, so the handshake they leave out does not matter.
		s.kernelOnce.Do(func() { s.Logger.Printf("eventloop: byte counts from Conn.Stats, not the kernel: %v", err) })
		in, out = cs.WireBytesRead, cs.WireBytesWritten
	}
	dIn, dOut := in-cs.WireBytesRead, out-cs.WireBytesWritten
	if !lc.baseSet {
		lc.baseSet, lc.baseIn, lc.baseOut = true, dIn, dOut
	} else if dIn != lc.baseIn || dOut != lc.baseOut {
		// What Conn.Stats counted since the first answer beyond the kernel.
		fail("Conn.Stats wire bytes drift from the kernel's: read %+d, written %+d", lc.baseIn-dIn, lc.baseOut-dOut)
		return
	}
	st := Stats{
		WireIn:            in,
		WireOut:           out,
		Echoed:            int(lc.echoed.Load()),
		ShortUncompressed: lc.v.DefaultThreshold && c.Extensions() != "",
	}
	b, _ := json.Marshal(st)
	if err := c.Write(context.Background(), conn.Text, append([]byte("stats:"), b...)); err != nil {
		s.Logger.Printf("eventloop: %s %s: answering stats?: %v", lc.name, lc.remote, err)
	}
}

// CheckKernelCounts reports whether EventLoop can have the kernel count a
// connection's bytes here (it needs Linux and its sock_diag), by asking
// for those of a loopback connection of its own.
func CheckKernelCounts() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	_, _, err = kernelBytes(c.LocalAddr(), c.RemoteAddr())
	return err
}

// A queueListener is a net.Listener whose connections the dispatcher
// puts.
type queueListener struct {
	addr net.Addr
	ch   chan net.Conn
	once sync.Once
	done chan struct{}
}

func newQueueListener(addr net.Addr) *queueListener {
	return &queueListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// put hands nc to Accept; false if the listener is closed.
func (q *queueListener) put(nc net.Conn) bool {
	select {
	case q.ch <- nc:
		return true
	case <-q.done:
		return false
	}
}

func (q *queueListener) Accept() (net.Conn, error) {
	select {
	case nc := <-q.ch:
		return nc, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *queueListener) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *queueListener) Addr() net.Addr { return q.addr }

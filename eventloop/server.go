package eventloop

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

// A Server serves WebSocket connections on a few event loops. Its zero
// value is not usable: OnMessage must be set. Set the fields before the
// first call of Serve, ServeHTTP or ServeConn, and do not change them
// after.
type Server struct {
	// OnMessage receives every message of every connection. It runs on
	// the connection's event loop: messages of one connection arrive in
	// order, one call at a time, and data is valid only until the call
	// returns. Every connection of the loop waits while it runs, so it
	// must not block: it may write to c (a write never waits for the peer
	// here, see the package doc), and should hand longer work to a
	// goroutine. A panic in OnMessage is logged and closes c with 1011.
	OnMessage func(c *conn.Conn, typ conn.MessageType, data []byte)

	// Options configures the upgrades of Serve and ServeHTTP: what the
	// server offers and accepts, and in Options.Conn how each connection
	// reads, writes and closes (the read limit, keepalive, the close
	// timeout, backpressure, the hooks OnOpen and OnClose). nil means the
	// zero server.Options.
	Options *server.Options

	// Loops is the number of event loops, each a goroutine waiting on the
	// sockets of its connections. Zero means runtime.GOMAXPROCS(0).
	Loops int

	// ErrorLog logs accept errors, failed handshakes and panics in
	// OnMessage. nil means the log package's standard logger.
	ErrorLog *log.Logger

	start    sync.Once
	startErr error
	poller   *poller // nil where there is no event loop (poll_other.go)
	closing  atomic.Bool

	mu          sync.Mutex
	listeners   map[net.Listener]struct{}
	handshaking map[net.Conn]struct{}   // accepted by Serve, not yet upgraded
	blocking    map[*conn.Conn]struct{} // served by a goroutine each
	wg          sync.WaitGroup          // the goroutines of Serve and of blocking
}

// ErrServerClosed is returned by Serve and ServeConn after Close or
// Shutdown.
var ErrServerClosed = errors.New("eventloop: server closed")

// Serve accepts connections from l, upgrades each as
// server.UpgradeConn does (a goroutine per connection while its opening
// handshake lasts, bounded by Options.HandshakeTimeout), and serves the
// WebSocket connections on the event loops. It returns when l fails or
// the server is closed, with ErrServerClosed in the latter case. Serve
// closes l.
func (s *Server) Serve(l net.Listener) error {
	if err := s.init(); err != nil {
		l.Close()
		return err
	}
	if !s.track(l) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrack(l)
	defer l.Close()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				// As net/http does: wait and accept again, rather than spin or stop.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logf("eventloop: accept: %v; retrying in %v", err, delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		if s.handshaking == nil {
			s.handshaking = make(map[net.Conn]struct{})
		}
		s.handshaking[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.upgrade(nc)
	}
}

// upgrade performs the opening handshake on nc and serves the Conn.
func (s *Server) upgrade(nc net.Conn) {
	defer s.wg.Done()
	c, _, err := server.UpgradeConn(nc, s.Options)
	s.mu.Lock()
	delete(s.handshaking, nc)
	s.mu.Unlock()
	if err != nil {
		s.logf("eventloop: upgrade from %v: %v", nc.RemoteAddr(), err)
		return
	}
	s.ServeConn(c)
}

// ServeHTTP upgrades the request as server.Upgrade does, with
// s.Options, and serves the Conn on the event loops, so that a Server
// can sit behind any router. It returns as soon as the connection is
// upgraded; a failed upgrade has been answered with its HTTP status.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := server.Upgrade(w, r, s.Options)
	if err != nil {
		s.logf("eventloop: upgrade from %v: %v", r.RemoteAddr, err)
		return
	}
	s.ServeConn(c)
}

// ServeConn serves c, a Conn nothing has read from yet, as Serve serves
// the connections it accepts: from now on the Server reads c and hands
// its messages to OnMessage. Writes and Close may still come from any
// goroutine. A Conn over a TCP or Unix socket joins an event loop; any
// other (TLS, an HTTP/2 stream, a pipe), or any Conn where there is no
// event loop, is read by a goroutine of its own, with the same calls of
// OnMessage. A write to such a Conn waits for its peer as usual, even
// from OnMessage on a loop. If the server is closed, ServeConn closes c
// with 1001 and returns ErrServerClosed.
func (s *Server) ServeConn(c *conn.Conn) error {
	if err := s.init(); err != nil {
		c.CloseNow()
		return err
	}
	if s.closing.Load() {
		c.Close(conn.CloseGoingAway, "server shutting down")
		return ErrServerClosed
	}
	if s.poller != nil && s.poller.add(c) == nil {
		return nil
	}
	// Not a socket, or the loops could not take it (a write in progress
	// held it past CloseTimeout, say): a goroutine reads it instead.
	if c.State() == conn.Closed {
		return net.ErrClosed
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		c.Close(conn.CloseGoingAway, "server shutting down")
		return ErrServerClosed
	}
	if s.blocking == nil {
		s.blocking = make(map[*conn.Conn]struct{})
	}
	s.blocking[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serveBlocking(c)
	return nil
}

// serveBlocking reads c on its own goroutine and hands its messages to
// OnMessage.
func (s *Server) serveBlocking(c *conn.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.blocking, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	var buf []byte
	for {
		typ, msg, err := c.Read(context.Background(), buf[:0])
		if err != nil {
			return
		}
		s.deliver(c, typ, msg)
		buf = keepBuffer(buf, msg)
	}
}

// maxKeptBuffer bounds the message buffer a loop or a reader keeps for the
// next message, so that one large message does not pin its memory.
const maxKeptBuffer = 64 << 10

// keepBuffer returns the buffer to read the next message into: msg's
// array, if it grew and is not too large, or else buf.
func keepBuffer(buf, msg []byte) []byte {
	if cap(msg) > cap(buf) && cap(msg) <= maxKeptBuffer {
		return msg[:0]
	}
	return buf
}

// deliver calls OnMessage, recovering a panic as net/http recovers one in
// a handler.
func (s *Server) deliver(c *conn.Conn, typ conn.MessageType, msg []byte) {
	defer func() {
		if err := recover(); err != nil {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			s.logf("eventloop: panic serving %v: %v\n%s", c.RemoteAddr(), err, buf)
			c.Close(conn.CloseInternalServerErr, "")
		}
	}()
	s.OnMessage(c, typ, msg)
}

// init starts the event loops, once.
func (s *Server) init() error {
	s.start.Do(func() {
		if s.OnMessage == nil {
			s.startErr = errors.New("eventloop: Server.OnMessage is nil")
			return
		}
		n := s.Loops
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		s.poller, s.startErr = newPoller(s, n)
	})
	return s.startErr
}

func (s *Server) track(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) untrack(l net.Listener) {
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
}

// conns returns the connections the server serves: on its loops, and
// each on a goroutine of its own.
func (s *Server) conns() (looped, blocking []*conn.Conn) {
	if s.poller != nil {
		looped = s.poller.conns()
	}
	s.mu.Lock()
	for c := range s.blocking {
		blocking = append(blocking, c)
	}
	s.mu.Unlock()
	return looped, blocking
}

// Shutdown stops accepting, sends 1001 Going Away to every connection,
// and waits until all have closed or ctx ends; then it closes what is
// left, as Close does, and returns ctx's error if it ended first.
//
// Shutdown and Close must not be called from OnMessage or a Conn's
// hooks while they run on a loop: they wait for the loops to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	looped, blocking := s.conns()
	for _, c := range looped {
		c.Close(conn.CloseGoingAway, "server shutting down") // returns once the frame is written
	}
	// Close waits for the peer's answer on a Conn read by a goroutine.
	var closing sync.WaitGroup
	for _, c := range blocking {
		closing.Go(func() { c.Close(conn.CloseGoingAway, "server shutting down") })
	}
	defer closing.Wait()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var err error
	for err == nil {
		if looped, blocking := s.conns(); len(looped)+len(blocking) == 0 {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	s.Close()
	return err
}

// Close stops accepting, closes every connection at once, without a
// closing handshake, and stops the event loops. It returns when every
// goroutine of the server has ended.
func (s *Server) Close() error {
	s.stopAccepting()
	looped, blocking := s.conns()
	for _, c := range append(looped, blocking...) {
		c.CloseNow()
	}
	s.wg.Wait()
	if s.poller != nil {
		s.poller.stop()
	}
	return nil
}

func (s *Server) stopAccepting() {
	s.init()
	s.mu.Lock()
	s.closing.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	for nc := range s.handshaking {
		nc.Close()
	}
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// Package echo is the echo server that the interoperability checks run
// against: one WebSocket endpoint per permessage-deflate variant, each
// echoing every message with its type. Server serves them with a
// goroutine per connection, EventLoop on package eventloop's event loops.
//
// The protocol the checkers rely on:
//
//   - The first message on every connection is the text
//     "negotiated:" followed by Conn.Extensions, the server's view of
//     what the handshake agreed ("" when nothing was).
//   - The text message "stats?" is not echoed but answered with
//     "stats:" and a JSON object: wireIn and wireOut, the bytes read
//     from and written to the TCP connection so far (handshake
//     included), and echoed, the messages echoed so far. Checkers take
//     these before and after a run of messages to see how much they
//     shrank on the wire in each direction. shortUncompressed, if
//     true, says that the server sends short messages uncompressed.
//   - Every other message is echoed. Server reads even-numbered
//     messages (from 0) whole with Conn.Read and writes them with
//     Conn.Write; odd ones it streams through Conn.Reader and Conn.Writer
//     in writes of varying sizes, so both paths of the library meet the
//     peer. EventLoop gets each whole in OnMessage and echoes it with
//     Conn.Write.
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

// A Variant is one endpoint: the server's permessage-deflate wishes and
// compression level.
type Variant struct {
	Name        string            // the endpoint is "/" + Name
	Compression *conn.Compression // nil: compression off
	Level       int               // conn.Options.CompressionLevel
	// DefaultThreshold leaves conn.Options.CompressionThreshold at zero,
	// so that short messages go uncompressed between compressed ones;
	// otherwise every message is compressed, however short.
	DefaultThreshold bool
}

// Options returns the server options of the variant's endpoint, the same
// for both echo servers.
func (v Variant) Options() *server.Options {
	threshold := -1
	if v.DefaultThreshold {
		threshold = 0
	}
	return &server.Options{
		Compression: v.Compression,
		Conn: conn.Options{
			CompressionLevel:     v.Level,
			CompressionThreshold: threshold,
		},
	}
}

// Variants are the endpoints the server offers.
var Variants = []Variant{
	{Name: "off"},
	{Name: "takeover", Compression: &conn.Compression{}},
	{Name: "no-server-takeover", Compression: &conn.Compression{ServerNoContextTakeover: true}},
	{Name: "no-client-takeover", Compression: &conn.Compression{ClientNoContextTakeover: true}},
	{Name: "no-takeover", Compression: &conn.Compression{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	{Name: "server-window-9", Compression: &conn.Compression{ServerMaxWindowBits: 9}},
	{Name: "client-window-10", Compression: &conn.Compression{ClientMaxWindowBits: 10}},
	{Name: "window-8", Compression: &conn.Compression{ServerMaxWindowBits: 8, ClientMaxWindowBits: 8}},
	{Name: "no-takeover-window-9", Compression: &conn.Compression{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 9}},
	{Name: "level-1", Compression: &conn.Compression{}, Level: 1},
	{Name: "level-9", Compression: &conn.Compression{}, Level: 9},
	{Name: "default-threshold", Compression: &conn.Compression{}, DefaultThreshold: true},
	{Name: "default-threshold-no-takeover", Compression: &conn.Compression{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, DefaultThreshold: true},
}

// StatsRequest is the message that asks for the connection's byte counts.
const StatsRequest = "stats?"

// Stats is the answer to StatsRequest, after the "stats:" prefix.
type Stats struct {
	WireIn  int64 `json:"wireIn"`
	WireOut int64 `json:"wireOut"`
	Echoed  int   `json:"echoed"`
	// ShortUncompressed says the server sends short messages
	// uncompressed, so the wire size of short ones says nothing of
	// context takeover.
	ShortUncompressed bool `json:"shortUncompressed"`
}

// page is what / serves: a same-origin page for the browser check to run
// its script in.
const page = `<!doctype html>
<meta charset="utf-8">
<title>rfc6455/websocket interop</title>
<p>The interop browser check runs its script in this page.</p>
`

// A Server is the echo server. Connections must come through Listen's
// listener for their stats to count the wire; others report zeros.
type Server struct {
	Logger *log.Logger

	conns    sync.Map // remote address → *countingConn
	handlers []*server.Handler
}

// Handler returns the server's routes: / and one WebSocket endpoint per
// variant.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, v := range Variants {
		h := &server.Handler{
			Options: v.Options(),
			Serve:   func(c *conn.Conn, r *http.Request) { s.serve(v, c, r) },
		}
		s.handlers = append(s.handlers, h)
		mux.Handle("/"+v.Name, h)
	}
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	return mux
}

// Shutdown closes every WebSocket connection with 1001.
func (s *Server) Shutdown(ctx context.Context) {
	for _, h := range s.handlers {
		h.Shutdown(ctx)
	}
}

// Listen wraps l so that the server can count each connection's bytes.
func (s *Server) Listen(l net.Listener) net.Listener { return &listener{Listener: l, s: s} }

type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &countingConn{Conn: nc, s: l.s, key: nc.RemoteAddr().String()}
	l.s.conns.Store(c.key, c)
	return c, nil
}

// A countingConn counts the bytes that pass it. Hijacking hands the Conn
// the same net.Conn, so the counts cover the WebSocket traffic.
type countingConn struct {
	net.Conn
	s        *Server
	key      string
	in, out  atomic.Int64
	shutOnce sync.Once
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

func (c *countingConn) Close() error {
	c.shutOnce.Do(func() { c.s.conns.Delete(c.key) })
	return c.Conn.Close()
}

// connTimeout bounds a connection, so that a stuck peer cannot hold the
// server.
const connTimeout = 2 * time.Minute

// chunkSizes are the sizes of the writes of a streamed echo, in turn.
var chunkSizes = []int{1, 13, 500, 4096, 70000, 7}

func (s *Server) serve(v Variant, c *conn.Conn, r *http.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), connTimeout)
	defer cancel()
	logf := func(format string, args ...any) {
		s.Logger.Printf("echo: /%s %s: %s", v.Name, r.RemoteAddr, fmt.Sprintf(format, args...))
	}
	counts, _ := s.conns.Load(r.RemoteAddr)
	cc, _ := counts.(*countingConn)
	logf("connected, extensions %q", c.Extensions())
	if err := c.Write(ctx, conn.Text, []byte("negotiated:"+c.Extensions())); err != nil {
		logf("writing the greeting: %v", err)
		return
	}
	echoed := 0
	stats := func() error {
		st := Stats{Echoed: echoed, ShortUncompressed: v.DefaultThreshold && c.Extensions() != ""}
		if cc != nil {
			st.WireIn, st.WireOut = cc.in.Load(), cc.out.Load()
		}
		b, _ := json.Marshal(st)
		return c.Write(ctx, conn.Text, append([]byte("stats:"), b...))
	}
	var buf []byte
	head := make([]byte, len(StatsRequest)+1)
	for {
		var err error
		var stat bool
		if echoed%2 == 0 {
			var typ conn.MessageType
			typ, buf, err = c.Read(ctx, buf[:0])
			switch {
			case err != nil:
			case typ == conn.Text && string(buf) == StatsRequest:
				stat, err = true, stats()
			default:
				err = c.Write(ctx, typ, buf)
			}
		} else {
			stat, err = s.stream(ctx, c, head, stats)
		}
		if err != nil {
			var ce *conn.CloseError
			if errors.As(err, &ce) && ce.Code == conn.CloseNormalClosure {
				logf("closed by the peer with 1000 after %d echoes", echoed)
			} else {
				logf("after %d echoes: %v", echoed, err)
			}
			return
		}
		if !stat {
			echoed++
		}
	}
}

// stream echoes one message through Conn.Reader and Conn.Writer, unless
// it is StatsRequest, which it answers with stats.
func (s *Server) stream(ctx context.Context, c *conn.Conn, head []byte, stats func() error) (stat bool, err error) {
	typ, rd, err := c.Reader(ctx)
	if err != nil {
		return false, err
	}
	n, err := io.ReadFull(rd, head)
	whole := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !whole {
		return false, err
	}
	if whole && typ == conn.Text && string(head[:n]) == StatsRequest {
		return true, stats()
	}
	w, err := c.Writer(ctx, typ)
	if err != nil {
		return false, err
	}
	if _, err := w.Write(head[:n]); err != nil {
		return false, err
	}
	if !whole {
		buf := make([]byte, 70000)
		for i := 0; ; i++ {
			m, err := rd.Read(buf[:chunkSizes[i%len(chunkSizes)]])
			if m > 0 {
				if _, err := w.Write(buf[:m]); err != nil {
					return false, err
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return false, err
			}
		}
	}
	return false, w.Close()
}

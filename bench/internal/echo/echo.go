// Package echo holds the uncompressed echo servers of the benchmarks:
// this module and the peer libraries (gorilla/websocket,
// coder/websocket, gobwas/ws, lxzan/gws) echoing each message back with
// its type, from each library's documented blocking read loop (gws's
// ReadLoop) in the goroutine that serves the connection, reusing buffers
// where the API allows. The tests of package bench, which run them
// beside a client in one process, and cmd/serverbench, which runs one
// of them alone in a process, share them, with the messages of the echo
// workloads and the gobwas/ws frame loop, which the tests' gobwas client
// uses too.
package echo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync/atomic"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/eventloop"
	"github.com/rfc6455/websocket/server"
)

// ReadLimit is the read limit of every endpoint (64 MiB), above the
// largest message of the workloads.
const ReadLimit = 64 << 20

// A Server configures the echo servers made from it and counts what they
// echo. Its zero value is ready to use; it must not be copied once used.
type Server struct {
	// KeepBuffer has each connection reuse one message buffer, as a
	// throughput-minded application does. Without it no buffer survives
	// a message, so idle memory is the library's alone.
	KeepBuffer bool
	// Echoed counts the messages echoed, each once its Write returned.
	Echoed atomic.Int64
}

// --- this module ---

var oursOptions = &server.Options{Conn: conn.Options{ReadLimit: ReadLimit}}

// Ours returns an echo handler that upgrades with server.Upgrade.
func (s *Server) Ours() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Upgrade(w, r, oursOptions)
		if err != nil {
			return
		}
		s.oursEcho(c)
	})
}

// OursHandler returns an echo server.Handler: over HTTP/1.1 it serves
// each connection on a goroutine of its own and returns from ServeHTTP,
// so net/http drops its state for the connection.
func (s *Server) OursHandler() http.Handler {
	return &server.Handler{Options: oursOptions, Serve: func(c *conn.Conn, _ *http.Request) { s.oursEcho(c) }}
}

// OursConn upgrades nc with server.UpgradeConn and echoes until the
// connection ends; it closes nc.
func (s *Server) OursConn(nc net.Conn) {
	c, _, err := server.UpgradeConn(nc, oursOptions)
	if err != nil {
		return // UpgradeConn has answered and closed nc
	}
	s.oursEcho(c)
}

// OursEventLoop returns an eventloop.Server that echoes every message from
// the loop that read it, with the options of the other servers of ours.
func (s *Server) OursEventLoop() *eventloop.Server {
	return &eventloop.Server{
		Options: oursOptions,
		OnMessage: func(c *conn.Conn, typ conn.MessageType, data []byte) {
			if c.Write(context.Background(), typ, data) == nil {
				s.Echoed.Add(1)
			}
		},
	}
}

func (s *Server) oursEcho(c *conn.Conn) {
	defer c.CloseNow()
	ctx := context.Background()
	var buf []byte
	for {
		typ, msg, err := c.Read(ctx, buf[:0])
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
		s.Echoed.Add(1)
		if s.KeepBuffer {
			buf = msg
		}
	}
}

// --- gorilla/websocket ---

// gorillaUpgrader is at its defaults: a zero ReadBufferSize and
// WriteBufferSize reuse the buffers of net/http's hijacked connection
// (4 KiB each), and its default origin check admits clients that send no
// Origin.
var gorillaUpgrader = gorilla.Upgrader{}

// Gorilla returns an echo handler on gorilla/websocket's NextReader and
// WriteMessage.
func (s *Server) Gorilla() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := gorillaUpgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadLimit(ReadLimit)
		var buf bytes.Buffer
		for {
			typ, rd, err := c.NextReader()
			if err != nil {
				return
			}
			if _, err := buf.ReadFrom(rd); err != nil {
				return
			}
			if err := c.WriteMessage(typ, buf.Bytes()); err != nil {
				return
			}
			s.Echoed.Add(1)
			if s.KeepBuffer {
				buf.Reset()
			} else {
				buf = bytes.Buffer{}
			}
		}
	})
}

// --- coder/websocket ---

// Coder returns an echo handler on coder/websocket's Reader and Write,
// with compression at coder's default, disabled.
func (s *Server) Coder() http.Handler { return s.CoderWith(nil, ReadLimit) }

// CoderWith is Coder accepting with opts and reading at most readLimit
// bytes a message.
func (s *Server) CoderWith(opts *coder.AcceptOptions, readLimit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(readLimit)
		ctx := context.Background()
		var buf bytes.Buffer
		for {
			typ, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			if _, err := buf.ReadFrom(rd); err != nil {
				return
			}
			if err := c.Write(ctx, typ, buf.Bytes()); err != nil {
				return
			}
			s.Echoed.Add(1)
			if s.KeepBuffer {
				buf.Reset()
			} else {
				buf = bytes.Buffer{}
			}
		}
	})
}

// --- gobwas/ws ---

// A GobwasEndpoint is one end of a connection driven with gobwas/ws's
// frame functions. gobwas/ws is a toolkit of frame-level functions
// rather than a connection type, and its README's fast path is
// ws.ReadHeader, io.ReadFull, ws.Cipher, ws.WriteHeader and a Write of
// the payload. A GobwasEndpoint is that loop, with the *Buffer variants
// of the header functions (no allocation), bufio buffers like the other
// libraries, and what a correct endpoint must add: control frames,
// fragments, masking checks and the read limit. It does not validate
// UTF-8, as gobwas's own wsutil.Reader does not by default. One
// goroutine at a time may read, and one at a time may write.
type GobwasEndpoint struct {
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	client bool
	rhdr   [ws.MaxHeaderSize]byte
	whdr   [ws.MaxHeaderSize]byte
	ctl    [ws.MaxControlFramePayloadSize]byte
}

// NewGobwasEndpoint returns an endpoint reading from br and writing to
// bw, both buffering nc; client says which end it is (a client masks
// what it sends, a server refuses unmasked frames).
func NewGobwasEndpoint(nc net.Conn, br *bufio.Reader, bw *bufio.Writer, client bool) *GobwasEndpoint {
	return &GobwasEndpoint{nc: nc, br: br, bw: bw, client: client}
}

// Close closes the connection at once, without a closing handshake.
func (g *GobwasEndpoint) Close() error { return g.nc.Close() }

var errGobwasProtocol = errors.New("gobwas: protocol violation")

// Read appends the next message to buf and returns it with its opcode.
// It answers pings and returns io.EOF on a Close frame.
func (g *GobwasEndpoint) Read(buf []byte) (ws.OpCode, []byte, error) {
	var op ws.OpCode
	for {
		h, err := ws.ReadHeaderBuffer(g.br, g.rhdr[:0])
		if err != nil {
			return 0, buf, err
		}
		if h.Rsv != 0 || h.Masked == g.client || h.Length > ReadLimit-int64(len(buf)) {
			return 0, buf, errGobwasProtocol
		}
		if h.OpCode.IsControl() {
			if !h.Fin || h.Length > ws.MaxControlFramePayloadSize {
				return 0, buf, errGobwasProtocol
			}
			p := g.ctl[:h.Length]
			if _, err := io.ReadFull(g.br, p); err != nil {
				return 0, buf, err
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			switch h.OpCode {
			case ws.OpClose:
				return 0, buf, io.EOF
			case ws.OpPing:
				if err := g.Write(ws.OpPong, p); err != nil {
					return 0, buf, err
				}
			}
			continue
		}
		if (op == 0) != (h.OpCode != ws.OpContinuation) {
			return 0, buf, errGobwasProtocol
		}
		if op == 0 {
			op = h.OpCode
		}
		n := len(buf)
		buf = slices.Grow(buf, int(h.Length))[:n+int(h.Length)]
		if _, err := io.ReadFull(g.br, buf[n:]); err != nil {
			return 0, buf[:n], err
		}
		if h.Masked {
			ws.Cipher(buf[n:], h.Mask, 0)
		}
		if h.Fin {
			return op, buf, nil
		}
	}
}

// Write sends p as one frame, masked by a client: it masks as it copies
// into the write buffer, so p is left as it was.
func (g *GobwasEndpoint) Write(op ws.OpCode, p []byte) error {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	if g.client {
		h.Masked = true
		h.Mask = ws.NewMask()
	}
	if err := ws.WriteHeaderBuffer(g.bw, h, g.whdr[:0]); err != nil {
		return err
	}
	if !g.client {
		if _, err := g.bw.Write(p); err != nil {
			return err
		}
		return g.bw.Flush()
	}
	for off := 0; off < len(p); {
		if g.bw.Available() == 0 {
			if err := g.bw.Flush(); err != nil {
				return err
			}
		}
		chunk := g.bw.AvailableBuffer()
		chunk = append(chunk, p[off:min(len(p), off+cap(chunk))]...)
		ws.Cipher(chunk, h.Mask, off)
		off += len(chunk)
		g.bw.Write(chunk) // it fits: no error but the Flush's
	}
	return g.bw.Flush()
}

// Gobwas returns an echo handler that upgrades with ws.UpgradeHTTP and
// echoes through a GobwasEndpoint on net/http's hijacked buffers.
func (s *Server) Gobwas() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, rw, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		s.gobwasEcho(NewGobwasEndpoint(nc, rw.Reader, rw.Writer, false))
	})
}

// GobwasConn upgrades nc with ws.Upgrade and echoes through a
// GobwasEndpoint with 4 KiB bufio buffers until the connection ends; it
// closes nc.
func (s *Server) GobwasConn(nc net.Conn) {
	if _, err := ws.Upgrade(nc); err != nil {
		nc.Close()
		return
	}
	s.gobwasEcho(NewGobwasEndpoint(nc, bufio.NewReaderSize(nc, 4096), bufio.NewWriterSize(nc, 4096), false))
}

func (s *Server) gobwasEcho(g *GobwasEndpoint) {
	defer g.Close()
	var buf []byte
	for {
		op, msg, err := g.Read(buf[:0])
		if err != nil {
			return
		}
		if err := g.Write(op, msg); err != nil {
			return
		}
		s.Echoed.Add(1)
		if s.KeepBuffer {
			buf = msg
		}
	}
}

// --- lxzan/gws ---

// gwsOption is gws at its defaults (no compression, no UTF-8 check,
// messages handled in the reading goroutine), with the read and write
// limits raised.
var gwsOption = &gws.ServerOption{
	ReadMaxPayloadSize:  ReadLimit,
	WriteMaxPayloadSize: ReadLimit,
}

// GWS returns an echo handler that upgrades with a gws.Upgrader and runs
// the connection's ReadLoop, echoing from OnMessage.
func (s *Server) GWS() http.Handler {
	up := gws.NewUpgrader(s.GWSEvents(), gwsOption)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop()
	})
}

// GWSEvents returns gws event handlers that echo each message from
// OnMessage, for an Upgrader of any options.
func (s *Server) GWSEvents() gws.Event { return &gwsEcho{s: s} }

type gwsEcho struct {
	gws.BuiltinEventHandler
	s *Server
}

func (h *gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	if c.WriteMessage(m.Opcode, m.Bytes()) == nil {
		h.s.Echoed.Add(1)
	}
}

// --- the messages ---

// words are what text messages are made of: mostly ASCII, as chat and
// JSON are, with two- to four-byte UTF-8 sequences among them, so that a
// UTF-8 check cannot take an all-ASCII shortcut throughout.
var words = []string{
	"the", "message", "\"id\":", "42,", "room", "hello", "world", "ok", "{\"t\":", "}", "user",
	"café", "naïve", "Grüße", "привет", "日本語", "中文", "😀", "👍", "ünïcödé", "data", "status",
}

// Message returns a message of size bytes drawn from rng: random bytes,
// or for text, words (about 40% of them non-ASCII) separated by spaces
// and padded with 'x' to the size.
func Message(rng *rand.Rand, size int, text bool) []byte {
	p := make([]byte, 0, size+8)
	if !text {
		for len(p) < size {
			p = append(p, byte(rng.Uint32()))
		}
		return p
	}
	for {
		w := words[rng.IntN(len(words))]
		if len(p)+len(w)+1 > size {
			break
		}
		p = append(p, w...)
		p = append(p, ' ')
	}
	for len(p) < size {
		p = append(p, 'x')
	}
	return p
}

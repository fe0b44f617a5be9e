// Package autobahn builds echo servers and Autobahn test clients on the
// peer libraries (gorilla/websocket, coder/websocket, lxzan/gws,
// gobwas/ws), configured as the subjects of the real Autobahn runs in
// testdata/verdicts.json, so that the Go-native suite
// (internal/wstest) can be checked against the real suite's verdicts.
package autobahn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/gorilla/websocket"
	"github.com/lxzan/gws"
)

// readLimit is the read limit every subject uses (256 MiB).
const readLimit = 256 << 20

// GorillaServer is gorilla's Autobahn example echo server (the ReadMessage
// variant): compression enabled, UTF-8 of text messages checked by the
// application, which answers invalid text with Close 1007.
func GorillaServer() http.Handler {
	up := websocket.Upgrader{
		ReadBufferSize:    4096,
		WriteBufferSize:   4096,
		EnableCompression: true,
		CheckOrigin:       func(*http.Request) bool { return true },
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		gorillaEcho(c)
	})
}

// gorillaEcho echoes messages as gorilla's example does.
func gorillaEcho(c *websocket.Conn) {
	c.SetReadLimit(readLimit)
	for {
		mt, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		if mt == websocket.TextMessage && !utf8.Valid(b) {
			_ = c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), time.Time{})
		}
		_ = c.WriteMessage(mt, b)
	}
}

// CoderServer is coder/websocket's Autobahn echo loop with context
// takeover compression.
func CoderServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{
			CompressionMode:    coder.CompressionContextTakeover,
			InsecureSkipVerify: true,
		})
		if err != nil {
			return
		}
		_ = coderEcho(r.Context(), c)
	})
}

func coderEcho(ctx context.Context, c *coder.Conn) error {
	defer c.Close(coder.StatusInternalError, "")
	c.SetReadLimit(readLimit)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	b := make([]byte, 32<<10)
	for {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return err
		}
		w, err := c.Writer(ctx, typ)
		if err != nil {
			return err
		}
		if _, err := io.CopyBuffer(w, r, b); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}

// gwsHandler echoes messages; unless builtinPing, pings are answered with
// their payload.
type gwsHandler struct {
	gws.BuiltinEventHandler
	builtinPing bool
}

func (h *gwsHandler) OnPing(c *gws.Conn, payload []byte) {
	if h.builtinPing {
		h.BuiltinEventHandler.OnPing(c, payload)
		return
	}
	_ = c.WritePong(payload)
}

func (h *gwsHandler) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	_ = c.WriteMessage(m.Opcode, m.Bytes())
}

func gwsDeflate() gws.PermessageDeflate {
	return gws.PermessageDeflate{Enabled: true, ServerContextTakeover: true, ClientContextTakeover: true}
}

// GwsServer is an lxzan/gws echo server with context takeover compression
// both ways; utf8 sets CheckUtf8Enabled; builtinPing keeps the library's
// ping handler (an empty pong).
func GwsServer(utf8Check, builtinPing bool) http.Handler {
	up := gws.NewUpgrader(&gwsHandler{builtinPing: builtinPing}, &gws.ServerOption{
		PermessageDeflate:  gwsDeflate(),
		ReadMaxPayloadSize: readLimit,
		CheckUtf8Enabled:   utf8Check,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop()
	})
}

// GobwasServer is gobwas/ws's high-level helpers handler from its
// Autobahn example (wsutil.ReadClientData and WriteServerMessage). With
// failConn, protocol errors are answered with Close 1002 before the
// connection is dropped, as the example does; without, the connection is
// just dropped.
func GobwasServer(failConn bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			b, op, err := wsutil.ReadClientData(conn)
			if err != nil {
				if failConn {
					gobwasFail(conn, err)
				}
				return
			}
			if err := wsutil.WriteServerMessage(conn, op, b); err != nil {
				return
			}
		}
	})
}

func gobwasFail(conn net.Conn, err error) {
	var pe ws.ProtocolError
	if !errors.As(err, &pe) {
		return
	}
	if _, err := conn.Write(ws.CompiledCloseProtocolError); err != nil {
		return
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, _ = io.Copy(io.Discard, conn)
}

// A ClientRunner runs one Autobahn case as a test client: it connects to
// url (a /runCase URL) and echoes every message until the connection ends.
type ClientRunner func(ctx context.Context, url string) error

// GorillaClient echoes with gorilla's client, compression enabled and
// UTF-8 checked by the application like the server example.
func GorillaClient(ctx context.Context, url string) error {
	d := websocket.Dialer{EnableCompression: true}
	c, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	gorillaEcho(c)
	return nil
}

// RelaxedGorillaClient is GorillaClient with gorilla's check of the
// server's permessage-deflate response relaxed. Gorilla offers
// server_no_context_takeover and client_no_context_takeover and refuses a
// response that lacks either, although it never takes its own context
// over anyway; this client adds client_no_context_takeover to the
// response before gorilla reads it, so gorilla accepts a server that
// takes only server_no_context_takeover (Autobahn's default acceptance).
func RelaxedGorillaClient(ctx context.Context, url string) error {
	d := websocket.Dialer{
		EnableCompression: true,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var nd net.Dialer
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &relaxConn{Conn: c}, nil
		},
	}
	c, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	gorillaEcho(c)
	return nil
}

// relaxConn rewrites the permessage-deflate response in the handshake
// it reads, then passes everything through.
type relaxConn struct {
	net.Conn
	head    []byte // the response so far, until it is complete
	pending []byte // rewritten octets not yet read
	done    bool
}

func (c *relaxConn) Read(p []byte) (int, error) {
	for !c.done {
		if i := bytes.Index(c.head, []byte("\r\n\r\n")); i >= 0 {
			c.pending = append(relaxExtensions(c.head[:i+4]), c.head[i+4:]...)
			c.head, c.done = nil, true
			break
		}
		var buf [4096]byte
		n, err := c.Conn.Read(buf[:])
		c.head = append(c.head, buf[:n]...)
		if err != nil {
			c.pending, c.head, c.done = c.head, nil, true
			if len(c.pending) == 0 {
				return 0, err
			}
		}
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// relaxExtensions adds client_no_context_takeover to a permessage-deflate
// response header that lacks it.
func relaxExtensions(head []byte) []byte {
	lines := strings.Split(string(head), "\r\n")
	for i, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Extensions") &&
			strings.Contains(value, "permessage-deflate") && !strings.Contains(value, "client_no_context_takeover") {
			lines[i] = l + "; client_no_context_takeover"
		}
	}
	return []byte(strings.Join(lines, "\r\n"))
}

// CoderClient echoes with coder/websocket's client.
func CoderClient(ctx context.Context, url string) error {
	c, _, err := coder.Dial(ctx, url, &coder.DialOptions{CompressionMode: coder.CompressionContextTakeover})
	if err != nil {
		return err
	}
	_ = coderEcho(ctx, c)
	return nil
}

// GwsClient returns a runner echoing with lxzan/gws's client.
func GwsClient(utf8Check, builtinPing bool) ClientRunner {
	return func(ctx context.Context, url string) error {
		c, _, err := gws.NewClient(&gwsHandler{builtinPing: builtinPing}, &gws.ClientOption{
			Addr:               url,
			PermessageDeflate:  gwsDeflate(),
			ReadMaxPayloadSize: readLimit,
			CheckUtf8Enabled:   utf8Check,
		})
		if err != nil {
			return err
		}
		c.ReadLoop()
		return nil
	}
}

// RunClient drives the fuzzing server at base (ws://host:port) as an
// Autobahn test client: /getCaseCount, then /runCase for every case with
// run, then /updateReports. A case whose connection fails (a client that
// refuses the server's handshake, say) is the suite's to judge; RunClient
// goes on with the next.
func RunClient(ctx context.Context, base, agent string, run ClientRunner) error {
	c, _, err := websocket.DefaultDialer.DialContext(ctx, base+"/getCaseCount", nil)
	if err != nil {
		return err
	}
	_, msg, err := c.ReadMessage()
	c.Close()
	if err != nil {
		return err
	}
	var n int
	if _, err := fmt.Sscan(string(msg), &n); err != nil {
		return fmt.Errorf("autobahn: case count %q: %w", msg, err)
	}
	for i := 1; i <= n; i++ {
		_ = run(ctx, fmt.Sprintf("%s/runCase?case=%d&agent=%s", base, i, agent))
	}
	c, _, err = websocket.DefaultDialer.DialContext(ctx, base+"/updateReports?agent="+agent, nil)
	if err != nil {
		return err
	}
	_, _, _ = c.ReadMessage()
	return c.Close()
}

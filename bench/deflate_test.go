package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/lxzan/gws"

	"github.com/rfc6455/websocket/bench/internal/echo"
	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

// This file compares permessage-deflate (RFC 7692) in this module with
// coder/websocket and lxzan/gws: each library talks to itself, client
// and server, over loopback TCP, after negotiating the extension in its
// own opening handshake. Every library compresses at its "best speed"
// level, the only one coder/websocket has (compress/flate.BestSpeed),
// and compresses every message whatever its size.

// deflateReadLimit is the read limit of every endpoint (64 MiB), above
// the largest message of the workloads.
const deflateReadLimit = 64 << 20

// A deflateMode is the permessage-deflate agreement a benchmark asks for,
// the same in both directions.
type deflateMode struct {
	name       string
	takeover   bool // context takeover both ways
	windowBits int  // server_max_window_bits and client_max_window_bits
	off        bool // no permessage-deflate at all, for BenchmarkIdle
}

var (
	takeover15 = deflateMode{name: "takeover", takeover: true, windowBits: 15}
	takeover10 = deflateMode{name: "takeover-w10", takeover: true, windowBits: 10}
	noTakeover = deflateMode{name: "no-takeover", takeover: false, windowBits: 15}
	// uncompressed is the mode of echoSubjects as deflateSubjects.
	uncompressed = deflateMode{name: "off", off: true}
)

// checkExtensions reports whether the Sec-WebSocket-Extensions response
// ext is the agreement m asks for.
func (m deflateMode) checkExtensions(ext string) error {
	has := func(s string) bool { return strings.Contains(ext, s) }
	switch {
	case m.off:
		return checkUncompressed(ext)
	case !has("permessage-deflate"):
		return fmt.Errorf("permessage-deflate not negotiated: %q", ext)
	case m.takeover && has("no_context_takeover"):
		return fmt.Errorf("%s: response %q turns context takeover off", m.name, ext)
	case !m.takeover && !(has("server_no_context_takeover") && has("client_no_context_takeover")):
		return fmt.Errorf("%s: response %q keeps context takeover on", m.name, ext)
	case m.windowBits < 15 && !(has(fmt.Sprintf("server_max_window_bits=%d", m.windowBits)) &&
		has(fmt.Sprintf("client_max_window_bits=%d", m.windowBits))):
		return fmt.Errorf("%s: response %q does not limit both windows", m.name, ext)
	}
	return nil
}

// A receiver is what a client does with the messages it reads. Each
// library's client calls it from one goroutine of its own.
type receiver struct {
	onMessage  func(p []byte) // p is valid only during the call
	onEnd      func(err error)
	keepBuffer bool // as echo.Server.KeepBuffer
}

// A deflateClient is the writing end of a client connection.
type deflateClient interface {
	// Write sends p as one text message.
	Write(ctx context.Context, p []byte) error
	// Close closes the connection at once, without a closing handshake.
	Close()
}

// A deflateSubject is one library, configured alike as a server and as a
// client.
type deflateSubject struct {
	name string
	// supports reports whether the library can be configured for m.
	supports func(m deflateMode) bool
	// serve returns an echo handler for the agreement m.
	serve func(m deflateMode, e *echo.Server) http.Handler
	// dial connects to an echo server, offering m, starts reading with r,
	// and returns the Sec-WebSocket-Extensions response.
	dial func(ctx context.Context, wsURL string, m deflateMode, r receiver) (deflateClient, string, error)
}

var deflateSubjects = []deflateSubject{
	oursSubject(1, "ours"),
	{name: "coder", supports: coderSupports, serve: coderServe, dial: coderDial},
	{name: "gws", supports: func(deflateMode) bool { return true }, serve: gwsServe, dial: gwsDial},
}

// oursDefaultLevel is this module at its default compression level
// (level 2 of internal/deflate), outside the like-for-like comparison.
var oursDefaultLevel = oursSubject(0, "ours-default")

// --- this module ---

func oursParams(m deflateMode) *conn.Compression {
	p := &conn.Compression{
		ServerNoContextTakeover: !m.takeover,
		ClientNoContextTakeover: !m.takeover,
	}
	if m.windowBits < 15 {
		p.ServerMaxWindowBits = m.windowBits
		p.ClientMaxWindowBits = m.windowBits
	}
	return p
}

// oursSubject is this module at the given compression level (0 for its
// default), compressing every message.
func oursSubject(level int, name string) deflateSubject {
	opts := conn.Options{
		ReadLimit:            deflateReadLimit,
		CompressionLevel:     level,
		CompressionThreshold: -1,
	}
	serve := func(m deflateMode, e *echo.Server) http.Handler {
		so := &server.Options{Compression: oursParams(m), Conn: opts}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := server.Upgrade(w, r, so)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := context.Background()
			var buf []byte
			for {
				typ, msg, err := c.Read(ctx, buf)
				if err != nil {
					return
				}
				if err := c.Write(ctx, typ, msg); err != nil {
					return
				}
				e.Echoed.Add(1)
				if e.KeepBuffer {
					buf = msg[:0]
				}
			}
		})
	}
	dial := func(ctx context.Context, wsURL string, m deflateMode, r receiver) (deflateClient, string, error) {
		c, resp, err := client.Dial(ctx, wsURL, &client.Options{
			Compression: oursParams(m),
			Conn:        opts,
			Proxy:       func(*http.Request) (*url.URL, error) { return nil, nil },
		})
		if err != nil {
			return nil, "", err
		}
		go func() {
			var buf []byte
			for {
				_, msg, err := c.Read(context.Background(), buf)
				if err != nil {
					r.onEnd(err)
					return
				}
				r.onMessage(msg)
				if r.keepBuffer {
					buf = msg[:0]
				}
			}
		}()
		return oursClient{c}, resp.Header.Get("Sec-WebSocket-Extensions"), nil
	}
	return deflateSubject{name: name, supports: func(deflateMode) bool { return true }, serve: serve, dial: dial}
}

type oursClient struct{ c *conn.Conn }

func (c oursClient) Write(ctx context.Context, p []byte) error { return c.c.Write(ctx, conn.Text, p) }
func (c oursClient) Close()                                    { c.c.CloseNow() }

// --- coder/websocket ---

// coderSupports: coder/websocket always compresses with a 32 KiB window
// and declines offers of server_max_window_bits below 15.
func coderSupports(m deflateMode) bool { return m.windowBits == 15 }

func coderMode(m deflateMode) coder.CompressionMode {
	if m.takeover {
		return coder.CompressionContextTakeover
	}
	return coder.CompressionNoContextTakeover
}

// coderThreshold compresses every message: coder/websocket sends a
// message uncompressed when len(p) < threshold, and 0 means its default
// of 128 or 512 bytes.
const coderThreshold = 1

func coderServe(m deflateMode, e *echo.Server) http.Handler {
	return e.CoderWith(&coder.AcceptOptions{
		CompressionMode:      coderMode(m),
		CompressionThreshold: coderThreshold,
	}, deflateReadLimit)
}

func coderDial(ctx context.Context, wsURL string, m deflateMode, r receiver) (deflateClient, string, error) {
	c, resp, err := coder.Dial(ctx, wsURL, &coder.DialOptions{
		CompressionMode:      coderMode(m),
		CompressionThreshold: coderThreshold,
	})
	if err != nil {
		return nil, "", err
	}
	c.SetReadLimit(deflateReadLimit)
	go func() {
		var buf bytes.Buffer
		for {
			_, rd, err := c.Reader(context.Background())
			if err == nil {
				_, err = buf.ReadFrom(rd)
			}
			if err != nil {
				r.onEnd(err)
				return
			}
			r.onMessage(buf.Bytes())
			if r.keepBuffer {
				buf.Reset()
			} else {
				buf = bytes.Buffer{}
			}
		}
	}()
	return coderClient{c}, resp.Header.Get("Sec-WebSocket-Extensions"), nil
}

type coderClient struct{ c *coder.Conn }

func (c coderClient) Write(ctx context.Context, p []byte) error {
	return c.c.Write(ctx, coder.MessageText, p)
}
func (c coderClient) Close() { c.c.CloseNow() }

// --- lxzan/gws ---

// gwsDeflateOptions sets the windows explicitly, since a gws server
// otherwise takes 2^12 with context takeover, and Threshold 1, since 0
// means its default of 512 bytes (gws ignores the threshold with context
// takeover). Level 1 is gws's default, klauspost/compress's BestSpeed;
// with a window below 15, gws uses klauspost's flate.NewWriterWindow,
// which has no levels.
func gwsDeflateOptions(m deflateMode) gws.PermessageDeflate {
	return gws.PermessageDeflate{
		Enabled:               true,
		Level:                 1,
		Threshold:             1,
		ServerContextTakeover: m.takeover,
		ClientContextTakeover: m.takeover,
		ServerMaxWindowBits:   m.windowBits,
		ClientMaxWindowBits:   m.windowBits,
	}
}

func gwsServe(m deflateMode, e *echo.Server) http.Handler {
	up := gws.NewUpgrader(e.GWSEvents(), &gws.ServerOption{
		PermessageDeflate:   gwsDeflateOptions(m),
		ReadMaxPayloadSize:  deflateReadLimit,
		WriteMaxPayloadSize: deflateReadLimit,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop()
	})
}

type gwsReceiver struct {
	gws.BuiltinEventHandler
	r receiver
}

func (h *gwsReceiver) OnMessage(c *gws.Conn, m *gws.Message) {
	h.r.onMessage(m.Bytes())
	m.Close()
}

func (h *gwsReceiver) OnClose(c *gws.Conn, err error) { h.r.onEnd(err) }

func gwsDial(ctx context.Context, wsURL string, m deflateMode, r receiver) (deflateClient, string, error) {
	c, resp, err := gws.NewClient(&gwsReceiver{r: r}, &gws.ClientOption{
		Addr:                wsURL,
		PermessageDeflate:   gwsDeflateOptions(m),
		ReadMaxPayloadSize:  deflateReadLimit,
		WriteMaxPayloadSize: deflateReadLimit,
	})
	if err != nil {
		return nil, "", err
	}
	go c.ReadLoop()
	return gwsClient{c}, resp.Header.Get("Sec-WebSocket-Extensions"), nil
}

type gwsClient struct{ c *gws.Conn }

func (c gwsClient) Write(_ context.Context, p []byte) error {
	return c.c.WriteMessage(gws.OpcodeText, p)
}
func (c gwsClient) Close() { c.c.NetConn().Close() }

// --- the harness ---

// A wireCounter counts the bytes a server reads and writes on all its
// connections: the client's compressed, masked frames and the server's
// compressed echoes, headers included.
type wireCounter struct {
	in, out atomic.Int64
}

func (w *wireCounter) reset() { w.in.Store(0); w.out.Store(0) }

type countingListener struct {
	net.Listener
	w *wireCounter
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, w: l.w}, nil
}

type countingConn struct {
	net.Conn
	w *wireCounter
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.in.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.w.out.Add(int64(n))
	return n, err
}

// startEcho serves h on a loopback port until the test ends and returns
// its ws:// URL. If w is not nil it counts the bytes.
func startEcho(tb testing.TB, h http.Handler, w *wireCounter) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	if w != nil {
		ln = countingListener{Listener: ln, w: w}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return url
}

// firstError keeps the first of the errors reported to it from any
// goroutine.
type firstError struct {
	ch chan error
}

func newFirstError() firstError { return firstError{ch: make(chan error, 1)} }

func (f firstError) report(err error) {
	select {
	case f.ch <- err:
	default:
	}
}

// errEchoMismatch reports an echo that differs from the message sent.
var errEchoMismatch = errors.New("echo differs from the message sent")

func checkEcho(i int, got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	return fmt.Errorf("message %d: %w: got %d bytes %.40q…, want %d bytes %.40q…",
		i, errEchoMismatch, len(got), got, len(want), want)
}

// waitEchoed waits until e has echoed n messages: a client can read an
// echo before the server's Write, and so its count of bytes written,
// has returned.
func waitEchoed(ctx context.Context, e *echo.Server, n int64) error {
	for e.Echoed.Load() < n {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%d of %d messages echoed: %w", e.Echoed.Load(), n, err)
		}
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}

// TestDeflateEcho checks, for every library and agreement the benchmarks
// use, that the handshake agrees what was asked, that the echo of every
// workload is what was sent, and that both directions are compressed.
func TestDeflateEcho(t *testing.T) {
	t.Parallel()
	ws := deflateWorkloads()
	for _, s := range append(deflateSubjects, oursDefaultLevel) {
		for _, m := range []deflateMode{takeover15, takeover10, noTakeover} {
			t.Run(s.name+"/"+m.name, func(t *testing.T) {
				if !s.supports(m) {
					t.Skipf("%s cannot be configured for %s", s.name, m.name)
				}
				t.Parallel()
				var w wireCounter
				e := &echo.Server{}
				url := startEcho(t, s.serve(m, e), &w)
				// A few of each workload, and 256 KiB of text: enough for
				// several blocks and a window that slides, and quick under -race.
				msgs := append(ws[0].msgs[:5:5], ws[1].msgs[:3]...)
				msgs = append(msgs, ws[2].msgs[0][:256<<10])
				echoes := make(chan []byte, 1)
				fail := newFirstError()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				c, ext, err := s.dial(ctx, url, m, receiver{
					onMessage: func(p []byte) { echoes <- bytes.Clone(p) },
					onEnd:     fail.report,
				})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				t.Logf("Sec-WebSocket-Extensions: %s", ext)
				if err := m.checkExtensions(ext); err != nil {
					t.Fatal(err)
				}
				var raw int64
				for i, msg := range msgs {
					raw += int64(len(msg))
					if err := c.Write(ctx, msg); err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					select {
					case got := <-echoes:
						if err := checkEcho(i, got, msg); err != nil {
							t.Fatal(err)
						}
					case err := <-fail.ch:
						t.Fatalf("message %d: reading ended: %v", i, err)
					case <-ctx.Done():
						t.Fatalf("message %d: %v", i, ctx.Err())
					}
				}
				if err := waitEchoed(ctx, e, int64(len(msgs))); err != nil {
					t.Fatal(err)
				}
				// The counts include the handshake, a few hundred bytes.
				if in, out := w.in.Load(), w.out.Load(); in >= raw/2 || out >= raw/2 {
					t.Errorf("%d bytes sent as %d to the server and %d back: not compressed", raw, in, out)
				}
			})
		}
	}
}

// BenchmarkDeflate streams messages from a client to an echo server and
// back, pipelined: one goroutine writes b.N messages while the client's
// reader checks every echo against what was sent. MB/s counts each
// message once, at its uncompressed size, although it is compressed and
// decompressed twice, once each way; ns/op, B/op and allocs/op cover
// both endpoints, since both run in this process. cpu-ns/op is the CPU
// time of the whole process (both endpoints, the runtime and the
// garbage collector) per message, which, unlike ns/op, does not grow
// when other programs compete for the CPUs. c2s-B/msg and
// s2c-B/msg are the bytes on the wire per message, frame headers (and the
// client's masking key) included, from client to server and back.
func BenchmarkDeflate(b *testing.B) {
	subjects := append(deflateSubjects, oursDefaultLevel)
	for _, wl := range deflateWorkloads() {
		for _, m := range []deflateMode{takeover15, noTakeover} {
			for _, s := range subjects {
				b.Run(fmt.Sprintf("msg=%s/mode=%s/lib=%s", wl.name, m.name, s.name), func(b *testing.B) {
					benchEcho(b, s, m, wl.msgs)
				})
			}
		}
	}
}

func benchEcho(b *testing.B, s deflateSubject, m deflateMode, msgs [][]byte) {
	var w wireCounter
	e := &echo.Server{KeepBuffer: true}
	url := startEcho(b, s.serve(m, e), &w)
	n := b.N
	warm := make(chan struct{})
	done := make(chan struct{})
	fail := newFirstError()
	got := -1 // the first echo is of a warm-up message, msgs[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, ext, err := s.dial(ctx, url, m, receiver{
		onMessage: func(p []byte) {
			switch {
			case got < 0:
				if err := checkEcho(-1, p, msgs[0]); err != nil {
					fail.report(err)
				}
				got = 0
				close(warm)
				return
			case got >= n:
				fail.report(fmt.Errorf("message %d: more echoes than messages", got))
				return
			}
			if err := checkEcho(got, p, msgs[got%len(msgs)]); err != nil {
				fail.report(err)
			}
			got++
			if got == n {
				close(done)
			}
		},
		onEnd: func(err error) {
			if ctx.Err() == nil {
				fail.report(fmt.Errorf("reading ended: %w", err))
			}
		},
		keepBuffer: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := m.checkExtensions(ext); err != nil {
		b.Fatal(err)
	}

	run := echoRun{ctx: ctx, e: e, w: &w, n: n, warm: warm, done: done, fail: fail}
	run.warmUp(b, func() error { return c.Write(ctx, msgs[0]) })
	in, out, raw := run.measure(b, msgs, func() {
		go func() {
			for i := 0; i < n; i++ {
				if err := c.Write(ctx, msgs[i%len(msgs)]); err != nil {
					if ctx.Err() == nil {
						fail.report(fmt.Errorf("message %d: %w", i, err))
					}
					return
				}
			}
		}()
	})
	if in >= raw || out >= raw {
		b.Fatalf("%d bytes sent as %d to the server and %d back: not compressed", raw, in, out)
	}
	cancel()
}

// An echoRun is the state a throughput benchmark shares with its client's
// reader: n messages to echo, the server and its byte counts, warm closed
// by the reader on the echo of the warm-up message, done on the last.
type echoRun struct {
	ctx  context.Context
	e    *echo.Server
	w    *wireCounter
	n    int
	warm <-chan struct{}
	done <-chan struct{}
	fail firstError
}

// warmUp sends one message with send and waits for its echo, so that the
// handshake is off the byte counts and first-use allocations off the
// timer.
func (r echoRun) warmUp(b *testing.B, send func() error) {
	if err := send(); err != nil {
		b.Fatal(err)
	}
	select {
	case <-r.warm:
	case err := <-r.fail.ch:
		b.Fatal(err)
	}
	if err := waitEchoed(r.ctx, r.e, 1); err != nil {
		b.Fatal(err)
	}
	r.w.reset()
}

// measure times the run: start begins sending the n messages, cycling
// through msgs, and measure waits for every echo. It reports the
// process's CPU time and the bytes on the wire per message each way, and
// returns those byte counts with the count of payload bytes sent.
func (r echoRun) measure(b *testing.B, msgs [][]byte, start func()) (in, out, raw int64) {
	var total int64
	for _, msg := range msgs {
		total += int64(len(msg))
	}
	b.SetBytes(total / int64(len(msgs)))
	b.ReportAllocs()
	cpu0, cpuKnown := processCPU()
	b.ResetTimer()
	start()
	select {
	case <-r.done:
	case err := <-r.fail.ch:
		b.Fatal(err)
	}
	b.StopTimer()
	if cpu1, ok := processCPU(); ok && cpuKnown {
		b.ReportMetric(float64(cpu1-cpu0)/float64(r.n), "cpu-ns/op")
	}
	if err := waitEchoed(r.ctx, r.e, int64(r.n)+1); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-r.fail.ch:
		b.Fatal(err)
	default:
	}
	in, out = r.w.in.Load(), r.w.out.Load()
	b.ReportMetric(float64(in)/float64(r.n), "c2s-B/msg")
	b.ReportMetric(float64(out)/float64(r.n), "s2c-B/msg")
	return in, out, total / int64(len(msgs)) * int64(r.n)
}

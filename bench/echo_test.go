package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/rfc6455/websocket/bench/internal/echo"
	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
)

// This file compares the uncompressed path, what most applications
// run: each of five libraries talks to itself, client and server, over
// loopback TCP, after its own opening handshake through a net/http
// server, with permessage-deflate off (the default of all five). Every
// library reads and writes with the API its documentation offers as the
// fastest, reusing buffers where the API allows, at its default buffer
// sizes (4 KiB for reading and writing in all five).

// An echoReceiver is what a client does with the messages it reads, from
// the one goroutine that reads.
type echoReceiver struct {
	onMessage  func(text bool, p []byte) // p is valid only during the call
	onEnd      func(err error)
	keepBuffer bool // as echo.Server.KeepBuffer
}

// An echoClient is the writing end of a client connection. One
// goroutine at a time writes.
type echoClient interface {
	// Write sends p as one text or binary message.
	Write(ctx context.Context, text bool, p []byte) error
	// Close closes the connection at once, without a closing handshake.
	Close()
}

// An echoSubject is one library as an echo server and as a client.
type echoSubject struct {
	name string
	// serve returns an echo handler for a net/http server.
	serve func(e *echo.Server) http.Handler
	// dial connects to an echo server, starts reading with r, and
	// returns the Sec-WebSocket-Extensions response.
	dial func(ctx context.Context, wsURL string, r echoReceiver) (echoClient, string, error)
}

var echoSubjects = []echoSubject{
	{name: "ours", serve: (*echo.Server).Ours, dial: oursEchoDial},
	{name: "gorilla", serve: (*echo.Server).Gorilla, dial: gorillaEchoDial},
	{name: "coder", serve: (*echo.Server).Coder, dial: coderEchoDial},
	{name: "gobwas", serve: (*echo.Server).Gobwas, dial: gobwasEchoDial},
	{name: "gws", serve: (*echo.Server).GWS, dial: gwsEchoDial},
}

// --- this module ---

var oursEchoOptions = conn.Options{ReadLimit: echo.ReadLimit}

func oursType(text bool) conn.MessageType {
	if text {
		return conn.Text
	}
	return conn.Binary
}

func oursEchoDial(ctx context.Context, wsURL string, r echoReceiver) (echoClient, string, error) {
	c, resp, err := client.Dial(ctx, wsURL, &client.Options{
		Conn:  oursEchoOptions,
		Proxy: func(*http.Request) (*url.URL, error) { return nil, nil },
	})
	if err != nil {
		return nil, "", err
	}
	go func() {
		var buf []byte
		for {
			typ, msg, err := c.Read(context.Background(), buf[:0])
			if err != nil {
				r.onEnd(err)
				return
			}
			r.onMessage(typ == conn.Text, msg)
			if r.keepBuffer {
				buf = msg
			}
		}
	}()
	return oursEchoClient{c}, resp.Header.Get("Sec-WebSocket-Extensions"), nil
}

type oursEchoClient struct{ c *conn.Conn }

func (c oursEchoClient) Write(ctx context.Context, text bool, p []byte) error {
	return c.c.Write(ctx, oursType(text), p)
}
func (c oursEchoClient) Close() { c.c.CloseNow() }

// --- gorilla/websocket ---

func gorillaEchoDial(ctx context.Context, wsURL string, r echoReceiver) (echoClient, string, error) {
	d := gorilla.Dialer{HandshakeTimeout: 10 * time.Second} // no proxy
	c, resp, err := d.DialContext(ctx, wsURL, nil)
	if err != nil {
		return nil, "", err
	}
	c.SetReadLimit(echo.ReadLimit)
	go func() {
		var buf bytes.Buffer
		for {
			typ, rd, err := c.NextReader()
			if err == nil {
				_, err = buf.ReadFrom(rd)
			}
			if err != nil {
				r.onEnd(err)
				return
			}
			r.onMessage(typ == gorilla.TextMessage, buf.Bytes())
			if r.keepBuffer {
				buf.Reset()
			} else {
				buf = bytes.Buffer{}
			}
		}
	}()
	return gorillaEchoClient{c}, resp.Header.Get("Sec-WebSocket-Extensions"), nil
}

type gorillaEchoClient struct{ c *gorilla.Conn }

func (c gorillaEchoClient) Write(_ context.Context, text bool, p []byte) error {
	typ := gorilla.BinaryMessage
	if text {
		typ = gorilla.TextMessage
	}
	return c.c.WriteMessage(typ, p)
}
func (c gorillaEchoClient) Close() { c.c.NetConn().Close() }

// --- coder/websocket ---

func coderType(text bool) coder.MessageType {
	if text {
		return coder.MessageText
	}
	return coder.MessageBinary
}

func coderEchoDial(ctx context.Context, wsURL string, r echoReceiver) (echoClient, string, error) {
	c, resp, err := coder.Dial(ctx, wsURL, nil)
	if err != nil {
		return nil, "", err
	}
	c.SetReadLimit(echo.ReadLimit)
	go func() {
		var buf bytes.Buffer
		for {
			typ, rd, err := c.Reader(context.Background())
			if err == nil {
				_, err = buf.ReadFrom(rd)
			}
			if err != nil {
				r.onEnd(err)
				return
			}
			r.onMessage(typ == coder.MessageText, buf.Bytes())
			if r.keepBuffer {
				buf.Reset()
			} else {
				buf = bytes.Buffer{}
			}
		}
	}()
	return coderEchoClient{c}, resp.Header.Get("Sec-WebSocket-Extensions"), nil
}

type coderEchoClient struct{ c *coder.Conn }

func (c coderEchoClient) Write(ctx context.Context, text bool, p []byte) error {
	return c.c.Write(ctx, coderType(text), p)
}
func (c coderEchoClient) Close() { c.c.CloseNow() }

// --- gobwas/ws ---

func gobwasEchoDial(ctx context.Context, wsURL string, r echoReceiver) (echoClient, string, error) {
	nc, br, hs, err := ws.Dial(ctx, wsURL)
	if err != nil {
		return nil, "", err
	}
	if br == nil { // nothing was read past the response
		br = bufio.NewReaderSize(nc, 4096)
	}
	g := echo.NewGobwasEndpoint(nc, br, bufio.NewWriterSize(nc, 4096), true)
	go func() {
		var buf []byte
		for {
			op, msg, err := g.Read(buf[:0])
			if err != nil {
				r.onEnd(err)
				return
			}
			r.onMessage(op == ws.OpText, msg)
			if r.keepBuffer {
				buf = msg
			}
		}
	}()
	var ext []string
	for _, o := range hs.Extensions {
		ext = append(ext, o.String())
	}
	return gobwasEchoClient{g}, strings.Join(ext, ", "), nil
}

type gobwasEchoClient struct{ g *echo.GobwasEndpoint }

func (c gobwasEchoClient) Write(_ context.Context, text bool, p []byte) error {
	op := ws.OpBinary
	if text {
		op = ws.OpText
	}
	return c.g.Write(op, p)
}
func (c gobwasEchoClient) Close() { c.g.Close() }

// --- lxzan/gws ---

type gwsEchoReceiver struct {
	gws.BuiltinEventHandler
	r echoReceiver
}

func (h *gwsEchoReceiver) OnMessage(c *gws.Conn, m *gws.Message) {
	h.r.onMessage(m.Opcode == gws.OpcodeText, m.Bytes())
	m.Close()
}

func (h *gwsEchoReceiver) OnClose(c *gws.Conn, err error) { h.r.onEnd(err) }

func gwsEchoDial(ctx context.Context, wsURL string, r echoReceiver) (echoClient, string, error) {
	c, resp, err := gws.NewClient(&gwsEchoReceiver{r: r}, &gws.ClientOption{
		Addr:                wsURL,
		ReadMaxPayloadSize:  echo.ReadLimit,
		WriteMaxPayloadSize: echo.ReadLimit,
	})
	if err != nil {
		return nil, "", err
	}
	go c.ReadLoop()
	return gwsEchoClient{c}, resp.Header.Get("Sec-WebSocket-Extensions"), nil
}

type gwsEchoClient struct{ c *gws.Conn }

func (c gwsEchoClient) Write(_ context.Context, text bool, p []byte) error {
	op := gws.OpcodeBinary
	if text {
		op = gws.OpcodeText
	}
	return c.c.WriteMessage(op, p)
}
func (c gwsEchoClient) Close() { c.c.NetConn().Close() }

// --- the workloads ---

// An echoWorkload is a set of messages of one size and type. The
// messages differ, so that an echo of the wrong one is caught.
type echoWorkload struct {
	name string
	text bool
	msgs [][]byte
}

// echoWorkloads are the benchmarks' messages, built from a fixed seed:
// binary of each size, and text of 1 KiB.
func echoWorkloads() []echoWorkload {
	rng := rand.New(rand.NewPCG(6455, 1))
	var wls []echoWorkload
	add := func(name string, size, count int, text bool) {
		wl := echoWorkload{name: name, text: text}
		for range count {
			wl.msgs = append(wl.msgs, echo.Message(rng, size, text))
		}
		wls = append(wls, wl)
	}
	add("16B", 16, 16, false)
	add("128B", 128, 16, false)
	add("1KiB", 1<<10, 16, false)
	add("1KiB-text", 1<<10, 16, true)
	add("16KiB", 16<<10, 8, false)
	add("1MiB", 1<<20, 2, false)
	return wls
}

// --- the harness ---

func checkEchoType(i int, got, want bool) error {
	if got == want {
		return nil
	}
	return fmt.Errorf("message %d: %w: text is %v, want %v", i, errEchoMismatch, got, want)
}

// checkUncompressed fails if the handshake agreed on an extension: all
// five libraries should leave compression off.
func checkUncompressed(ext string) error {
	if ext != "" {
		return fmt.Errorf("extension negotiated: %q", ext)
	}
	return nil
}

// TestEcho checks, for every library, that the handshake agrees on no
// extension and that the echo of a few messages of every workload is
// what was sent, with its type, one message at a time and pipelined.
func TestEcho(t *testing.T) {
	t.Parallel()
	wls := echoWorkloads()
	for _, s := range echoSubjects {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			var w wireCounter
			e := &echo.Server{}
			url := startEcho(t, s.serve(e), &w)
			type echoed struct {
				text bool
				p    []byte
			}
			echoes := make(chan echoed, 64)
			fail := newFirstError()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, ext, err := s.dial(ctx, url, echoReceiver{
				onMessage: func(text bool, p []byte) { echoes <- echoed{text, bytes.Clone(p)} },
				onEnd:     fail.report,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := checkUncompressed(ext); err != nil {
				t.Fatal(err)
			}
			expect := func(wl echoWorkload, j int) {
				t.Helper()
				select {
				case got := <-echoes:
					if err := checkEchoType(j, got.text, wl.text); err != nil {
						t.Fatalf("%s: %v", wl.name, err)
					}
					if err := checkEcho(j, got.p, wl.msgs[j]); err != nil {
						t.Fatalf("%s: %v", wl.name, err)
					}
				case err := <-fail.ch:
					t.Fatalf("%s: message %d: reading ended: %v", wl.name, j, err)
				case <-ctx.Done():
					t.Fatalf("%s: message %d: %v", wl.name, j, ctx.Err())
				}
			}
			var sent, raw int
			for _, pipelined := range []bool{false, true} {
				for _, wl := range wls {
					k := min(3, len(wl.msgs))
					for j, msg := range wl.msgs[:k] {
						raw += len(msg)
						sent++
						if err := c.Write(ctx, wl.text, msg); err != nil {
							t.Fatalf("%s: message %d: %v", wl.name, j, err)
						}
						if !pipelined {
							expect(wl, j)
						}
					}
					if pipelined {
						for j := range k {
							expect(wl, j)
						}
					}
				}
			}
			if err := waitEchoed(ctx, e, int64(sent)); err != nil {
				t.Fatal(err)
			}
			if in, out := w.in.Load(), w.out.Load(); in < int64(raw) || out < int64(raw) {
				t.Errorf("%d bytes sent as %d to the server and %d back: compressed?", raw, in, out)
			}
		})
	}
}

// BenchmarkEcho sends messages from a client to an echo server of the
// same library and checks every echo against what was sent, over
// loopback TCP. dir=pipelined: one goroutine writes b.N messages while
// the client's reader checks each echo (throughput). dir=pingpong: the
// next message goes out only when the echo of the last is in, written by
// the client's reading goroutine itself (round-trip latency). MB/s is one
// message per op; ns/op, B/op and allocs/op cover both ends; cpu-ns/op is
// the CPU time of the whole process per op (see BenchmarkDeflate);
// c2s-B/msg is the bytes per message on the wire from client to server,
// frame headers and masking keys included.
func BenchmarkEcho(b *testing.B) {
	for _, wl := range echoWorkloads() {
		for _, dir := range []string{"pipelined", "pingpong"} {
			for _, s := range echoSubjects {
				b.Run(fmt.Sprintf("msg=%s/dir=%s/lib=%s", wl.name, dir, s.name), func(b *testing.B) {
					benchPlainEcho(b, s, wl, dir == "pingpong")
				})
			}
		}
	}
}

func benchPlainEcho(b *testing.B, s echoSubject, wl echoWorkload, pingpong bool) {
	var w wireCounter
	e := &echo.Server{KeepBuffer: true}
	url := startEcho(b, s.serve(e), &w)
	n := b.N
	msgs := wl.msgs
	warm := make(chan struct{})
	done := make(chan struct{})
	fail := newFirstError()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clients := make(chan echoClient, 1)
	firstWritten := make(chan struct{})
	var c echoClient // the reading goroutine's copy, received from clients
	got := -1        // the first echo is of a warm-up message, msgs[0]
	c0, ext, err := s.dial(ctx, url, echoReceiver{
		onMessage: func(text bool, p []byte) {
			switch {
			case got < 0:
				if err := checkEcho(-1, p, msgs[0]); err != nil {
					fail.report(err)
				}
				c = <-clients
				got = 0
				close(warm)
				return
			case got >= n:
				fail.report(fmt.Errorf("message %d: more echoes than messages", got))
				return
			}
			if err := checkEchoType(got, text, wl.text); err != nil {
				fail.report(err)
			}
			if err := checkEcho(got, p, msgs[got%len(msgs)]); err != nil {
				fail.report(err)
			}
			got++
			if got == n {
				close(done)
				return
			}
			if pingpong {
				if got == 1 {
					// gorilla allows one writer at a time: let the
					// first Write return before the second begins.
					<-firstWritten
				}
				if err := c.Write(ctx, wl.text, msgs[got%len(msgs)]); err != nil && ctx.Err() == nil {
					fail.report(fmt.Errorf("message %d: %w", got, err))
				}
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
	defer c0.Close()
	if err := checkUncompressed(ext); err != nil {
		b.Fatal(err)
	}
	clients <- c0

	run := echoRun{ctx: ctx, e: e, w: &w, n: n, warm: warm, done: done, fail: fail}
	run.warmUp(b, func() error { return c0.Write(ctx, wl.text, msgs[0]) })
	in, out, raw := run.measure(b, msgs, func() {
		if pingpong {
			if err := c0.Write(ctx, wl.text, msgs[0]); err != nil {
				b.Fatal(err)
			}
			close(firstWritten)
			return
		}
		go func() {
			for i := 0; i < n; i++ {
				if err := c0.Write(ctx, wl.text, msgs[i%len(msgs)]); err != nil {
					if ctx.Err() == nil {
						fail.report(fmt.Errorf("message %d: %w", i, err))
					}
					return
				}
			}
		}()
	})
	if in < raw || out < raw {
		b.Fatalf("%d bytes sent as %d to the server and %d back: compressed?", raw, in, out)
	}
	cancel()
}

//go:build js && wasm

// Command browser is the GOOS=js GOARCH=wasm half of the browser test in
// package wasmtest: loaded by the test's page in headless Chromium, it
// dials the test's server with client.Dial, over the browser's WebSocket
// object, and checks what a Conn does there. It prints one console line
// per check, "wasmtest: PASS name" or "wasmtest: FAIL name: why", and
// "wasmtest: DONE n failures" at the end; the driver collects them.
//
// The page wraps the WebSocket constructor to keep every socket made in
// window.__sockets, so that the last check can see that no event handler
// (no js.Func) is left on any of them.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"syscall/js"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/wsjson"
)

var base = "ws://" + js.Global().Get("location").Get("host").String()

func main() {
	failures := 0
	for _, c := range checks {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := c.run(ctx)
		cancel()
		if err != nil {
			failures++
			fmt.Printf("wasmtest: FAIL %s: %v\n", c.name, err)
		} else {
			fmt.Printf("wasmtest: PASS %s\n", c.name)
		}
	}
	// Every Conn is closed by now: nothing of theirs may be left.
	if err := noLeaks(); err != nil {
		failures++
		fmt.Printf("wasmtest: FAIL leaks: %v\n", err)
	} else {
		fmt.Printf("wasmtest: PASS leaks\n")
	}
	fmt.Printf("wasmtest: DONE %d failures\n", failures)
}

var checks = []struct {
	name string
	run  func(ctx context.Context) error
}{
	{"echo", echo},
	{"read cancelled", readCancelled},
	{"ping", ping},
	{"close codes", closeCodes},
	{"server close", serverClose},
	{"stats and hooks", statsAndHooks},
	{"read limit", readLimit},
	{"queue bound", queueBound},
	{"backpressure", backpressure},
	{"unsupported options", unsupported},
	{"refused", refused},
	{"handshake timeout", handshakeTimeout},
	{"new", newConn},
}

// dial opens a WebSocket to path, named name for the server's records.
func dial(ctx context.Context, path, name string, opts *client.Options) (*conn.Conn, error) {
	c, resp, err := client.Dial(ctx, base+path+"?name="+name, opts)
	if resp != nil {
		return nil, fmt.Errorf("client.Dial returned a response: %v", resp.Status)
	}
	return c, err
}

// roundTrip writes a message and checks that the echo is the same.
func roundTrip(ctx context.Context, c *conn.Conn, typ conn.MessageType, p []byte) error {
	if err := c.Write(ctx, typ, p); err != nil {
		return fmt.Errorf("c.Write %v of %d bytes: %w", typ, len(p), err)
	}
	return expect(ctx, c, typ, p)
}

func expect(ctx context.Context, c *conn.Conn, typ conn.MessageType, p []byte) error {
	gotTyp, got, err := c.Read(ctx, nil)
	if err != nil {
		return fmt.Errorf("c.Read, want %v of %d bytes: %w", typ, len(p), err)
	}
	if gotTyp != typ || !bytes.Equal(got, p) {
		return fmt.Errorf("c.Read = %v of %d bytes (%.20q), want %v of %d bytes (%.20q)", gotTyp, len(got), got, typ, len(p), p)
	}
	return nil
}

func echo(ctx context.Context) error {
	c, err := dial(ctx, "/echo", "echo", &client.Options{
		Subprotocols: []string{"chat.v1", "other"},
		Compression:  &conn.Compression{},
	})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if got := c.Subprotocol(); got != "chat.v1" {
		return fmt.Errorf("c.Subprotocol = %q, want chat.v1", got)
	}
	if got := c.Extensions(); !strings.HasPrefix(got, "permessage-deflate") {
		return fmt.Errorf("c.Extensions = %q, want permessage-deflate agreed", got)
	}
	if got := c.State(); got != conn.Open {
		return fmt.Errorf("c.State = %v, want open", got)
	}
	if got := c.RemoteAddr(); got.Network() != "websocket" || !strings.HasPrefix(got.String(), base+"/echo") {
		return fmt.Errorf("c.RemoteAddr = %s %s, want websocket %s/echo?…", got.Network(), got, base)
	}
	if got, want := c.LocalAddr().String(), js.Global().Get("location").Get("origin").String(); got != want {
		return fmt.Errorf("c.LocalAddr = %s, want the origin %s", got, want)
	}
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rand.Uint32())
	}
	bigText := bytes.Repeat([]byte("héllo, wörld ✓ "), (1<<20)/18)
	// Figures for the report, not checks: round trips through the browser.
	start := time.Now()
	for range 100 {
		if err := roundTrip(ctx, c, conn.Text, []byte("ping-pong")); err != nil {
			return err
		}
	}
	small := time.Since(start) / 100
	start = time.Now()
	if err := roundTrip(ctx, c, conn.Binary, big); err != nil {
		return err
	}
	fmt.Printf("wasmtest: INFO round trip of a 9-byte text message %v, of 1 MiB binary %v\n", small, time.Since(start))
	for _, m := range []struct {
		typ conn.MessageType
		p   []byte
	}{
		{conn.Text, []byte("hello, server")},
		{conn.Text, []byte("héllo ✓ 日本")},
		{conn.Binary, []byte{0, 1, 2, 0xfe, 0xff}},
		{conn.Text, []byte{}},
		{conn.Binary, []byte{}},
		{conn.Binary, big},
		{conn.Text, bigText},
	} {
		if err := roundTrip(ctx, c, m.typ, m.p); err != nil {
			return err
		}
	}
	// A streamed message goes out whole at the writer's Close.
	w, err := c.Writer(ctx, conn.Binary)
	if err != nil {
		return err
	}
	io.WriteString(w, "streamed ")
	io.WriteString(w, "message")
	if err := w.Close(); err != nil {
		return fmt.Errorf("c.Writer Close: %w", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		return errors.New("a Writer wrote after its Close")
	}
	if err := expect(ctx, c, conn.Binary, []byte("streamed message")); err != nil {
		return err
	}
	pm, err := conn.NewPreparedMessage(conn.Text, []byte("prepared"))
	if err != nil {
		return err
	}
	if err := c.WritePrepared(ctx, pm); err != nil {
		return fmt.Errorf("WritePrepared: %w", err)
	}
	if err := expect(ctx, c, conn.Text, []byte("prepared")); err != nil {
		return err
	}
	// Reader streams the next message.
	c.Write(ctx, conn.Text, []byte("to stream"))
	typ, r, err := c.Reader(ctx)
	if err != nil {
		return fmt.Errorf("c.Reader: %w", err)
	}
	got, err := io.ReadAll(r)
	if err != nil || typ != conn.Text || string(got) != "to stream" {
		return fmt.Errorf("c.Reader = %v %q %v, want text \"to stream\"", typ, got, err)
	}
	// A reader kept past its message fails instead of reading the next.
	if err := roundTrip(ctx, c, conn.Text, []byte("next")); err != nil {
		return err
	}
	if n, err := r.Read(make([]byte, 1)); err == nil || err == io.EOF {
		return fmt.Errorf("a stale reader's Read = %d, %v; want an error", n, err)
	}
	if err := wsjson.Write(ctx, c, map[string]int{"n": 42}); err != nil {
		return fmt.Errorf("wsjson.Write: %w", err)
	}
	var v map[string]int
	if err := wsjson.Read(ctx, c, &v); err != nil || v["n"] != 42 {
		return fmt.Errorf("wsjson.Read = %v %v, want n 42", v, err)
	}
	// A byte stream over binary messages.
	nc := conn.NetConn(c, conn.Binary)
	if _, err := nc.Write([]byte("stream bytes")); err != nil {
		return fmt.Errorf("NetConn Write: %w", err)
	}
	buf := make([]byte, len("stream bytes"))
	if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "stream bytes" {
		return fmt.Errorf("NetConn Read = %q %v", buf, err)
	}
	if n := c.BufferedAmount(); n < 0 {
		return fmt.Errorf("c.BufferedAmount = %d", n)
	}
	return nil
}

func readCancelled(ctx context.Context) error {
	c, err := dial(ctx, "/echo", "cancel", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.Read(short, nil); !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("c.Read with a context that ends = %v, want context.DeadlineExceeded", err)
	}
	// The Conn is still usable.
	if err := roundTrip(ctx, c, conn.Text, []byte("after the cancel")); err != nil {
		return err
	}
	done, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, _, err := c.Read(done, nil); !errors.Is(err, context.Canceled) {
		return fmt.Errorf("c.Read with a cancelled context = %v, want context.Canceled", err)
	}
	if err := c.Write(done, conn.Text, []byte("x")); !errors.Is(err, context.Canceled) {
		return fmt.Errorf("c.Write with a cancelled context = %v, want context.Canceled", err)
	}
	return roundTrip(ctx, c, conn.Binary, []byte("still open"))
}

func ping(ctx context.Context) error {
	c, err := dial(ctx, "/echo", "ping", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if _, err := c.Ping(ctx, []byte("hi")); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "ping") {
		return fmt.Errorf("c.Ping = %v, want an error matching errors.ErrUnsupported about pings", err)
	}
	return roundTrip(ctx, c, conn.Text, []byte("after the ping"))
}

func closeCodes(ctx context.Context) error {
	c, err := dial(ctx, "/echo", "close", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	for _, bad := range []struct {
		code   conn.CloseCode
		reason string
	}{
		{conn.CloseGoingAway, ""},
		{conn.CloseMessageTooBig, ""},
		{conn.CloseCode(2999), ""},
		{conn.CloseCode(5000), ""},
		{conn.CloseNormalClosure, strings.Repeat("x", 124)},
		{conn.CloseNormalClosure, "\xff"},
	} {
		if err := c.Close(bad.code, bad.reason); err == nil || errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("Close(%d, %.10q) = %v, want an error before closing", bad.code, bad.reason, err)
		}
	}
	if err := roundTrip(ctx, c, conn.Text, []byte("still open")); err != nil {
		return err
	}
	if err := c.Close(4000, "client bye"); err != nil {
		return fmt.Errorf("Close(4000): %v", err)
	}
	if got := c.State(); got != conn.Closed {
		return fmt.Errorf("c.State after Close = %v, want closed", got)
	}
	_, _, err = c.Read(ctx, nil)
	var ce *conn.CloseError
	if !errors.Is(err, net.ErrClosed) || !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "client bye" {
		return fmt.Errorf("c.Read after Close = %v, want net.ErrClosed and the server's echo 4000 \"client bye\"", err)
	}
	if err := c.Write(ctx, conn.Text, []byte("x")); !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("c.Write after Close = %v, want net.ErrClosed", err)
	}
	if err := c.Close(4000, ""); !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("second Close = %v, want net.ErrClosed", err)
	}
	return nil
}

func serverClose(ctx context.Context) error {
	c, err := dial(ctx, "/close4001", "server-close", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if err := expect(ctx, c, conn.Text, []byte("before the close")); err != nil {
		return err
	}
	_, _, err = c.Read(ctx, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "server bye" {
		return fmt.Errorf("c.Read = %v, want *CloseError 4001 \"server bye\"", err)
	}
	if err := c.Write(ctx, conn.Text, []byte("x")); !errors.Is(err, net.ErrClosed) || !errors.As(err, &ce) {
		return fmt.Errorf("c.Write after the server's close = %v, want net.ErrClosed and the *CloseError", err)
	}
	return nil
}

// statsAndHooks checks Stats and the OnOpen and OnClose hooks: a Conn the
// server closes with 4001, then one this end closes with 4000.
func statsAndHooks(ctx context.Context) error {
	type closed struct {
		code conn.CloseCode
		err  error
	}
	ended := make(chan closed, 2)
	opened := 0
	opts := &client.Options{Conn: conn.Options{
		OnOpen:  func(*conn.Conn) { opened++ },
		OnClose: func(_ *conn.Conn, code conn.CloseCode, err error) { ended <- closed{code, err} },
	}}
	c, err := dial(ctx, "/close4001", "stats", opts)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if opened != 1 {
		return fmt.Errorf("OnOpen ran %d times before Dial returned, want 1", opened)
	}
	if err := expect(ctx, c, conn.Text, []byte("before the close")); err != nil {
		return err
	}
	if _, _, err := c.Read(ctx, nil); err == nil {
		return errors.New("c.Read after the server's close returned no error")
	}
	select {
	case e := <-ended:
		var ce *conn.CloseError
		if e.code != 4001 || !errors.As(e.err, &ce) || ce.Code != 4001 {
			return fmt.Errorf("OnClose(%d, %v), want 4001 and the server's *CloseError", e.code, e.err)
		}
	case <-ctx.Done():
		return errors.New("OnClose did not run after the server closed")
	}
	if got, want := c.Stats(), (conn.Stats{MessagesRead: 1, BytesRead: int64(len("before the close"))}); got != want {
		return fmt.Errorf("c.Stats() = %+v, want %+v", got, want)
	}

	c2, err := dial(ctx, "/echo", "stats-echo", opts)
	if err != nil {
		return err
	}
	defer c2.CloseNow()
	if err := roundTrip(ctx, c2, conn.Binary, []byte{1, 2, 3}); err != nil {
		return err
	}
	if err := roundTrip(ctx, c2, conn.Text, []byte("hello")); err != nil {
		return err
	}
	if got, want := c2.Stats(), (conn.Stats{MessagesRead: 2, BytesRead: 8, MessagesWritten: 2, BytesWritten: 8}); got != want {
		return fmt.Errorf("c2.Stats() = %+v, want %+v", got, want)
	}
	if err := c2.Close(4000, "stats done"); err != nil {
		return fmt.Errorf("c2.Close: %w", err)
	}
	select {
	case e := <-ended:
		if e.code != 4000 || !errors.Is(e.err, net.ErrClosed) {
			return fmt.Errorf("OnClose(%d, %v) after Close(4000), want 4000 and net.ErrClosed", e.code, e.err)
		}
	case <-ctx.Done():
		return errors.New("OnClose did not run after Close(4000)")
	}
	if opened != 2 {
		return fmt.Errorf("OnOpen ran %d times for two Conns", opened)
	}
	return nil
}

func readLimit(ctx context.Context) error {
	c, err := dial(ctx, "/big", "big", &client.Options{Conn: conn.Options{ReadLimit: 1000}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	// The message before the big one is read first.
	if err := expect(ctx, c, conn.Text, []byte("small")); err != nil {
		return err
	}
	_, _, err = c.Read(ctx, nil)
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) || pe.Code != conn.CloseMessageTooBig || !errors.Is(err, conn.ErrReadLimit) {
		return fmt.Errorf("c.Read of 2000 bytes over a limit of 1000 = %v, want *ProtocolError 1009 wrapping ErrReadLimit", err)
	}
	if _, _, err2 := c.Read(ctx, nil); err2 != err {
		return fmt.Errorf("second Read = %v, want the same error again", err2)
	}
	if err := c.Write(ctx, conn.Text, []byte("x")); !errors.Is(err, net.ErrClosed) || !errors.Is(err, conn.ErrReadLimit) {
		return fmt.Errorf("c.Write after the failure = %v, want net.ErrClosed and ErrReadLimit", err)
	}
	return nil
}

func queueBound(ctx context.Context) error {
	// The server sends three messages of 900 bytes at once; the queue
	// holds twice the read limit, 2000 bytes, so the third fails the
	// connection before anything is read.
	c, err := dial(ctx, "/flood", "flood", &client.Options{Conn: conn.Options{ReadLimit: 1000}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	for c.State() == conn.Open {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("the connection never failed: %w", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := range 2 {
		if err := expect(ctx, c, conn.Binary, bytes.Repeat([]byte{byte(i)}, 900)); err != nil {
			return err
		}
	}
	_, _, err = c.Read(ctx, nil)
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) || pe.Code != conn.ClosePolicyViolation {
		return fmt.Errorf("c.Read of the third message = %v, want *ProtocolError 1008", err)
	}
	return nil
}

func backpressure(ctx context.Context) error {
	// bufferedAmount falls only in tasks of the browser's event loop, so
	// a second Write right after a large one finds it high.
	big := make([]byte, 4<<20)
	for _, tt := range []struct {
		policy conn.Backpressure
		want   error
	}{
		{conn.BackpressureError, conn.ErrBufferFull},
		{conn.BackpressureBlock, nil},
	} {
		c, err := dial(ctx, "/sink", "sink", &client.Options{Conn: conn.Options{MaxBufferedAmount: 1 << 20, OnBackpressure: tt.policy}})
		if err != nil {
			return err
		}
		if err := c.Write(ctx, conn.Binary, big); err != nil {
			c.CloseNow()
			return fmt.Errorf("c.Write of 4 MiB with nothing buffered: %w", err)
		}
		if n := c.BufferedAmount(); n < 1<<20 {
			c.CloseNow()
			return fmt.Errorf("c.BufferedAmount = %d right after a write of 4 MiB, want it over 1 MiB", n)
		}
		err = c.Write(ctx, conn.Binary, []byte("more"))
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			c.CloseNow()
			return fmt.Errorf("policy %d: second c.Write = %v, want %v", tt.policy, err, tt.want)
		}
		if tt.want == nil && c.BufferedAmount() > 1<<20 {
			c.CloseNow()
			return fmt.Errorf("policy %d: second c.Write returned with BufferedAmount %d over the bound", tt.policy, c.BufferedAmount())
		}
		c.CloseNow()
	}
	return nil
}

func unsupported(ctx context.Context) error {
	for _, tt := range []struct {
		field string
		opts  client.Options
	}{
		{"Header", client.Options{Header: map[string][]string{"Authorization": {"Bearer x"}}}},
		{"Host", client.Options{Host: "example.com"}},
		{"HTTP2", client.Options{HTTP2: &client.HTTP2{}}},
		{"Compression", client.Options{Compression: &conn.Compression{ServerMaxWindowBits: 10}}},
		{"Conn.KeepaliveInterval", client.Options{Conn: conn.Options{KeepaliveInterval: time.Second}}},
	} {
		_, _, err := client.Dial(ctx, base+"/echo?name=unsupported", &tt.opts)
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "Options."+tt.field+" ") {
			return fmt.Errorf("client.Dial with %s = %v, want an error naming Options.%[1]s and matching errors.ErrUnsupported", tt.field, err)
		}
	}
	return nil
}

func refused(ctx context.Context) error {
	c, _, err := client.Dial(ctx, base+"/missing", nil)
	if err == nil {
		c.CloseNow()
		return errors.New("client.Dial of a path the server answers with 404 succeeded")
	}
	if !strings.Contains(err.Error(), "could not open") {
		return fmt.Errorf("client.Dial of a 404 = %v, want the browser's failure to open", err)
	}
	return nil
}

func handshakeTimeout(ctx context.Context) error {
	// The server holds the handshake request until the client gives up.
	_, _, err := client.Dial(ctx, base+"/slow", &client.Options{HandshakeTimeout: 100 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("client.Dial with a HandshakeTimeout the server overruns = %v, want context.DeadlineExceeded", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := client.Dial(done, base+"/echo?name=cancelled", nil); !errors.Is(err, context.Canceled) {
		return fmt.Errorf("client.Dial with a cancelled context = %v, want context.Canceled", err)
	}
	return nil
}

func newConn(context.Context) error {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := conn.New(a, frame.Client, nil, nil); !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("conn.New over a net.Conn = %v, want errors.ErrUnsupported", err)
	}
	return nil
}

// noLeaks checks that no goroutine runs this module's code but the
// caller, and that every WebSocket the page made has no event handler
// left, which means its js.Funcs were released. (The runtime keeps a
// goroutine of its own, runtime.handleEvent, for JavaScript callbacks.)
func noLeaks() error {
	var leaked []string
	for range 100 { // the callbacks of the last close events may still be returning
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		leaked = leaked[:0]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "rfc6455/websocket/") && !strings.Contains(g, "main.noLeaks") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(leaked) > 0 {
		return fmt.Errorf("%d goroutines left running this module's code:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	}
	sockets := js.Global().Get("__sockets")
	n := sockets.Length()
	if n != 13 {
		return fmt.Errorf("the page saw %d WebSockets, want 13, one per Dial that reaches the browser", n)
	}
	for i := range n {
		ws := sockets.Index(i)
		for _, h := range []string{"onopen", "onmessage", "onerror", "onclose"} {
			if !ws.Get(h).IsNull() {
				return fmt.Errorf("WebSocket %d to %s still has %s set", i, ws.Get("url"), h)
			}
		}
	}
	return nil
}

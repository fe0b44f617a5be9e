package hostile

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
)

// A clientRow is a hostile server (or proxy) and what a client made with
// client.Dial must see of it.
type clientRow struct {
	name string
	// serve answers the client's request; the handshake's accept value
	// is given. A proxy row answers the CONNECT request instead.
	serve    func(nc net.Conn, accept string)
	proxy    bool
	compress bool // the client offers permessage-deflate
	dialErr  want // what Dial returns; nil means it succeeds
	readErr  want // then, what Read returns
	memory   uint64
	reason   string
}

// clientOptions configure the client under test.
func clientOptions() *client.Options {
	return &client.Options{
		HandshakeTimeout: handshakeLimit,
		MaxHeaderBytes:   maxHeaderBytes,
		Proxy:            noProxy,
		Subprotocols:     []string{"chat"},
		Conn:             conn.Options{ReadLimit: readLimit, MaxFragments: maxFragments, CloseTimeout: closeTimeout},
	}
}

// runClientRow runs r against a hostile server of its own, and checks
// what the client saw and that it closed the connection.
func runClientRow(t *testing.T, r clientRow) {
	ln := listen(t)
	closed := make(chan bool, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			closed <- false
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(20 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			closed <- false
			return
		}
		r.serve(nc, handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key")))
		// The client must end the connection: read until it does.
		_, ended := readAll(nc, nc, 5*time.Second)
		closed <- ended
	}()
	opts := clientOptions()
	target := "ws://" + ln.Addr().String() + "/"
	if r.proxy {
		pu, _ := url.Parse("http://" + ln.Addr().String())
		opts.Proxy = http.ProxyURL(pu)
		target = "ws://unreachable.example/"
	}
	if r.compress {
		opts.Compression = &conn.Compression{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := client.Dial(ctx, target, opts)
	switch {
	case r.dialErr != nil:
		if err == nil {
			c.CloseNow()
			t.Fatal("Dial succeeded")
		}
		if !r.dialErr(err) {
			t.Errorf("Dial = %v", err)
		}
	case err != nil:
		t.Fatalf("Dial = %v", err)
	default:
		_, _, err := c.Read(ctx, nil)
		for err == nil {
			_, _, err = c.Read(ctx, nil)
		}
		if !r.readErr(err) {
			t.Errorf("Read = %v", err)
		}
		c.CloseNow()
	}
	select {
	case ok := <-closed:
		if !ok {
			t.Error("the client did not close the connection")
		}
	case <-time.After(10 * time.Second):
		t.Error("the hostile server is still serving")
	}
}

// upgraded answers with a valid 101 and then writes after.
func upgraded(extra string, after ...[]byte) func(nc net.Conn, accept string) {
	return func(nc net.Conn, accept string) {
		io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+accept+"\r\n"+extra+"\r\n")
		for _, b := range after {
			nc.Write(b)
		}
	}
}

// answer writes raw as the whole response.
func answer(raw string) func(nc net.Conn, accept string) {
	return func(nc net.Conn, accept string) { io.WriteString(nc, raw) }
}

// endlessly writes head, then unit until the client goes away.
func endlessly(head, unit string) func(nc net.Conn, accept string) {
	return func(nc net.Conn, accept string) { endless(head, unit)(nc) }
}

func handshakeErr(status int) want {
	return func(err error) bool {
		var he *client.HandshakeError
		return errors.As(err, &he) && (status == 0 || he.Response.StatusCode == status)
	}
}

func mentions(s string) want {
	return func(err error) bool { return err != nil && strings.Contains(err.Error(), s) }
}

func clientRows() []clientRow {
	proto := protocolError(conn.CloseProtocolError)
	bomb := deflate(make([]byte, 16<<20))
	fragments := serverFrame(false, 0, frame.OpBinary, nil)
	for range maxFragments {
		fragments = append(fragments, serverFrame(false, 0, 0, nil)...)
	}
	return []clientRow{
		{name: "200 OK", serve: answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), dialErr: handshakeErr(200)},
		{name: "404 with a body", serve: answer("HTTP/1.1 404 Not Found\r\nContent-Length: 3000\r\n\r\n" + strings.Repeat("x", 3000)), dialErr: handshakeErr(404)},
		{name: "101 without Upgrade", serve: answer("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n"), dialErr: handshakeErr(101)},
		{name: "101 with a wrong accept", serve: answer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"), dialErr: handshakeErr(101)},
		{name: "subprotocol not offered", serve: upgraded("Sec-WebSocket-Protocol: mqtt\r\n"), dialErr: handshakeErr(101)},
		{name: "two subprotocols", serve: upgraded("Sec-WebSocket-Protocol: chat, chat\r\n"), dialErr: handshakeErr(101)},
		{name: "extension not offered", serve: upgraded("Sec-WebSocket-Extensions: x-custom\r\n"), dialErr: handshakeErr(101)},
		{name: "compression not offered", serve: upgraded("Sec-WebSocket-Extensions: permessage-deflate\r\n"), dialErr: handshakeErr(101)},
		{name: "window 7", compress: true, serve: upgraded("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n"), dialErr: handshakeErr(101)},
		{name: "compression twice", compress: true, serve: upgraded("Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n"), dialErr: handshakeErr(101)},
		{name: "endless header line", serve: endlessly("HTTP/1.1 101 Switching Protocols\r\nX: ", "a"), dialErr: mentions("MaxHeaderBytes")},
		{name: "endless fields", serve: endlessly("HTTP/1.1 101 Switching Protocols\r\n", "X-A: b\r\n"), dialErr: mentions("MaxHeaderBytes")},
		{name: "endless status line", serve: endlessly("HTTP/1.1 101 ", "Switching"), dialErr: mentions("MaxHeaderBytes")},
		{name: "endless body of a refusal", serve: endlessly("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n", "data: tick\n\n"), dialErr: handshakeErr(200), reason: "at most 1 KiB of the body, read for at most a second"},
		{name: "closes after the request", serve: func(nc net.Conn, _ string) { nc.Close() }, dialErr: anyError},
		{name: "never answers", serve: func(nc net.Conn, _ string) { time.Sleep(handshakeLimit + time.Second) }, dialErr: is(context.DeadlineExceeded)},
		{name: "garbage answer", serve: answer("\x00\x01\x02 not HTTP\r\n\r\n"), dialErr: anyError},
		{name: "masked frame", serve: upgraded("", clientFrame(true, 0, frame.OpText, []byte("x"))), readErr: proto},
		{name: "RSV1 without compression", serve: upgraded("", serverFrame(true, 0x40, frame.OpText, []byte("x"))), readErr: proto},
		{name: "reserved opcode", serve: upgraded("", serverFrame(true, 0, 0xB, nil)), readErr: proto},
		{name: "invalid close code", serve: upgraded("", serverFrame(true, 0, frame.OpClose, rawClose(1005, ""))), readErr: proto},
		{name: "invalid UTF-8", serve: upgraded("", serverFrame(true, 0, frame.OpText, []byte("\xff"))), readErr: protocolError(1007)},
		{name: "frame over the read limit", serve: upgraded("", frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: readLimit + 1})), readErr: protocolError(1009)},
		{name: "too many fragments", serve: upgraded("", fragments), readErr: protocolError(1008)},
		{name: "compression bomb", compress: true, serve: upgraded("Sec-WebSocket-Extensions: permessage-deflate\r\n", serverFrame(true, 0x40, frame.OpBinary, bomb)), readErr: protocolError(1009), memory: limitMemory},
		{name: "close, TCP kept open", serve: upgraded("", serverFrame(true, 0, frame.OpClose, closePayload(1001, "restart"))), readErr: closeError(1001), reason: "the client returns the Close at once and closes TCP after CloseTimeout"},
		{name: "ping flood", serve: upgraded("", []byte(strings.Repeat(string(serverFrame(true, 0, frame.OpPing, []byte("p"))), 10000)), serverFrame(true, 0, frame.OpClose, closePayload(1000, ""))), readErr: closeError(1000), memory: 8 << 20},
		{name: "resets after the upgrade", serve: func(nc net.Conn, accept string) { upgraded("")(nc, accept); reset(nc) }, readErr: closeError(conn.CloseAbnormalClosure)},
		{name: "message in the same packet as the 101", serve: upgraded("", serverFrame(true, 0, frame.OpText, []byte("early")), serverFrame(true, 0, frame.OpClose, closePayload(1000, ""))), readErr: closeError(1000)},
		{name: "proxy refuses", proxy: true, serve: answer("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"), dialErr: mentions("407")},
		{name: "proxy refuses with an endless body", proxy: true, serve: endlessly("HTTP/1.1 403 Forbidden\r\n\r\n", "no "), dialErr: mentions("403")},
		{name: "proxy endless head", proxy: true, serve: endlessly("HTTP/1.1 200 Connection established\r\n", "X-A: b\r\n"), dialErr: mentions("MaxHeaderBytes")},
		{name: "proxy sends data first", proxy: true, serve: answer("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n"), dialErr: mentions("sent data")},
		{name: "proxy closes", proxy: true, serve: func(nc net.Conn, _ string) { nc.Close() }, dialErr: anyError},
	}
}

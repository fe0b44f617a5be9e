package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/server"
)

const upgradeRequest = "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

// checkReadError fails the test unless err is one of the documented ways
// a read ends: the peer's Close, a protocol violation with a code that may
// be sent, or the end of the connection.
func checkReadError(t *testing.T, err error) {
	t.Helper()
	var pe *conn.ProtocolError
	var ce *conn.CloseError
	switch {
	case errors.As(err, &pe):
		if !pe.Code.IsValid() {
			t.Fatalf("protocol error with close code %v, which may not be sent", pe.Code)
		}
	case errors.As(err, &ce):
	case errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrClosedPipe):
	case errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("hung: %v", err)
	default:
		t.Fatalf("unclassified error %v", err)
	}
}

// FuzzServer drives a whole server from arbitrary bytes: a request head
// into UpgradeConn and, if it upgrades, frames into the echo loop that
// follows, with and without permessage-deflate (the first byte chooses).
// Nothing may panic or hang; the upgrade answers 101 or a documented
// status; the loop ends with a documented error; every echo is within the
// read limit.
func FuzzServer(f *testing.F) {
	hello := masked(true, frame.OpText, "Hello")
	bye := masked(true, frame.OpClose, "\x03\xe8bye")
	f.Add(byte(0), []byte(upgradeRequest+"\r\n"+string(hello)+string(bye)))
	f.Add(byte(1), []byte(upgradeRequest+"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"+string(compressed(frame.OpText, "Hello, Hello"))+string(bye)))
	f.Add(byte(1), []byte(upgradeRequest+"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=9\r\n\r\n"+string(compressed(frame.OpBinary, "abcabcabc"))))
	f.Add(byte(0), []byte(upgradeRequest+"Origin: http://evil\r\n\r\n"))
	f.Add(byte(0), []byte(upgradeRequest+"Content-Length: 3\r\n\r\nabc"))
	f.Fuzz(func(t *testing.T, mode byte, input []byte) {
		opts := &server.Options{
			MaxHeaderBytes: 4096,
			Conn:           conn.Options{ReadLimit: fuzzLimit, MaxFragments: 64, CloseTimeout: 50 * time.Millisecond},
		}
		if mode&1 != 0 {
			opts.Compression = &conn.Compression{ClientNoContextTakeover: mode&2 != 0, ServerMaxWindowBits: 8 + int(mode>>2)%8}
		}
		a, b := net.Pipe()
		var answer bytes.Buffer
		var wg sync.WaitGroup
		wg.Go(func() { io.Copy(&answer, b) })
		go func() {
			// All delivered, the peer goes away: net.Pipe has no half close.
			b.Write(input)
			b.Close()
		}()
		c, _, err := server.UpgradeConn(a, opts)
		if err != nil {
			var he *handshake.Error
			if errors.As(err, &he) {
				switch he.Status {
				case 400, 403, 405, 426, 431, 505:
				default:
					t.Fatalf("status %d", he.Status)
				}
			}
			b.Close()
			wg.Wait()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var buf []byte
		for {
			typ, msg, err := c.Read(ctx, buf[:0])
			if err != nil {
				checkReadError(t, err)
				break
			}
			if len(msg) > fuzzLimit || (typ != conn.Text && typ != conn.Binary) {
				t.Fatalf("Read returned %v of %d bytes", typ, len(msg))
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				break
			}
			buf = msg
		}
		c.CloseNow()
		b.Close()
		wg.Wait()
		resp, err := http.ReadResponse(bufio.NewReader(&answer), nil)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("upgraded, but answered %v, %v", resp, err)
		}
	})
}

// scriptedDial returns a DialContext that connects to a server playing
// script: once the client's request head has arrived, it sends the script
// with every "{accept}" replaced by the Sec-WebSocket-Accept value the
// request's key calls for, discards what the client sends, and closes.
func scriptedDial(script []byte) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		a, b := net.Pipe()
		go func() {
			defer b.Close()
			br := bufio.NewReader(b)
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			go io.Copy(io.Discard, br) // frames from the client
			accept := handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key"))
			b.Write(bytes.ReplaceAll(script, []byte("{accept}"), []byte(accept)))
		}()
		return a, nil
	}
}

// FuzzClient drives a whole client from arbitrary bytes: the server's
// answer to the handshake (with "{accept}" standing for the right
// Sec-WebSocket-Accept value) and the frames after it, offering
// permessage-deflate or not (the first byte chooses). Nothing may panic
// or hang; Dial succeeds or fails with a documented error; reads end with
// a documented error.
func FuzzClient(f *testing.F) {
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
	f.Add(byte(0), []byte(ok+"\r\n\x81\x05Hello\x88\x02\x03\xe8"))
	f.Add(byte(1), []byte(ok+"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00"))
	f.Add(byte(1), []byte(ok+"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits=9\r\n\r\n"))
	f.Add(byte(0), []byte(ok+"Sec-WebSocket-Protocol: chat\r\n\r\n\x89\x00\x88\x00"))
	f.Add(byte(0), []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope"))
	f.Add(byte(0), []byte(ok+"\r\n\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, mode byte, script []byte) {
		opts := &client.Options{
			Subprotocols:     []string{"chat"},
			HandshakeTimeout: 5 * time.Second,
			MaxHeaderBytes:   4096,
			DialContext:      scriptedDial(script),
			Proxy:            func(*http.Request) (*url.URL, error) { return nil, nil },
			Conn:             conn.Options{ReadLimit: fuzzLimit, MaxFragments: 64, CloseTimeout: 50 * time.Millisecond},
		}
		if mode&1 != 0 {
			opts.Compression = &conn.Compression{ServerNoContextTakeover: mode&2 != 0, ClientMaxWindowBits: 8 + int(mode>>2)%8}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, resp, err := client.Dial(ctx, "ws://fuzz.example/", opts)
		if err != nil {
			var he *client.HandshakeError
			switch {
			case errors.As(err, &he):
				if he.Response == nil || resp != he.Response {
					t.Fatalf("HandshakeError without its response: %v", err)
				}
			case errors.Is(err, context.DeadlineExceeded):
				t.Fatalf("Dial hung: %v", err)
			case strings.HasPrefix(err.Error(), "client: "):
			default:
				t.Fatalf("unclassified Dial error %v", err)
			}
			return
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.Read(ctx, buf[:0])
			if err != nil {
				checkReadError(t, err)
				return
			}
			if len(msg) > fuzzLimit || (typ != conn.Text && typ != conn.Binary) {
				t.Fatalf("Read returned %v of %d bytes", typ, len(msg))
			}
			buf = msg
		}
	})
}

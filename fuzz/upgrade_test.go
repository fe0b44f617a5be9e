package fuzz

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/server"
)

// memConn is a net.Conn that reads a fixed input and records what is
// written.
type memConn struct {
	in     *bytes.Reader
	out    bytes.Buffer
	closed bool
}

func (c *memConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *memConn) Close() error                     { c.closed = true; return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzUpgradeConn feeds raw bytes to the server's raw upgrade path. It
// must never panic; it either upgrades, answering a 101 whose accept
// value matches the key, or answers with one of the documented error
// statuses (server's package documentation) and closes the connection.
func FuzzUpgradeConn(f *testing.F) {
	f.Add([]byte("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\nOrigin: http://x\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, input []byte) {
		nc := &memConn{in: bytes.NewReader(input)}
		c, req, err := server.UpgradeConn(nc, &server.Options{MaxHeaderBytes: 4096})
		resp, rerr := http.ReadResponse(bufio.NewReader(bytes.NewReader(nc.out.Bytes())), nil)
		if err == nil {
			defer c.CloseNow()
			if rerr != nil || resp.StatusCode != 101 || resp.Header.Get("Sec-Websocket-Accept") != handshake.AcceptKey(req.Key) {
				t.Fatalf("upgraded, but answered %q", nc.out.Bytes())
			}
			return
		}
		if !nc.closed {
			t.Fatal("rejected connection left open")
		}
		var he *handshake.Error
		if !errors.As(err, &he) {
			// Only a request cut short may end without an answer.
			if !errors.Is(err, io.ErrUnexpectedEOF) || nc.out.Len() != 0 {
				t.Fatalf("UpgradeConn error %v, wrote %q", err, nc.out.Bytes())
			}
			return
		}
		switch he.Status {
		case 400, 403, 405, 426, 431, 505:
		default:
			t.Fatalf("status %d", he.Status)
		}
		if rerr != nil || resp.StatusCode != he.Status {
			t.Fatalf("error status %d, but answered %q", he.Status, nc.out.Bytes())
		}
	})
}

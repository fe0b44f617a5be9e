package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

const timeoutRequest = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// upgradeOverHijack runs Upgrade on nc as net/http would after reading
// the request from it.
func upgradeOverHijack(t *testing.T, nc net.Conn, opts *Options) (*conn.Conn, error) {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(timeoutRequest)))
	if err != nil {
		t.Fatal(err)
	}
	w := &bufHijacker{nc: nc, brw: bufio.NewReadWriter(bufio.NewReader(nc), bufio.NewWriter(nc))}
	return Upgrade(w, r, opts)
}

// TestHandshakeTimeout checks that a client that stops sending its
// request or stops reading the response holds an upgrade for
// HandshakeTimeout and no longer.
func TestHandshakeTimeout(t *testing.T) {
	tests := []struct {
		name    string
		raw     bool   // UpgradeConn, else Upgrade
		request string // what the client sends before it stops
	}{{
		name:    "Upgrade, client does not read the response",
		request: "", // net/http has read the request
	}, {
		name:    "UpgradeConn, client stops inside the request",
		raw:     true,
		request: "GET / HTTP/1.1\r\nHost: h\r\n",
	}, {
		name:    "UpgradeConn, client does not read the response",
		raw:     true,
		request: timeoutRequest,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				server, client := net.Pipe()
				defer client.Close()
				go client.Write([]byte(tt.request)) // and nothing more, not even a read
				opts := &Options{HandshakeTimeout: 3 * time.Second}
				start := time.Now()
				var err error
				if tt.raw {
					_, _, err = UpgradeConn(server, opts)
				} else {
					_, err = upgradeOverHijack(t, server, opts)
				}
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("upgrade = %v, want an error matching os.ErrDeadlineExceeded", err)
				}
				if d := time.Since(start); d != 3*time.Second {
					t.Errorf("gave up after %v, want 3s", d)
				}
				client.SetReadDeadline(time.Now()) // a server end left open fails the test rather than hang it
				if _, err := client.Read(make([]byte, 1)); err != io.EOF {
					t.Errorf("client end after the timeout: %v, want the connection closed", err)
				}
			})
		})
	}
}

// TestUpgradeClearsDeadlines checks that a Conn has no deadline left from
// the handshake, nor from an http.Server's ReadTimeout or WriteTimeout
// before it: it reads and writes long after either would have passed.
func TestUpgradeClearsDeadlines(t *testing.T) {
	for _, raw := range []bool{false, true} {
		name := "Upgrade"
		if raw {
			name = "UpgradeConn"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				server, client := net.Pipe()
				defer client.Close()
				// As http.Server leaves them with ReadTimeout and WriteTimeout.
				server.SetDeadline(time.Now().Add(time.Second))
				done := make(chan *conn.Conn)
				go func() {
					var c *conn.Conn
					var err error
					if raw {
						c, _, err = UpgradeConn(server, &Options{HandshakeTimeout: 2 * time.Second})
					} else {
						c, err = upgradeOverHijack(t, server, &Options{HandshakeTimeout: 2 * time.Second})
					}
					if err != nil {
						t.Error(err)
					}
					done <- c
				}()
				if raw {
					if _, err := client.Write([]byte(timeoutRequest)); err != nil {
						t.Fatal(err)
					}
				}
				br := bufio.NewReader(client)
				resp, err := http.ReadResponse(br, nil)
				if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("response %v, %v; want 101", resp, err)
				}
				c := <-done
				if c == nil {
					return
				}
				defer c.CloseNow()
				time.Sleep(time.Minute)
				go client.Write(clientFrame(frame.OpText, "a minute later"))
				if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != "a minute later" {
					t.Fatalf("Read = %q, %v; want the message", msg, err)
				}
				go c.Write(ctx, conn.Text, []byte("and back"))
				got := make([]byte, 2+len("and back"))
				if _, err := io.ReadFull(br, got); err != nil {
					t.Fatal(err)
				}
				if hdr, n, err := frame.ParseHeader(got); err != nil || hdr.Opcode != frame.OpText || string(got[n:]) != "and back" {
					t.Fatalf("client read %x (%+v, %v); want the text frame \"and back\"", got, hdr, err)
				}
			})
		})
	}
}

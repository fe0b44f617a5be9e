package eventloop_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/eventloop"
	"github.com/rfc6455/websocket/server"
)

// TestPeerCloseWithRepliesQueued closes from the client while most of
// the server's replies still wait in its queue (the client's receive
// buffer is small): the server's answering Close frame follows them, so
// the client reads the replies and a clean close.
func TestPeerCloseWithRepliesQueued(t *testing.T) {
	const n, size = 16, 512 << 10
	blob := bytes.Repeat([]byte("q"), size)
	s := &eventloop.Server{
		Options: &server.Options{Conn: conn.Options{MaxBufferedAmount: 2 * n * size}},
		OnMessage: func(c *conn.Conn, typ conn.MessageType, data []byte) {
			for range n {
				if err := c.Write(context.Background(), conn.Binary, blob); err != nil {
					t.Errorf("reply: %v", err)
				}
			}
		},
	}
	c := dial(t, start(t, s, "listener"), &client.Options{
		Conn:        conn.Options{ReadLimit: 64 << 20},
		DialContext: smallReceiveBuffer,
	})
	if err := c.Write(context.Background(), conn.Text, []byte("send")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the replies are written, mostly queued
	if err := c.Close(conn.CloseNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	var err error
	for err == nil {
		_, _, err = c.Read(context.Background(), nil)
	}
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != conn.CloseNormalClosure {
		t.Fatalf("after its Close the client read %v, want the server's answer 1000", err)
	}
}

// smallReceiveBuffer dials with a 16 KiB receive buffer, so that what a
// server writes waits on its side.
func smallReceiveBuffer(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
		return errors.Join(err, serr)
	}}
	return d.DialContext(ctx, network, addr)
}

package eventloop_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/eventloop"
	"github.com/rfc6455/websocket/server"
)

// An echo server on event loops behind net/http, with compression and
// keepalive.
func Example() {
	s := &eventloop.Server{
		Options: &server.Options{
			Compression: &conn.Compression{},
			Conn:        conn.Options{KeepaliveInterval: 30 * time.Second},
		},
		OnMessage: func(c *conn.Conn, typ conn.MessageType, data []byte) {
			if err := c.Write(context.Background(), typ, data); err != nil {
				log.Print(err)
			}
		},
	}
	defer s.Shutdown(context.Background())
	http.Handle("/ws", s)
	// log.Fatal(http.ListenAndServe(":8080", nil))
}

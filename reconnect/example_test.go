package reconnect_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/reconnect"
	"github.com/rfc6455/websocket/server"
)

// A client reads a feed across a server restart: the server sends one
// message on each connection, closing the first with 1012 (Service
// Restart) and the second with 1000, which the client does not retry.
func ExampleDial() {
	var n atomic.Int32
	srv := httptest.NewServer(&server.Handler{Serve: func(c *conn.Conn, r *http.Request) {
		i := n.Add(1)
		c.Write(r.Context(), conn.Text, fmt.Appendf(nil, "update %d", i))
		if i == 1 {
			c.Close(conn.CloseServiceRestart, "deploying")
		} else {
			c.Close(conn.CloseNormalClosure, "done")
		}
	}})
	defer srv.Close()

	ctx := context.Background()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") // ws://127.0.0.1:port
	c, err := reconnect.Dial(ctx, url, &reconnect.Options{
		MinDelay: 10 * time.Millisecond, // short for the example; the default is 1 s
		OnConnect: func(c *conn.Conn, _ *http.Response) {
			fmt.Println("connected")
		},
		OnDisconnect: func(err error, next time.Duration) {
			var ce *conn.CloseError
			if errors.As(err, &ce) {
				fmt.Printf("closed with %d, retrying: %v\n", int(ce.Code), next >= 0)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	for {
		_, msg, err := c.Read(ctx, nil)
		if err != nil {
			fmt.Println("end:", err)
			return
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// connected
	// update 1
	// closed with 1012, retrying: true
	// connected
	// update 2
	// closed with 1000, retrying: false
	// end: conn: the peer closed the connection with code normal closure (1000): "done"
}

// A client subscribes again on every connection, in OnConnect, since the
// server does not know a new connection is the same client. This is the
// program of the package documentation; it is compiled, not run.
func Example_subscribe() {
	follow := func(ctx context.Context) error {
		c, err := reconnect.Dial(ctx, "wss://example.com/feed", &reconnect.Options{
			OnConnect: func(c *conn.Conn, _ *http.Response) {
				c.Write(ctx, conn.Text, []byte(`{"subscribe":"prices"}`))
			},
		})
		if err != nil {
			return err
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(ctx, nil) // waits across reconnections
			if err != nil {
				return err // the server said goodbye for good, or c gave up
			}
			fmt.Println(typ, string(msg))
		}
	}
	_ = follow
}

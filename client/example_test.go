package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

func ExampleDial() {
	// A server to dial: it greets each client by subprotocol.
	s := httptest.NewServer(&server.Handler{
		Options: &server.Options{Subprotocols: []string{"chat.v1"}},
		Serve: func(c *conn.Conn, r *http.Request) {
			c.Write(r.Context(), conn.Text, []byte("hello, "+c.Subprotocol()+" client"))
			c.Read(r.Context(), nil) // until the client closes
		},
	})
	defer s.Close()

	ctx := context.Background()
	c, resp, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &client.Options{
		Subprotocols: []string{"chat.v2", "chat.v1"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, msg, _ := c.Read(ctx, nil)
	fmt.Println(resp.StatusCode, c.Subprotocol(), string(msg))
	c.Close(conn.CloseNormalClosure, "")
	// Output: 101 chat.v1 hello, chat.v1 client
}

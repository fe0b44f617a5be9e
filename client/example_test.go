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
	// A server to dial: it greets each client by subprotocol and name.
	s := httptest.NewServer(&server.Handler{
		Options: &server.Options{Subprotocols: []string{"chat.v1"}, Compression: &conn.Compression{}},
		Serve: func(c *conn.Conn, r *http.Request) {
			user := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			c.Write(r.Context(), conn.Text, []byte("hello "+user+", "+c.Subprotocol()+" client"))
			c.Read(r.Context(), nil) // until the client closes
		},
	})
	defer s.Close()

	ctx := context.Background()
	c, resp, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &client.Options{
		Subprotocols: []string{"chat.v2", "chat.v1"},
		Compression:  &conn.Compression{},
		Header:       http.Header{"Authorization": {"Bearer alice"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	_, msg, err := c.Read(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, c.Extensions())
	fmt.Println(string(msg))
	c.Close(conn.CloseNormalClosure, "bye")
	// Output:
	// 101 permessage-deflate
	// hello alice, chat.v1 client
}

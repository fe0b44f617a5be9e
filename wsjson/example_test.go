package wsjson_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
	"github.com/rfc6455/websocket/wsjson"
)

func Example() {
	type update struct {
		Symbol string  `json:"symbol"`
		Price  float64 `json:"price"`
	}
	// A server pushes one update to each client.
	s := httptest.NewServer(&server.Handler{Serve: func(c *conn.Conn, r *http.Request) {
		if err := wsjson.Write(r.Context(), c, update{Symbol: "XYZ", Price: 12.5}); err != nil {
			return
		}
		c.Read(r.Context(), nil) // until the client closes
	}})
	defer s.Close()

	ctx := context.Background()
	c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(conn.CloseNormalClosure, "")
	var u update
	if err := wsjson.Read(ctx, c, &u); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %.2f\n", u.Symbol, u.Price)
	// Output: XYZ 12.50
}

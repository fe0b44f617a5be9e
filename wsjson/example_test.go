package wsjson_test

import (
	"context"
	"fmt"
	"net"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/wsjson"
)

func Example() {
	ctx := context.Background()
	a, b := net.Pipe()
	client, server := conn.New(a, frame.Client, nil, nil), conn.New(b, frame.Server, nil, nil)
	defer client.CloseNow()
	defer server.CloseNow()

	type update struct {
		Symbol string  `json:"symbol"`
		Price  float64 `json:"price"`
	}
	go wsjson.Write(ctx, server, update{Symbol: "XYZ", Price: 12.5})
	var u update
	if err := wsjson.Read(ctx, client, &u); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %.2f\n", u.Symbol, u.Price)
	// Output: XYZ 12.50
}

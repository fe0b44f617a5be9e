package server_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

func ExampleUpgrade() {
	// Upgrade works inside any handler, with any router.
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := server.Upgrade(w, r, &server.Options{Subprotocols: []string{"chat"}})
		if err != nil {
			log.Print(err) // Upgrade has already answered with 400, 403 or 426
			return
		}
		defer c.CloseNow()
		c.Write(r.Context(), conn.Text, []byte("hello from "+r.URL.Path))
		c.Read(r.Context(), nil) // until the client closes
	})
	s := httptest.NewServer(mux)
	defer s.Close()

	ctx := context.Background()
	c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/ws", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, msg, _ := c.Read(ctx, nil)
	fmt.Println(string(msg))
	c.Close(conn.CloseNormalClosure, "")
	// Output: hello from /ws
}

func ExampleUpgradeConn() {
	// An accept loop of one's own, without net/http.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c, req, err := server.UpgradeConn(nc, nil)
				if err != nil {
					return // UpgradeConn has answered and closed nc
				}
				defer c.CloseNow()
				ctx := context.Background()
				c.Write(ctx, conn.Text, []byte("you asked for "+req.Target))
				c.Read(ctx, nil)
			}()
		}
	}()

	ctx := context.Background()
	c, _, err := client.Dial(ctx, "ws://"+ln.Addr().String()+"/feed?since=42", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, msg, _ := c.Read(ctx, nil)
	fmt.Println(string(msg))
	c.Close(conn.CloseNormalClosure, "")
	// Output: you asked for /feed?since=42
}

func ExampleOptions_compression() {
	// Browsers offer permessage-deflate on every connection; this server
	// accepts it, keeping the client's history window small (2^10 bytes).
	opts := &server.Options{
		Compression: &conn.Compression{ClientMaxWindowBits: 10},
	}
	s := httptest.NewServer(&server.Handler{Options: opts, Serve: func(c *conn.Conn, r *http.Request) {
		c.Write(r.Context(), conn.Text, []byte(c.Extensions()))
		c.Read(r.Context(), nil)
	}})
	defer s.Close()

	ctx := context.Background()
	c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &client.Options{Compression: &conn.Compression{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, msg, _ := c.Read(ctx, nil)
	fmt.Println(string(msg))
	c.Close(conn.CloseNormalClosure, "")
	// Output: permessage-deflate; client_max_window_bits=10
}

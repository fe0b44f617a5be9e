package server_test

import (
	"context"
	"expvar"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

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

// The everyday server: compression as browsers offer it, a subprotocol,
// keepalive, a close code, and a log of the requests it refused.
func Example() {
	refused := make(chan string, 1)
	h := &server.Handler{
		Options: &server.Options{
			Subprotocols: []string{"chat.v1"},
			Compression:  &conn.Compression{},
			Conn:         conn.Options{KeepaliveInterval: 30 * time.Second},
		},
		Serve: func(c *conn.Conn, r *http.Request) {
			typ, msg, err := c.Read(r.Context(), nil)
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, msg)
			c.Close(conn.CloseNormalClosure, "one message per customer")
		},
		OnUpgradeError: func(r *http.Request, err error) {
			// A real server would log err, which says why.
			refused <- r.Header.Get("Origin")
		},
	}
	s := httptest.NewServer(h)
	defer s.Close()

	// A browser on another site is refused; a client of our own is served.
	req, _ := http.NewRequest("GET", s.URL, nil)
	req.Header = http.Header{"Origin": {"https://evil.example"}, "Upgrade": {"websocket"}, "Connection": {"Upgrade"},
		"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		fmt.Println(resp.Status, "for", <-refused)
	}
	ctx := context.Background()
	c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &client.Options{
		Subprotocols: []string{"chat.v1"},
		Compression:  &conn.Compression{},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Write(ctx, conn.Text, []byte("hello"))
	_, msg, _ := c.Read(ctx, nil)
	_, _, err = c.Read(ctx, nil)
	fmt.Printf("%s over %s with %s\n%v\n", msg, c.Subprotocol(), c.Extensions(), err)
	// Output:
	// 403 Forbidden for https://evil.example
	// hello over chat.v1 with permessage-deflate
	// conn: the peer closed the connection with code normal closure (1000): "one message per customer"
}

// websocketVars holds the metrics of every WebSocket connection, served
// as JSON under "websocket" by expvar's handler at /debug/vars.
var websocketVars = expvar.NewMap("websocket")

func ExampleHandler_metrics() {
	// A gauge of open connections, totals of the closed ones' counters,
	// and closes per close code. Stats can also be read from a live
	// connection at any time.
	var (
		open                  = new(expvar.Int)
		messagesIn, bytesIn   = new(expvar.Int), new(expvar.Int)
		messagesOut, bytesOut = new(expvar.Int), new(expvar.Int)
		closes                = new(expvar.Map).Init()
	)
	for name, v := range map[string]expvar.Var{
		"open": open, "closes": closes,
		"messages_in": messagesIn, "bytes_in": bytesIn,
		"messages_out": messagesOut, "bytes_out": bytesOut,
	} {
		websocketVars.Set(name, v)
	}
	done := make(chan struct{}) // for this example's output only
	h := &server.Handler{
		Options: &server.Options{Conn: conn.Options{
			OnOpen: func(c *conn.Conn) { open.Add(1) },
			OnClose: func(c *conn.Conn, code conn.CloseCode, err error) {
				open.Add(-1)
				closes.Add(strconv.Itoa(int(code)), 1)
				s := c.Stats()
				messagesIn.Add(s.MessagesRead)
				bytesIn.Add(s.BytesRead)
				messagesOut.Add(s.MessagesWritten)
				bytesOut.Add(s.BytesWritten)
				close(done)
			},
		}},
		Serve: func(c *conn.Conn, r *http.Request) {
			for {
				typ, msg, err := c.Read(r.Context(), nil)
				if err != nil {
					return
				}
				c.Write(r.Context(), typ, msg)
			}
		},
	}
	s := httptest.NewServer(h)
	defer s.Close()

	ctx := context.Background()
	c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, msg := range []string{"hello", "metrics"} {
		c.Write(ctx, conn.Text, []byte(msg))
		c.Read(ctx, nil)
	}
	c.Close(4000, "bye")
	<-done
	fmt.Println(websocketVars)
	// Output: {"bytes_in": 12, "bytes_out": 12, "closes": {"4000": 1}, "messages_in": 2, "messages_out": 2, "open": 0}
}

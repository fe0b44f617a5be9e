//go:build !js

package conn_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

// pipe returns the two ends of a connection joined by an in-memory pipe,
// as the server and client packages would return them after the opening
// handshake: c is the server's Conn and peer the client's.
func pipe() (c, peer *conn.Conn) {
	a, b := net.Pipe()
	c, err := conn.New(a, frame.Server, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	peer, err = conn.New(b, frame.Client, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	return c, peer
}

func Example_echo() {
	ctx := context.Background()
	c, peer := pipe()

	// The server echoes every message with its type until the connection
	// ends.
	go func() {
		var buf []byte
		for {
			typ, msg, err := c.Read(ctx, buf[:0])
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
			buf = msg
		}
	}()

	go peer.Write(ctx, conn.Text, []byte("hello"))
	typ, msg, err := peer.Read(ctx, nil)
	fmt.Println(typ, string(msg), err)
	peer.Close(conn.CloseNormalClosure, "bye")
	// Output: text hello <nil>
}

func ExampleConn_Read() {
	ctx := context.Background()
	c, peer := pipe()
	defer c.CloseNow()
	defer peer.CloseNow()
	go func() {
		for _, m := range []string{"one", "two", "three"} {
			peer.Write(ctx, conn.Text, []byte(m))
		}
	}()
	// Reusing the buffer makes reading allocation-free once it is large
	// enough.
	var buf []byte
	for range 3 {
		_, msg, err := c.Read(ctx, buf[:0])
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(string(msg))
		buf = msg
	}
	// Output:
	// one
	// two
	// three
}

func ExampleConn_Writer() {
	ctx := context.Background()
	c, peer := pipe()
	defer c.CloseNow()
	defer peer.CloseNow()
	go func() {
		w, err := c.Writer(ctx, conn.Text)
		if err != nil {
			return
		}
		for i := range 3 {
			fmt.Fprintf(w, "part %d;", i)
		}
		w.Close()
	}()
	_, msg, _ := peer.Read(ctx, nil)
	fmt.Println(string(msg))
	// Output: part 0;part 1;part 2;
}

func ExampleCloseError() {
	ctx := context.Background()
	c, peer := pipe()
	go peer.Close(conn.CloseGoingAway, "page closed")
	_, _, err := c.Read(ctx, nil)
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		fmt.Println(ce.Code == conn.CloseGoingAway, ce.Reason)
	}
	fmt.Println(err)
	// Output:
	// true page closed
	// conn: the peer closed the connection with code going away (1001): "page closed"
}

func ExampleConn_Close() {
	ctx := context.Background()
	c, peer := pipe()
	peerErr := make(chan error)
	go func() {
		// The client reads until the server's Close frame arrives, which
		// it answers.
		_, _, err := peer.Read(ctx, nil)
		peerErr <- err
	}()
	// Codes 4000-4999 are for applications to define.
	const roomClosed conn.CloseCode = 4001
	if err := c.Close(roomClosed, "the room was closed"); err != nil {
		fmt.Println(err)
	}
	fmt.Println("client:", <-peerErr)
	_, _, err := c.Read(ctx, nil)
	fmt.Println("server:", err)
	// Output:
	// client: conn: the peer closed the connection with code 4001: "the room was closed"
	// server: conn: this endpoint closed the connection with code 4001: "the room was closed"
}

// A common shape: one goroutine reads and prints, the other writes and
// closes when its input ends. The peer's echo arrives before its answer
// to Close, so the reader receives it, whether it was inside Read or
// between two Reads when Close began.
func ExampleConn_Close_readLoop() {
	ctx := context.Background()
	server, c := pipe()
	go func() {
		var buf []byte
		for {
			typ, msg, err := server.Read(ctx, buf[:0])
			if err != nil {
				return
			}
			server.Write(ctx, typ, msg)
			buf = msg
		}
	}()

	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf []byte
		for {
			_, msg, err := c.Read(ctx, buf[:0])
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(string(msg))
			buf = msg
		}
	}()
	c.Write(ctx, conn.Text, []byte("hi"))
	c.Close(conn.CloseNormalClosure, "input ended")
	<-done
	// Output:
	// hi
	// conn: this endpoint closed the connection with code normal closure (1000): "input ended"
}

func ExampleNetConn() {
	c, peer := pipe()
	// Each Write is one binary message; Read sees one stream of bytes.
	go func() {
		nc := conn.NetConn(peer, conn.Binary)
		fmt.Fprint(nc, "line one\nline ")
		fmt.Fprint(nc, "two\n")
		nc.Close()
	}()
	sc := bufio.NewScanner(conn.NetConn(c, conn.Binary))
	for sc.Scan() {
		fmt.Println(sc.Text())
	}
	fmt.Println("error:", sc.Err()) // nil: a normal closure is io.EOF
	// Output:
	// line one
	// line two
	// error: <nil>
}

func ExampleConn_WritePrepared() {
	ctx := context.Background()
	// Three connections, as a server holds for the pages subscribed to a
	// feed; each page reads what the server pushes.
	received := make(chan string)
	var subscribers []*conn.Conn
	for range 3 {
		c, page := pipe()
		subscribers = append(subscribers, c)
		go func() {
			_, msg, err := page.Read(ctx, nil)
			if err != nil {
				received <- err.Error()
				return
			}
			received <- string(msg)
		}()
	}

	// Prepared once, written to every connection; with compression and
	// no context takeover it is compressed once per setting, not per
	// connection.
	update, err := conn.NewPreparedMessage(conn.Text, []byte(`{"price":101.5}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range subscribers {
		go c.WritePrepared(ctx, update)
	}
	for range subscribers {
		fmt.Println(<-received)
	}
	// Output:
	// {"price":101.5}
	// {"price":101.5}
	// {"price":101.5}
}

func ExampleOptions_Validate() {
	opts := conn.Options{KeepaliveInterval: 30e9, KeepaliveTimeout: 10e9}
	fmt.Println(opts.Validate())
	// Output: conn: Options.KeepaliveTimeout is 10s: it is shorter than KeepaliveInterval, so an idle peer would fail before it is pinged
}

// A program that performs the opening handshake itself tells New what it
// agreed on.
func ExampleNew() {
	a, b := net.Pipe()
	agreed := &conn.Handshake{
		Subprotocol: "chat.v1",
		Extensions:  "permessage-deflate; server_no_context_takeover",
		Compression: &conn.Compression{ServerNoContextTakeover: true},
	}
	c, err := conn.New(a, frame.Server, agreed, &conn.Options{ReadLimit: 1 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	peer, err := conn.New(b, frame.Client, agreed, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	go c.Write(ctx, conn.Text, []byte("compressed if long enough"))
	_, msg, err := peer.Read(ctx, nil)
	fmt.Println(c.Subprotocol(), string(msg), err)
	c.CloseNow()
	// Output: chat.v1 compressed if long enough <nil>
}

func ExampleConn_Stats() {
	ctx := context.Background()
	c, peer := pipe()
	go func() {
		for {
			if _, _, err := c.Read(ctx, nil); err != nil {
				return
			}
		}
	}()
	peer.Write(ctx, conn.Text, []byte("hello"))
	peer.Write(ctx, conn.Binary, make([]byte, 1000))
	peer.Close(conn.CloseNormalClosure, "")

	// The client's frames are masked: 2 + 4 bytes of header for "hello",
	// 4 + 4 for 1000 bytes, and 2 + 4 + 2 for the Close frame.
	s := peer.Stats()
	fmt.Println(s.MessagesWritten, s.BytesWritten, s.WireBytesWritten)
	// Output: 2 1005 1027
}

func ExampleOptions_onClose() {
	ctx := context.Background()
	closed := make(chan string)
	opts := &conn.Options{
		OnClose: func(c *conn.Conn, code conn.CloseCode, err error) {
			closed <- fmt.Sprintf("closed with %v; messages read: %d", code, c.Stats().MessagesRead)
		},
	}
	a, b := net.Pipe()
	c, err := conn.New(a, frame.Server, nil, opts)
	if err != nil {
		log.Fatal(err)
	}
	peer, err := conn.New(b, frame.Client, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			if _, _, err := c.Read(ctx, nil); err != nil {
				return
			}
		}
	}()
	peer.Write(ctx, conn.Text, []byte("hello"))
	peer.Close(4000, "done")
	fmt.Println(<-closed)
	// Output: closed with 4000; messages read: 1
}

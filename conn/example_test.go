package conn_test

import (
	"bufio"
	"context"
	"fmt"
	"net"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

// pipe returns a client and a server Conn joined by an in-memory pipe, as
// the server and client packages would after the opening handshake.
func pipe() (client, server *conn.Conn) {
	a, b := net.Pipe()
	return conn.New(a, frame.Client, nil, nil), conn.New(b, frame.Server, nil, nil)
}

func Example_echo() {
	ctx := context.Background()
	client, server := pipe()

	// The server echoes every message with its type until the client closes.
	go func() {
		var buf []byte
		for {
			typ, msg, err := server.Read(ctx, buf[:0])
			if err != nil {
				return
			}
			if err := server.Write(ctx, typ, msg); err != nil {
				return
			}
			buf = msg
		}
	}()

	go client.Write(ctx, conn.Text, []byte("hello"))
	typ, msg, err := client.Read(ctx, nil)
	fmt.Println(typ, string(msg), err)
	client.Close(frame.CloseNormalClosure, "bye")
	// Output: text hello <nil>
}

func ExampleConn_Read() {
	ctx := context.Background()
	client, server := pipe()
	defer client.CloseNow()
	defer server.CloseNow()
	go func() {
		for _, m := range []string{"one", "two", "three"} {
			client.Write(ctx, conn.Text, []byte(m))
		}
	}()
	// Reusing the buffer makes reading allocation-free once it is large
	// enough.
	var buf []byte
	for range 3 {
		_, msg, err := server.Read(ctx, buf[:0])
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
	client, server := pipe()
	defer client.CloseNow()
	defer server.CloseNow()
	go func() {
		w, err := server.Writer(ctx, conn.Text)
		if err != nil {
			return
		}
		for i := range 3 {
			fmt.Fprintf(w, "part %d;", i)
		}
		w.Close()
	}()
	_, msg, _ := client.Read(ctx, nil)
	fmt.Println(string(msg))
	// Output: part 0;part 1;part 2;
}

func ExampleCloseError() {
	ctx := context.Background()
	client, server := pipe()
	go client.Close(frame.CloseGoingAway, "page closed")
	_, _, err := server.Read(ctx, nil)
	fmt.Println(err)
	// Output: conn: closed by peer with code 1001: "page closed"
}

func ExampleNetConn() {
	client, server := pipe()
	// Each Write is one binary message; Read sees one stream of bytes.
	go func() {
		nc := conn.NetConn(client, conn.Binary)
		fmt.Fprint(nc, "line one\nline ")
		fmt.Fprint(nc, "two\n")
		nc.Close()
	}()
	sc := bufio.NewScanner(conn.NetConn(server, conn.Binary))
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
	// feed; each client reads what the server pushes.
	received := make(chan string)
	var servers []*conn.Conn
	for range 3 {
		client, server := pipe()
		servers = append(servers, server)
		go func() {
			_, msg, err := client.Read(ctx, nil)
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
	for _, c := range servers {
		go c.WritePrepared(ctx, update)
	}
	for range servers {
		fmt.Println(<-received)
	}
	// Output:
	// {"price":101.5}
	// {"price":101.5}
	// {"price":101.5}
}

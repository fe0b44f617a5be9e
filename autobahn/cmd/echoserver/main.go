// Command echoserver is the server the Autobahn testsuite's fuzzing client
// tests (see autobahn/run.sh): it echoes every message with its type.
//
//	go run ./autobahn/cmd/echoserver -addr 127.0.0.1:9002
package main

import (
	"context"
	"flag"
	"log"
	"net/http"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9002", "address to listen on")
	flag.Parse()
	log.Printf("echoserver: listening on ws://%s/", *addr)
	log.Fatal(http.ListenAndServe(*addr, Handler()))
}

// Handler returns the echo handler, with a read limit above the suite's
// largest message (16 MiB).
func Handler() http.Handler {
	return &server.Handler{
		Options: &server.Options{Conn: conn.Options{ReadLimit: 64 << 20}},
		Serve: func(c *conn.Conn, r *http.Request) {
			ctx := context.Background()
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
		},
	}
}

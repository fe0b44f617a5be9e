// Command echo is the WebSocket server most people write first: it echoes
// every message with its type, greets clients of /push before echoing, and
// serves at / a page that talks to it with the browser's WebSocket API.
//
//	go run ./examples/echo            # then open http://localhost:8080/
//	go run ./examples/echo -addr :9000
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()

	mux, handlers := newMux(log.Default())
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	// On Ctrl-C, say goodbye to every WebSocket client (1001 Going Away)
	// before stopping; http.Server.Shutdown does not see hijacked
	// connections.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, h := range handlers {
			h.Shutdown(sctx)
		}
		srv.Shutdown(sctx)
	}()

	log.Printf("echo: serving on http://%s/", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// options are the example's WebSocket options: permessage-deflate, which
// every browser offers, a read limit for what the page sends, keepalive,
// which notices clients that vanish without closing, and a write timeout,
// which drops clients that stop reading.
var options = &server.Options{
	Compression: &conn.Compression{},
	Conn: conn.Options{
		ReadLimit:         1 << 20,
		KeepaliveInterval: 30 * time.Second,
		WriteTimeout:      10 * time.Second, // a client that stops reading is dropped
	},
}

// newMux returns the example's routes and the WebSocket handlers among
// them.
func newMux(logger *log.Logger) (*http.ServeMux, []*server.Handler) {
	refused := func(r *http.Request, err error) {
		logger.Printf("echo: refused %s from %s: %v", r.URL.Path, r.RemoteAddr, err)
	}
	echo := &server.Handler{Options: options, OnUpgradeError: refused, Serve: func(c *conn.Conn, r *http.Request) {
		serve(logger, c, r, "")
	}}
	push := &server.Handler{Options: options, OnUpgradeError: refused, Serve: func(c *conn.Conn, r *http.Request) {
		serve(logger, c, r, "welcome! every message you send comes back")
	}}
	mux := http.NewServeMux()
	mux.Handle("/ws", echo)
	mux.Handle("/push", push)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	return mux, []*server.Handler{echo, push}
}

// serve greets the client if welcome is set, then echoes every message
// with its type until the connection ends.
func serve(logger *log.Logger, c *conn.Conn, r *http.Request, welcome string) {
	ctx := context.Background()
	logger.Printf("echo: %s connected to %s (extensions %q)", c.RemoteAddr(), r.URL.Path, c.Extensions())
	if welcome != "" {
		if err := c.Write(ctx, conn.Text, []byte(welcome)); err != nil {
			logger.Printf("echo: %s: %v", c.RemoteAddr(), err)
			return
		}
	}
	var buf []byte
	for {
		typ, msg, err := c.Read(ctx, buf[:0])
		if err != nil {
			logger.Printf("echo: %s disconnected: %v", c.RemoteAddr(), err)
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			logger.Printf("echo: %s: %v", c.RemoteAddr(), err)
			return
		}
		buf = msg
	}
}

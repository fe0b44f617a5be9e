// Command server is the echo server of the interoperability checks: one
// WebSocket endpoint per permessage-deflate variant (/off, /takeover,
// /no-server-takeover, ...; see package interop/internal/echo for the
// list and the protocol), and at / a blank same-origin page for the
// browser check.
//
//	go run ./interop/server -addr 127.0.0.1:18100
//
// With -eventloop it serves the same endpoints on package eventloop's
// event loops instead of a goroutine per connection: /takeover and the
// rest through eventloop.Server.Serve, and /http/takeover and the rest
// through net/http and eventloop.Server.ServeHTTP (see echo.EventLoop).
//
//	go run ./interop/server -addr 127.0.0.1:18103 -eventloop
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rfc6455/websocket/interop/internal/echo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18100", "address to listen on")
	loops := flag.Bool("eventloop", false, "serve on package eventloop's event loops")
	flag.Parse()

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *loops {
		serveEventLoop(l)
		return
	}
	s := &echo.Server{Logger: log.Default()}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		s.Shutdown(sctx)
		srv.Shutdown(sctx)
	}()

	log.Printf("interop server: listening on %s", l.Addr())
	if err := srv.Serve(s.Listen(l)); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// serveEventLoop serves l with echo.EventLoop until SIGINT or SIGTERM.
func serveEventLoop(l net.Listener) {
	s := &echo.EventLoop{Logger: log.Default()}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		s.Shutdown(sctx)
	}()
	log.Printf("interop server: event loops, listening on %s", l.Addr())
	if err := s.Serve(l); ctx.Err() == nil {
		log.Fatal(err)
	}
	<-done
}

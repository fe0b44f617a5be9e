package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

// listenWriteTimeout bounds each frame written to a client: one that
// stops reading is dropped rather than holding up a broadcast.
const listenWriteTimeout = 5 * time.Second

// listen runs "ws listen": it returns the exit status.
func listen(args []string, stderr io.Writer, sigs <-chan os.Signal) int {
	fs := flag.NewFlagSet("ws listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var protocols, origins listFlag
	echo := fs.Bool("echo", false, "send each message back to its sender (the default)")
	broadcast := fs.Bool("broadcast", false, "send each message to every connected client, the sender included")
	fs.Var(&protocols, "s", "a subprotocol `proto` the server speaks (repeatable)")
	fs.Var(&origins, "origin", "allow browser pages whose origin host matches `pattern` (repeatable; * allows all)")
	compress := fs.Bool("compress", false, "accept permessage-deflate compression")
	verbose := fs.Bool("v", false, "print connects, disconnects and messages to stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ws listen [-echo | -broadcast] [flags] ADDR\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	var addr string
	if fs.NArg() > 0 {
		addr = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitUsage
		}
	}
	switch {
	case addr == "":
		return usageError(stderr, "listen: no ADDR given (host:port, such as 127.0.0.1:8080 or :0)")
	case fs.NArg() > 0:
		return usageError(stderr, "listen: unexpected argument %q after ADDR", fs.Arg(0))
	case *echo && *broadcast:
		return usageError(stderr, "listen: -echo and -broadcast exclude each other")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return usageError(stderr, "listen: ADDR %q: %v", addr, err)
	}

	log := &logger{w: stderr}
	opts := &server.Options{
		Subprotocols:   protocols,
		OriginPatterns: origins,
		Conn:           conn.Options{WriteTimeout: listenWriteTimeout},
	}
	if *compress {
		opts.Compression = &conn.Compression{}
	}
	hub := &hub{log: log, verbose: *verbose, broadcast: *broadcast, conns: map[*conn.Conn]bool{}}
	h := &server.Handler{
		Options: opts,
		Serve:   hub.serve,
		OnUpgradeError: func(r *http.Request, err error) {
			if *verbose {
				log.printf("refused %s %s: %v", r.RemoteAddr, r.URL.Path, err)
			}
		},
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.printf("ws: %v", err)
		return exitError
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	mode := "echo"
	if *broadcast {
		mode = "broadcast"
	}
	log.printf("ws: listening on ws://%s/ (%s)", ln.Addr(), mode)

	select {
	case err := <-served:
		log.printf("ws: %v", err)
		return exitError
	case <-sigs:
	}
	log.printf("ws: shutting down: closing every connection with 1001")
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout+time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		log.printf("ws: %v", err)
	}
	srv.Shutdown(ctx)
	return exitOK
}

// A hub holds the connections of ws listen.
type hub struct {
	log       *logger
	verbose   bool
	broadcast bool

	mu    sync.Mutex
	conns map[*conn.Conn]bool
}

// serve runs one connection: it echoes or broadcasts each message until
// the connection ends.
func (h *hub) serve(c *conn.Conn, r *http.Request) {
	who := r.RemoteAddr
	h.mu.Lock()
	h.conns[c] = true
	h.mu.Unlock()
	if h.verbose {
		// After registering: a broadcast from now on reaches c.
		h.log.printf("connect %s %s (subprotocol %q, extensions %q)", who, r.URL.RequestURI(), c.Subprotocol(), c.Extensions())
	}
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
	}()
	ctx := r.Context()
	var buf []byte
	for {
		typ, msg, err := c.Read(ctx, buf[:0])
		if err != nil {
			if h.verbose {
				h.log.printf("disconnect %s: %v", who, err)
			}
			return
		}
		buf = msg
		if h.verbose {
			if typ == conn.Text {
				h.log.printf("message %s text %d: %s", who, len(msg), msg)
			} else {
				h.log.printf("message %s binary %d: %s", who, len(msg), hex.EncodeToString(msg))
			}
		}
		if !h.broadcast {
			if err := c.Write(ctx, typ, msg); err != nil {
				if h.verbose {
					h.log.printf("disconnect %s: %v", who, err)
				}
				return
			}
			continue
		}
		pm, err := conn.NewPreparedMessage(typ, msg)
		if err != nil {
			h.log.printf("ws: %v", err)
			return
		}
		h.mu.Lock()
		peers := make([]*conn.Conn, 0, len(h.conns))
		for p := range h.conns {
			peers = append(peers, p)
		}
		h.mu.Unlock()
		for _, p := range peers {
			// A peer that fails is dropped by its own Serve, whose
			// read fails once the connection is closed.
			p.WritePrepared(ctx, pm)
		}
	}
}

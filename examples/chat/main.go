// Command chat is a chat server: rooms, presence, history, and a page to
// talk from, over WebSockets. One process runs alone, in memory; with
// -nats, any number of processes behind any load balancer form one chat
// through a NATS server with JetStream, which also keeps the history across
// restarts.
//
//	go run .                                   # then open http://localhost:8080/
//	go run . -addr :8081 -nats nats://127.0.0.1:4222
//
// See README.md for running two nodes and what the slow-client policies do.
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

	"github.com/nats-io/nats.go"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on (port 0 picks a free one; the log says which)")
	natsURL := flag.String("nats", "", "NATS server URL with JetStream, such as nats://127.0.0.1:4222; empty runs alone in memory")
	history := flag.Int("history", 50, "messages of each room kept and sent on join")
	queue := flag.Int("queue", 256, "messages that may wait for a client, beyond the history sent on join")
	policy := DropOldest
	flag.Var(&policy, "policy", "when a client's queue is full: drop-oldest (skip its oldest queued message) or disconnect (close with 1008)")
	flag.Parse()
	if err := run(*addr, *natsURL, options{History: *history, Queue: *queue, Policy: policy, Logf: log.Printf}); err != nil {
		log.Fatal(err)
	}
}

// run serves the chat on addr until SIGINT or SIGTERM.
func run(addr, natsURL string, opts options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var b bus = newMemBus(opts.History)
	if natsURL != "" {
		nc, err := nats.Connect(natsURL, nats.Name("chat"), nats.MaxReconnects(-1))
		if err != nil {
			return err
		}
		defer nc.Close()
		if b, err = newNATSBus(ctx, nc, opts.History); err != nil {
			return err
		}
	}
	h, err := newHub(b, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(sctx) // 1001 to every client; http.Server.Shutdown does not see them
		srv.Shutdown(sctx)
	}()
	log.Printf("chat: serving http://%s/ (history %d, queue %d, policy %v, nats %q)", ln.Addr(), opts.History, opts.Queue, opts.Policy, natsURL)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Command devnats runs a NATS server with JetStream in one process, for
// trying the chat with several nodes without installing nats-server:
//
//	go run ./devnats                         # prints nats://127.0.0.1:4222
//	go run ./devnats -port -1 -store /tmp/x  # a free port; keep the history in /tmp/x
//
// It prints the server's URL on the first line of its standard output and
// runs until SIGINT or SIGTERM. Without -store the history lives in a
// temporary directory removed at exit. It listens on 127.0.0.1 only.
// For production, run nats-server itself (nats-server -js).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	port := flag.Int("port", 4222, "port to listen on; -1 picks a free one")
	store := flag.String("store", "", "JetStream storage directory (default: a temporary one, removed at exit)")
	flag.Parse()
	if err := run(*port, *store); err != nil {
		log.Fatal(err)
	}
}

func run(port int, store string) error {
	if store == "" {
		dir, err := os.MkdirTemp("", "devnats")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		store = dir
	}
	ns, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      port,
		JetStream: true,
		StoreDir:  store,
		NoSigs:    true,
	})
	if err != nil {
		return err
	}
	ns.ConfigureLogger()
	ns.Start()
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	if !ns.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("devnats: the server did not start within 10 s")
	}
	fmt.Println(ns.ClientURL())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

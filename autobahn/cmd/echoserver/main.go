// Command echoserver is the server the Autobahn testsuite's fuzzing client
// tests (see autobahn/run.sh): it echoes every message with its type.
//
//	go run ./autobahn/cmd/echoserver -addr 127.0.0.1:9002
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/rfc6455/websocket/internal/subject"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9002", "address to listen on")
	flag.Parse()
	log.Printf("echoserver: listening on ws://%s/", *addr)
	// A zero http.Server lets a client hold a connection by sending its
	// request slowly: every server should bound the request head's time.
	srv := &http.Server{Addr: *addr, Handler: subject.EchoHandler(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

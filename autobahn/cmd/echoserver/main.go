// Command echoserver is the server the Autobahn testsuite's fuzzing client
// tests (see autobahn/run.sh): it echoes every message with its type.
//
//	go run ./autobahn/cmd/echoserver -addr 127.0.0.1:9002
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/rfc6455/websocket/autobahn/internal/subject"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9002", "address to listen on")
	flag.Parse()
	log.Printf("echoserver: listening on ws://%s/", *addr)
	log.Fatal(http.ListenAndServe(*addr, subject.EchoHandler()))
}

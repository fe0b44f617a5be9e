// Command testclient is the client the Autobahn testsuite's fuzzing server
// tests (see autobahn/run.sh): it asks for the number of cases, runs each
// case by echoing every message it receives, and asks the suite to write
// its reports.
//
//	go run ./autobahn/cmd/testclient -url ws://127.0.0.1:9001 -agent rfc6455-websocket
package main

import (
	"context"
	"flag"
	"log"

	"github.com/rfc6455/websocket/autobahn/internal/subject"
)

func main() {
	base := flag.String("url", "ws://127.0.0.1:9001", "URL of the fuzzing server")
	agent := flag.String("agent", "rfc6455-websocket", "agent name in the reports")
	flag.Parse()
	if err := subject.RunClient(context.Background(), *base, *agent, log.Printf); err != nil {
		log.Fatal(err)
	}
}

// Command testclient is the client the Autobahn testsuite's fuzzing server
// tests (see autobahn/run.sh): it asks for the number of cases, runs each
// case by echoing every message it receives, and asks the suite to write
// its reports.
//
//	go run ./autobahn/cmd/testclient -url ws://127.0.0.1:9001 -agent rfc6455-websocket
//
// A case that has not ended after -case-timeout is closed and the run goes
// on, so a hang costs one case, not the run. The default is a little above
// the longest case: the suite gives 9.5.x and 9.6.x 1000 s, then a 1 s
// closing handshake (sections 12 and 13 give up after at most 480 s).
package main

import (
	"context"
	"flag"
	"log"
	"time"

	"github.com/rfc6455/websocket/internal/subject"
)

func main() {
	base := flag.String("url", "ws://127.0.0.1:9001", "URL of the fuzzing server")
	agent := flag.String("agent", "rfc6455-websocket", "agent name in the reports")
	caseTimeout := flag.Duration("case-timeout", 1020*time.Second, "close a case that has not ended after this long and go on (0: never)")
	flag.Parse()
	if err := subject.RunClient(context.Background(), *base, *agent, nil, *caseTimeout, log.Printf); err != nil {
		log.Fatal(err)
	}
}

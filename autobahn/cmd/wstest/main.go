// Command wstest runs the Go-native Autobahn conformance suite
// (package internal/wstest) in either of Autobahn's roles.
//
// Test a server (fuzzing client):
//
//	go run ./autobahn/cmd/wstest -m fuzzingclient -url ws://127.0.0.1:9001 -cases '*' -out reports/servers
//
// Test a client (fuzzing server); point the client at ws://127.0.0.1:9001:
//
//	go run ./autobahn/cmd/wstest -m fuzzingserver -addr 127.0.0.1:9001 -out reports/clients
//
// The catalogue includes sections 12 and 13 (permessage-deflate, 216
// cases of a thousand messages each), which take minutes even against a
// fast peer; -exclude '12.*,13.*' leaves them out.
//
// Both print a summary and exit with status 1 if any case is FAILED or
// UNIMPLEMENTED (or has a failed close judgement). The fuzzing server
// prints the summary when a client calls /updateReports; with -once it
// then exits, else it serves until interrupted.
//
// Summarise an index.json written by the real Autobahn suite (or by this
// one), failing also on NON-STRICT unless -allow-non-strict is given:
//
//	go run ./autobahn/cmd/wstest -m report -index reports/servers/index.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

func main() {
	os.Exit(run())
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func run() int {
	mode := flag.String("m", "fuzzingclient", "mode: fuzzingclient (test a server), fuzzingserver (test clients) or report (summarise an index.json)")
	url := flag.String("url", "ws://127.0.0.1:9001", "fuzzingclient: URL of the server under test")
	addr := flag.String("addr", "127.0.0.1:9001", "fuzzingserver: address to listen on")
	cases := flag.String("cases", "*", "comma separated case patterns to run (\"*\" wildcards)")
	exclude := flag.String("exclude", "", "comma separated case patterns to leave out")
	out := flag.String("out", "", "directory for index.json, per-case JSON and index.md (default reports/servers or reports/clients)")
	agent := flag.String("agent", "", "fuzzingclient: agent name in the reports (default: the server's Server header)")
	parallel := flag.Int("parallel", 1, "fuzzingclient: cases to run at once")
	failByDrop := flag.Bool("failbydrop", false, "drop TCP instead of closing cleanly when the peer violates the protocol")
	once := flag.Bool("once", false, "fuzzingserver: exit after the first /updateReports")
	index := flag.String("index", "", "report: index.json to summarise")
	allowNonStrict := flag.Bool("allow-non-strict", false, "report: do not fail on NON-STRICT")
	flag.Parse()

	if *mode == "report" {
		return report(*index, *allowNonStrict)
	}

	sel, err := wstest.Select(wstest.Catalogue(), splitList(*cases), splitList(*exclude))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch *mode {
	case "fuzzingclient":
		if *out == "" {
			*out = "reports/servers"
		}
		c := &wstest.Client{URL: *url, Agent: *agent, Cases: sel, Parallel: *parallel, FailByDrop: *failByDrop,
			OnResult: func(r *wstest.Result) {
				fmt.Printf("case %-8s %-13s %-16s %5d ms\n", r.ID, r.Behavior, r.BehaviorClose, r.Duration)
			}}
		rs, err := c.Run(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		name := "UnknownServer"
		if len(rs) > 0 {
			name = rs[0].Agent
		}
		return finish(*out, map[string][]*wstest.Result{name: rs})
	case "fuzzingserver":
		if *out == "" {
			*out = "reports/clients"
		}
		srv := &wstest.Server{Cases: sel, OutDir: *out, FailByDrop: *failByDrop}
		status := make(chan int, 1)
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			srv.ServeHTTP(w, r)
			if r.URL.Path == "/updateReports" {
				code := finish(*out, srv.Results())
				if *once {
					select {
					case status <- code:
					default:
					}
				}
			}
		})
		l, err := net.Listen("tcp", *addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Printf("fuzzing server on ws://%s, %d cases\n", l.Addr(), len(sel))
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, err)
			}
		}()
		select {
		case code := <-status:
			hs.Close()
			return code
		case <-ctx.Done():
			hs.Close()
			return finish(*out, srv.Results())
		}
	default:
		fmt.Fprintf(os.Stderr, "wstest: unknown mode %q\n", *mode)
		return 2
	}
}

// finish writes the reports, prints the summaries and returns the exit
// status: 1 if anything did not pass.
func finish(dir string, results map[string][]*wstest.Result) int {
	if err := wstest.WriteReports(dir, results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	code := 0
	for agent, rs := range results {
		fmt.Println(wstest.Summary(agent, rs))
		for _, r := range rs {
			if !r.Passed() {
				code = 1
			}
		}
	}
	fmt.Printf("reports written to %s\n", dir)
	return code
}

// indexEntry is one case of an Autobahn index.json.
type indexEntry struct {
	Behavior      string `json:"behavior"`
	BehaviorClose string `json:"behaviorClose"`
}

// report prints per-agent verdict counts of an index.json and the cases
// that fail; it returns 1 if any case is FAILED, UNIMPLEMENTED, has a
// close judgement other than OK or INFORMATIONAL, or (unless
// allowNonStrict) is NON-STRICT.
func report(path string, allowNonStrict bool) int {
	if path == "" {
		fmt.Fprintln(os.Stderr, "wstest: -m report needs -index")
		return 2
	}
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var idx map[string]map[string]indexEntry
	if err := json.Unmarshal(b, &idx); err != nil {
		fmt.Fprintf(os.Stderr, "wstest: %s: %v\n", path, err)
		return 2
	}
	code := 0
	agents := make([]string, 0, len(idx))
	for a := range idx {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	for _, a := range agents {
		counts := map[string]int{}
		var bad []string
		ids := make([]string, 0, len(idx[a]))
		for id := range idx[a] {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
		for _, id := range ids {
			e := idx[a][id]
			counts[e.Behavior]++
			fail := e.Behavior == "FAILED" || e.Behavior == "UNIMPLEMENTED" ||
				(e.Behavior == "NON-STRICT" && !allowNonStrict) ||
				(e.BehaviorClose != "OK" && e.BehaviorClose != "INFORMATIONAL")
			if fail {
				bad = append(bad, fmt.Sprintf("%s (%s/%s)", id, e.Behavior, e.BehaviorClose))
			}
		}
		fmt.Printf("%s: %d cases:", a, len(ids))
		for _, k := range []string{"OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"} {
			fmt.Printf(" %s %d", k, counts[k])
		}
		fmt.Println()
		if len(bad) > 0 {
			code = 1
			fmt.Printf("  not passing: %s\n", strings.Join(bad, ", "))
		}
	}
	return code
}

// idLess orders case ids numerically part by part.
func idLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

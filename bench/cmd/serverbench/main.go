// Command serverbench measures WebSocket echo servers as their users meet
// them: one server per process, measured from outside, driven over
// loopback TCP by one raw load client that costs the same whatever the
// server, so that the server's CPU time per message and memory per
// connection are the server's alone.
//
// Usage, from the bench directory:
//
//	go run ./cmd/serverbench [flags]
//
// runs every available subject through every workload and prints one
// Markdown table per workload; -h lists the flags. The subjects are this
// module (ours-http: server.Handler; ours-upgrade: server.Upgrade in a
// net/http handler that serves the connection itself; ours-conn:
// server.UpgradeConn on a listener of its own), gorilla/websocket,
// coder/websocket, gobwas/ws (through net/http, and gobwas-conn on a
// listener of its own), lxzan/gws, Node's ws (node-ws, in nodews/, when
// node and npm are installed) and uWebSockets (uws, the echo server that
// BENCH_UWS_ECHO names, when set). Each runs as an echo server with
// permessage-deflate off (the client never offers it), in a child process
// the harness starts, measures through /proc and kills.
//
// The workloads:
//
//   - pipelined: -conns connections, each keeping -window messages in
//     flight, for each message size of -sizes;
//   - window1: connections (each count of -window1-conns) with one
//     message in flight each, and the round-trip times the client sees;
//   - idle: each count of -idle-conns connections opened, each echoing
//     one small message, then left idle while the server's memory is read.
//
// Rounds go round-robin over the subjects, and the tables give medians.
//
// The child half, "serverbench serve NAME", runs one Go subject: it
// prints "ready HOST:PORT {json}" once it listens on a loopback port of
// the system's choice, answers each "mem" line on stdin with "mem {json}"
// (HeapAlloc, StackInuse and NumGoroutine after two collections), and
// exits when stdin ends.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(serveMain(os.Args[2:]))
	}
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// runMain is the parent half: it parses args, runs the benchmark and
// writes its report to stdout (and -out). It returns the exit code: 0,
// 1 if a measurement failed, 2 for a usage error.
func runMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	// Children die with this process whatever happens: they exit when
	// their stdin closes (ours and node-ws) and get SIGKILL when it dies
	// (Pdeathsig); on SIGINT or SIGTERM they are killed here at once.
	defer killChildren()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		killChildren()
		fmt.Fprintf(stderr, "serverbench: %v: children killed, exiting\n", s)
		os.Exit(130)
	}()
	// A last resort if a wait ignores the context.
	watchdog := time.AfterFunc(cfg.timeout+time.Minute, func() {
		killChildren()
		fmt.Fprintln(stderr, "serverbench: still running a minute past -timeout; exiting")
		os.Exit(1)
	})
	defer watchdog.Stop()

	fmt.Fprintf(stderr, "serverbench: %s\n", commandLine(cfg))
	b := &bench{cfg: cfg, log: stderr}
	rep, err := b.run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "serverbench: %v\n", err)
		return 1
	}
	out := rep.markdown()
	io.WriteString(stdout, out)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(out), 0o644); err != nil {
			fmt.Fprintf(stderr, "serverbench: %v\n", err)
			return 1
		}
	}
	if n := rep.failures(); n > 0 {
		fmt.Fprintf(stderr, "serverbench: %d measurements failed\n", n)
		return 1
	}
	return 0
}

// commandLine is how the report says to reproduce it: the go run
// command with the flags given, and BENCH_UWS_ECHO if it was set.
func commandLine(cfg *config) string {
	var b strings.Builder
	b.WriteString("cd bench && ")
	if cfg.uws != "" {
		b.WriteString(uwsEnv + "=" + shellQuote(cfg.uws) + " ")
	}
	b.WriteString("go run ./cmd/serverbench")
	for _, a := range cfg.args {
		b.WriteString(" " + shellQuote(a))
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"$\\*?;&|<>()`~#!{}[]") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

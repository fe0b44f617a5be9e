package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/rfc6455/websocket/bench/internal/echo"
)

// TestMain lets this test binary be the child process too: the harness
// starts its own executable as "serve NAME".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(serveMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// Servers that echo wrong, for TestHarnessCatchesBrokenServers. Each
// misbehaves on every fifth message of a connection, from the first on,
// so that it does so however few messages a busy machine lets through.
func init() {
	goSubjects = append(goSubjects,
		goSubject{name: "broken-bytes", about: "flips a bit", serve: brokenServer(func(op ws.OpCode, p []byte) (ws.OpCode, []byte, bool) {
			p[len(p)/2] ^= 0x10
			return op, p, true
		})},
		goSubject{name: "broken-type", about: "sends text as binary", serve: brokenServer(func(op ws.OpCode, p []byte) (ws.OpCode, []byte, bool) {
			if op == ws.OpText {
				op = ws.OpBinary
			}
			return op, p, true
		})},
		goSubject{name: "broken-short", about: "drops the last byte", serve: brokenServer(func(op ws.OpCode, p []byte) (ws.OpCode, []byte, bool) {
			return op, p[:len(p)-1], true
		})},
		goSubject{name: "broken-drop", about: "drops the message", serve: brokenServer(func(op ws.OpCode, p []byte) (ws.OpCode, []byte, bool) {
			return op, p, false
		})},
	)
}

// brokenServer echoes through gobwas's frame functions, but alters
// messages 1, 6, 11… of each connection with alter, which returns what
// to send back, if anything.
func brokenServer(alter func(op ws.OpCode, p []byte) (ws.OpCode, []byte, bool)) func(net.Listener) error {
	return serveConns(func(_ *echo.Server, nc net.Conn) {
		if _, err := ws.Upgrade(nc); err != nil {
			nc.Close()
			return
		}
		g := echo.NewGobwasEndpoint(nc, bufio.NewReader(nc), bufio.NewWriter(nc), false)
		defer g.Close()
		for i := 1; ; i++ {
			op, msg, err := g.Read(nil)
			if err != nil {
				return
			}
			send := true
			if i%5 == 1 {
				op, msg, send = alter(op, msg)
			}
			if !send {
				continue
			}
			if err := g.Write(op, msg); err != nil {
				return
			}
		}
	})
}

// runBench runs the harness with args and returns its report.
func runBench(t *testing.T, args ...string) *report {
	t.Helper()
	var log strings.Builder
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("harness log:\n%s", log.String())
		}
	})
	cfg, err := parseFlags(args, &log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	b := &bench{cfg: cfg, log: &log}
	rep, err := b.run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// tinyArgs run every workload at a tiny scale: a check that every
// message is echoed as sent, not a measurement.
var tinyArgs = []string{
	"-sizes", "16B,1KiB-text", "-conns", "4", "-window", "8",
	"-window1-conns", "2", "-idle-conns", "20", "-idle-warmup", "2", "-idle-wait", "0s",
	"-rounds", "1", "-warmup", "20ms", "-duration", "100ms", "-drain", "5s",
	"-nodews", "../../nodews", "-timeout", "60s",
}

// TestHarness runs every Go subject, and node-ws where node is
// installed, through every workload at a tiny scale, and checks that
// every measurement succeeded: every echo of every connection was the
// message sent, with its type, and came back.
func TestHarness(t *testing.T) {
	t.Parallel()
	var names []string
	for _, s := range goSubjects {
		if !strings.HasPrefix(s.name, "broken-") {
			names = append(names, s.name)
		}
	}
	for _, name := range append(names, nodeSubject) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if name == nodeSubject {
				cfg, err := parseFlags(append([]string{"-subjects", name}, tinyArgs...), io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := prepareSubject(context.Background(), cfg, name, t.Logf); isSkip(err) {
					t.Skip(err)
				}
			}
			rep := runBench(t, append([]string{"-subjects", name}, tinyArgs...)...)
			if len(rep.timed) != 3 || len(rep.idle) != 1 {
				t.Fatalf("%d timed and %d idle tables, want 3 and 1", len(rep.timed), len(rep.idle))
			}
			stalled := false
			for _, tt := range rep.timed {
				row := tt.rows[name]
				for _, err := range row.errs {
					if errors.Is(err, errNoProgress) {
						t.Logf("%s: %v (a busy machine)", tt.tc.title(), err)
						stalled = true
						continue
					}
					t.Errorf("%s: %v", tt.tc.title(), err)
				}
			}
			row := rep.idle[0].rows[name]
			if len(row.errs) > 0 || len(row.ms) != 1 {
				t.Fatalf("idle: %v", row.errs)
			}
			m := row.ms[0]
			if math.IsNaN(m.livePerConn) || m.rssBefore <= 0 {
				t.Errorf("idle: no memory report: %+v", m)
			}
			if _, isGo := findGoSubject(name); isGo {
				// An event loop holds no goroutine per idle connection; the
				// others hold one.
				want := 1.0
				if name == "ours-eventloop" {
					want = 0
				}
				if math.Abs(m.goroutinesPerConn-want) > 0.5 {
					t.Errorf("idle: %.2f goroutines per connection, want about %v", m.goroutinesPerConn, want)
				}
			}
			if md := rep.markdown(); !strings.Contains(md, "| "+name+" |") || (!stalled && strings.Contains(md, "failed")) {
				t.Errorf("report:\n%s", md)
			}
		})
	}
}

// TestHarnessCatchesBrokenServers checks that a server echoing wrong
// bytes, the wrong type or a short message fails the measurement with
// errMismatch, and one that drops a message fails it too: pipelined, as
// the next echo is not the message expected; one at a time, with a
// timeout.
func TestHarnessCatchesBrokenServers(t *testing.T) {
	t.Parallel()
	pipelined := []string{"-workloads", "pipelined", "-sizes", "1KiB-text", "-conns", "2", "-window", "4"}
	window1 := []string{"-workloads", "window1", "-window1-size", "16B-text", "-window1-conns", "2"}
	for _, tt := range []struct {
		name    string
		subject string
		args    []string
		want    error
	}{{
		name:    "bytes",
		subject: "broken-bytes",
		args:    pipelined,
		want:    errMismatch,
	}, {
		name:    "type",
		subject: "broken-type",
		args:    pipelined,
		want:    errMismatch,
	}, {
		name:    "short",
		subject: "broken-short",
		args:    pipelined,
		want:    errMismatch,
	}, {
		name:    "drop/pipelined",
		subject: "broken-drop",
		args:    pipelined,
		want:    errMismatch,
	}, {
		name:    "drop/window1",
		subject: "broken-drop",
		args:    window1,
		want:    os.ErrDeadlineExceeded,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"-subjects", tt.subject, "-rounds", "1", "-warmup", "10ms", "-duration", "50ms", "-drain", "500ms"}, tt.args...)
			rep := runBench(t, args...)
			row := rep.timed[0].rows[tt.subject]
			if len(row.errs) != 1 {
				t.Fatalf("the harness did not fail %s: %+v", tt.subject, row.ms)
			}
			if err := row.errs[0]; !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want one matching %v", err, tt.want)
			}
			if rep.failures() != 1 || !strings.Contains(rep.markdown(), "**failed**") {
				t.Errorf("the report does not show the failure:\n%s", rep.markdown())
			}
		})
	}
}

// TestNoChildLeft checks that a measurement's server process is gone
// once the measurement returns.
func TestNoChildLeft(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"-subjects", "ours-conn"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s, err := prepareSubject(context.Background(), cfg, "ours-conn", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(ch.pid)); err != nil {
		t.Fatalf("the child is not running: %v", err)
	}
	ch.stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := os.Stat("/proc/" + strconv.Itoa(ch.pid))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists after stop", ch.pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	children.Lock()
	defer children.Unlock()
	if children.m[ch] {
		t.Error("a stopped child is still in the list of children")
	}
}

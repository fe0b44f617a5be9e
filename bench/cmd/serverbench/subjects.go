package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/rfc6455/websocket/bench/internal/echo"
)

// A goSubject is an echo server written in Go, which "serverbench serve
// NAME" runs alone in its process. serve accepts connections on ln and
// echoes every message back with its type until ln is closed.
//
// To add a server, such as an epoll mode of this module, add one entry
// to goSubjects: it then runs in every workload under its name, with
// the memory report of every Go subject.
type goSubject struct {
	name  string
	about string // how it serves, for the report
	serve func(ln net.Listener) error
}

// goSubjects are the Go servers, in the order of the tables. Every one
// reuses its message buffer from one message to the next where its API
// allows (echo.Server.KeepBuffer).
var goSubjects = []goSubject{
	{"ours-http", "server.Handler (Serve on a goroutine of its own, ServeHTTP returns)", serveHTTP((*echo.Server).OursHandler)},
	{"ours-upgrade", "server.Upgrade in a net/http handler, serving in the handler's goroutine", serveHTTP((*echo.Server).Ours)},
	{"ours-conn", "server.UpgradeConn, a goroutine per accepted net.Conn", serveConns((*echo.Server).OursConn)},
	{"ours-eventloop", "eventloop.Server.Serve: epoll loops (GOMAXPROCS), OnMessage writes the echo", serveEventLoop},
	{"gorilla", "gorilla/websocket Upgrader in a net/http handler, NextReader + WriteMessage", serveHTTP((*echo.Server).Gorilla)},
	{"coder", "coder/websocket Accept in a net/http handler, Reader + Write", serveHTTP((*echo.Server).Coder)},
	{"gobwas", "gobwas/ws UpgradeHTTP in a net/http handler, its frame functions", serveHTTP((*echo.Server).Gobwas)},
	{"gobwas-conn", "gobwas/ws Upgrade, a goroutine per accepted net.Conn, its frame functions", serveConns((*echo.Server).GobwasConn)},
	{"gws", "lxzan/gws Upgrader in a net/http handler, ReadLoop + OnMessage", serveHTTP((*echo.Server).GWS)},
}

// serveHTTP serves the echo handler h makes through a net/http server.
func serveHTTP(h func(*echo.Server) http.Handler) func(net.Listener) error {
	return func(ln net.Listener) error {
		srv := &http.Server{Handler: h(&echo.Server{KeepBuffer: true}), ReadHeaderTimeout: 10 * time.Second}
		return srv.Serve(ln)
	}
}

// serveConns runs serve in a goroutine per accepted connection.
func serveConns(serve func(*echo.Server, net.Conn)) func(net.Listener) error {
	return func(ln net.Listener) error {
		s := &echo.Server{KeepBuffer: true}
		for {
			nc, err := ln.Accept()
			if err != nil {
				return err
			}
			go serve(s, nc)
		}
	}
}

// serveEventLoop serves on event loops until ln is closed.
func serveEventLoop(ln net.Listener) error {
	return (&echo.Server{}).OursEventLoop().Serve(ln)
}

func findGoSubject(name string) (goSubject, bool) {
	for _, s := range goSubjects {
		if s.name == name {
			return s, true
		}
	}
	return goSubject{}, false
}

// The subjects that are not Go: run from their own directory or binary.
const (
	nodeSubject = "node-ws"
	uwsSubject  = "uws"
)

// allSubjectNames are the names -subjects accepts, in table order.
func allSubjectNames() []string {
	var names []string
	for _, s := range goSubjects {
		names = append(names, s.name)
	}
	return append(names, nodeSubject, uwsSubject)
}

// A subject is a server the parent can start, once prepared.
type subject struct {
	name  string
	about string
	// start starts a server process and waits until it listens.
	start func(ctx context.Context) (*child, error)
}

// A skipError is why a subject cannot run on this machine: reported, not
// counted as a failure.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

func skipf(format string, a ...any) error { return &skipError{fmt.Sprintf(format, a...)} }

// isSkip reports whether err is a skipError.
func isSkip(err error) bool {
	var se *skipError
	return errors.As(err, &se)
}

// prepareSubject returns the subject called name, ready to start, or a
// skipError if it cannot run here.
func prepareSubject(ctx context.Context, cfg *config, name string, log func(format string, a ...any)) (subject, error) {
	if s, ok := findGoSubject(name); ok {
		return subject{name: name, about: s.about, start: func(ctx context.Context) (*child, error) {
			return startChild(ctx, childSpec{name: name, path: cfg.exe, args: []string{"serve", name}, control: true})
		}}, nil
	}
	switch name {
	case nodeSubject:
		return prepareNode(ctx, cfg, log)
	case uwsSubject:
		if cfg.uws == "" {
			return subject{}, skipf("%s is not set to a uWebSockets echo server (see README.md)", uwsEnv)
		}
		bin, err := exec.LookPath(cfg.uws)
		if err != nil {
			return subject{}, fmt.Errorf("%s=%s: %w", uwsEnv, cfg.uws, err)
		}
		return subject{
			name:  name,
			about: "uWebSockets' examples/EchoServer.cpp, listening on the port given as its argument",
			start: func(ctx context.Context) (*child, error) {
				return startChild(ctx, childSpec{name: name, path: bin, portArg: true})
			},
		}, nil
	}
	return subject{}, fmt.Errorf("unknown subject %q", name)
}

// prepareNode checks for node and npm and installs nodews's pinned
// packages with npm ci if node_modules is missing.
func prepareNode(ctx context.Context, cfg *config, log func(format string, a ...any)) (subject, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return subject{}, skipf("node is not installed (%v)", err)
	}
	dir, err := filepath.Abs(cfg.nodeDir)
	if err != nil {
		return subject{}, err
	}
	if _, err := os.Stat(filepath.Join(dir, "server.js")); err != nil {
		return subject{}, skipf("no server.js in -nodews %s (run from the bench directory)", cfg.nodeDir)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); errors.Is(err, os.ErrNotExist) {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return subject{}, skipf("npm is not installed to fill %s/node_modules (%v)", cfg.nodeDir, err)
		}
		log("node-ws: npm ci in %s", dir)
		ictx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ictx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(filepath.Join(dir, "node_modules"))
			return subject{}, skipf("npm ci in %s failed: %v\n%s", cfg.nodeDir, err, out)
		}
	}
	return subject{
		name:  nodeSubject,
		about: "Node's ws WebSocketServer, ws.send(data, {binary}) from its 'message' event",
		start: func(ctx context.Context) (*child, error) {
			return startChild(ctx, childSpec{name: nodeSubject, path: node, args: []string{"--expose-gc", "server.js"}, dir: dir, control: true})
		},
	}, nil
}

//go:build linux

package wasmtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

const chromium = "/usr/bin/chromium"

// playwright returns the node_modules directory that holds playwright-core:
// $WASMTEST_NODE_MODULES, or an entry of $NODE_PATH.
func playwright() string {
	dirs := filepath.SplitList(os.Getenv("NODE_PATH"))
	if d := os.Getenv("WASMTEST_NODE_MODULES"); d != "" {
		dirs = append([]string{d}, dirs...)
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "playwright-core", "package.json")); err == nil {
			return d
		}
	}
	return ""
}

// A recorder keeps what the server saw of each connection, by the name
// the program gave it in the query.
type recorder struct {
	mu      sync.Mutex
	ends    map[string]error       // the error that ended the server's reads
	headers map[string]http.Header // the handshake request
}

func (r *recorder) header(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.headers[req.URL.Query().Get("name")] = req.Header.Clone()
}

func (r *recorder) end(req *http.Request, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends[req.URL.Query().Get("name")] = err
}

// await returns the error that ended the connection called name, waiting
// up to 10 s for the server to see the end.
func (r *recorder) await(name string) (error, bool) {
	for range 200 {
		r.mu.Lock()
		err, ok := r.ends[name]
		r.mu.Unlock()
		if ok {
			return err, true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, false
}

// handler serves the page, wasm_exec.js, the program in wasmFile, and the
// WebSocket endpoints the program dials.
func (r *recorder) handler(t *testing.T, wasmFile string, stop <-chan struct{}) http.Handler {
	goroot := strings.TrimSpace(run(t, "go", "env", "GOROOT"))
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, req *http.Request) {
		http.ServeFile(w, req, filepath.Join("testdata", "index.html"))
	})
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, req *http.Request) {
		http.ServeFile(w, req, filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	})
	mux.HandleFunc("/test.wasm", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, req, wasmFile)
	})
	opts := &server.Options{
		Subprotocols: []string{"chat.v1"},
		Compression:  &conn.Compression{},
	}
	serve := func(fn func(c *conn.Conn, req *http.Request)) http.Handler {
		return &server.Handler{Options: opts, Serve: func(c *conn.Conn, req *http.Request) {
			r.header(req)
			fn(c, req)
		}}
	}
	readAll := func(c *conn.Conn, req *http.Request, echo bool) {
		var buf []byte
		for {
			typ, msg, err := c.Read(req.Context(), buf[:0])
			if err != nil {
				r.end(req, err)
				return
			}
			if echo {
				if err := c.Write(req.Context(), typ, msg); err != nil {
					r.end(req, err)
					return
				}
			}
			buf = msg
		}
	}
	mux.Handle("/echo", serve(func(c *conn.Conn, req *http.Request) { readAll(c, req, true) }))
	mux.Handle("/close4001", serve(func(c *conn.Conn, req *http.Request) {
		c.Write(req.Context(), conn.Text, []byte("before the close"))
		r.end(req, c.Close(4001, "server bye"))
	}))
	mux.Handle("/big", serve(func(c *conn.Conn, req *http.Request) {
		c.Write(req.Context(), conn.Text, []byte("small"))
		c.Write(req.Context(), conn.Binary, make([]byte, 2000))
		readAll(c, req, false)
	}))
	mux.Handle("/flood", serve(func(c *conn.Conn, req *http.Request) {
		for i := range 3 {
			c.Write(req.Context(), conn.Binary, bytes.Repeat([]byte{byte(i)}, 900))
		}
		readAll(c, req, false)
	}))
	mux.HandleFunc("/slow", func(w http.ResponseWriter, req *http.Request) {
		select { // until the browser gives up, or the test ends
		case <-req.Context().Done():
		case <-stop:
		}
	})
	mux.Handle("/sink", serve(func(c *conn.Conn, req *http.Request) { readAll(c, req, false) }))
	return mux
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

// TestBrowser runs the program in ./browser in headless Chromium against
// a server.Handler, and checks its report and what the server saw.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("needs %s: %v", chromium, err)
	}
	modules := playwright()
	if modules == "" {
		t.Skip("needs playwright-core: set WASMTEST_NODE_MODULES or NODE_PATH to a node_modules directory holding it (see run.sh)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skipf("needs node: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	wasmFile := filepath.Join(t.TempDir(), "test.wasm")
	build := exec.CommandContext(ctx, "go", "build", "-o", wasmFile, "./browser")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm program: %v\n%s", err, out)
	}
	if fi, err := os.Stat(wasmFile); err == nil {
		t.Logf("the wasm program is %.1f MB", float64(fi.Size())/1e6)
	}

	rec := &recorder{ends: map[string]error{}, headers: map[string]http.Header{}}
	stop := make(chan struct{})
	srv := httptest.NewUnstartedServer(rec.handler(t, wasmFile, stop))
	srv.Start() // httptest listens on 127.0.0.1:0
	defer srv.Close()
	defer close(stop)

	node := exec.CommandContext(ctx, "node", filepath.Join("testdata", "driver.js"), srv.URL+"/")
	node.Env = append(os.Environ(), "NODE_PATH="+modules)
	// Chromium runs in node's process group, which is killed whole if the
	// test's time runs out.
	node.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	node.Cancel = func() error { return syscall.Kill(-node.Process.Pid, syscall.SIGKILL) }
	node.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	node.Stderr = &stderr
	out, err := node.Output()
	if err != nil {
		t.Fatalf("driver.js: %v\n%s%s", err, out, stderr.Bytes())
	}

	var passed int
	done := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "wasmtest: PASS "):
			passed++
		case strings.HasPrefix(line, "wasmtest: FAIL "):
			t.Error(strings.TrimPrefix(line, "wasmtest: "))
		case strings.HasPrefix(line, "wasmtest: INFO "):
			t.Log(strings.TrimPrefix(line, "wasmtest: INFO "))
		case strings.HasPrefix(line, "wasmtest: DONE "):
			done = true
		}
	}
	if !done {
		t.Fatalf("the program did not finish; its output:\n%s%s", out, stderr.Bytes())
	}
	t.Logf("%d checks passed in Chromium", passed)
	if t.Failed() {
		t.Logf("the program's output:\n%s", out)
	}

	// What the server saw.
	h := rec.headers["echo"]
	if got := h.Get("Origin"); got != srv.URL {
		t.Errorf("the handshake's Origin = %q, want the page's origin %q", got, srv.URL)
	}
	if got := h.Get("Sec-WebSocket-Protocol"); got != "chat.v1, other" {
		t.Errorf("Sec-WebSocket-Protocol offered = %q, want \"chat.v1, other\"", got)
	}
	if got := h.Get("Sec-WebSocket-Extensions"); !strings.Contains(got, "permessage-deflate") {
		t.Errorf("Sec-WebSocket-Extensions offered = %q, want permessage-deflate", got)
	}
	for _, tt := range []struct {
		name      string
		code      conn.CloseCode
		reasonHas string
		why       string
	}{
		{"close", 4000, "client bye", "Close(4000, \"client bye\")"},
		{"big", 4009, "1009", "the read limit failing the connection"},
		{"flood", 4008, "1008", "the queue bound failing the connection"},
		{"echo", conn.CloseNoStatusReceived, "", "CloseNow, which the browser sends without a code"},
	} {
		err, ok := rec.await(tt.name)
		if !ok {
			t.Errorf("the server never saw the end of connection %q (%s)", tt.name, tt.why)
			continue
		}
		var ce *conn.CloseError
		if !errors.As(err, &ce) || ce.Code != tt.code || !strings.Contains(ce.Reason, tt.reasonHas) {
			t.Errorf("the server's read of %q ended with %v; want a close %d with %q in its reason, from %s", tt.name, err, tt.code, tt.reasonHas, tt.why)
		}
	}
	if err, ok := rec.await("server-close"); !ok || err != nil {
		t.Errorf("the server's Close(4001) = %v, %v; want nil", err, ok)
	}
}

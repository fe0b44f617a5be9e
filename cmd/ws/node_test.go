package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNodeWS runs ws against the echo server of interop/node/server.js, on
// Node's ws, when WS_NODE_MODULES names a node_modules directory holding
// ws (interop/run.sh sets it after its npm install). The server greets
// with "negotiated:" and the extensions it agreed, compresses every
// message when permessage-deflate is agreed, and sends every other echo in
// fragments of 1, 13, 500, ... bytes.
func TestNodeWS(t *testing.T) {
	modules := os.Getenv("WS_NODE_MODULES")
	if modules == "" {
		t.Skip("WS_NODE_MODULES is not set: set it to a node_modules directory with ws (npm install in interop/node) to run ws against Node's ws")
	}
	// A relative path may be relative to the repository's root, as
	// interop/run.sh gives it, rather than to this package's directory.
	if !filepath.IsAbs(modules) {
		if _, err := os.Stat(modules); err != nil {
			modules = filepath.Join("..", "..", modules)
		}
	}
	modules, err := filepath.Abs(modules)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "ws", "package.json")); err != nil {
		t.Fatalf("WS_NODE_MODULES=%s has no ws: %v", modules, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("WS_NODE_MODULES is set but node is not installed: %v", err)
	}
	t.Parallel()

	cmd := exec.Command(node, filepath.Join("..", "..", "interop", "node", "server.js"), "0")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(runTimeout, func() { cmd.Process.Kill() })
	t.Cleanup(func() {
		timer.Stop()
		cmd.Process.Kill()
		cmd.Wait()
	})
	// The server logs one line per event; the first says where it listens.
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	first := <-lines
	m := regexp.MustCompile(`echo server on (127\.0\.0\.1:\d+)$`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("node server.js printed %q, not its address", first)
	}
	base := "ws://" + m[1]

	long := strings.Repeat("zlib and flate agree ", 2000)
	tests := []struct {
		name       string
		path       string
		args       []string
		wantGreet  string
		wantFrames []string
	}{{
		name:       "no compression",
		path:       "/off",
		wantGreet:  "negotiated:",
		wantFrames: []string{"< frame text fin=1 rsv1=0 len=5\n", "< frame text fin=0 rsv1=0 len=1\n", "< frame continuation fin=0 rsv1=0 len=13\n"},
	}, {
		name:       "permessage-deflate",
		path:       "/takeover",
		args:       []string{"-compress"},
		wantGreet:  "negotiated:permessage-deflate",
		wantFrames: []string{"> frame text fin=1 rsv1=1 len=", "< frame text fin=1 rsv1=1 len="},
	}, {
		name:      "permessage-deflate without context takeover",
		path:      "/no-takeover",
		args:      []string{"-compress"},
		wantGreet: "negotiated:permessage-deflate; server_no_context_takeover; client_no_context_takeover",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := "hello\n" + long + "\nsecond\n/ping abc\n/close 4000 bye\n"
			res := runWS(t, stdin, append(tt.args, "-v", "-commands", base+tt.path)...)
			if res.status != exitOK {
				t.Fatalf("exit status %d, want 0; stderr:\n%s", res.status, res.stderr)
			}
			if want := tt.wantGreet + "\nhello\n" + long + "\nsecond\n"; res.stdout != want {
				t.Errorf("stdout is\n%.300q\nwant\n%.300q", res.stdout, want)
			}
			wants := append([]string{
				"ws: pong after ",
				"< frame pong fin=1 rsv1=0 len=3 payload=616263",
				`> frame close fin=1 rsv1=0 len=5 code=4000 reason="bye"`,
				`< frame close fin=1 rsv1=0 len=5 code=4000 reason="bye"`,
			}, tt.wantFrames...)
			for _, want := range wants {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, res.stderr)
				}
			}
		})
	}
	// The server saw our Close code and reason.
	closed := 0
	deadline := time.After(runTimeout)
	for closed < len(tests) {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the node server ended; %d of %d connections closed with 4000 \"bye\"", closed, len(tests))
			}
			if strings.Contains(line, `closed with 4000 "bye" after 3 echoes`) {
				closed++
			}
		case <-deadline:
			t.Fatalf("%d of %d connections were seen closing with 4000 \"bye\" after 3 echoes", closed, len(tests))
		}
	}
}

package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/internal/hooktest"
	"github.com/rfc6455/websocket/server"
)

// nodeDir is where interop/run.sh installs Node's ws and playwright-core.
var nodeDir = filepath.Join("..", "..", "node")

// needNode skips the test unless Node and the packages of interop/node
// are installed (bash interop/run.sh, or npm install in interop/node), and
// in -short mode.
func needNode(t *testing.T, browser bool) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Node")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "ws")); err != nil {
		t.Skip("interop/node/node_modules is missing: run npm install in interop/node")
	}
	if browser {
		chromium := os.Getenv("CHROMIUM")
		if chromium == "" {
			chromium = "/usr/bin/chromium"
		}
		if _, err := os.Stat(chromium); err != nil {
			t.Skip("no Chromium at " + chromium)
		}
	}
}

// node runs hooks.js with args and returns the close code its WebSocket
// reported.
func node(t *testing.T, args ...string) conn.CloseCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{"hooks.js"}, args...)...)
	cmd.Dir = nodeDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node hooks.js %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var res struct{ Code conn.CloseCode }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node hooks.js printed %q: %v", out, err)
	}
	return res.Code
}

// TestHooksWithRealPeers checks the close codes that OnClose reports, and
// the counters, against connections that Node's ws and Chromium end.
func TestHooksWithRealPeers(t *testing.T) {
	tests := []struct {
		name     string
		browser  bool
		ending   string
		wantCode conn.CloseCode // at both ends
	}{
		{name: "ws closes with 4000", ending: "code", wantCode: 4000},
		{name: "ws closes with no code", ending: "nocode", wantCode: conn.CloseNoStatusReceived},
		{name: "ws cuts the connection", ending: "terminate", wantCode: conn.CloseAbnormalClosure},
		{name: "Chromium closes with 4000", browser: true, ending: "code", wantCode: 4000},
		{name: "Chromium closes with no code", browser: true, ending: "nocode", wantCode: conn.CloseNoStatusReceived},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			needNode(t, tt.browser)
			var log hooktest.Log
			mux := http.NewServeMux()
			mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<!doctype html><title>hooks</title>")) })
			mux.Handle("/ws", &server.Handler{
				Options: &server.Options{Compression: &conn.Compression{}, Conn: log.Options(nil)},
				Serve: func(c *conn.Conn, r *http.Request) {
					for {
						typ, msg, err := c.Read(r.Context(), nil)
						if err != nil {
							return
						}
						c.Write(r.Context(), typ, msg)
					}
				},
			})
			s := httptest.NewServer(mux)
			defer s.Close()
			mode := "client"
			if tt.browser {
				mode = "browser"
			}
			peerCode := node(t, mode, "ws"+strings.TrimPrefix(s.URL, "http")+"/ws", tt.ending)
			if tt.ending != "terminate" && peerCode != tt.wantCode {
				t.Errorf("the peer's WebSocket reported close code %v, want %v", peerCode, tt.wantCode)
			}
			st := log.Wait(t, "server", tt.wantCode, 30*time.Second)
			if st.MessagesRead != 2 || st.BytesRead != 2005 || st.MessagesWritten != 2 || st.BytesWritten != 2005 {
				t.Errorf("server Stats() = %+v, want 2 messages of 2005 bytes in all each way", st)
			}
			if st.CompressedWritten != 1 || st.WireBytesWritten >= 2005 {
				t.Errorf("server Stats() = %+v, want the 2000-byte echo compressed", st)
			}
			if !tt.browser && (st.CompressedRead != 1 || st.PingsReceived != 1 || st.WireBytesRead >= 2005) {
				t.Errorf("server Stats() = %+v, want ws's 2000-byte message compressed, and its ping", st)
			}
		})
	}
}

// TestClientHooksWithWS checks OnClose and the counters of our client
// against Node's ws server, which closes with 4001.
func TestClientHooksWithWS(t *testing.T) {
	needNode(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "hooks.js", "server")
	cmd.Dir = nodeDir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var port struct{ Port int }
	if err := json.NewDecoder(stdout).Decode(&port); err != nil {
		t.Fatalf("reading the ws server's port: %v", err)
	}
	var log hooktest.Log
	c, _, err := client.Dial(ctx, "ws://127.0.0.1:"+strconv.Itoa(port.Port)+"/", &client.Options{
		Compression: &conn.Compression{},
		Conn:        log.Options(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("compressible "), 300)
	if err := c.Write(ctx, conn.Text, msg); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx, nil); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %d bytes, %v", len(got), err)
	}
	var ce *conn.CloseError
	if _, _, err := c.Read(ctx, nil); !errors.As(err, &ce) || ce.Code != 4001 {
		t.Fatalf("Read after the echo = %v, want the server's close with 4001", err)
	}
	st := log.Wait(t, "client", 4001, 30*time.Second)
	want := int64(len(msg))
	if st.MessagesRead != 1 || st.BytesRead != want || st.MessagesWritten != 1 || st.BytesWritten != want ||
		st.CompressedRead != 1 || st.CompressedWritten != 1 || st.WireBytesRead >= want || st.WireBytesWritten >= want {
		t.Errorf("client Stats() = %+v, want one compressed message of %d bytes each way", st, want)
	}
}

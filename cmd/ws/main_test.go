package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/server"
)

// wsBin is the ws binary TestMain builds.
var wsBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ws-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wsBin = filepath.Join(dir, "ws")
	build := []string{"build", "-o", wsBin}
	if raceEnabled {
		build = append(build, "-race")
	}
	if out, err := exec.Command("go", append(build, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building ws: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runTimeout bounds every run of the binary.
const runTimeout = 30 * time.Second

// A result is how a run of ws ended.
type result struct {
	stdout, stderr string
	status         int
}

// runWS runs ws with args and stdin (a pipe that ends after it) and
// returns its output and exit status.
func runWS(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runWSEnv(t, nil, stdin, args...)
}

// runWSEnv is runWS with env added to the environment, from which it
// removes the proxy variables first.
func runWSEnv(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, wsBin, args...)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(strings.ToUpper(name), "_PROXY") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ws %q did not end within %v; stderr:\n%s", args, runTimeout, stderr.String())
	}
	var ee *exec.ExitError
	status := 0
	switch {
	case errors.As(err, &ee):
		status = ee.ExitCode()
	case err != nil:
		t.Fatalf("ws %q: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), status}
}

// startWS starts ws with args and stdin left open, and returns the
// command and its stderr, read line by line.
func startWS(t *testing.T, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(wsBin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(runTimeout, func() { cmd.Process.Kill() })
	t.Cleanup(func() {
		timer.Stop()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, stdin, bufio.NewScanner(stderr)
}

// waitStatus waits for cmd to exit and returns its status; stderr is
// drained meanwhile.
func waitStatus(t *testing.T, cmd *exec.Cmd, stderr *bufio.Scanner) (int, string) {
	t.Helper()
	var rest strings.Builder
	for stderr.Scan() {
		rest.WriteString(stderr.Text() + "\n")
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), rest.String()
	case err != nil:
		t.Fatalf("ws: %v", err)
	}
	return 0, rest.String()
}

// startServer serves WebSockets with serve on a loopback port and returns
// the ws:// URL.
func startServer(t *testing.T, opts *server.Options, serve func(*conn.Conn, *http.Request)) string {
	t.Helper()
	h := &server.Handler{Options: opts, Serve: serve}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { shutdown(h, srv) })
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func shutdown(h *server.Handler, srv *httptest.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.Shutdown(ctx)
	srv.Close()
}

// echoServe echoes every message, and sends the error that ended the
// connection to ended, if not nil.
func echoServe(ended chan<- error) func(*conn.Conn, *http.Request) {
	return func(c *conn.Conn, r *http.Request) {
		for {
			typ, msg, err := c.Read(r.Context(), nil)
			if err == nil {
				err = c.Write(r.Context(), typ, msg)
			}
			if err != nil {
				if ended != nil {
					ended <- err
				}
				return
			}
		}
	}
}

// closeCode returns the code of the *conn.CloseError in err, or 0.
func closeCode(err error) conn.CloseCode {
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(runTimeout):
		t.Fatal("the server saw nothing")
	}
	panic("unreachable")
}

func TestPipeEcho(t *testing.T) {
	t.Parallel()
	many := strings.Repeat("line\n", 500)
	long := strings.Repeat("0123456789", 20000)
	tests := []struct {
		name       string
		stdin      string
		wantStdout string
		wantStderr string
	}{{
		name:       "lines",
		stdin:      "hello\nworld\n",
		wantStdout: "hello\nworld\n",
	}, {
		name:       "CRLF and no final newline",
		stdin:      "a\r\nb",
		wantStdout: "a\nb\n",
	}, {
		name:       "empty lines are empty messages",
		stdin:      "\n\nx\n",
		wantStdout: "\n\nx\n",
	}, {
		name:       "500 lines all echoed before the close",
		stdin:      many,
		wantStdout: many,
	}, {
		name:       "a 200 KB line",
		stdin:      long + "\n",
		wantStdout: long + "\n",
	}, {
		name:       "invalid UTF-8 is not sent",
		stdin:      "ok\n\xff\xfe\nok2\n",
		wantStdout: "ok\nok2\n",
		wantStderr: "line 2 is not valid UTF-8",
	}, {
		name:       "slash lines are messages without -commands",
		stdin:      "/close 4000\n/ping\n",
		wantStdout: "/close 4000\n/ping\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ended := make(chan error, 1)
			url := startServer(t, nil, echoServe(ended))
			res := runWS(t, tt.stdin, url)
			if res.status != exitOK {
				t.Fatalf("exit status %d, want 0; stderr:\n%s", res.status, res.stderr)
			}
			if diff := cmp.Diff(tt.wantStdout, res.stdout); diff != "" {
				t.Errorf("stdout mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", res.stderr, tt.wantStderr)
			}
			if code := closeCode(receive(t, ended)); code != conn.CloseNormalClosure {
				t.Errorf("the server saw close code %d, want 1000", code)
			}
		})
	}
}

func TestPrintMessages(t *testing.T) {
	t.Parallel()
	serve := func(c *conn.Conn, r *http.Request) {
		ctx := r.Context()
		c.Write(ctx, conn.Text, []byte("héllo wörld"))
		c.Write(ctx, conn.Binary, []byte{0, 1, 0xfe, 0xff})
		c.Write(ctx, conn.Binary, nil)
		c.Write(ctx, conn.Text, []byte("two\nlines"))
		c.Close(conn.CloseNormalClosure, "")
	}
	tests := []struct {
		name string
		args []string
		want string
	}{{
		name: "binary as hex by default",
		want: "héllo wörld\n0001feff\n\ntwo\nlines\n",
	}, {
		name: "binary as hex",
		args: []string{"-binary=hex"},
		want: "héllo wörld\n0001feff\n\ntwo\nlines\n",
	}, {
		name: "binary as base64",
		args: []string{"-binary", "base64"},
		want: "héllo wörld\nAAH+/w==\n\ntwo\nlines\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := startServer(t, nil, serve)
			// -wait -1: stdin is empty; read until the server closes.
			res := runWS(t, "", append(tt.args, "-wait=-1", url)...)
			if res.status != exitOK {
				t.Fatalf("exit status %d, want 0; stderr:\n%s", res.status, res.stderr)
			}
			if diff := cmp.Diff(tt.want, res.stdout); diff != "" {
				t.Errorf("stdout mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestFields(t *testing.T) {
	t.Parallel()
	type seen struct {
		Token, Auth, Origin, Host string
		Offered                   []string
		Chosen                    string
	}
	tests := []struct {
		name string
		args []string
		want seen
	}{{
		name: "nothing asked",
		want: seen{},
	}, {
		name: "headers, subprotocols and origin",
		args: []string{"-H", "X-Token: abc", "-H", "authorization:Bearer t", "-s", "a", "-s", "c", "-origin", "https://app.example.com"},
		want: seen{Token: "abc", Auth: "Bearer t", Origin: "https://app.example.com", Offered: []string{"a", "c"}, Chosen: "c"},
	}, {
		name: "Host header",
		args: []string{"-H", "Host: other.example:99", "-s", "b"},
		want: seen{Host: "other.example:99", Offered: []string{"b"}, Chosen: "b"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan seen, 1)
			opts := &server.Options{Subprotocols: []string{"b", "c"}, OriginPatterns: []string{"*.example.com"}}
			url := startServer(t, opts, func(c *conn.Conn, r *http.Request) {
				s := seen{
					Token:   r.Header.Get("X-Token"),
					Auth:    r.Header.Get("Authorization"),
					Origin:  r.Header.Get("Origin"),
					Offered: handshakeList(r.Header.Values("Sec-WebSocket-Protocol")),
					Chosen:  c.Subprotocol(),
				}
				if !strings.HasPrefix(r.Host, "127.0.0.1:") {
					s.Host = r.Host
				}
				got <- s
				c.Write(r.Context(), conn.Text, []byte("protocol:"+c.Subprotocol()))
				c.Close(conn.CloseNormalClosure, "")
			})
			res := runWS(t, "", append(tt.args, "-wait=-1", url)...)
			if res.status != exitOK {
				t.Fatalf("exit status %d, want 0; stderr:\n%s", res.status, res.stderr)
			}
			if diff := cmp.Diff(tt.want, receive(t, got)); diff != "" {
				t.Errorf("the server saw (-want +got):\n%s", diff)
			}
			if want := "protocol:" + tt.want.Chosen + "\n"; res.stdout != want {
				t.Errorf("stdout %q, want %q", res.stdout, want)
			}
		})
	}
}

// handshakeList splits comma-separated header values.
func handshakeList(values []string) []string {
	var list []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			list = append(list, strings.TrimSpace(s))
		}
	}
	return list
}

func TestCompress(t *testing.T) {
	t.Parallel()
	line := strings.Repeat("compress me please ", 100)
	tests := []struct {
		name       string
		args       []string
		wantExt    string
		wantFrames []string
	}{{
		name:       "not offered",
		wantFrames: []string{"> frame text fin=1 rsv1=0 len=1900", "< frame text fin=1 rsv1=0 len=1900"},
	}, {
		name:       "offered and agreed",
		args:       []string{"-compress"},
		wantExt:    "permessage-deflate",
		wantFrames: []string{"> frame text fin=1 rsv1=1 len=", "< frame text fin=1 rsv1=1 len="},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ext := make(chan string, 1)
			opts := &server.Options{Compression: &conn.Compression{}}
			url := startServer(t, opts, func(c *conn.Conn, r *http.Request) {
				ext <- c.Extensions()
				echoServe(nil)(c, r)
			})
			res := runWS(t, line+"\n", append(tt.args, "-v", url)...)
			if res.status != exitOK {
				t.Fatalf("exit status %d, want 0; stderr:\n%s", res.status, res.stderr)
			}
			if got := receive(t, ext); got != tt.wantExt {
				t.Errorf("the server agreed to %q, want %q", got, tt.wantExt)
			}
			if res.stdout != line+"\n" {
				t.Errorf("the echo differs: %d bytes, want %d", len(res.stdout), len(line)+1)
			}
			for _, want := range append(tt.wantFrames, fmt.Sprintf("ws: connected to %s (subprotocol \"\", extensions %q)", url, tt.wantExt)) {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, res.stderr)
				}
			}
		})
	}
}

func TestVerbose(t *testing.T) {
	t.Parallel()
	url := startServer(t, nil, func(c *conn.Conn, r *http.Request) {
		ctx := r.Context()
		typ, msg, err := c.Read(ctx, nil)
		if err != nil {
			return
		}
		c.Write(ctx, typ, msg)
		// A message in fragments: the Writer cuts frames of 4096 bytes.
		w, err := c.Writer(ctx, conn.Binary)
		if err != nil {
			return
		}
		w.Write(make([]byte, 5000))
		w.Close()
		c.Close(4001, "done")
	})
	res := runWS(t, "hello\n", "-v", "-wait=-1", url+"/path?q=1")
	if res.status != exitPeerClose {
		t.Fatalf("exit status %d, want %d; stderr:\n%s", res.status, exitPeerClose, res.stderr)
	}
	for _, want := range []string{
		"> GET /path?q=1 HTTP/1.1",
		"> Sec-WebSocket-Version: 13",
		"> Sec-WebSocket-Key: ",
		"< HTTP/1.1 101 Switching Protocols",
		"< Sec-WebSocket-Accept: ",
		"> frame text fin=1 rsv1=0 len=5\n",
		"< frame text fin=1 rsv1=0 len=5\n",
		"< frame binary fin=0 rsv1=0 len=4096\n",
		"< frame continuation fin=1 rsv1=0 len=904\n",
		"< frame close fin=1 rsv1=0 len=6 code=4001 reason=\"done\"\n",
		"> frame close fin=1 rsv1=0 len=6 code=4001 reason=\"done\"\n",
		"ws: the server closed with 4001",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, res.stderr)
		}
	}
	// The order: handshake, then frames, the server's close before ours.
	order := regexp.MustCompile(`(?s)> GET .*< HTTP/1.1 101.*> frame text.*< frame text.*< frame close.*> frame close`)
	if !order.MatchString(res.stderr) {
		t.Errorf("stderr is not in the order of the wire:\n%s", res.stderr)
	}
}

// rawServer accepts one connection on a loopback port, answers its
// opening handshake with 101 and hands it to serve. It returns the URL.
func rawServer(t *testing.T, serve func(nc net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(runTimeout))
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key")))
		serve(nc, br)
	}()
	return "ws://" + ln.Addr().String() + "/"
}

func TestExitStatus(t *testing.T) {
	t.Parallel()
	closeWith := func(code conn.CloseCode) func(*conn.Conn, *http.Request) {
		return func(c *conn.Conn, r *http.Request) { c.Close(code, "bye") }
	}
	httpServer := func(t *testing.T, status int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, "no WebSocket here")
		}))
		t.Cleanup(srv.Close)
		return "ws" + strings.TrimPrefix(srv.URL, "http")
	}
	tests := []struct {
		name       string
		url        func(t *testing.T) string
		args       []string // before the URL
		stdin      string
		want       int
		wantStderr string
	}{{
		name: "stdin ends, clean close",
		url:  func(t *testing.T) string { return startServer(t, nil, echoServe(nil)) },
		want: exitOK,
	}, {
		name:  "server closes with 1000",
		url:   func(t *testing.T) string { return startServer(t, nil, closeWith(conn.CloseNormalClosure)) },
		args:  []string{"-wait=-1"},
		stdin: "",
		want:  exitOK,
	}, {
		name:       "server closes with 1001",
		url:        func(t *testing.T) string { return startServer(t, nil, closeWith(conn.CloseGoingAway)) },
		args:       []string{"-wait=-1"},
		want:       exitPeerClose,
		wantStderr: `the server closed with going away (1001), reason "bye"`,
	}, {
		name:       "server closes with 4001",
		url:        func(t *testing.T) string { return startServer(t, nil, closeWith(4001)) },
		args:       []string{"-wait=-1"},
		want:       exitPeerClose,
		wantStderr: `the server closed with 4001, reason "bye"`,
	}, {
		name: "server drops the TCP connection",
		url: func(t *testing.T) string {
			return startServer(t, nil, func(c *conn.Conn, _ *http.Request) { c.CloseNow() })
		},
		args:       []string{"-wait=-1"},
		want:       exitAbnormal,
		wantStderr: "without a closing handshake",
	}, {
		name: "server drops the connection instead of answering our Close",
		url: func(t *testing.T) string {
			return rawServer(t, func(nc net.Conn, br *bufio.Reader) { br.ReadByte() })
		},
		want:       exitAbnormal,
		wantStderr: "without a closing handshake",
	}, {
		name: "server never answers our Close",
		url: func(t *testing.T) string {
			// Reads until ws ends the connection, after Conn.Close gives up.
			return rawServer(t, func(nc net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
		},
		want:       exitAbnormal,
		wantStderr: "no Close frame came back",
	}, {
		name: "server breaks the protocol",
		url: func(t *testing.T) string {
			return rawServer(t, func(nc net.Conn, br *bufio.Reader) {
				nc.Write([]byte{0x83, 0x00}) // reserved opcode 3
				br.ReadByte()                // ws's Close frame (1002); then the TCP connection ends
			})
		},
		args:       []string{"-wait=-1"},
		want:       exitAbnormal,
		wantStderr: "the connection failed: websocket: ",
	}, {
		name:       "handshake refused with 403",
		url:        func(t *testing.T) string { return httpServer(t, http.StatusForbidden) },
		want:       exitHandshake,
		wantStderr: "< HTTP/1.1 403 Forbidden",
	}, {
		name:       "handshake refused, with -v",
		url:        func(t *testing.T) string { return httpServer(t, http.StatusForbidden) },
		args:       []string{"-v"},
		want:       exitHandshake,
		wantStderr: "< HTTP/1.1 403 Forbidden\n< Date: ",
	}, {
		name:       "not a WebSocket server",
		url:        func(t *testing.T) string { return httpServer(t, http.StatusOK) },
		want:       exitHandshake,
		wantStderr: "no WebSocket here",
	}, {
		name: "connection refused",
		url: func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln.Close()
			return "ws://" + ln.Addr().String() + "/"
		},
		want:       exitHandshake,
		wantStderr: "refused",
	}, {
		name:       "no URL",
		url:        func(*testing.T) string { return "" },
		want:       exitUsage,
		wantStderr: "no URL given",
	}, {
		name:       "http URL",
		url:        func(*testing.T) string { return "http://127.0.0.1:1/" },
		want:       exitUsage,
		wantStderr: "the scheme must be ws or wss",
	}, {
		name:       "unknown flag",
		url:        func(*testing.T) string { return "ws://127.0.0.1:1/" },
		args:       []string{"-nope"},
		want:       exitUsage,
		wantStderr: "flag provided but not defined: -nope",
	}, {
		name:       "malformed header",
		url:        func(*testing.T) string { return "ws://127.0.0.1:1/" },
		args:       []string{"-H", "no colon"},
		want:       exitUsage,
		wantStderr: "want 'Name: value'",
	}, {
		name:       "a handshake header",
		url:        func(*testing.T) string { return "ws://127.0.0.1:1/" },
		args:       []string{"-H", "Sec-WebSocket-Key: x"},
		want:       exitUsage,
		wantStderr: "ws sets Sec-WebSocket-Key itself",
	}, {
		name:       "unknown binary format",
		url:        func(*testing.T) string { return "ws://127.0.0.1:1/" },
		args:       []string{"-binary=octal"},
		want:       exitUsage,
		wantStderr: "want hex or base64",
	}, {
		name:       "two URLs",
		url:        func(*testing.T) string { return "ws://127.0.0.1:1/ ws://127.0.0.1:2/" },
		want:       exitUsage,
		wantStderr: "unexpected argument",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string(nil), tt.args...)
			args = append(args, strings.Fields(tt.url(t))...)
			res := runWS(t, tt.stdin, args...)
			if res.status != tt.want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", res.status, tt.want, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, res.stderr)
			}
		})
	}
}

// readClose reads the frames a client sends on br until its Close frame,
// and returns the code and reason of that frame.
func readClose(br *bufio.Reader) (conn.CloseCode, string, error) {
	var d frame.Decoder // at a server: masked frames
	var payload []byte
	buf := make([]byte, 4096)
	var b []byte
	for {
		ev, chunk, n, err := d.Next(b)
		if err != nil {
			return 0, "", err
		}
		b = b[n:]
		switch ev {
		case frame.EventHeader:
			payload = payload[:0]
		case frame.EventPayload:
			payload = append(payload, chunk...)
		case frame.EventEnd:
			if d.Header().Opcode == frame.OpClose {
				return frame.ParseClose(payload)
			}
		case frame.EventNeedMore:
			m, err := br.Read(buf)
			if err != nil {
				return 0, "", err
			}
			b = buf[:m]
		}
	}
}

// TestMessagesAfterClose checks that ws prints the messages the server
// sends after ws's Close frame and before its answer (RFC 6455, Section
// 7.1.2 lets it), all of them, in order, which Conn.Close keeps when
// ws's reader is between two reads.
func TestMessagesAfterClose(t *testing.T) {
	t.Parallel()
	const n = 200
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "late %d\n", i)
	}
	closed := make(chan string, 1)
	url := rawServer(t, func(nc net.Conn, br *bufio.Reader) {
		code, reason, err := readClose(br)
		closed <- fmt.Sprintf("%d %q %v", code, reason, err)
		if err != nil {
			return
		}
		var out []byte
		for i := range n {
			msg := fmt.Sprintf("late %d", i)
			out = frame.AppendHeader(out, frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(msg))})
			out = append(out, msg...)
		}
		answer := frame.AppendClose(nil, code, reason)
		out = frame.AppendHeader(out, frame.Header{Fin: true, Opcode: frame.OpClose, Length: int64(len(answer))})
		nc.Write(append(out, answer...))
		io.Copy(io.Discard, br) // until ws ends the connection
	})
	res := runWS(t, "", url)
	if res.status != exitOK {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", res.status, res.stderr)
	}
	if diff := cmp.Diff(want.String(), res.stdout); diff != "" {
		t.Errorf("stdout mismatch (-want +got):\n%s", diff)
	}
	if got := receive(t, closed); got != `1000 "" <nil>` {
		t.Errorf("the server saw a Close frame %s, want 1000 \"\" <nil>", got)
	}
}

// A record is what a server saw of a connection.
type record struct {
	Messages []string // "text:…" or "binary:hex"
	Code     conn.CloseCode
	Reason   string
}

// recordServe records the messages of a connection and how it ended.
func recordServe(got chan<- record) func(*conn.Conn, *http.Request) {
	return func(c *conn.Conn, r *http.Request) {
		var rec record
		for {
			typ, msg, err := c.Read(r.Context(), nil)
			if err != nil {
				var ce *conn.CloseError
				if errors.As(err, &ce) {
					rec.Code, rec.Reason = ce.Code, ce.Reason
				}
				got <- rec
				return
			}
			if typ == conn.Text {
				rec.Messages = append(rec.Messages, "text:"+string(msg))
			} else {
				rec.Messages = append(rec.Messages, fmt.Sprintf("binary:%x", msg))
			}
		}
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	input := "/ping hello\n/binary 01 02 ff\n//slash\n/nope\n/binary zz\n/close 99\n/close 4000 bye now\nnot sent\n"
	tests := []struct {
		name       string
		args       []string
		want       record
		wantStderr []string
	}{{
		name: "with -commands",
		args: []string{"-commands", "-v"},
		want: record{Messages: []string{"binary:0102ff", "text:/slash"}, Code: 4000, Reason: "bye now"},
		wantStderr: []string{
			"> frame ping fin=1 rsv1=0 len=5 payload=68656c6c6f",
			"< frame pong fin=1 rsv1=0 len=5 payload=68656c6c6f",
			"ws: pong after ",
			"unknown command /nope",
			"/binary: encoding/hex: invalid byte",
			`/close: "99" is not a close code that may be sent`,
			`> frame close fin=1 rsv1=0 len=9 code=4000 reason="bye now"`,
		},
	}, {
		name: "-commands=false",
		args: []string{"-commands=false"},
		want: record{Messages: strings.Split("text:"+strings.ReplaceAll(strings.TrimSuffix(input, "\n"), "\n", "\ntext:"), "\n"), Code: conn.CloseNormalClosure},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan record, 1)
			url := startServer(t, nil, recordServe(got))
			res := runWS(t, input, append(tt.args, url)...)
			if res.status != exitOK {
				t.Fatalf("exit status %d, want 0; stderr:\n%s", res.status, res.stderr)
			}
			if diff := cmp.Diff(tt.want, receive(t, got)); diff != "" {
				t.Errorf("the server saw (-want +got):\n%s", diff)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, res.stderr)
				}
			}
		})
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		wait      string
		serverEnd bool // the server closes, after a pause that shows ws kept the connection open
		want      string
	}{{
		name:      "until the server closes",
		wait:      "-wait=-1",
		serverEnd: true,
		want:      "x\nlate\n",
	}, {
		name: "for a while, then close",
		wait: "-wait=300ms",
		want: "x\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			early := make(chan bool, 1)
			url := startServer(t, nil, func(c *conn.Conn, r *http.Request) {
				ctx := r.Context()
				typ, msg, err := c.Read(ctx, nil)
				if err != nil {
					return
				}
				c.Write(ctx, typ, msg)
				if !tt.serverEnd {
					c.Read(ctx, nil) // until ws closes
					return
				}
				// ws must not close while it waits.
				wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				_, _, err = c.Read(wctx, nil)
				cancel()
				early <- !errors.Is(err, context.DeadlineExceeded)
				c.Write(ctx, conn.Text, []byte("late"))
				c.Close(conn.CloseNormalClosure, "")
			})
			res := runWS(t, "x\n", tt.wait, url)
			if res.status != exitOK {
				t.Fatalf("exit status %d, want 0; stderr:\n%s", res.status, res.stderr)
			}
			if res.stdout != tt.want {
				t.Errorf("stdout %q, want %q", res.stdout, tt.want)
			}
			if tt.serverEnd && receive(t, early) {
				t.Error("ws closed before the server did")
			}
		})
	}
}

func TestSignal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sig  os.Signal
		want int
	}{{
		name: "SIGINT",
		sig:  os.Interrupt,
		want: 130,
	}, {
		name: "SIGTERM",
		sig:  syscall.SIGTERM,
		want: 143,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan record, 1)
			url := startServer(t, nil, recordServe(got))
			cmd, stdin, stderr := startWS(t, "-v", url)
			defer stdin.Close()
			for stderr.Scan() && !strings.HasPrefix(stderr.Text(), "ws: connected") {
			}
			cmd.Process.Signal(tt.sig)
			status, _ := waitStatus(t, cmd, stderr)
			if status != tt.want {
				t.Errorf("exit status %d, want %d", status, tt.want)
			}
			if rec := receive(t, got); rec.Code != conn.CloseGoingAway {
				t.Errorf("the server saw close code %d, want 1001", rec.Code)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStdout string
		wantStderr string
		wantFrames bool
	}{{
		name:       "-insecure",
		args:       []string{"-insecure", "-v"},
		want:       exitOK,
		wantStdout: "secret\n",
		// ws makes the TLS session itself: -v sees the frames inside.
		wantStderr: "< HTTP/1.1 101 Switching Protocols",
		wantFrames: true,
	}, {
		name:       "verified",
		want:       exitHandshake,
		wantStderr: "certificate",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &server.Handler{Serve: echoServe(nil)}
			srv := httptest.NewUnstartedServer(h)
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused certificate
			srv.StartTLS()
			t.Cleanup(func() { shutdown(h, srv) })
			url := "wss" + strings.TrimPrefix(srv.URL, "https")
			res := runWS(t, "secret\n", append(tt.args, url)...)
			if res.status != tt.want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", res.status, tt.want, res.stderr)
			}
			if res.stdout != tt.wantStdout {
				t.Errorf("stdout %q, want %q", res.stdout, tt.wantStdout)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, res.stderr)
			}
			if tt.wantFrames {
				for _, want := range []string{"> frame text fin=1 rsv1=0 len=6\n", "> frame close fin=1 rsv1=0 len=2 code=1000", "< frame close fin=1 rsv1=0 len=2 code=1000"} {
					if !strings.Contains(res.stderr, want) {
						t.Errorf("stderr does not contain %q:\n%s", want, res.stderr)
					}
				}
			}
		})
	}
}

// startListen starts ws listen with args and returns its URL, and a
// scanner of what it prints after the listening line.
func startListen(t *testing.T, args ...string) (*exec.Cmd, string, *bufio.Scanner) {
	t.Helper()
	cmd, stdin, stderr := startWS(t, append([]string{"listen"}, args...)...)
	stdin.Close()
	re := regexp.MustCompile(`^ws: listening on (ws://\S+)`)
	for stderr.Scan() {
		if m := re.FindStringSubmatch(stderr.Text()); m != nil {
			return cmd, m[1], stderr
		}
	}
	t.Fatal("ws listen printed no listening line")
	return nil, "", nil
}

func dialT(t *testing.T, url string) *conn.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	c, _, err := client.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readT(t *testing.T, c *conn.Conn) (conn.MessageType, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	typ, msg, err := c.Read(ctx, nil)
	return typ, string(msg), err
}

func TestListenEcho(t *testing.T) {
	t.Parallel()
	cmd, url, stderr := startListen(t, "-echo", "-v", "127.0.0.1:0")
	c := dialT(t, url+"chat")
	ctx := context.Background()
	msgs := []struct {
		typ  conn.MessageType
		data string
	}{{conn.Text, "hello"}, {conn.Binary, "\x00\x01\xff"}, {conn.Text, ""}}
	for _, m := range msgs {
		if err := c.Write(ctx, m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := readT(t, c)
		if err != nil || typ != m.typ || got != m.data {
			t.Fatalf("echo of %v %q = %v %q, %v", m.typ, m.data, typ, got, err)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if _, _, err := readT(t, c); closeCode(err) != conn.CloseGoingAway {
		t.Errorf("after SIGTERM the client read %v, want close code 1001", err)
	}
	status, out := waitStatus(t, cmd, stderr)
	if status != exitOK {
		t.Errorf("exit status %d, want 0", status)
	}
	for _, want := range []string{"connect 127.0.0.1:", " /chat ", "message 127.0.0.1:", " text 5: hello", " binary 3: 0001ff", "disconnect 127.0.0.1:", "shutting down"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, out)
		}
	}
}

func TestListenBroadcast(t *testing.T) {
	t.Parallel()
	cmd, url, stderr := startListen(t, "-broadcast", "-v", "127.0.0.1:0")
	const n = 3
	var cs []*conn.Conn
	for i := 0; i < n; i++ {
		cs = append(cs, dialT(t, url))
		// A client counts once the server has printed its connect line.
		for stderr.Scan() && !strings.HasPrefix(stderr.Text(), "connect ") {
		}
	}
	for i, from := range cs {
		want := fmt.Sprintf("from %d", i)
		if err := from.Write(context.Background(), conn.Text, []byte(want)); err != nil {
			t.Fatal(err)
		}
		for j, c := range cs {
			if typ, got, err := readT(t, c); err != nil || typ != conn.Text || got != want {
				t.Errorf("client %d read %v %q, %v; want text %q", j, typ, got, err, want)
			}
		}
	}
	cmd.Process.Signal(os.Interrupt)
	for j, c := range cs {
		if _, _, err := readT(t, c); closeCode(err) != conn.CloseGoingAway {
			t.Errorf("client %d read %v after SIGINT, want close code 1001", j, err)
		}
	}
	if status, out := waitStatus(t, cmd, stderr); status != exitOK {
		t.Errorf("exit status %d, want 0; stderr:\n%s", status, out)
	}
}

func TestListenUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStderr string
	}{{
		name:       "no ADDR",
		args:       []string{"listen"},
		want:       exitUsage,
		wantStderr: "no ADDR given",
	}, {
		name:       "both modes",
		args:       []string{"listen", "-echo", "-broadcast", "127.0.0.1:0"},
		want:       exitUsage,
		wantStderr: "exclude each other",
	}, {
		name:       "malformed ADDR",
		args:       []string{"listen", "8080"},
		want:       exitUsage,
		wantStderr: "missing port",
	}, {
		name:       "cannot listen",
		args:       []string{"listen", "192.0.2.1:0"},
		want:       exitError,
		wantStderr: "assign requested address",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runWS(t, "", tt.args...)
			if res.status != tt.want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", res.status, tt.want, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, res.stderr)
			}
		})
	}
}

// connectProxy starts an HTTP proxy that serves CONNECT only and takes
// every tunnel to target, whatever host was asked for, so that a URL with
// a host name nobody resolves works only through it. It returns the
// proxy's URL and the hosts asked for.
func connectProxy(t *testing.T, target string) (string, <-chan string) {
	t.Helper()
	hosts := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		hosts <- r.Host
		dst, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer dst.Close()
		nc, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer nc.Close()
		io.WriteString(nc, "HTTP/1.1 200 Connection established\r\n\r\n")
		done := make(chan struct{})
		go func() {
			io.Copy(dst, brw)
			dst.(*net.TCPConn).CloseWrite()
			close(done)
		}()
		io.Copy(nc, dst)
		nc.Close()
		<-done
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hosts
}

func TestProxyFromEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tls        bool
		env        string // the variable that names the proxy
		args       []string
		wantStderr []string
	}{{
		name: "ws:// through HTTP_PROXY",
		env:  "HTTP_PROXY",
		args: []string{"-v"},
		wantStderr: []string{
			"> CONNECT ws.test:",
			"< HTTP/1.1 200 Connection established",
			"> GET / HTTP/1.1\n> Host: ws.test:",
			"> frame text fin=1 rsv1=0 len=5",
			"< frame close fin=1 rsv1=0 len=2 code=1000",
		},
	}, {
		name: "wss:// through HTTPS_PROXY",
		tls:  true,
		env:  "HTTPS_PROXY",
		args: []string{"-v", "-insecure"},
		wantStderr: []string{
			"> CONNECT ws.test:",
			"< HTTP/1.1 200 Connection established",
			// ws makes the TLS session inside the tunnel itself.
			"> GET / HTTP/1.1\n> Host: ws.test:",
			"< HTTP/1.1 101 Switching Protocols",
			"> frame text fin=1 rsv1=0 len=5",
			"< frame close fin=1 rsv1=0 len=2 code=1000",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &server.Handler{Serve: echoServe(nil)}
			srv := httptest.NewUnstartedServer(h)
			scheme := "ws"
			if tt.tls {
				srv.StartTLS()
				scheme = "wss"
			} else {
				srv.Start()
			}
			t.Cleanup(func() { shutdown(h, srv) })
			addr := srv.Listener.Addr().(*net.TCPAddr)
			proxy, hosts := connectProxy(t, addr.String())
			url := fmt.Sprintf("%s://ws.test:%d/", scheme, addr.Port)
			res := runWSEnv(t, []string{tt.env + "=" + proxy}, "hello\n", append(tt.args, url)...)
			if res.status != exitOK {
				t.Fatalf("exit status %d, want 0; stderr:\n%s", res.status, res.stderr)
			}
			if res.stdout != "hello\n" {
				t.Errorf("stdout %q, want %q", res.stdout, "hello\n")
			}
			if got, want := receive(t, hosts), fmt.Sprintf("ws.test:%d", addr.Port); got != want {
				t.Errorf("the proxy was asked for %q, want %q", got, want)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, res.stderr)
				}
			}
		})
	}
}

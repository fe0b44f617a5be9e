package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// hostileServer accepts one connection at a time, reads the request head
// and answers with serve, until the test ends.
func hostileServer(t *testing.T, serve func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				serve(nc)
			}()
		}
	}()
	return ln.Addr().String()
}

// endless writes head and then repeats unit until the peer goes away.
func endless(head, unit string) func(nc net.Conn) {
	return func(nc net.Conn) {
		nc.SetWriteDeadline(time.Now().Add(time.Minute))
		if _, err := io.WriteString(nc, head); err != nil {
			return
		}
		chunk := []byte(strings.Repeat(unit, max(1, 16<<10/len(unit))))
		for {
			if _, err := nc.Write(chunk); err != nil {
				return
			}
		}
	}
}

// allocatedDuring returns the bytes the process allocated while f ran.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDialBoundsResponseHead checks that a server (or a proxy) that sends
// a response head without end makes Dial fail once MaxHeaderBytes have
// arrived, with an error that says so, having allocated little.
func TestDialBoundsResponseHead(t *testing.T) {
	tests := []struct {
		name  string
		serve func(nc net.Conn)
	}{
		{"one endless field", endless("HTTP/1.1 101 Switching Protocols\r\nX-Endless: ", "a")},
		{"endless short fields", endless("HTTP/1.1 101 Switching Protocols\r\n", "X-A: b\r\n")},
		{"endless status line", endless("HTTP/1.1 101 ", "Switching")},
	}
	for _, tt := range tests {
		for _, viaProxy := range []bool{false, true} {
			name := tt.name
			if viaProxy {
				name += " from a proxy"
			}
			t.Run(name, func(t *testing.T) {
				addr := hostileServer(t, tt.serve)
				opts := &Options{MaxHeaderBytes: 64 << 10, HandshakeTimeout: time.Minute, Proxy: noProxy}
				target := "ws://" + addr + "/"
				if viaProxy {
					// The hostile server is the proxy; the target is never reached.
					pu, _ := url.Parse("http://" + addr)
					opts.Proxy = http.ProxyURL(pu)
					target = "ws://unreachable.example/"
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				var err error
				allocated := allocatedDuring(func() { _, _, err = Dial(ctx, target, opts) })
				if err == nil || !strings.Contains(err.Error(), "MaxHeaderBytes") || errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Dial = %v, want an error naming MaxHeaderBytes", err)
				}
				if allocated > 4<<20 {
					t.Errorf("Dial allocated %d bytes for a 64 KiB limit", allocated)
				}
			})
		}
	}
}

// TestDialRefusalWithEndlessBody checks that a refusal whose body never
// ends (an event stream at the URL, say) gives a *HandshakeError at once,
// with at most 1 KiB of the body, not a timeout.
func TestDialRefusalWithEndlessBody(t *testing.T) {
	for _, body := range []string{"data: tick\n\n", ""} {
		addr := hostileServer(t, func(nc net.Conn) {
			head := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
			if body == "" {
				// A body that never comes, nor ends.
				io.WriteString(nc, head)
				io.Copy(io.Discard, nc)
				return
			}
			endless(head, body)(nc)
		})
		start := time.Now()
		_, resp, err := Dial(context.Background(), "ws://"+addr+"/events", &Options{HandshakeTimeout: time.Minute, Proxy: noProxy})
		var he *HandshakeError
		if !errors.As(err, &he) || resp == nil || resp.StatusCode != 200 {
			t.Fatalf("Dial = %v, %v; want a *HandshakeError with the 200 response", resp, err)
		}
		got, _ := io.ReadAll(he.Response.Body)
		if len(got) > 1024 || (body != "" && !bytes.HasPrefix(got, []byte(body))) {
			t.Errorf("body of %d bytes: %.40q", len(got), got)
		}
		if waited := time.Since(start); waited > 30*time.Second {
			t.Errorf("Dial took %v", waited)
		}
	}
}

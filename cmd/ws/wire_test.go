package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/mask"
)

// recorder is a net.Conn that keeps what is written to it.
type recorder struct {
	net.Conn // nil: only Write is called
	buf      bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) { return r.buf.Write(p) }

// clientFrame returns a masked frame as a client sends it.
func clientFrame(op frame.Opcode, payload []byte) []byte {
	key := mask.NewKey()
	p := append([]byte(nil), payload...)
	key.Apply(p, 0)
	return append(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: op, Masked: true, Key: key, Length: int64(len(p))}), p...)
}

// decodeFrames describes the frames a client sent, in b.
func decodeFrames(t *testing.T, b []byte) []string {
	t.Helper()
	var got []string
	var d frame.Decoder // at a server: masked frames
	var payload []byte
	inFrame := false
	for {
		ev, chunk, n, err := d.Next(b)
		if err != nil {
			t.Fatalf("the wire carries a bad frame: %v", err)
		}
		b = b[n:]
		switch ev {
		case frame.EventHeader:
			payload = payload[:0]
			inFrame = true
		case frame.EventPayload:
			payload = append(payload, chunk...)
		case frame.EventEnd:
			inFrame = false
			if d.Header().Opcode == frame.OpClose {
				code, reason, err := frame.ParseClose(payload)
				got = append(got, fmt.Sprintf("close %d %q %v", code, reason, err))
			} else {
				got = append(got, fmt.Sprintf("%v %q", d.Header().Opcode, payload))
			}
		case frame.EventNeedMore:
			if inFrame || n > 0 {
				t.Fatalf("the wire ends inside a frame")
			}
			return got
		}
	}
}

// TestWireClose checks that the Close frame ws sends from beneath the Conn
// never lands inside a frame the Conn is writing, whatever the point at
// which the Conn's frame is cut into writes, and that nothing follows it.
func TestWireClose(t *testing.T) {
	const head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	msg := clientFrame(frame.OpText, bytes.Repeat([]byte("abc"), 100)) // a 16-bit length: 4+4 header bytes
	after := clientFrame(frame.OpPong, []byte("late"))
	text := fmt.Sprintf("%v %q", frame.OpText, bytes.Repeat([]byte("abc"), 100))
	for cut := 0; cut <= len(msg); cut++ {
		t.Run(fmt.Sprint("cut at ", cut), func(t *testing.T) {
			rec := &recorder{}
			w := newWire(rec, nil)
			w.Write([]byte(head))
			if cut > 0 {
				w.Write(msg[:cut])
			}
			if !w.sendClose(conn.CloseNormalClosure, "bye") {
				t.Fatal("sendClose reported a Close already sent")
			}
			if cut < len(msg) {
				w.Write(msg[cut:])
			}
			w.Write(after)
			if w.sendClose(conn.CloseGoingAway, "") {
				t.Error("a second sendClose reported sending")
			}
			want := []string{text, `close 1000 "bye" <nil>`}
			if cut == 0 {
				want = want[1:] // the Close goes first; the message is dropped
			}
			got := decodeFrames(t, bytes.TrimPrefix(rec.buf.Bytes(), []byte(head)))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("frames on the wire (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlainURL(t *testing.T) {
	tests := []struct {
		name     string
		url      string
		host     string // -H Host, if any
		wantURL  string
		wantHost string
	}{{
		name:     "default port",
		url:      "wss://example.com/a?b=c",
		wantURL:  "ws://example.com:443/a?b=c",
		wantHost: "example.com",
	}, {
		name:     "port and IPv6",
		url:      "wss://[::1]:8443/",
		wantURL:  "ws://[::1]:8443/",
		wantHost: "[::1]:8443",
	}, {
		name:     "-H Host wins",
		url:      "wss://10.0.0.1/",
		host:     "api.example.com",
		wantURL:  "ws://10.0.0.1:443/",
		wantHost: "api.example.com",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &clientConfig{url: tt.url}
			cfg.opts.Host = tt.host
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.plainURL(u); got != tt.wantURL {
				t.Errorf("plainURL(%q) = %q, want %q", tt.url, got, tt.wantURL)
			}
			if cfg.opts.Host != tt.wantHost {
				t.Errorf("Host = %q, want %q", cfg.opts.Host, tt.wantHost)
			}
			if p, err := cfg.opts.Proxy(&http.Request{URL: u}); p != nil || err != nil {
				t.Errorf("the client package would use proxy %v, %v; want none (ws reaches it itself)", p, err)
			}
		})
	}
}

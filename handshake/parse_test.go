package handshake

import (
	"bufio"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const rawRequest = "GET /chat?room=1 HTTP/1.1\r\n" +
	"Host: server.example.com\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: chat\r\n" +
	"sec-websocket-protocol: superchat\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Cookie: session=abc\r\n" +
	"Authorization: Bearer t0ken\r\n" +
	"X-Trace:   one \r\n" +
	"X-Trace: two\r\n" +
	"Cookie: theme=dark\r\n" +
	"X-Empty:\r\n" +
	"\r\n"

func TestParseRequest(t *testing.T) {
	got, err := ParseRequest(rawRequest)
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Method: "GET", Target: "/chat?room=1", ProtoMajor: 1, ProtoMinor: 1, Host: "server.example.com", Upgrade: "websocket",
		Connection: "Upgrade", Key: "dGhlIHNhbXBsZSBub25jZQ==", KeyCount: 1, Version: "13", Origin: "http://example.com", Protocol: "chat, superchat"}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Request{})); diff != "" {
		t.Errorf("ParseRequest mismatch (-want +got):\n%s", diff)
	}
	if err := got.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestParseRequestMalformed(t *testing.T) {
	tests := []struct {
		name string
		head string
	}{
		{"no target", "GET HTTP/1.1\r\n\r\n"},
		{"bad version", "GET / HTTP/x\r\n\r\n"},
		{"folded line", "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"},
		{"no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n"},
		{"space in name", "GET / HTTP/1.1\r\nHo st: a\r\n\r\n"},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRequest(tt.head)
			var he *Error
			if !errors.As(err, &he) || he.Status != http.StatusBadRequest {
				t.Errorf("ParseRequest(%q) = %v, want a 400 *Error", tt.head, err)
			}
		})
	}
}

// TestRequestHeader checks that every header field can be read, from a
// raw head and from an *http.Request alike.
func TestRequestHeader(t *testing.T) {
	raw, err := ParseRequest(rawRequest)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(rawRequest)))
	if err != nil {
		t.Fatal(err)
	}
	fromHTTP := FromHTTP(r)
	tests := []struct {
		name string
		want string
	}{
		{"Authorization", "Bearer t0ken"},
		{"authorization", "Bearer t0ken"},
		{"Cookie", "session=abc; theme=dark"},
		{"X-Trace", "one, two"},
		{"Host", "server.example.com"},
		{"X-Empty", ""},
		{"X-Missing", ""},
		{"Sec-WebSocket-Protocol", "chat, superchat"},
	}
	for _, tt := range tests {
		for _, req := range []struct {
			from string
			r    *Request
		}{{"ParseRequest", &raw}, {"FromHTTP", &fromHTTP}} {
			if got := req.r.Header(tt.name); got != tt.want {
				t.Errorf("%s: Header(%q) = %q, want %q", req.from, tt.name, got, tt.want)
			}
		}
	}
	// Reading one field of a raw head allocates nothing.
	if n := testing.AllocsPerRun(100, func() { raw.Header("Authorization") }); n != 0 {
		t.Errorf("Header allocates %v times, want 0", n)
	}
	var zero Request
	if got := zero.Header("Cookie"); got != "" {
		t.Errorf("zero Request: Header = %q", got)
	}
}

// browserRequest is the upgrade request a browser sends.
const browserRequest = "GET /chat HTTP/1.1\r\n" +
	"Host: 127.0.0.1:8080\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: http://127.0.0.1:8080\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"\r\n"

func BenchmarkParseRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r, err := ParseRequest(browserRequest)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Check(); err != nil {
			b.Fatal(err)
		}
	}
}

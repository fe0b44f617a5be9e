package handshake

import (
	"bufio"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const rfcKey = "dGhlIHNhbXBsZSBub25jZQ=="

func TestAcceptKey(t *testing.T) {
	// RFC 6455, Section 1.3.
	if got, want := AcceptKey(rfcKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("AcceptKey(%q) = %q, want %q", rfcKey, got, want)
	}
	if !validKey(NewKey()) {
		t.Error("NewKey() is not the base64 of 16 bytes")
	}
	if a, b := NewKey(), NewKey(); a == b {
		t.Errorf("NewKey() returned %q twice", a)
	}
}

func validRequest() Request {
	return Request{
		Method:     "GET",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Host:       "server.example.com",
		Upgrade:    "websocket",
		Connection: "Upgrade",
		Key:        rfcKey,
		KeyCount:   1,
		Version:    "13",
	}
}

func TestRequestCheck(t *testing.T) {
	tests := []struct {
		name       string
		change     func(r *Request)
		wantStatus int // 0: valid
		wantErr    error
	}{{
		name:   "RFC 6455 1.2 sample",
		change: func(r *Request) {},
	}, {
		name:       "HTTP/2 GET",
		change:     func(r *Request) { r.ProtoMajor, r.ProtoMinor = 2, 0 },
		wantStatus: http.StatusMethodNotAllowed,
	}, {
		name: "HTTP/2 extended CONNECT (RFC 8441)",
		change: func(r *Request) {
			*r = Request{Method: "CONNECT", ProtoMajor: 2, Host: "h", ConnectProtocol: "websocket", Version: "13"}
		},
	}, {
		name: "HTTP/2 extended CONNECT for another protocol",
		change: func(r *Request) {
			*r = Request{Method: "CONNECT", ProtoMajor: 2, Host: "h", ConnectProtocol: "webtransport", Version: "13"}
		},
		wantStatus: http.StatusBadRequest,
	}, {
		name: "HTTP/2 extended CONNECT, version 8",
		change: func(r *Request) {
			*r = Request{Method: "CONNECT", ProtoMajor: 2, Host: "h", ConnectProtocol: "websocket", Version: "8"}
		},
		wantStatus: http.StatusUpgradeRequired,
		wantErr:    ErrBadVersion,
	}, {
		name:   "tokens are case-insensitive and in lists",
		change: func(r *Request) { r.Upgrade = "foo, WebSocket"; r.Connection = "keep-alive,  UPGRADE" },
	}, {
		name:       "POST",
		change:     func(r *Request) { r.Method = "POST" },
		wantStatus: http.StatusMethodNotAllowed,
	}, {
		name:       "HTTP/1.0",
		change:     func(r *Request) { r.ProtoMinor = 0 },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "no Host",
		change:     func(r *Request) { r.Host = "" },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "no Upgrade",
		change:     func(r *Request) { r.Upgrade = "" },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "Upgrade to something else",
		change:     func(r *Request) { r.Upgrade = "h2c" },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "Connection without upgrade",
		change:     func(r *Request) { r.Connection = "keep-alive" },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "Connection: upgraded is not upgrade",
		change:     func(r *Request) { r.Connection = "upgraded" },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "version 8",
		change:     func(r *Request) { r.Version = "8" },
		wantStatus: http.StatusUpgradeRequired,
		wantErr:    ErrBadVersion,
	}, {
		name:       "no version",
		change:     func(r *Request) { r.Version = "" },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "no key",
		change:     func(r *Request) { r.Key, r.KeyCount = "", 0 },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "two keys",
		change:     func(r *Request) { r.KeyCount = 2 },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "key of 15 bytes",
		change:     func(r *Request) { r.Key = "AAAAAAAAAAAAAAAAAAAA" },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "key of 24 characters that decodes to 18 bytes",
		change:     func(r *Request) { r.Key = "AAAAAAAAAAAAAAAAAAAAAAAA" },
		wantStatus: http.StatusBadRequest,
	}, {
		name:       "key that is not base64",
		change:     func(r *Request) { r.Key = "!!!!!!!!!!!!!!!!!!!!!!==" },
		wantStatus: http.StatusBadRequest,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.change(&r)
			err := r.Check()
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			var he *Error
			if !errors.As(err, &he) || he.Status != tt.wantStatus {
				t.Fatalf("Check() = %v, want an *Error with status %d", err, tt.wantStatus)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Check() = %v, want it to match %v", err, tt.wantErr)
			}
		})
	}
}

func TestCheckRequestHTTP(t *testing.T) {
	raw := "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + rfcKey + "\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n" +
		"Sec-WebSocket-Extensions: x-first\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	got := FromHTTP(r)
	if err := got.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if got.Protocol != "chat, superchat" || got.Connection != "keep-alive, Upgrade" || got.Origin != "http://example.com" {
		t.Errorf("FromHTTP = %+v", got)
	}
	// Repeated fields are one list (RFC 9110, Section 5.3), so the offer in
	// the second Sec-WebSocket-Extensions field is found.
	exts, err := ParseExtensions(got.Extensions)
	if err != nil {
		t.Fatalf("ParseExtensions(%q): %v", got.Extensions, err)
	}
	want := []Extension{{Name: "x-first"}, {Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}}}
	if diff := cmp.Diff(want, exts); diff != "" {
		t.Errorf("extensions of repeated fields mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckOrigin(t *testing.T) {
	tests := []struct {
		origin   string
		host     string
		patterns []string
		ok       bool
	}{
		{origin: "", host: "a.example", ok: true},
		{origin: "https://a.example", host: "a.example", ok: true},
		{origin: "https://A.Example:8443", host: "a.example:8443", ok: true},
		{origin: "https://evil.example", host: "a.example", ok: false},
		{origin: "https://a.example:1", host: "a.example:2", ok: false},
		{origin: "https://sub.example.com", host: "a.example", patterns: []string{"*.example.com"}, ok: true},
		{origin: "http://localhost:3000", host: "a.example", patterns: []string{"localhost:*"}, ok: true},
		{origin: "http://localhost:3000", host: "a.example", patterns: []string{"*.example.com"}, ok: false},
		{origin: "null", host: "a.example", ok: false},
		{origin: "::", host: "a.example", ok: false},
		{origin: "https://", host: "a.example", ok: false},
		{origin: "://a.example", host: "a.example", ok: false},
		{origin: "https://a.example/", host: "a.example", ok: true},
		{origin: "https://evil.example/a.example", host: "a.example", ok: false},
		{origin: "https://a.example@evil.example", host: "a.example", ok: false},
		{origin: "https://x@a.example", host: "a.example", ok: false}, // userinfo is no part of an origin (RFC 6454)
		{origin: "https://a.example@evil.example", host: "a.example", ok: false},
	}
	if allocs := testing.AllocsPerRun(100, func() { CheckOrigin("https://sub.example.com", "a.example", []string{"*.example.com"}) }); allocs != 0 {
		t.Errorf("CheckOrigin of an allowed origin: %v allocations, want 0", allocs)
	}
	for _, tt := range tests {
		err := CheckOrigin(tt.origin, tt.host, tt.patterns)
		if tt.ok != (err == nil) {
			t.Errorf("CheckOrigin(%q, %q, %q) = %v, want ok %v", tt.origin, tt.host, tt.patterns, err, tt.ok)
		}
		var he *Error
		if err != nil && (!errors.Is(err, ErrOrigin) || !errors.As(err, &he) || he.Status != http.StatusForbidden) {
			t.Errorf("CheckOrigin(%q, %q) = %v, want a 403 *Error matching ErrOrigin", tt.origin, tt.host, err)
		}
	}
}

func TestSelectSubprotocol(t *testing.T) {
	tests := []struct {
		offered   string
		supported []string
		want      string
	}{
		{offered: "chat, superchat", supported: []string{"superchat", "chat"}, want: "superchat"},
		{offered: "chat,superchat", supported: []string{"chat"}, want: "chat"},
		{offered: "Chat", supported: []string{"chat"}, want: ""},
		{offered: "mqtt", supported: []string{"chat"}, want: ""},
		{offered: "", supported: []string{"chat"}, want: ""},
	}
	for _, tt := range tests {
		if got := SelectSubprotocol(tt.offered, tt.supported); got != tt.want {
			t.Errorf("SelectSubprotocol(%q, %q) = %q, want %q", tt.offered, tt.supported, got, tt.want)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	raw := AppendResponse(nil, rfcKey, "chat", "permessage-deflate", http.Header{"X-Test": {"1\r\nInjected: yes"}})
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(raw))), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Injected") != "" {
		t.Error("a header value broke the response into two fields")
	}
	proto, err := CheckResponse(resp, rfcKey, []string{"superchat", "chat"})
	if err != nil || proto != "chat" {
		t.Fatalf("CheckResponse = %q, %v", proto, err)
	}
	if got := resp.Header.Get("Sec-Websocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("accept %q", got)
	}
}

func TestCheckResponse(t *testing.T) {
	good := func() *http.Response {
		return &http.Response{StatusCode: 101, Status: "101 Switching Protocols", Header: http.Header{
			"Upgrade":              {"websocket"},
			"Connection":           {"Upgrade"},
			"Sec-Websocket-Accept": {AcceptKey(rfcKey)},
		}}
	}
	tests := []struct {
		name    string
		change  func(r *http.Response)
		offered []string
		wantErr bool
	}{
		{name: "valid", change: func(r *http.Response) {}},
		{name: "200", change: func(r *http.Response) { r.StatusCode, r.Status = 200, "200 OK" }, wantErr: true},
		{name: "no Upgrade", change: func(r *http.Response) { r.Header.Del("Upgrade") }, wantErr: true},
		{name: "no Connection", change: func(r *http.Response) { r.Header.Del("Connection") }, wantErr: true},
		{name: "wrong accept", change: func(r *http.Response) { r.Header.Set("Sec-Websocket-Accept", AcceptKey("x")) }, wantErr: true},
		{name: "subprotocol not offered", change: func(r *http.Response) { r.Header.Set("Sec-Websocket-Protocol", "chat") }, wantErr: true},
		{name: "subprotocol offered", change: func(r *http.Response) { r.Header.Set("Sec-Websocket-Protocol", "chat") }, offered: []string{"chat"}},
		{name: "two subprotocols", change: func(r *http.Response) { r.Header.Set("Sec-Websocket-Protocol", "chat, x") }, offered: []string{"chat", "x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good()
			tt.change(r)
			_, err := CheckResponse(r, rfcKey, tt.offered)
			if (err != nil) != tt.wantErr {
				t.Errorf("CheckResponse = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestAppendRequest(t *testing.T) {
	u, _ := url.Parse("ws://example.com:8080/chat?room=1")
	raw := AppendRequest(nil, u, "", rfcKey, []string{"chat", "superchat"}, "permessage-deflate; client_max_window_bits", http.Header{"Origin": {"http://example.com"}})
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(raw))))
	if err != nil {
		t.Fatal(err)
	}
	got := FromHTTP(r)
	if err := got.Check(); err != nil {
		t.Fatalf("our own request fails Check: %v", err)
	}
	want := Request{Method: "GET", Target: "/chat?room=1", ProtoMajor: 1, ProtoMinor: 1, Host: "example.com:8080", Upgrade: "websocket", Connection: "Upgrade",
		Key: rfcKey, KeyCount: 1, Version: "13", Origin: "http://example.com", Protocol: "chat, superchat", Extensions: "permessage-deflate; client_max_window_bits"}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Request{})); diff != "" {
		t.Errorf("request mismatch (-want +got):\n%s", diff)
	}
	if r.RequestURI != "/chat?room=1" {
		t.Errorf("RequestURI = %q", r.RequestURI)
	}
}

func BenchmarkRequestCheck(b *testing.B) {
	r := validRequest()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Check(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendResponse(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResponse(buf[:0], rfcKey, "chat", "", nil)
	}
}

package handshake

import (
	"bufio"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/http/httpguts"
)

// The checks of a request look at header values in place, with loops of
// their own. Each is tested against a table and, by fuzzing, against a
// plain oracle written the obvious way.

func TestHasToken(t *testing.T) {
	tests := []struct {
		v     string
		token string
		want  bool
	}{
		{v: "websocket", token: "websocket", want: true},
		{v: "WebSocket", token: "websocket", want: true},
		{v: "WEBSOCKET", token: "websocket", want: true},
		{v: "Upgrade", token: "upgrade", want: true},
		{v: "keep-alive, Upgrade", token: "upgrade", want: true},
		{v: "keep-alive,Upgrade", token: "upgrade", want: true},
		{v: "Upgrade, keep-alive", token: "upgrade", want: true},
		{v: " \tUpgrade\t ", token: "upgrade", want: true},
		{v: ", ,upgrade,,", token: "upgrade", want: true},
		{v: "", token: "upgrade", want: false},
		{v: ",", token: "upgrade", want: false},
		{v: "keep-alive", token: "upgrade", want: false},
		{v: "upgraded", token: "upgrade", want: false},
		{v: "xupgrade", token: "upgrade", want: false},
		{v: "upgrad", token: "upgrade", want: false},
		{v: "up grade", token: "upgrade", want: false},
		{v: "websocket/13", token: "websocket", want: false},
		{v: "h2c", token: "websocket", want: false},
		// Only spaces and tabs are optional whitespace (RFC 9110, Section 5.6.3),
		// and only ASCII letters fold: "treated as an ASCII case-insensitive value".
		{v: "websocket\u00a0", token: "websocket", want: false},
		{v: "\vwebsocket", token: "websocket", want: false},
		{v: "webso\u212aet", token: "websocket", want: false}, // KELVIN SIGN, which strings.EqualFold folds to k
		{v: "websoc\u212at", token: "websocket", want: false},
		{v: "websocket\x00", token: "websocket", want: false},
		{v: "keep\ralive", token: "keep-alive", want: false}, // '\r'|0x20 is '-'
		{v: "KEEP-ALIVE", token: "keep-alive", want: true},
	}
	for _, tt := range tests {
		if got := hasToken(tt.v, tt.token); got != tt.want {
			t.Errorf("hasToken(%q, %q) = %v, want %v", tt.v, tt.token, got, tt.want)
		}
		if got := hasTokenOracle(tt.v, tt.token); got != tt.want {
			t.Errorf("oracle: hasToken(%q, %q) = %v, want %v", tt.v, tt.token, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { hasToken("keep-alive, Upgrade", "upgrade") }); n != 0 {
		t.Errorf("hasToken allocates %v times, want 0", n)
	}
}

// hasTokenOracle is hasToken written the obvious way: split the list,
// trim each element, lower its ASCII letters, compare.
func hasTokenOracle(v, token string) bool {
	for _, item := range strings.Split(v, ",") {
		item = strings.Trim(item, " \t")
		lower := []byte(item)
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + 'a' - 'A'
			}
		}
		if string(lower) == token {
			return true
		}
	}
	return false
}

func FuzzHasToken(f *testing.F) {
	f.Add("keep-alive, Upgrade", "upgrade")
	f.Add("webso\u212aet", "websocket")
	f.Add(" ,\tWebSocket ,", "websocket")
	f.Fuzz(func(t *testing.T, v, token string) {
		token = strings.ToLower(token)
		if !httpguts.ValidHeaderFieldName(token) {
			return // never asked: tokens are not empty, and are tchars
		}
		if got, want := hasToken(v, token), hasTokenOracle(v, token); got != want {
			t.Errorf("hasToken(%q, %q) = %v, oracle says %v", v, token, got, want)
		}
	})
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{key: rfcKey, want: true},
		{key: "AAAAAAAAAAAAAAAAAAAAAA==", want: true},
		{key: "////////////////////++==", want: true},
		{key: "AAAAAAAAAAAAAAAAAAAAAB==", want: true}, // pad bits not zero: RFC 4648 lets a decoder accept it
		{key: "", want: false},
		{key: "AAAAAAAAAAAAAAAAAAAAAA=", want: false},
		{key: "AAAAAAAAAAAAAAAAAAAAAA===", want: false},
		{key: "AAAAAAAAAAAAAAAAAAAAAA=A", want: false},
		{key: "AAAAAAAAAAAAAAAAAAAAAAAA", want: false},    // 18 bytes
		{key: "AAAAAAAAAAAAAAAAAAAAA===", want: false},    // 15 bytes and too much padding
		{key: "AAAAAAAAAAAAAAAAAAAAAAA=", want: false},    // 17 bytes
		{key: "AAAAAAAAAAAAAAAAAAAA", want: false},        // 15 bytes
		{key: "!!!!!!!!!!!!!!!!!!!!!!==", want: false},    // not the alphabet
		{key: "AAAAAAAAAAAAAAAAAAAAA-==", want: false},    // base64url, not base64
		{key: "AAAAAAAAAAAAAAAAAAAAA_==", want: false},    // base64url, not base64
		{key: "AAAAAAAAAAA=AAAAAAAAAA==", want: false},    // padding inside
		{key: "AAAAAAAAAAAAAAAAAAAAA\xff==", want: false}, // not ASCII
		{key: " AAAAAAAAAAAAAAAAAAAAA==", want: false},
	}
	for _, tt := range tests {
		if got := validKey(tt.key); got != tt.want {
			t.Errorf("validKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
		if got := validKeyOracle(tt.key); got != tt.want {
			t.Errorf("oracle: validKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

// validKeyOracle decodes key with encoding/base64, which also skips CR
// and LF; no header value holds either, so the fuzz target leaves them
// out.
func validKeyOracle(key string) bool {
	if len(key) != 24 {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16
}

func FuzzValidKey(f *testing.F) {
	f.Add(rfcKey)
	f.Add("AAAAAAAAAAAAAAAAAAAAAB==")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAA=")
	f.Fuzz(func(t *testing.T, key string) {
		if strings.ContainsAny(key, "\r\n") {
			return
		}
		if got, want := validKey(key), validKeyOracle(key); got != want {
			t.Errorf("validKey(%q) = %v, base64 says %v", key, got, want)
		}
	})
}

// hostOfOriginOracle is hostOfOrigin written with the strings package.
func hostOfOriginOracle(origin string) (string, bool) {
	scheme, rest, ok := strings.Cut(origin, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/?#@") {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if strings.Contains(rest, "@") {
		return "", false
	}
	return rest, rest != ""
}

func TestHostOfOrigin(t *testing.T) {
	tests := []struct {
		origin string
		want   string
		ok     bool
	}{
		{origin: "https://a.example", want: "a.example", ok: true},
		{origin: "http://127.0.0.1:8080", want: "127.0.0.1:8080", ok: true},
		{origin: "https://a.example/path?q#f", want: "a.example", ok: true},
		{origin: "https://a.example?q", want: "a.example", ok: true},
		{origin: "https://a.example#f", want: "a.example", ok: true},
		{origin: "chrome-extension://abc", want: "abc", ok: true},
		{origin: "a:b://h", want: "h", ok: true},
		{origin: "null"},
		{origin: ""},
		{origin: "://"},
		{origin: "://h"},
		{origin: "h:/"},
		{origin: "https://"},
		{origin: "https:///path"},
		{origin: "ht/tps://h"},
		{origin: "ht@tps://h"},
		{origin: "https://u@h"},
		{origin: "https://h/@", want: "h", ok: true}, // the @ is in the path
		{origin: "https://h@/"},
	}
	for _, tt := range tests {
		got, ok := hostOfOrigin(tt.origin)
		if got != tt.want || ok != tt.ok {
			t.Errorf("hostOfOrigin(%q) = %q, %v; want %q, %v", tt.origin, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzHostOfOrigin(f *testing.F) {
	f.Add("https://a.example/x")
	f.Add("a:b://h@")
	f.Fuzz(func(t *testing.T, origin string) {
		got, ok := hostOfOrigin(origin)
		want, wantOK := hostOfOriginOracle(origin)
		if got != want || ok != wantOK {
			t.Errorf("hostOfOrigin(%q) = %q, %v; oracle says %q, %v", origin, got, ok, want, wantOK)
		}
	})
}

// TestFromHTTPFieldNames checks that FromHTTP finds every field however
// the client spelled its name: it indexes http.Header with canonical names
// of its own, which must be the ones net/http stores.
func TestFromHTTPFieldNames(t *testing.T) {
	tests := []struct {
		field string // as the client spells it
		value string
		got   func(r *Request) string
	}{
		{field: "upgrade", value: "websocket", got: func(r *Request) string { return r.Upgrade }},
		{field: "CONNECTION", value: "Upgrade", got: func(r *Request) string { return r.Connection }},
		{field: "Sec-WebSocket-Key", value: rfcKey, got: func(r *Request) string { return r.Key }},
		{field: "sec-websocket-version", value: "13", got: func(r *Request) string { return r.Version }},
		{field: "ORIGIN", value: "http://h", got: func(r *Request) string { return r.Origin }},
		{field: "sec-WebSocket-protocol", value: "chat", got: func(r *Request) string { return r.Protocol }},
		{field: "Sec-Websocket-Extensions", value: "permessage-deflate", got: func(r *Request) string { return r.Extensions }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			raw := "GET / HTTP/1.1\r\nHost: h\r\n" + tt.field + ": " + tt.value + "\r\n\r\n"
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			req := FromHTTP(r)
			if got := tt.got(&req); got != tt.value {
				t.Errorf("FromHTTP of a request with %q: field is %q, want %q", tt.field+": "+tt.value, got, tt.value)
			}
			// A header built by hand with Header.Set is canonical too.
			h := http.Header{}
			h.Set(tt.field, tt.value)
			req = FromHTTP(&http.Request{Method: "GET", ProtoMajor: 1, ProtoMinor: 1, Host: "h", Header: h})
			if got := tt.got(&req); got != tt.value {
				t.Errorf("FromHTTP with Header.Set(%q, %q): field is %q, want %q", tt.field, tt.value, got, tt.value)
			}
		})
	}
	r := &http.Request{Method: "CONNECT", ProtoMajor: 2, Host: "h", Header: http.Header{":protocol": {"websocket"}}}
	if got := FromHTTP(r).ConnectProtocol; got != "websocket" {
		t.Errorf("FromHTTP of an extended CONNECT: ConnectProtocol %q, want websocket", got)
	}
	if n := testing.AllocsPerRun(100, func() { FromHTTP(r) }); n != 0 {
		t.Errorf("FromHTTP allocates %v times, want 0", n)
	}
}

// parseRequestOracle is ParseRequest as it was written before it was
// tuned: the strings package's Cut, EqualFold and Trim, one field at a
// time. Only the error messages may differ.
func parseRequestOracle(head string) (Request, error) {
	var req Request
	line, rest, _ := strings.Cut(head, "\r\n")
	method, line, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(line, " ")
	if !ok1 || !ok2 || !httpguts.ValidHeaderFieldName(method) || target == "" || strings.ContainsFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return req, badRequest("malformed request line")
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		return req, badRequest("malformed HTTP version")
	}
	if major != 1 {
		return req, &Error{Status: http.StatusHTTPVersionNotSupported, Err: errors.New("HTTP/2")}
	}
	req.Method, req.Target, req.ProtoMajor, req.ProtoMinor = method, target, major, minor
	req.head = head
	hosts := 0
	for {
		var line string
		line, rest, _ = strings.Cut(rest, "\r\n")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return req, badRequest("folded header line")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) {
			return req, badRequest("malformed header line")
		}
		value = strings.Trim(value, " \t")
		if !httpguts.ValidHeaderFieldValue(value) {
			return req, badRequest("control character")
		}
		var field *string
		switch {
		case strings.EqualFold(name, "Host"):
			hosts++
			field = &req.Host
		case strings.EqualFold(name, "Upgrade"):
			field = &req.Upgrade
		case strings.EqualFold(name, "Connection"):
			field = &req.Connection
		case strings.EqualFold(name, "Sec-WebSocket-Key"):
			req.KeyCount++
			field = &req.Key
		case strings.EqualFold(name, "Sec-WebSocket-Version"):
			field = &req.Version
		case strings.EqualFold(name, "Origin"):
			req.origins++
			field = &req.Origin
		case strings.EqualFold(name, "Sec-WebSocket-Protocol"):
			field = &req.Protocol
		case strings.EqualFold(name, "Sec-WebSocket-Extensions"):
			field = &req.Extensions
		case strings.EqualFold(name, "Content-Length"):
			if value != "0" {
				req.body = true
			}
			continue
		case strings.EqualFold(name, "Transfer-Encoding"):
			req.body = true
			continue
		default:
			continue
		}
		if *field == "" {
			*field = value
		} else {
			*field += ", " + value
		}
	}
	if hosts > 1 {
		return req, badRequest("more than one Host header")
	}
	return req, nil
}

// TestParseRequestLines checks how ParseRequest cuts a head into lines
// and checks each field, against a table and the oracle.
func TestParseRequestLines(t *testing.T) {
	const start = "GET / HTTP/1.1\r\nHost: h\r\n"
	tests := []struct {
		name       string
		head       string
		wantStatus int // 0: parses
	}{
		{name: "browser request", head: browserRequest},
		{name: "no empty line", head: "GET / HTTP/1.1\r\nHost: h"},
		{name: "no fields", head: "GET / HTTP/1.1\r\n\r\n"},
		{name: "tab in a value", head: start + "X: a\tb\r\n\r\n"},
		{name: "obs-text in a value", head: start + "X: caf\xc3\xa9 \x80\xff\r\n\r\n"},
		{name: "bytes after the empty line", head: start + "\r\nGET\n\x00"},
		{name: "bare LF ending the request line", head: "GET / HTTP/1.1\nHost: h\r\n\r\n", wantStatus: 400},
		{name: "bare LF ending a field", head: start + "X: a\nY: b\r\n\r\n", wantStatus: 400},
		{name: "bare LF ending the head", head: start + "\n", wantStatus: 400},
		{name: "bare LF at the start", head: "\nGET / HTTP/1.1\r\n\r\n", wantStatus: 400},
		{name: "CR alone in a value", head: start + "X: a\rb\r\n\r\n", wantStatus: 400},
		{name: "CR before CRLF", head: start + "X: a\r\r\n\r\n", wantStatus: 400},
		{name: "NUL in a value", head: start + "X: a\x00b\r\n\r\n", wantStatus: 400},
		{name: "DEL in a value", head: start + "X: a\x7fb\r\n\r\n", wantStatus: 400},
		{name: "control character in a long value", head: start + "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\x1b AppleWebKit\r\n\r\n", wantStatus: 400},
		{name: "HTTP/2.0", head: "GET / HTTP/2.0\r\n\r\n", wantStatus: 505},
		{name: "space in the target", head: "GET /a b HTTP/1.1\r\n\r\n", wantStatus: 400},
		{name: "DEL in the target", head: "GET /a\x7f HTTP/1.1\r\n\r\n", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequest(tt.head)
			checkStatus(t, err, tt.wantStatus)
			want, wantErr := parseRequestOracle(tt.head)
			checkStatus(t, wantErr, tt.wantStatus)
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(Request{})); diff != "" {
				t.Errorf("ParseRequest(%q) mismatch with the oracle (-want +got):\n%s", tt.head, diff)
			}
		})
	}
}

func checkStatus(t *testing.T, err error, want int) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Fatalf("got %v, want no error", err)
		}
		return
	}
	var he *Error
	if !errors.As(err, &he) || he.Status != want {
		t.Fatalf("got %v, want an *Error with status %d", err, want)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add(browserRequest)
	f.Add(rawRequest)
	f.Add("GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n")
	f.Add("GET / HTTP/1.1\r\nContent-Length: 0\r\nTRANSFER-ENCODING: x\r\nSec-WebSocket-Key: a\r\nsec-websocket-key: b\r\n\r\n")
	f.Fuzz(func(t *testing.T, head string) {
		got, err := ParseRequest(head)
		want, wantErr := parseRequestOracle(head)
		var he, wantHE *Error
		errors.As(err, &he)
		errors.As(wantErr, &wantHE)
		if (he == nil) != (wantHE == nil) || (he != nil && he.Status != wantHE.Status) || (err == nil) != (wantErr == nil) {
			t.Fatalf("ParseRequest(%q) = %v; oracle says %v", head, err, wantErr)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(Request{})); diff != "" {
			t.Errorf("ParseRequest(%q) mismatch with the oracle (-want +got):\n%s", head, diff)
		}
	})
}

func TestLookupField(t *testing.T) {
	for f := range fieldNames {
		if f == fieldOther {
			continue
		}
		for _, name := range []string{fieldNames[f], strings.ToUpper(fieldNames[f]), http.CanonicalHeaderKey(fieldNames[f])} {
			if got := lookupField(name); got != f {
				t.Errorf("lookupField(%q) = %d, want %d", name, got, f)
			}
		}
		// A name of the same length that differs in its last byte, or its first.
		last := fieldNames[f][:len(fieldNames[f])-1] + "x"
		first := "x" + fieldNames[f][1:]
		for _, name := range []string{last, first} {
			if got := lookupField(name); got != fieldOther {
				t.Errorf("lookupField(%q) = %d, want fieldOther", name, got)
			}
		}
	}
	for _, name := range []string{"", "User-Agent", "Sec-WebSocket-Accept", "Hosts", "Origin2", "X"} {
		if got := lookupField(name); got != fieldOther {
			t.Errorf("lookupField(%q) = %d, want fieldOther", name, got)
		}
	}
}

func FuzzValidFieldValue(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36")
	f.Add("a\tb\x7fc")
	f.Add("\x80\x9f\xff\x20\x1f")
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := validFieldValue(v), httpguts.ValidHeaderFieldValue(v); got != want {
			t.Errorf("validFieldValue(%q) = %v, httpguts says %v", v, got, want)
		}
	})
}

// TestValidFieldValue puts every byte value at every position of a value
// two words long and more, so that each lane of the word-at-a-time check
// and the bytes after the last word see each of them.
func TestValidFieldValue(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 19; pos++ {
			b := []byte("abcdefghijklmnopqrs")
			b[pos] = byte(c)
			v := string(b)
			if got, want := validFieldValue(v), httpguts.ValidHeaderFieldValue(v); got != want {
				t.Fatalf("validFieldValue(%q) = %v, want %v", v, got, want)
			}
		}
	}
}

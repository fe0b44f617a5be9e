package server

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"testing"
	"testing/iotest"

	"github.com/rfc6455/websocket/handshake"
)

// scanHeadOracle finds the end of a head and a bare LF before it the
// obvious way, on all of b at once.
func scanHeadOracle(b []byte) (end int, bare bool) {
	end = bytes.Index(b, []byte("\r\n\r\n"))
	if end >= 0 {
		end += 4
	}
	upTo := len(b)
	if end >= 0 {
		upTo = end
	}
	for i := 0; i < upTo; i++ {
		if b[i] == '\n' && (i == 0 || b[i-1] != '\r') {
			return -1, true
		}
	}
	return end, false
}

// scanInChunks runs scanHead on b as UpgradeConn does, as it arrives in
// chunks that end at the given indexes and then at len(b).
func scanInChunks(b []byte, cuts ...int) (end int, bare bool) {
	from := 0
	for _, n := range append(cuts, len(b)) {
		if end, bare = scanHead(b[:n], from); end >= 0 || bare {
			return end, bare
		}
		from = n
	}
	return -1, false
}

func TestScanHead(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantEnd  int
		wantBare bool
	}{
		{name: "head", in: "GET / HTTP/1.1\r\nHost: h\r\n\r\n", wantEnd: 27},
		{name: "head and a frame", in: "GET / HTTP/1.1\r\nHost: h\r\n\r\n\x81\x05\n\nhello", wantEnd: 27},
		{name: "no fields", in: "GET / HTTP/1.1\r\n\r\n", wantEnd: 18},
		{name: "empty line first", in: "\r\n\r\n", wantEnd: 4},
		{name: "unfinished", in: "GET / HTTP/1.1\r\nHost: h\r\n", wantEnd: -1},
		{name: "CR alone", in: "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", wantEnd: 26},
		{name: "CRCR LF", in: "GET / HTTP/1.1\r\n\r\r\n", wantEnd: -1},
		{name: "bare LF first", in: "\nGET / HTTP/1.1\r\n\r\n", wantEnd: -1, wantBare: true},
		{name: "bare LF ending a line", in: "GET / HTTP/1.1\nHost: h\r\n\r\n", wantEnd: -1, wantBare: true},
		{name: "bare LF ending the head", in: "GET / HTTP/1.1\r\nHost: h\r\n\n", wantEnd: -1, wantBare: true},
		{name: "LF LF", in: "GET / HTTP/1.1\n\n", wantEnd: -1, wantBare: true},
		{name: "bare LF in an unfinished head", in: "GET / HTTP/1.1\r\nX: a\nb", wantEnd: -1, wantBare: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.in)
			if end, bare := scanHeadOracle(b); end != tt.wantEnd || bare != tt.wantBare {
				t.Fatalf("oracle: end %d, bare %v; want %d, %v", end, bare, tt.wantEnd, tt.wantBare)
			}
			// In one piece, in two at every split, and a byte at a time.
			var cuts [][]int
			cuts = append(cuts, nil)
			for i := 1; i < len(b); i++ {
				cuts = append(cuts, []int{i})
			}
			var each []int
			for i := 1; i < len(b); i++ {
				each = append(each, i)
			}
			cuts = append(cuts, each)
			for _, c := range cuts {
				if end, bare := scanInChunks(b, c...); end != tt.wantEnd || bare != tt.wantBare {
					t.Errorf("cut at %v: end %d, bare %v; want %d, %v", c, end, bare, tt.wantEnd, tt.wantBare)
				}
			}
		})
	}
}

func FuzzScanHead(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\nrest"), 5)
	f.Add([]byte("GET / HTTP/1.1\nHost: h\r\n\r\n"), 16)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		var cuts []int
		if cut > 0 && cut < len(b) {
			cuts = []int{cut}
		}
		end, bare := scanInChunks(b, cuts...)
		wantEnd, wantBare := scanHeadOracle(b)
		if end != wantEnd || bare != wantBare {
			t.Errorf("scanHead(%q, cut at %d) = %d, %v; oracle says %d, %v", b, cut, end, bare, wantEnd, wantBare)
		}
	})
}

// TestUpgradeConnByteByByte upgrades a request that arrives a byte per
// Read, and rejects one with a bare LF as soon as it comes.
func TestUpgradeConnByteByByte(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantStatus int // 0: upgraded
	}{
		{name: "browser request", in: browserRequest},
		{name: "bare LF, then nothing", in: "GET / HTTP/1.1\nHost: h", wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc := &oneByteConn{Conn: &fakeConn{in: []byte(tt.in)}}
			c, req, err := UpgradeConn(nc, nil)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatal(err)
				}
				c.CloseNow()
				if req.Host != "127.0.0.1:8080" || req.Key != "dGhlIHNhbXBsZSBub25jZQ==" {
					t.Errorf("request %+v", req)
				}
				return
			}
			var he *handshake.Error
			if !errors.As(err, &he) || he.Status != tt.wantStatus {
				t.Fatalf("UpgradeConn = %v, want a %d *handshake.Error", err, tt.wantStatus)
			}
		})
	}
}

// oneByteConn is a net.Conn whose reads return one byte.
type oneByteConn struct{ net.Conn }

func (c *oneByteConn) Read(p []byte) (int, error) { return iotest.OneByteReader(c.Conn).Read(p) }

// browserRequest is the upgrade request a browser sends, with an offer of
// permessage-deflate.
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

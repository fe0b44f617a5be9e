package hostile

import (
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

// A serverRow is a hostile input to the server under test and the answer
// it must get.
type serverRow struct {
	name  string
	paths []string // "http", "raw"; nil means both

	// head is the request sent, with {row} standing for the row's id; ""
	// means a valid upgrade request (offering extensions, if set). send
	// follows it in the same write, or script runs after it.
	head       string
	extensions string
	send       []byte
	script     func(nc net.Conn)
	readAfter  bool // read what the server sent only once script has run
	silent     bool // do not answer the server's Close frame, as a peer should

	status     int              // the HTTP answer; 0 means 101
	httpStatus int              // on the net/http path, if net/http answers differently
	closeCode  conn.CloseCode   // with 101: the code of the server's Close frame
	noClose    bool             // with 101: the server sends no Close frame
	err        want             // what the server-side owner sees
	httpErr    want             // on the net/http path, if it differs
	netHTTP    bool             // net/http answers the request itself: no upgrade is tried
	within     time.Duration    // until the server closes the connection; 0 means 3 s
	memory     uint64           // bound on allocations; 0 means smallMemory
	reason     string           // why the answer is right, for the table
	codes      []conn.CloseCode // with 101: any of these is right, instead of closeCode
}

// Statuses of rows that get no HTTP answer: the server closes without one
// (noAnswer), or the row resets the connection and reads nothing (unread).
const (
	noAnswer = -1
	unread   = -2
)

// request returns an upgrade request with the given extra lines (each
// ending in CRLF) before its end.
func request(extra string) string {
	return "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Row: {row}\r\n" + extra + "\r\n"
}

// replaced returns a valid request with old replaced by new.
func replaced(old, new string) string { return strings.Replace(request(""), old, new, 1) }

// runServerRow runs r on one path and checks its answer.
func (s *subject) runServerRow(t *testing.T, id, path string, r serverRow) {
	nc, err := net.Dial("tcp", s.addr[path])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	drainEvents(s.events)

	head := r.head
	if head == "" {
		extra := ""
		if r.extensions != "" {
			extra = "Sec-WebSocket-Extensions: " + r.extensions + "\r\n"
		}
		head = request(extra)
	}
	head = strings.ReplaceAll(head, "{row}", id)
	within := r.within
	if within == 0 {
		within = 3 * time.Second
	}
	type read struct {
		b      []byte
		closed bool
	}
	got := make(chan read, 1)
	reader := func() {
		b, closed := readAll(nc, &closeAnswerer{nc: nc, silent: r.silent}, within)
		got <- read{b, closed}
	}
	if !r.readAfter {
		go reader()
	}
	nc.Write(append([]byte(head), r.send...)) // the server may close before it reads all
	if r.script != nil {
		r.script(nc)
	}
	if r.readAfter {
		go reader()
	}
	res := <-got
	if !res.closed {
		t.Errorf("the server did not close the connection within %v", within)
	}

	wantStatus := r.status
	if path == "http" && r.httpStatus != 0 {
		wantStatus = r.httpStatus
	}
	if wantStatus == 0 {
		wantStatus = http.StatusSwitchingProtocols
	}
	br := bufio.NewReader(bytes.NewReader(res.b))
	resp, err := http.ReadResponse(br, nil)
	switch {
	case wantStatus == noAnswer:
		if err == nil {
			t.Errorf("status %d, want no answer", resp.StatusCode)
		}
	case wantStatus == unread:
	case err != nil:
		t.Errorf("no HTTP response (%v) in %.80q; want %d", err, res.b, wantStatus)
	case resp.StatusCode != wantStatus:
		t.Errorf("status %d, want %d", resp.StatusCode, wantStatus)
	case wantStatus == http.StatusSwitchingProtocols:
		rest, _ := io.ReadAll(br)
		d := frame.Decoder{Role: frame.Client}
		if resp.Header.Get("Sec-WebSocket-Extensions") != "" {
			d.RSV = frame.RSV1
		}
		code, ok := scanClose(&d, rest)
		switch {
		case !ok:
			t.Errorf("the server's frames do not parse: %.80x", rest)
		case r.noClose && code != 0:
			t.Errorf("the server sent Close %d, want none", code)
		case len(r.codes) > 0:
			if !containsCode(r.codes, code) {
				t.Errorf("the server sent Close %d, want one of %v", code, r.codes)
			}
		case !r.noClose && code != r.closeCode:
			t.Errorf("the server sent Close %d, want %d", code, r.closeCode)
		}
	}

	if path == "http" && r.netHTTP {
		return
	}
	w := r.err
	if path == "http" && r.httpErr != nil {
		w = r.httpErr
	}
	if w == nil {
		return
	}
	select {
	case e := <-s.events:
		if e.row != "" && e.row != id {
			t.Errorf("event of row %s during row %s: %v", e.row, id, e.err)
		} else if !w(e.err) {
			t.Errorf("the server's owner got %v", e.err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the server's owner got no error")
	}
}

// A closeAnswerer reads from nc and answers the server's Close frame, once
// the response head has passed, as a peer does, unless silent.
type closeAnswerer struct {
	nc       net.Conn
	silent   bool
	inFrames bool
	head     []byte // the end of the head read so far
	dec      frame.Decoder
	isClose  bool
	payload  []byte
	answered bool
}

func (a *closeAnswerer) Read(p []byte) (int, error) {
	n, err := a.nc.Read(p)
	if !a.silent && !a.answered {
		a.scan(p[:n])
	}
	return n, err
}

func (a *closeAnswerer) scan(b []byte) {
	if !a.inFrames {
		a.head = append(a.head, b...)
		i := bytes.Index(a.head, []byte("\r\n\r\n"))
		if i < 0 {
			return
		}
		if !bytes.HasPrefix(a.head, []byte("HTTP/1.1 101")) {
			a.answered = true // no frames follow
			return
		}
		a.inFrames = true
		a.dec.Role = frame.Client
		a.dec.RSV = frame.RSV1
		b = bytes.Clone(a.head[i+4:])
		a.head = nil
	} else {
		b = bytes.Clone(b) // the decoder unmasks in place; these are not masked
	}
	for {
		ev, chunk, n, err := a.dec.Next(b)
		b = b[n:]
		if err != nil || ev == frame.EventNeedMore {
			return
		}
		switch ev {
		case frame.EventHeader:
			a.isClose = a.dec.Header().Opcode == frame.OpClose
			a.payload = a.payload[:0]
		case frame.EventPayload:
			a.payload = append(a.payload, chunk...)
		case frame.EventEnd:
			if a.isClose {
				a.answered = true
				a.nc.Write(clientFrame(true, 0, frame.OpClose, a.payload))
				return
			}
		}
	}
}

func containsCode(codes []conn.CloseCode, c conn.CloseCode) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

func drainEvents(ch chan event) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// --- The rows ---

// handshakeRows are hostile opening handshakes.
func handshakeRows() []serverRow {
	bad := upgradeError(http.StatusBadRequest)
	rows := []serverRow{
		{name: "valid", head: request(""), send: clientFrame(true, 0, frame.OpClose, closePayload(1000, "")), closeCode: 1000, err: closeError(1000)},
		{name: "POST", head: strings.Replace(request(""), "GET", "POST", 1), status: 405, err: upgradeError(405)},
		{name: "HEAD", head: strings.Replace(request(""), "GET", "HEAD", 1), status: 405, err: upgradeError(405)},
		{name: "method not a token", head: strings.Replace(request(""), "GET", "G(T", 1), status: 400, err: bad, netHTTP: true},
		{name: "version 8", head: replaced("Version: 13", "Version: 8"), status: 426, err: upgradeError(426)},
		{name: "versions 13 and 8", head: replaced("Version: 13", "Version: 13, 8"), status: 426, err: upgradeError(426)},
		{name: "no version", head: replaced("Sec-WebSocket-Version: 13\r\n", ""), status: 400, err: bad},
		{name: "no key", head: replaced("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), status: 400, err: bad},
		{name: "short key", head: replaced("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="), status: 400, err: bad},
		{name: "key not base64", head: replaced("dGhlIHNhbXBsZSBub25jZQ==", "!!!!!!!!!!!!!!!!!!!!!!=="), status: 400, err: bad},
		{name: "two keys", head: request("Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n"), status: 400, err: bad},
		{name: "no Upgrade", head: replaced("Upgrade: websocket\r\n", ""), status: 400, err: bad},
		{name: "Upgrade h2c", head: replaced("Upgrade: websocket", "Upgrade: h2c"), status: 400, err: bad},
		{name: "Connection keep-alive", head: replaced("Connection: Upgrade", "Connection: keep-alive"), status: 400, err: bad},
		{name: "no Host", head: replaced("Host: h\r\n", ""), status: 400, err: bad, netHTTP: true},
		{name: "two Hosts", head: request("Host: evil\r\n"), status: 400, err: bad, netHTTP: true},
		{name: "HTTP/1.0", head: replaced("HTTP/1.1", "HTTP/1.0"), status: 400, err: bad},
		{name: "HTTP/2.0 request line", head: replaced("HTTP/1.1", "HTTP/2.0"), status: 505, err: upgradeError(505), netHTTP: true},
		{name: "HTTP/0.9 request line", head: replaced("HTTP/1.1", "HTTP/0.9"), status: 505, err: upgradeError(505), netHTTP: true},
		{name: "cross origin", head: request("Origin: https://evil.example\r\n"), status: 403, err: upgradeError(403)},
		{name: "origin null", head: request("Origin: null\r\n"), status: 403, err: upgradeError(403)},
		{name: "origin with userinfo", head: request("Origin: http://h@evil.example\r\n"), status: 403, err: upgradeError(403)},
		{name: "origin userinfo naming the host", head: request("Origin: http://user@h\r\n"), status: 403, err: upgradeError(403)},
		{name: "two Origins, first same-origin", head: request("Origin: http://h\r\nOrigin: https://evil.example\r\n"), status: 400, err: bad},
		{name: "origin without scheme", head: request("Origin: h\r\n"), status: 403, err: upgradeError(403)},
		{name: "same origin", head: request("Origin: http://h\r\n"), send: clientFrame(true, 0, frame.OpClose, nil), closeCode: 1005, err: closeError(1005)},
		{name: "body by Content-Length", head: request("Content-Length: 6\r\n") + "\x81\x80abcd", status: 400, err: bad},
		{name: "body chunked", head: request("Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", status: 400, err: bad},
		{name: "Content-Length 0", head: request("Content-Length: 0\r\n"), send: clientFrame(true, 0, frame.OpClose, closePayload(1000, "")), closeCode: 1000, err: closeError(1000)},
		{name: "NUL in a value", head: request("X-A: a\x00b\r\n"), status: 400, err: bad, netHTTP: true},
		{name: "bare CR in a value", head: request("X-A: a\rb\r\n"), status: 400, err: bad, netHTTP: true},
		{name: "DEL in a value", head: request("X-A: a\x7fb\r\n"), status: 400, err: bad, netHTTP: true},
		{name: "folded field", head: request("X-A: a\r\n b\r\n"), send: clientFrame(true, 0, frame.OpClose, nil), status: 400, err: bad,
			httpStatus: 101, closeCode: 1005, httpErr: closeError(1005), reason: "net/http replaces obs-fold with a space, as RFC 9112 allows; the raw path refuses it"},
		{name: "space in a field name", head: request("X A: b\r\n"), status: 400, err: bad, netHTTP: true},
		{name: "space before the colon", head: request("X-A : b\r\n"), status: 400, err: bad, netHTTP: true},
		{name: "empty field name", head: request(": b\r\n"), status: 400, err: bad, netHTTP: true},
		{name: "control in the target", head: replaced("/chat", "/c\x01hat"), status: 400, err: bad, netHTTP: true},
		{name: "binary garbage", head: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", status: 400, err: bad, netHTTP: true},
		{name: "request line only", head: "GET / HTTP/1.1\r\n\r\n", status: 400, err: bad, netHTTP: true},
		{name: "head too large", head: request("X-Big: " + strings.Repeat("x", maxHeaderBytes+8192) + "\r\n"), status: 431, err: upgradeError(431), netHTTP: true, reason: "net/http allows MaxHeaderBytes and 4 KiB more"},
		{name: "many small fields", head: request(strings.Repeat("X-A: b\r\n", 3000)), status: 431, err: upgradeError(431), netHTTP: true},
		{name: "many fields under the limit", head: request(strings.Repeat("X-A: b\r\n", 1000)), send: clientFrame(true, 0, frame.OpClose, nil), closeCode: 1005, err: closeError(1005)},
		{name: "long target", head: replaced("/chat", "/"+strings.Repeat("a", 8000)), send: clientFrame(true, 0, frame.OpClose, nil), closeCode: 1005, err: closeError(1005)},
		{name: "token lists", head: replaced("Upgrade: websocket\r\nConnection: Upgrade", "upgrade: WebSocket, foo\r\nconnection: keep-alive, UPGRADE"), send: clientFrame(true, 0, frame.OpClose, nil), closeCode: 1005, err: closeError(1005)},
		{name: "malformed extensions", head: request("Sec-WebSocket-Extensions: permessage-deflate; ==\r\n"), send: clientFrame(true, 0, frame.OpClose, nil), closeCode: 1005, err: closeError(1005), reason: "an offer that does not parse is declined, not failed"},
		{name: "window 7 offered", head: request("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n"), send: clientFrame(true, 0, frame.OpClose, nil), closeCode: 1005, err: closeError(1005)},
		{name: "a thousand subprotocols", head: request("Sec-WebSocket-Protocol: " + strings.Repeat("p, ", 999) + "p\r\n"), send: clientFrame(true, 0, frame.OpClose, nil), closeCode: 1005, err: closeError(1005)},
	}
	// A bare LF ends no head in this server's reading: it answers at once.
	rows = append(rows, serverRow{name: "bare LF", paths: []string{"raw"}, head: strings.ReplaceAll(request(""), "\r\n", "\n"), status: 400, err: bad})
	// A head that never ends, with and without line breaks, is cut at
	// MaxHeaderBytes, and a head sent too slowly at HandshakeTimeout.
	rows = append(rows,
		serverRow{name: "endless field", head: "GET / HTTP/1.1\r\nX-A: ", script: trickle(strings.Repeat("a", 1<<10), 64, 0), status: 431, err: upgradeError(431), netHTTP: true},
		serverRow{name: "endless fields", head: "GET / HTTP/1.1\r\n", script: trickle("X-A: b\r\n", 4096, 0), status: 431, err: upgradeError(431), netHTTP: true},
		serverRow{name: "slow head", head: "GET / HTTP/1.1\r\n", script: trickle("X-A: b\r\n", 1000, 10*time.Millisecond), within: handshakeLimit + 3*time.Second, status: noAnswer, err: anyError, netHTTP: true, reason: "cut at HandshakeTimeout with no answer"},
	)
	return rows
}

// trickle returns a script that writes unit n times, waiting pause after
// each, and stops when the server has closed.
func trickle(unit string, n int, pause time.Duration) func(nc net.Conn) {
	return func(nc net.Conn) {
		for range n {
			nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(nc, unit); err != nil {
				return
			}
			if pause > 0 {
				time.Sleep(pause)
			}
		}
	}
}

// frameRows are frames that break RFC 6455, sent after a valid handshake.
func frameRows() []serverRow {
	proto := protocolError(conn.CloseProtocolError)
	text := func(s string) []byte { return clientFrame(true, 0, frame.OpText, []byte(s)) }
	bye := clientFrame(true, 0, frame.OpClose, closePayload(1000, "bye"))
	var rows []serverRow
	for _, op := range []frame.Opcode{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		rows = append(rows, serverRow{name: fmt.Sprintf("reserved opcode %#x", byte(op)), send: clientFrame(true, 0, op, []byte("x")), closeCode: 1002, err: proto})
	}
	for _, rsv := range []byte{0x40, 0x20, 0x10, 0x70} {
		rows = append(rows,
			serverRow{name: fmt.Sprintf("RSV %#x on text without an extension", rsv), send: clientFrame(true, rsv, frame.OpText, []byte("x")), closeCode: 1002, err: proto},
			serverRow{name: fmt.Sprintf("RSV %#x on a ping", rsv), send: clientFrame(true, rsv, frame.OpPing, nil), closeCode: 1002, err: proto},
		)
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		rows = append(rows, serverRow{name: fmt.Sprintf("close code %d", code), send: clientFrame(true, 0, frame.OpClose, rawClose(code, "")), closeCode: 1002, err: proto})
	}
	for _, code := range []uint16{1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999} {
		rows = append(rows, serverRow{name: fmt.Sprintf("close code %d is echoed", code), send: clientFrame(true, 0, frame.OpClose, rawClose(code, "r")), closeCode: conn.CloseCode(code), err: closeError(conn.CloseCode(code))})
	}
	unmasked := serverFrame(true, 0, frame.OpText, []byte("x"))
	longLength := []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
	rows = append(rows,
		serverRow{name: "unmasked frame", send: unmasked, closeCode: 1002, err: proto},
		serverRow{name: "ping of 126 bytes", send: clientFrame(true, 0, frame.OpPing, make([]byte, 126)), closeCode: 1002, err: proto},
		serverRow{name: "fragmented ping", send: clientFrame(false, 0, frame.OpPing, nil), closeCode: 1002, err: proto},
		serverRow{name: "fragmented close", send: clientFrame(false, 0, frame.OpClose, closePayload(1000, "")), closeCode: 1002, err: proto},
		serverRow{name: "fragmented pong", send: clientFrame(false, 0, frame.OpPong, nil), closeCode: 1002, err: proto},
		serverRow{name: "continuation first", send: clientFrame(true, 0, frame.OpContinuation, []byte("x")), closeCode: 1002, err: proto},
		serverRow{name: "text inside binary", send: concat(clientFrame(false, 0, frame.OpBinary, []byte("a")), text("b")), closeCode: 1002, err: proto},
		serverRow{name: "binary inside text", send: concat(clientFrame(false, 0, frame.OpText, []byte("a")), clientFrame(true, 0, frame.OpBinary, []byte("b"))), closeCode: 1002, err: proto},
		serverRow{name: "64-bit length with the top bit", send: longLength, closeCode: 1002, err: proto},
		serverRow{name: "close with 1 byte", send: clientFrame(true, 0, frame.OpClose, []byte{3}), closeCode: 1002, err: proto},
		serverRow{name: "close reason not UTF-8", send: clientFrame(true, 0, frame.OpClose, rawClose(1000, "\xff")), closeCode: 1007, err: protocolError(1007)},
		serverRow{name: "close with 123-byte reason", send: clientFrame(true, 0, frame.OpClose, rawClose(1000, strings.Repeat("r", 123))), closeCode: 1000, err: closeError(1000)},
		serverRow{name: "data after close", send: concat(clientFrame(true, 0, frame.OpClose, closePayload(1000, "")), text("late")), closeCode: 1000, err: closeError(1000)},
		serverRow{name: "non-minimal length", send: concat([]byte{0x81, 0xfe, 0, 2, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}, bye), closeCode: 1000, err: closeError(1000), reason: "a sender rule (Section 5.2); receivers take it"},
		serverRow{name: "empty messages", send: concat(text(""), clientFrame(true, 0, frame.OpBinary, nil), bye), closeCode: 1000, err: closeError(1000)},
		serverRow{name: "empty fragments", send: concat(clientFrame(false, 0, frame.OpText, nil), clientFrame(false, 0, 0, nil), clientFrame(true, 0, 0, nil), bye), closeCode: 1000, err: closeError(1000)},
		serverRow{name: "control between fragments", send: concat(clientFrame(false, 0, frame.OpText, []byte("a")), clientFrame(true, 0, frame.OpPing, []byte("p")), clientFrame(true, 0, 0, []byte("b")), bye), closeCode: 1000, err: closeError(1000)},
	)
	invalid := map[string]string{
		"0xff":                  "a\xffb",
		"overlong slash":        "\xc0\xaf",
		"surrogate":             "\xed\xa0\x80",
		"above U+10FFFF":        "\xf4\x90\x80\x80",
		"truncated at the end":  "abc\xe2\x82",
		"lone continuation":     "\x80",
		"5-byte sequence":       "\xf8\x88\x80\x80\x80",
		"overlong NUL, 3 bytes": "\xe0\x80\x80",
	}
	for name, s := range invalid {
		rows = append(rows, serverRow{name: "text " + name, send: text(s), closeCode: 1007, err: protocolError(1007)})
	}
	rows = append(rows,
		serverRow{name: "invalid UTF-8 in an unfinished message", send: clientFrame(false, 0, frame.OpText, []byte("ok \xff")), closeCode: 1007, err: protocolError(1007), within: keepalive, reason: "fail fast: at the first invalid byte, not at the end of the message"},
		serverRow{name: "invalid UTF-8 in the second fragment", send: concat(clientFrame(false, 0, frame.OpText, []byte("valid ")), clientFrame(true, 0, 0, []byte("\xff"))), closeCode: 1007, err: protocolError(1007)},
		serverRow{name: "UTF-8 split across fragments", send: concat(clientFrame(false, 0, frame.OpText, []byte("\xe2\x82")), clientFrame(true, 0, 0, []byte("\xac")), bye), closeCode: 1000, err: closeError(1000)},
		serverRow{name: "sequence cut by the end of a fragmented message", send: concat(clientFrame(false, 0, frame.OpText, []byte("ok")), clientFrame(true, 0, 0, []byte("\xe2"))), closeCode: 1007, err: protocolError(1007)},
		serverRow{name: "frame announced over the read limit", send: frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: readLimit + 1}), closeCode: 1009, err: protocolError(1009), reason: "1009 before any payload is buffered"},
		serverRow{name: "frame announcing 2^62 bytes", send: frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 62}), closeCode: 1009, err: protocolError(1009)},
		serverRow{name: "fragments over the read limit", send: concat(clientFrame(false, 0, frame.OpBinary, make([]byte, readLimit/2)), clientFrame(false, 0, 0, make([]byte, readLimit/2)), clientFrame(true, 0, 0, []byte("x"))), closeCode: 1009, err: protocolError(1009), memory: limitMemory},
		serverRow{name: "too many fragments", send: tooManyFragments(), closeCode: 1008, err: protocolError(1008)},
		serverRow{name: "a message at the read limit", send: concat(clientFrame(true, 0, frame.OpBinary, make([]byte, readLimit)), bye), closeCode: 1000, err: closeError(1000), memory: limitMemory},
		serverRow{name: "a message at the read limit in the most fragments allowed", send: concat(inFragments(readLimit, maxFragments), bye), closeCode: 1000, err: closeError(1000), memory: limitMemory, reason: "the buffer grows by doubling, not by one fragment at a time"},
	)
	return rows
}

func tooManyFragments() []byte {
	var b []byte
	b = append(b, clientFrame(false, 0, frame.OpBinary, nil)...)
	for range maxFragments {
		b = append(b, clientFrame(false, 0, 0, nil)...)
	}
	return b
}

// inFragments returns a binary message of size bytes sent in n fragments,
// the last of which carries what does not divide evenly.
func inFragments(size, n int) []byte {
	b := clientFrame(false, 0, frame.OpBinary, make([]byte, size/n))
	for range n - 2 {
		b = append(b, clientFrame(false, 0, frame.OpContinuation, make([]byte, size/n))...)
	}
	return append(b, clientFrame(true, 0, frame.OpContinuation, make([]byte, size-(n-1)*(size/n)))...)
}

// deflate compresses p as a permessage-deflate message with
// compress/flate, which uses a 32 KiB window, without the final empty
// block's tail (RFC 7692, Section 7.2.1).
func deflate(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// farReference returns two compressed messages with context takeover,
// the second of which repeats the first from 1000 bytes back, where a
// 2^9-byte window of history no longer reaches.
func farReference() (first, second []byte) {
	block := make([]byte, 1000)
	for i := range block {
		block[i] = byte(i*7919>>3) | 0x20
	}
	var b bytes.Buffer
	w, _ := flate.NewWriterDict(&b, flate.BestCompression, block)
	w.Write(block)
	w.Flush()
	return deflate(block), bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// deflateRows abuse permessage-deflate, negotiated as browsers offer it.
func deflateRows() []serverRow {
	const offer = "permessage-deflate; client_max_window_bits"
	bye := clientFrame(true, 0, frame.OpClose, closePayload(1000, "bye"))
	bomb := deflate(make([]byte, 16<<20))
	hello := deflate([]byte("hello, compressed"))
	first, second := farReference()
	return []serverRow{
		{name: "compressed message", extensions: offer, send: concat(clientFrame(true, 0x40, frame.OpText, hello), bye), closeCode: 1000, err: closeError(1000)},
		{name: "a thousand compressed messages", extensions: offer, send: concat(bytes.Repeat(clientFrame(true, 0x40, frame.OpText, hello), 1000), bye), closeCode: 1000, err: closeError(1000), memory: 16 << 20},
		{name: "bomb: 16 MiB of zeros", extensions: offer, send: clientFrame(true, 0x40, frame.OpBinary, bomb), closeCode: 1009, err: protocolError(1009), memory: limitMemory},
		{name: "bomb in fragments", extensions: offer, send: concat(clientFrame(false, 0x40, frame.OpBinary, bomb[:len(bomb)/2]), clientFrame(true, 0, 0, bomb[len(bomb)/2:])), closeCode: 1009, err: protocolError(1009), memory: limitMemory},
		{name: "bomb as text", extensions: offer, send: clientFrame(true, 0x40, frame.OpText, deflate(bytes.Repeat([]byte("a"), 16<<20))), closeCode: 1009, err: protocolError(1009), memory: limitMemory},
		{name: "not DEFLATE", extensions: offer, send: clientFrame(true, 0x40, frame.OpBinary, []byte{0xff, 0xff, 0xff, 0xff}), closeCode: 1007, err: protocolError(1007)},
		{name: "stored block with a bad length", extensions: offer, send: clientFrame(true, 0x40, frame.OpBinary, []byte{0x01, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'}), closeCode: 1007, err: protocolError(1007)},
		{name: "stored block over the limit", extensions: offer, send: clientFrame(true, 0x40, frame.OpBinary, storedBlocks(readLimit+1)), closeCode: 1009, err: protocolError(1009), memory: limitMemory},
		{name: "reference beyond the agreed window", extensions: "permessage-deflate; client_max_window_bits=9", send: concat(clientFrame(true, 0x40, frame.OpBinary, first), clientFrame(true, 0x40, frame.OpBinary, second)),
			closeCode: 1007, err: protocolError(1007), reason: "the server keeps the 2^9 bytes of history agreed, which the reference passes"},
		{name: "compressed invalid UTF-8", extensions: offer, send: clientFrame(true, 0x40, frame.OpText, deflate([]byte("ok \xff"))), closeCode: 1007, err: protocolError(1007)},
		{name: "RSV1 on a continuation", extensions: offer, send: concat(clientFrame(false, 0x40, frame.OpText, hello), clientFrame(true, 0x40, 0, hello)), closeCode: 1002, err: protocolError(1002)},
		{name: "RSV1 on a ping", extensions: offer, send: clientFrame(true, 0x40, frame.OpPing, nil), closeCode: 1002, err: protocolError(1002)},
		{name: "RSV2 with permessage-deflate", extensions: offer, send: clientFrame(true, 0x20, frame.OpText, []byte("x")), closeCode: 1002, err: protocolError(1002)},
		{name: "RSV1 when compression was declined", extensions: "permessage-deflate; foo=1", send: clientFrame(true, 0x40, frame.OpText, hello), closeCode: 1002, err: protocolError(1002)},
		{name: "truncated compressed data", extensions: offer, send: clientFrame(true, 0x40, frame.OpText, hello[:len(hello)/2]), closeCode: 1007, err: protocolError(1007)},
	}
}

// storedBlocks returns DEFLATE stored blocks holding n zero bytes.
func storedBlocks(n int) []byte {
	var b []byte
	for n > 0 {
		k := min(n, 65535)
		n -= k
		b = append(b, 0, byte(k), byte(k>>8), ^byte(k), ^byte(k>>8))
		b = append(b, make([]byte, k)...)
	}
	return b
}

// floodRows flood the server with frames, and resourceRows hold on to it.
func floodRows() []serverRow {
	bye := clientFrame(true, 0, frame.OpClose, closePayload(1000, "bye"))
	ping := clientFrame(true, 0, frame.OpPing, []byte("p"))
	pong := clientFrame(true, 0, frame.OpPong, []byte("p"))
	return []serverRow{
		{name: "ten thousand pings", send: concat(bytes.Repeat(ping, 10000), bye), closeCode: 1000, err: closeError(1000), memory: 8 << 20, reason: "answered; the most recent ping at least (Section 5.5.3)"},
		{name: "ten thousand unsolicited pongs", send: concat(bytes.Repeat(pong, 10000), bye), closeCode: 1000, err: closeError(1000)},
		{name: "ten thousand empty messages", send: concat(bytes.Repeat(clientFrame(true, 0, frame.OpText, nil), 10000), bye), closeCode: 1000, err: closeError(1000), memory: 16 << 20},
		{name: "ten thousand close frames", send: bytes.Repeat(bye, 10000), closeCode: 1000, err: closeError(1000)},
	}
}

func resourceRows() []serverRow {
	header := frame.AppendHeader(nil, frame.Header{Opcode: frame.OpBinary, Fin: true, Masked: true, Length: 1000})
	return []serverRow{
		{name: "silent after the handshake", within: 3 * keepalive, noClose: true, codes: nil, err: is(conn.ErrKeepalive), reason: "keepalive fails it after 2 intervals", closeCode: 0},
		{name: "a byte per 100 ms inside a frame", send: header, script: trickle("x", 40, 100*time.Millisecond), within: 5 * keepalive, err: is(conn.ErrKeepalive), noClose: true, reason: "bytes inside a frame are not life"},
		{name: "stops reading while the server writes", script: stopReading, readAfter: true, within: writeTimeout + 3*time.Second, err: anyError, noClose: true, memory: 64 << 20, reason: "WriteTimeout fails it"},
		{name: "ends without a close frame", send: clientFrame(false, 0, frame.OpText, []byte("half")), script: closeWrite, err: closeError(conn.CloseAbnormalClosure), noClose: true},
		{name: "resets mid-frame", send: frame.AppendHeader(nil, frame.Header{Opcode: frame.OpBinary, Masked: true, Length: 100}), script: reset, err: anyError, noClose: true, status: unread, reason: "1006, or a failed upgrade if the reset comes before the 101 is written"},
	}
}

// stopReading sends messages the server echoes and never reads them, so
// that the server's writes block.
func stopReading(nc net.Conn) {
	msg := clientFrame(true, 0, frame.OpBinary, make([]byte, 64<<10))
	nc.SetWriteDeadline(time.Now().Add(writeTimeout + time.Second))
	for range 200 {
		if _, err := nc.Write(msg); err != nil {
			return
		}
	}
}

func closeWrite(nc net.Conn) { nc.(*net.TCPConn).CloseWrite() }

// reset ends the connection with a TCP RST.
func reset(nc net.Conn) {
	tc := nc.(*net.TCPConn)
	tc.SetLinger(0)
	tc.Close()
}

package wstest

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// defects switches off single checks of the test subject, so tests can
// show which cases each check makes pass.
type defects struct {
	noUTF8          bool // never validates text payloads
	noFailFast      bool // validates text only when the message is complete
	acceptRSV       bool // ignores RSV bits
	noPong          bool // never answers pings
	wrongCloseReply bool // answers every Close with 1001
	noCloseCheck    bool // accepts and echoes any close code

	// permessage-deflate (deflate_subject_test.go)
	noDeflate          bool // never negotiates permessage-deflate
	deflatePlainRSV    bool // sets RSV1 on its echoes but does not compress them
	deflateWideWindow  bool // compresses with a 32 KiB window whatever window it agreed to
	deflateNoRxContext bool // inflates every message on its own, though the peer takes its context over
	deflateRSVEveryFrm bool // sends compressed echoes in two frames, both with RSV1
}

// subject is a tiny raw WebSocket echo endpoint written for these tests,
// independent of the suite's session code. It runs either side of a
// connection: as a server it expects masked frames, as a client it masks.
type subject struct {
	d      defects
	client bool
	nc     net.Conn
	br     *bufio.Reader
	pmd    *subjectDeflate // negotiated permessage-deflate, or nil
}

// errClosed ends the read loop after the closing handshake.
var errClosed = fmt.Errorf("subject: closed")

func (p *subject) write(op byte, payload []byte) error {
	return p.writeFrame(op, true, 0, payload)
}

func (p *subject) writeFrame(op byte, fin bool, rsv byte, payload []byte) error {
	var key []byte
	if p.client {
		key = make([]byte, 4)
		_, _ = rand.Read(key)
	}
	b := appendHeader(nil, op, fin, rsv, len(payload), key)
	start := len(b)
	b = append(b, payload...)
	if key != nil {
		for i := start; i < len(b); i++ {
			b[i] ^= key[(i-start)&3]
		}
	}
	_, err := p.nc.Write(b)
	return err
}

// failWith sends a Close with code, then waits briefly for the peer's
// Close before the connection is dropped.
func (p *subject) failWith(code int, skip uint64) error {
	_ = p.write(opClose, binary.BigEndian.AppendUint16(nil, uint16(code)))
	_ = p.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.CopyN(io.Discard, p.br, int64(min(skip, 1<<30))); err != nil {
		return errClosed
	}
	p.drain()
	return errClosed
}

// failAfterClose answers the peer's (bad) Close with code; the closing
// handshake is then complete.
func (p *subject) failAfterClose(code int) {
	_ = p.write(opClose, binary.BigEndian.AppendUint16(nil, uint16(code)))
	if p.client {
		p.drain()
	}
}

// drain reads until the peer's Close (as a server) or the end of the
// connection (as a client), or until a short time passes.
func (p *subject) drain() {
	_ = p.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		f, err := readFrame(p.br)
		if err != nil || (f.opcode == opClose && !p.client) {
			return
		}
	}
}

func subjectCloseCodeOK(code int) bool {
	return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1011 || code >= 3000 && code <= 4999
}

// serve runs the echo loop until the connection ends.
func (p *subject) serve() {
	defer p.nc.Close()
	var (
		inMsg      bool
		msgOp      byte
		msg        []byte
		checker    utf8Validator
		compressed bool
	)
	buf := make([]byte, 32<<10)
	for {
		var h [14]byte
		if _, err := io.ReadFull(p.br, h[:2]); err != nil {
			return
		}
		fin, rsv, op := h[0]&0x80 != 0, (h[0]>>4)&7, h[0]&0x0F
		masked, n := h[1]&0x80 != 0, uint64(h[1]&0x7F)
		switch n {
		case 126:
			if _, err := io.ReadFull(p.br, h[:2]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(h[:2]))
		case 127:
			if _, err := io.ReadFull(p.br, h[:8]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(h[:8])
		}
		var key [4]byte
		if masked {
			if _, err := io.ReadFull(p.br, key[:]); err != nil {
				return
			}
		}
		control := op >= 8
		rsvOK := rsv == 0 || p.d.acceptRSV || (p.pmd != nil && rsv == 4 && !control && !inMsg)
		if masked == p.client || !rsvOK || n > 64<<20 {
			_ = p.failWith(closeProtocolError, n)
			return
		}
		switch {
		case op == opClose && n > 125:
			p.failAfterClose(closeProtocolError)
			return
		case control && (op > opPong || !fin || n > 125):
			_ = p.failWith(closeProtocolError, n)
			return
		case !control && (op > opBinary || inMsg == (op != opContinuation)):
			_ = p.failWith(closeProtocolError, n)
			return
		}
		if !control && !inMsg {
			inMsg, msgOp, msg = true, op, msg[:0]
			compressed = p.pmd != nil && rsv == 4
			checker.reset()
		}
		// Read the payload as it arrives, validating text on the way.
		var payload []byte
		pos := 0
		for rem := n; rem > 0; {
			k, err := p.br.Read(buf[:min(uint64(len(buf)), rem)])
			if err != nil {
				return
			}
			chunk := buf[:k]
			for i := range chunk {
				chunk[i] ^= key[(pos+i)&3]
			}
			pos += k
			rem -= uint64(k)
			if !control && msgOp == opText && !compressed && !p.d.noUTF8 && !p.d.noFailFast {
				if ok, _ := checker.validate(chunk); !ok {
					_ = p.failWith(closeInvalidPayload, rem)
					return
				}
			}
			payload = append(payload, chunk...)
		}
		switch op {
		case opPing:
			if !p.d.noPong {
				_ = p.write(opPong, payload)
			}
		case opPong:
		case opClose:
			p.onClose(payload)
			return
		default:
			msg = append(msg, payload...)
			if !fin {
				continue
			}
			inMsg = false
			data := msg
			if compressed {
				var err error
				if data, err = p.pmd.inflate(msg); err != nil {
					_ = p.failWith(closeInvalidPayload, 0)
					return
				}
			}
			if msgOp == opText && !p.d.noUTF8 && !utf8.Valid(data) {
				_ = p.failWith(closeInvalidPayload, 0)
				return
			}
			if err := p.writeMessage(msgOp, data); err != nil {
				return
			}
		}
	}
}

func (p *subject) onClose(payload []byte) {
	var reply []byte
	switch {
	case len(payload) == 1:
		p.failAfterClose(closeProtocolError)
		return
	case len(payload) >= 2:
		code := int(binary.BigEndian.Uint16(payload))
		if !p.d.noCloseCheck && !subjectCloseCodeOK(code) {
			p.failAfterClose(closeProtocolError)
			return
		}
		if !utf8.Valid(payload[2:]) {
			p.failAfterClose(closeInvalidPayload)
			return
		}
		reply = binary.BigEndian.AppendUint16(nil, uint16(code))
	}
	if p.d.wrongCloseReply {
		reply = binary.BigEndian.AppendUint16(nil, closeGoingAway)
	}
	_ = p.write(opClose, reply)
	if p.client {
		// A client waits for the server to close the TCP connection.
		p.drain()
	}
}

// startSubjectServer serves the subject as an echo server and returns its
// ws:// URL.
func startSubjectServer(t *testing.T, d defects) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				br := bufio.NewReader(nc)
				req, err := http.ReadRequest(br)
				if err != nil {
					nc.Close()
					return
				}
				key, err := checkUpgrade(req)
				if err != nil {
					nc.Close()
					return
				}
				pmd, ext := subjectAccept(req.Header.Get("Sec-WebSocket-Extensions"), d)
				if _, err := nc.Write(upgradeResponse(key, "subject", ext)); err != nil {
					nc.Close()
					return
				}
				(&subject{d: d, nc: nc, br: br, pmd: pmd}).serve()
			}()
		}
	}()
	return "ws://" + l.Addr().String() + "/"
}

// subjectDial opens a client connection to the fuzzing server.
func subjectDial(rawURL string) (net.Conn, *bufio.Reader, error) {
	nc, br, _, err := subjectDialOffer(rawURL, "")
	return nc, br, err
}

// subjectDialOffer opens a client connection offering extensions and
// returns the server's Sec-WebSocket-Extensions.
func subjectDialOffer(rawURL, offer string) (net.Conn, *bufio.Reader, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, "", err
	}
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, nil, "", err
	}
	var kb [16]byte
	_, _ = rand.Read(kb[:])
	key := base64.StdEncoding.EncodeToString(kb[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	if offer != "" {
		req += "Sec-WebSocket-Extensions: " + offer + "\r\n"
	}
	req += "\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		nc.Close()
		return nil, nil, "", err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key) {
		nc.Close()
		return nil, nil, "", fmt.Errorf("subject: handshake failed: %v", err)
	}
	return nc, br, resp.Header.Get("Sec-WebSocket-Extensions"), nil
}

// readText reads the first text message of a service endpoint.
func readText(nc net.Conn, br *bufio.Reader) (string, error) {
	f, err := readFrame(br)
	if err != nil {
		return "", err
	}
	nc.Close()
	return string(f.payload), nil
}

// runSubjectClient drives the fuzzing server at base as an Autobahn test
// client would: getCaseCount, every runCase echoing, updateReports.
func runSubjectClient(t *testing.T, base, agent string, d defects) {
	t.Helper()
	nc, br, err := subjectDial(base + "/getCaseCount")
	if err != nil {
		t.Fatal(err)
	}
	txt, err := readText(nc, br)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(txt)
	if err != nil {
		t.Fatalf("getCaseCount sent %q", txt)
	}
	for i := 1; i <= n; i++ {
		nc, br, ext, err := subjectDialOffer(fmt.Sprintf("%s/runCase?case=%d&agent=%s", base, i, agent), subjectOffer(d))
		if err != nil {
			t.Fatal(err)
		}
		pmd, err := subjectResponse(ext, d)
		if err != nil {
			nc.Close()
			t.Fatal(err)
		}
		(&subject{d: d, client: true, nc: nc, br: br, pmd: pmd}).serve()
	}
	nc, br, err = subjectDial(base + "/updateReports?agent=" + agent)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = readFrame(br)
	nc.Close()
}

//go:build !js

package conn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/mask"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		ch <- result{c, err}
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { a.Close(); r.c.Close() })
	return a, r.c
}

// connPair returns a client and a server Conn talking over loopback TCP.
func connPair(t testing.TB, clientOpts, serverOpts *Options) (client, server *Conn) {
	return connPairHandshake(t, nil, clientOpts, serverOpts)
}

// connPairHandshake returns a client and a server Conn talking over
// loopback TCP, with the handshake h agreed.
func connPairHandshake(t testing.TB, h *Handshake, clientOpts, serverOpts *Options) (client, server *Conn) {
	a, b := tcpPair(t)
	client = mustNew(t, a, frame.Client, h, clientOpts)
	server = mustNew(t, b, frame.Server, h, serverOpts)
	t.Cleanup(func() { client.CloseNow(); server.CloseNow() })
	return client, server
}

// A rawPeer speaks frames directly, to send what a Conn never would and to
// see exactly what a Conn sends.
type rawPeer struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	role frame.Role // the peer's own role
}

// waitClosed waits until c's network connection is closed.
func waitClosed(t testing.TB, c *Conn) {
	t.Helper()
	select {
	case <-c.done():
	case <-time.After(10 * time.Second):
		t.Fatalf("State() = %v after 10 s, want closed", c.State())
	}
}

// mustNew is New for tests: a failure ends the test.
func mustNew(t testing.TB, nc net.Conn, role frame.Role, h *Handshake, opts *Options) *Conn {
	t.Helper()
	c, err := New(nc, role, h, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawPair returns a Conn in role and a raw peer in the other role.
func rawPair(t testing.TB, role frame.Role, opts *Options) (*Conn, *rawPeer) {
	return rawPairHandshake(t, role, nil, opts)
}

// rawPairHandshake is rawPair with the handshake h agreed.
func rawPairHandshake(t testing.TB, role frame.Role, h *Handshake, opts *Options) (*Conn, *rawPeer) {
	return rawPairOver(t, role, h, opts, func(nc net.Conn) net.Conn { return nc })
}

// rawPairOver is rawPairHandshake with the Conn's end of the connection
// as wrap returns it.
func rawPairOver(t testing.TB, role frame.Role, h *Handshake, opts *Options, wrap func(net.Conn) net.Conn) (*Conn, *rawPeer) {
	a, b := tcpPair(t)
	peerRole := frame.Client
	if role == frame.Client {
		peerRole = frame.Server
	}
	c := mustNew(t, wrap(a), role, h, opts)
	t.Cleanup(func() { c.CloseNow() })
	return c, &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: peerRole}
}

// frameBytes returns the wire form of a frame as the peer would send it.
func (p *rawPeer) frameBytes(fin bool, rsv byte, op frame.Opcode, payload []byte) []byte {
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Length: int64(len(payload))}
	if p.role == frame.Client {
		h.Masked = true
		h.Key = mask.Key{1, 2, 3, 4}
	}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	if h.Masked {
		h.Key.Apply(b[start:], 0)
	}
	return b
}

func (p *rawPeer) write(b []byte) {
	p.t.Helper()
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatalf("raw peer write: %v", err)
	}
}

func (p *rawPeer) send(fin bool, op frame.Opcode, payload []byte) {
	p.t.Helper()
	p.write(p.frameBytes(fin, 0, op, payload))
}

type rawFrame struct {
	Fin     bool
	RSV     byte
	Opcode  frame.Opcode
	Payload []byte
}

// readHeader reads one frame header from br.
func readHeader(br *bufio.Reader) (frame.Header, error) {
	need := 2
	for {
		b, err := br.Peek(need)
		if err != nil {
			return frame.Header{}, err
		}
		h, n, err := frame.ParseHeader(b)
		if err == io.ErrUnexpectedEOF {
			need = n
			continue
		}
		if err != nil {
			return frame.Header{}, err
		}
		br.Discard(n)
		return h, nil
	}
}

// next reads one frame, checking its masking.
func (p *rawPeer) next() (rawFrame, error) {
	p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	h, err := readHeader(p.br)
	if err != nil {
		return rawFrame{}, err
	}
	if h.Masked != (p.role == frame.Server) {
		return rawFrame{}, fmt.Errorf("frame masked=%v arriving at a %v", h.Masked, p.role)
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, payload); err != nil {
		return rawFrame{}, err
	}
	if h.Masked {
		h.Key.Apply(payload, 0)
	}
	return rawFrame{Fin: h.Fin, RSV: h.RSV, Opcode: h.Opcode, Payload: payload}, nil
}

func (p *rawPeer) mustNext() rawFrame {
	p.t.Helper()
	f, err := p.next()
	if err != nil {
		p.t.Fatalf("raw peer read: %v", err)
	}
	return f
}

// expectEOF checks that the Conn closed the TCP connection.
func (p *rawPeer) expectEOF() {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(p.br); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		p.t.Errorf("waiting for EOF: read %x, %v", b, err)
	}
}

func closePayload(code CloseCode, reason string) []byte {
	return frame.AppendClose(nil, code, reason)
}

var ctx = context.Background()

func TestEcho(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 4000, 4096, 65535, 65536, 1 << 20}
	for _, clientToServer := range []bool{true, false} {
		t.Run(fmt.Sprintf("clientToServer=%v", clientToServer), func(t *testing.T) {
			client, server := connPair(t, nil, nil)
			from, to := server, client
			if clientToServer {
				from, to = client, server
			}
			errc := make(chan error, 1)
			go func() {
				for i, size := range sizes {
					typ := Binary
					if i%2 == 0 {
						typ = Text
					}
					if err := from.Write(ctx, typ, payloadOf(size)); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			var buf []byte
			for i, size := range sizes {
				typ, msg, err := to.Read(ctx, buf[:0])
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				wantType := Binary
				if i%2 == 0 {
					wantType = Text
				}
				if typ != wantType || !bytes.Equal(msg, payloadOf(size)) {
					t.Fatalf("message %d: got %v of %d bytes, want %v of %d", i, typ, len(msg), wantType, size)
				}
				buf = msg
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// payloadOf returns size bytes of ASCII text.
func payloadOf(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

func TestStreaming(t *testing.T) {
	client, server := connPair(t, &Options{WriteBufferSize: 100}, nil)
	errc := make(chan error, 1)
	go func() {
		w, err := client.Writer(ctx, Text)
		if err != nil {
			errc <- err
			return
		}
		for i := 0; i < 50; i++ {
			if _, err := fmt.Fprintf(w, "line %02d\n", i); err != nil {
				errc <- err
				return
			}
		}
		errc <- w.Close()
	}()
	typ, r, err := server.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&want, "line %02d\n", i)
	}
	if typ != Text || string(got) != want.String() {
		t.Errorf("got %v %q, want text %q", typ, got, want.String())
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestWriterCoalesces checks that small writes become full frames, not a
// frame per write.
func TestWriterCoalesces(t *testing.T) {
	c, peer := rawPair(t, frame.Server, &Options{WriteBufferSize: 64})
	go func() {
		w, _ := c.Writer(ctx, Binary)
		for i := 0; i < 100; i++ {
			w.Write([]byte{byte(i), byte(i), byte(i)})
		}
		w.Close()
	}()
	var sizes []int
	var got []byte
	for {
		f := peer.mustNext()
		sizes = append(sizes, len(f.Payload))
		got = append(got, f.Payload...)
		if f.Fin {
			break
		}
	}
	want := []int{64, 64, 64, 64, 44}
	if diff := cmp.Diff(want, sizes); diff != "" {
		t.Errorf("frame sizes mismatch (-want +got):\n%s", diff)
	}
	if len(got) != 300 || got[299] != 99 {
		t.Errorf("payload of %d bytes ending %d, want 300 ending 99", len(got), got[len(got)-1])
	}
}

func TestFragmentsWithControlFrames(t *testing.T) {
	c, peer := rawPair(t, frame.Server, nil)
	peer.send(false, frame.OpText, []byte("Hel"))
	peer.send(true, frame.OpPing, []byte("p1"))
	peer.send(false, frame.OpContinuation, []byte("lo, "))
	peer.send(true, frame.OpPong, []byte("unsolicited"))
	peer.send(false, frame.OpContinuation, nil)
	peer.send(true, frame.OpContinuation, []byte("world"))
	typ, msg, err := c.Read(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if typ != Text || string(msg) != "Hello, world" {
		t.Errorf("Read = %v %q, want text %q", typ, msg, "Hello, world")
	}
	pong := peer.mustNext()
	if diff := cmp.Diff(rawFrame{Fin: true, Opcode: frame.OpPong, Payload: []byte("p1")}, pong); diff != "" {
		t.Errorf("pong mismatch (-want +got):\n%s", diff)
	}
}

// TestControlBetweenFragments checks that a pong and a ping go out between
// the frames of a message being streamed.
func TestControlBetweenFragments(t *testing.T) {
	c, peer := rawPair(t, frame.Client, &Options{WriteBufferSize: 16})
	w, err := c.Writer(ctx, Binary)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 20)) // one full frame out, 4 bytes buffered
	if f := peer.mustNext(); f.Opcode != frame.OpBinary || f.Fin {
		t.Fatalf("first frame %+v", f)
	}
	// A ping from the peer, answered while the message is unfinished.
	peer.send(true, frame.OpPing, []byte("x"))
	go c.Read(ctx, nil)
	if f := peer.mustNext(); f.Opcode != frame.OpPong || string(f.Payload) != "x" {
		t.Fatalf("want pong x between fragments, got %+v", f)
	}
	pingDone := make(chan error, 1)
	go func() {
		_, err := c.Ping(ctx, []byte("mine"))
		pingDone <- err
	}()
	f := peer.mustNext()
	if f.Opcode != frame.OpPing || string(f.Payload) != "mine" {
		t.Fatalf("want ping between fragments, got %+v", f)
	}
	peer.send(true, frame.OpPong, []byte("mine"))
	if err := <-pingDone; err != nil {
		t.Fatalf("Ping: %v", err)
	}
	w.Close()
	if f := peer.mustNext(); f.Opcode != frame.OpContinuation || !f.Fin || len(f.Payload) != 4 {
		t.Fatalf("last frame %+v", f)
	}
}

func TestViolations(t *testing.T) {
	ff := func(fin bool, rsv byte, op frame.Opcode, payload []byte) func(p *rawPeer) []byte {
		return func(p *rawPeer) []byte { return p.frameBytes(fin, rsv, op, payload) }
	}
	seq := func(parts ...func(p *rawPeer) []byte) func(p *rawPeer) []byte {
		return func(p *rawPeer) []byte {
			var b []byte
			for _, part := range parts {
				b = append(b, part(p)...)
			}
			return b
		}
	}
	tests := []struct {
		name     string
		role     frame.Role // of the Conn under test
		opts     *Options
		send     func(p *rawPeer) []byte
		wantCode CloseCode
		wantErr  error
	}{{
		name:     "unmasked frame at a server",
		role:     frame.Server,
		send:     func(p *rawPeer) []byte { return []byte{0x81, 0x01, 'x'} },
		wantCode: CloseProtocolError,
	}, {
		name:     "masked frame at a client",
		role:     frame.Client,
		send:     func(p *rawPeer) []byte { return []byte{0x81, 0x81, 1, 2, 3, 4, 'x'} },
		wantCode: CloseProtocolError,
	}, {
		name:     "RSV1 without extension",
		role:     frame.Server,
		send:     ff(true, frame.RSV1, frame.OpText, []byte("x")),
		wantCode: CloseProtocolError,
	}, {
		name:     "reserved opcode",
		role:     frame.Client,
		send:     ff(true, 0, 0x3, nil),
		wantCode: CloseProtocolError,
	}, {
		name:     "fragmented ping",
		role:     frame.Server,
		send:     ff(false, 0, frame.OpPing, []byte("x")),
		wantCode: CloseProtocolError,
	}, {
		name:     "ping longer than 125 bytes",
		role:     frame.Server,
		send:     ff(true, 0, frame.OpPing, make([]byte, 126)),
		wantCode: CloseProtocolError,
	}, {
		name:     "continuation with nothing to continue",
		role:     frame.Server,
		send:     ff(true, 0, frame.OpContinuation, []byte("x")),
		wantCode: CloseProtocolError,
	}, {
		name:     "new message inside a fragmented one",
		role:     frame.Client,
		send:     seq(ff(false, 0, frame.OpText, []byte("a")), ff(true, 0, frame.OpBinary, []byte("b"))),
		wantCode: CloseProtocolError,
	}, {
		name:     "invalid UTF-8",
		role:     frame.Server,
		send:     ff(true, 0, frame.OpText, []byte{'a', 0xED, 0xA0, 0x80}),
		wantCode: CloseInvalidFramePayloadData,
	}, {
		name:     "text ending inside a UTF-8 sequence",
		role:     frame.Server,
		send:     seq(ff(false, 0, frame.OpText, []byte{'a', 0xE2, 0x82}), ff(true, 0, frame.OpContinuation, nil)),
		wantCode: CloseInvalidFramePayloadData,
	}, {
		name:     "message over the read limit",
		role:     frame.Server,
		opts:     &Options{ReadLimit: 10},
		send:     seq(ff(false, 0, frame.OpBinary, make([]byte, 6)), ff(true, 0, frame.OpContinuation, make([]byte, 5))),
		wantCode: CloseMessageTooBig,
		wantErr:  ErrReadLimit,
	}, {
		name:     "too many fragments",
		role:     frame.Server,
		opts:     &Options{MaxFragments: 2},
		send:     seq(ff(false, 0, frame.OpBinary, nil), ff(false, 0, frame.OpContinuation, nil), ff(true, 0, frame.OpContinuation, nil)),
		wantCode: ClosePolicyViolation,
	}, {
		name:     "close with a 1-byte payload",
		role:     frame.Server,
		send:     ff(true, 0, frame.OpClose, []byte{3}),
		wantCode: CloseProtocolError,
	}, {
		name:     "close with code 1005",
		role:     frame.Client,
		send:     ff(true, 0, frame.OpClose, []byte{0x03, 0xED}),
		wantCode: CloseProtocolError,
	}, {
		name:     "close with an invalid UTF-8 reason",
		role:     frame.Server,
		send:     ff(true, 0, frame.OpClose, []byte{0x03, 0xE8, 0xFF}),
		wantCode: CloseInvalidFramePayloadData,
	}, {
		name:     "64-bit length with the top bit set",
		role:     frame.Client,
		send:     func(p *rawPeer) []byte { return []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0} },
		wantCode: CloseProtocolError,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			if opts == nil {
				opts = &Options{}
			}
			opts.CloseTimeout = 10 * time.Second // long, so a missing answer shows as a slow test
			c, peer := rawPair(t, tt.role, opts)
			peer.write(tt.send(peer))
			errc := make(chan error, 1)
			go func() {
				_, _, err := c.Read(ctx, nil)
				errc <- err
			}()
			f := peer.mustNext()
			code, _, cerr := frame.ParseClose(f.Payload)
			if f.Opcode != frame.OpClose || cerr != nil || code != tt.wantCode {
				t.Fatalf("peer got %+v, want a close frame with code %v", f, tt.wantCode)
			}
			// The Conn waits for our answer (unless our close frame was the
			// violation), then closes TCP.
			peer.nc.Write(peer.frameBytes(true, 0, frame.OpClose, f.Payload))
			peer.expectEOF()
			err := <-errc
			var pe *frame.ProtocolError
			if !errors.As(err, &pe) || pe.Code != tt.wantCode {
				t.Fatalf("Read error = %v, want a *frame.ProtocolError with code %v", err, tt.wantCode)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Read error = %v, want it to match %v", err, tt.wantErr)
			}
			if _, _, err2 := c.Read(ctx, nil); !errors.Is(err2, err) {
				t.Errorf("second Read error = %v, want the same %v", err2, err)
			}
			if s := c.State(); s != Closed {
				t.Errorf("State() = %v, want closed", s)
			}
		})
	}
}

// TestFailFastUTF8 checks that invalid UTF-8 fails the connection before the
// rest of the frame has arrived.
func TestFailFastUTF8(t *testing.T) {
	c, peer := rawPair(t, frame.Server, &Options{CloseTimeout: 100 * time.Millisecond})
	whole := peer.frameBytes(true, 0, frame.OpText, append([]byte("valid \xF5 then"), make([]byte, 1000)...))
	peer.write(whole[:8+7]) // 4-byte header, key and "valid \xF5" of a 1011-byte frame
	_, _, err := c.Read(ctx, nil)
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) || pe.Code != CloseInvalidFramePayloadData {
		t.Fatalf("Read error = %v, want 1007", err)
	}
	if f := peer.mustNext(); f.Opcode != frame.OpClose {
		t.Fatalf("peer got %+v, want close", f)
	}
}

func TestReadLimitBeforePayload(t *testing.T) {
	c, peer := rawPair(t, frame.Server, &Options{ReadLimit: 1000, CloseTimeout: 100 * time.Millisecond})
	// Only the header of a 1 GiB frame: the Conn must not wait for (or
	// allocate) the payload.
	h := frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 30}
	peer.write(frame.AppendHeader(nil, h))
	_, _, err := c.Read(ctx, nil)
	if !errors.Is(err, ErrReadLimit) {
		t.Fatalf("Read error = %v, want ErrReadLimit", err)
	}
	f := peer.mustNext()
	if code, _, _ := frame.ParseClose(f.Payload); code != CloseMessageTooBig {
		t.Errorf("close code %v, want 1009", code)
	}
}

func TestPeerClose(t *testing.T) {
	tests := []struct {
		name     string
		role     frame.Role
		payload  []byte
		wantCode CloseCode
		reason   string
	}{{
		name:     "server gets 1000 with reason",
		role:     frame.Server,
		payload:  closePayload(1000, "bye"),
		wantCode: 1000,
		reason:   "bye",
	}, {
		name:     "client gets 4000",
		role:     frame.Client,
		payload:  closePayload(4000, "custom"),
		wantCode: 4000,
		reason:   "custom",
	}, {
		name:     "empty close",
		role:     frame.Server,
		payload:  nil,
		wantCode: CloseNoStatusReceived,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, peer := rawPair(t, tt.role, &Options{CloseTimeout: 2 * time.Second})
			peer.send(true, frame.OpClose, tt.payload)
			errc := make(chan error, 1)
			go func() {
				_, _, err := c.Read(ctx, nil)
				errc <- err
			}()
			echo := peer.mustNext()
			if diff := cmp.Diff(rawFrame{Fin: true, Opcode: frame.OpClose, Payload: tt.payload}, echo, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("echo mismatch (-want +got):\n%s", diff)
			}
			if tt.role == frame.Server {
				peer.expectEOF() // the server closes TCP first
			} else {
				peer.nc.Close()
			}
			err := <-errc
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != tt.wantCode || ce.Reason != tt.reason {
				t.Fatalf("Read error = %v, want CloseError %v %q", err, tt.wantCode, tt.reason)
			}
			if err := c.Write(ctx, Text, []byte("late")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Write after close = %v, want net.ErrClosed", err)
			}
		})
	}
}

func TestClose(t *testing.T) {
	for _, role := range []frame.Role{frame.Server, frame.Client} {
		t.Run(role.String(), func(t *testing.T) {
			c, peer := rawPair(t, role, &Options{CloseTimeout: 5 * time.Second})
			done := make(chan error, 1)
			go func() { done <- c.Close(CloseGoingAway, "shutting down") }()
			f := peer.mustNext()
			if code, reason, _ := frame.ParseClose(f.Payload); f.Opcode != frame.OpClose || code != CloseGoingAway || reason != "shutting down" {
				t.Fatalf("peer got %+v", f)
			}
			// Data still in flight before the peer's close is kept for Read.
			peer.send(true, frame.OpText, []byte("in flight"))
			peer.send(true, frame.OpClose, f.Payload)
			if role == frame.Server {
				peer.expectEOF()
			} else {
				peer.nc.Close()
			}
			if err := <-done; err != nil {
				t.Fatalf("Close: %v", err)
			}
			// A client closes TCP once the server has: in the background.
			waitClosed(t, c)
			if err := c.Close(1000, ""); !errors.Is(err, net.ErrClosed) {
				t.Errorf("second Close = %v, want net.ErrClosed", err)
			}
			if typ, msg, err := c.Read(ctx, nil); typ != Text || string(msg) != "in flight" || err != nil {
				t.Errorf("first Read after Close = %v %q, %v; want the text message in flight", typ, msg, err)
			}
			if _, _, err := c.Read(ctx, nil); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Read after Close = %v, want net.ErrClosed", err)
			}
		})
	}
}

// TestCloseWithReader checks Close while another goroutine is blocked in
// Read: the reader sees the peer's answer.
func TestCloseWithReader(t *testing.T) {
	client, server := connPair(t, nil, nil)
	serverErr := make(chan error, 1)
	go func() {
		_, _, err := server.Read(ctx, nil)
		serverErr <- err
	}()
	clientErr := make(chan error, 1)
	go func() {
		_, _, err := client.Read(ctx, nil)
		clientErr <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the reader block; the test passes either way
	if err := client.Close(CloseNormalClosure, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	var ce *CloseError
	if err := <-serverErr; !errors.As(err, &ce) || ce.Code != 1000 || ce.Reason != "done" {
		t.Errorf("server Read = %v, want CloseError 1000 done", err)
	}
	if err := <-clientErr; !errors.As(err, &ce) || ce.Code != 1000 {
		t.Errorf("client Read = %v, want the echoed CloseError 1000", err)
	}
}

func TestCloseTimesOut(t *testing.T) {
	c, peer := rawPair(t, frame.Server, &Options{CloseTimeout: 50 * time.Millisecond})
	if err := c.Close(1000, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
	peer.mustNext()
	peer.expectEOF()
}

func TestCloseInvalidCode(t *testing.T) {
	c, _ := rawPair(t, frame.Server, nil)
	for _, code := range []CloseCode{0, 999, 1004, 1005 + 1, 1015, 2000, 5000} {
		if err := c.Close(code, ""); err == nil {
			t.Errorf("Close(%d) = nil, want an error", code)
		}
	}
	if s := c.State(); s != Open {
		t.Errorf("State() = %v after refused closes, want open", s)
	}
}

func TestAbnormalClosure(t *testing.T) {
	c, peer := rawPair(t, frame.Client, nil)
	peer.write([]byte{0x82, 0x05, 'a'}) // a frame cut short
	peer.nc.Close()
	_, _, err := c.Read(ctx, nil)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != CloseAbnormalClosure {
		t.Fatalf("Read = %v, want CloseError 1006", err)
	}
}

// TestReadTimeoutResumes checks that a read cut by its context mid-frame
// leaves the Conn usable and the next read returns the whole message.
func TestReadTimeoutResumes(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		t.Run(fmt.Sprintf("streaming=%v", streaming), func(t *testing.T) {
			c, peer := rawPair(t, frame.Server, nil)
			msg := []byte("a message cut in the middle of its second frame")
			wire := append(peer.frameBytes(false, 0, frame.OpText, msg[:10]), peer.frameBytes(true, 0, frame.OpContinuation, msg[10:])...)
			peer.write(wire[:25])
			read := func(ctx context.Context) ([]byte, error) {
				if !streaming {
					_, b, err := c.Read(ctx, nil)
					return b, err
				}
				_, r, err := c.Reader(ctx)
				if err != nil {
					return nil, err
				}
				var got []byte
				buf := make([]byte, 7)
				for {
					n, err := r.Read(buf)
					got = append(got, buf[:n]...)
					if err == io.EOF {
						return got, nil
					}
					if err != nil {
						return got, err
					}
				}
			}
			tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			part, err := read(tctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("first read error = %v, want context.DeadlineExceeded", err)
			}
			peer.write(wire[25:])
			rest, err := read(ctx)
			if err != nil {
				t.Fatalf("second read: %v", err)
			}
			got := rest
			if streaming {
				got = append(part, rest...)
			}
			if string(got) != string(msg) {
				t.Errorf("got %q, want %q", got, msg)
			}
			// And the connection still works both ways.
			peer.send(true, frame.OpPing, []byte("still there"))
			peer.send(true, frame.OpBinary, []byte("next"))
			if _, b, err := c.Read(ctx, nil); err != nil || string(b) != "next" {
				t.Fatalf("next Read = %q, %v", b, err)
			}
			if f := peer.mustNext(); f.Opcode != frame.OpPong || string(f.Payload) != "still there" {
				t.Errorf("peer got %+v, want the pong", f)
			}
		})
	}
}

// TestWriteCancelledBeforeAnyByte checks that a write whose context ends
// while it waits leaves the Conn usable.
func TestWriteCancelledBeforeAnyByte(t *testing.T) {
	a, b := net.Pipe() // writes block until the other end reads
	c := mustNew(t, a, frame.Server, nil, nil)
	defer c.CloseNow()
	defer b.Close()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := c.Write(tctx, Text, []byte("hello")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write = %v, want context.DeadlineExceeded", err)
	}
	if s := c.State(); s != Open {
		t.Fatalf("State() = %v, want open", s)
	}
	go c.Write(ctx, Text, []byte("again"))
	peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
	if f := peer.mustNext(); string(f.Payload) != "again" {
		t.Errorf("peer got %+v, want again", f)
	}
}

// TestWriteCutMidFrame checks that a write stopped in the middle of a
// frame fails the connection.
func TestWriteCutMidFrame(t *testing.T) {
	a, b := net.Pipe()
	c := mustNew(t, a, frame.Server, nil, nil)
	defer c.CloseNow()
	defer b.Close()
	go io.CopyN(io.Discard, b, 100) // take the first 100 bytes only
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := c.Write(tctx, Binary, make([]byte, 10000))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write = %v, want context.DeadlineExceeded", err)
	}
	if s := c.State(); s != Closed {
		t.Errorf("State() = %v, want closed", s)
	}
}

func TestConcurrentWriters(t *testing.T) {
	client, server := connPair(t, &Options{WriteBufferSize: 50}, nil)
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				msg := bytes.Repeat([]byte{byte('a' + w)}, 10+i*7)
				if i%2 == 0 {
					if err := client.Write(ctx, Binary, msg); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				wr, err := client.Writer(ctx, Binary)
				if err != nil {
					t.Error(err)
					return
				}
				for len(msg) > 0 {
					n := min(len(msg), 13)
					wr.Write(msg[:n])
					msg = msg[n:]
				}
				if err := wr.Close(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	go func() {
		for i := 0; i < 20; i++ {
			client.Ping(ctx, nil)
		}
	}()
	go func() {
		// The server only reads; pongs for the client's pings come back
		// through the client's reader.
		for {
			if _, _, err := client.Read(ctx, nil); err != nil {
				return
			}
		}
	}()
	var buf []byte
	for n := 0; n < writers*each; n++ {
		_, msg, err := server.Read(ctx, buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range msg {
			if b != msg[0] {
				t.Fatalf("message %d mixes bytes of different writers: %q", n, msg)
			}
		}
		buf = msg
	}
	wg.Wait()
}

func TestPing(t *testing.T) {
	client, server := connPair(t, nil, nil)
	go server.Read(ctx, nil)
	go client.Read(ctx, nil)
	rtt, err := client.Ping(ctx, []byte("hello"))
	if err != nil || rtt <= 0 {
		t.Fatalf("Ping = %v, %v", rtt, err)
	}
	if _, err := server.Ping(ctx, nil); err != nil {
		t.Fatalf("Ping with no payload: %v", err)
	}
	if _, err := client.Ping(ctx, make([]byte, 126)); err == nil {
		t.Error("Ping with 126 bytes succeeded")
	}
	tctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := client.Ping(tctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping with a cancelled context = %v", err)
	}
}

func TestBackpressure(t *testing.T) {
	for _, policy := range []Backpressure{BackpressureError, BackpressureClose} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			c := mustNew(t, a, frame.Server, nil, &Options{MaxBufferedAmount: 1500, OnBackpressure: policy})
			defer c.CloseNow()
			go c.Write(ctx, Binary, make([]byte, 1000)) // blocks: nobody reads b
			for c.BufferedAmount() != 1000 {
				runtime.Gosched()
			}
			err := c.Write(ctx, Binary, make([]byte, 1000))
			if !errors.Is(err, ErrBufferFull) {
				t.Fatalf("Write = %v, want ErrBufferFull", err)
			}
			wantState := Open
			if policy == BackpressureClose {
				wantState = Closed
			}
			if s := c.State(); s != wantState {
				t.Errorf("State() = %v, want %v", s, wantState)
			}
		})
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 10; i++ {
		client, server := connPair(t, &Options{KeepaliveInterval: time.Hour}, nil)
		go func() {
			for {
				if _, _, err := server.Read(ctx, nil); err != nil {
					return
				}
			}
		}()
		client.Write(ctx, Text, []byte("x"))
		client.Close(1000, "")
		server.CloseNow()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestReaderAbandoned checks that a message not read to the end is skipped
// by the next Read and that its reader then reports misuse.
func TestReaderAbandoned(t *testing.T) {
	c, peer := rawPair(t, frame.Server, nil)
	peer.send(false, frame.OpText, []byte("first "))
	peer.send(true, frame.OpContinuation, []byte("message"))
	peer.send(true, frame.OpBinary, []byte("second"))
	_, r, err := c.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "fir" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	typ, msg, err := c.Read(ctx, nil)
	if err != nil || typ != Binary || string(msg) != "second" {
		t.Fatalf("Read after an abandoned reader = %v %q %v, want binary second", typ, msg, err)
	}
	if _, err := r.Read(buf); !errors.Is(err, errStaleReader) {
		t.Errorf("stale reader Read = %v, want errStaleReader", err)
	}
}

// TestReadAppends checks that Read appends to what buf holds, for
// messages small and large enough to be read straight into buf.
func TestReadAppends(t *testing.T) {
	client, server := connPair(t, nil, nil)
	for _, size := range []int{10, 100000} {
		go client.Write(ctx, Binary, payloadOf(size))
		_, got, err := server.Read(ctx, []byte("prefix:"))
		if err != nil {
			t.Fatal(err)
		}
		if want := append([]byte("prefix:"), payloadOf(size)...); !bytes.Equal(got, want) {
			t.Errorf("size %d: got %d bytes starting %q, want %d", size, len(got), got[:min(len(got), 20)], len(want))
		}
	}
}

// TestReaderResumesAfterEndedContext checks that a message reader whose
// context ends between reads does not lose the rest of its message.
func TestReaderResumesAfterEndedContext(t *testing.T) {
	c, peer := rawPair(t, frame.Server, nil)
	peer.send(false, frame.OpText, []byte("0123"))
	peer.send(true, frame.OpContinuation, []byte("456789"))
	rctx, cancel := context.WithCancel(ctx)
	_, r, err := c.Reader(rctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "0123" {
		t.Fatalf("first Read = %q, %v", buf[:n], err)
	}
	cancel()
	if _, err := r.Read(buf); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with an ended context = %v, want context.Canceled", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 10*time.Second) // a lost message would block
	defer tcancel()
	_, r, err = c.Reader(tctx)
	if err != nil {
		t.Fatalf("Reader after the ended context: %v", err)
	}
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "456789" {
		t.Errorf("resumed reader = %q, %v; want 456789", rest, err)
	}
}

// TestContextEndingBetweenCalls checks that a context that ends after the
// calls made with it returned cuts nothing: not the next call under
// another context, and not the pong answering a ping meanwhile.
func TestContextEndingBetweenCalls(t *testing.T) {
	c, peer := rawPair(t, frame.Server, nil)
	first, cancel := context.WithCancel(ctx)
	peer.send(true, frame.OpText, []byte("one"))
	if _, b, err := c.Read(first, nil); err != nil || string(b) != "one" {
		t.Fatalf("Read = %q, %v", b, err)
	}
	go c.Write(first, Text, []byte("reply"))
	if f := peer.mustNext(); string(f.Payload) != "reply" {
		t.Fatalf("peer got %q, want the reply", f.Payload)
	}
	cancel()
	if _, _, err := c.Read(first, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with the ended context = %v, want context.Canceled", err)
	}
	if err := c.Write(first, Text, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with the ended context = %v, want context.Canceled", err)
	}
	peer.send(true, frame.OpPing, []byte("are you there"))
	peer.send(true, frame.OpText, []byte("two"))
	second, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	if _, b, err := c.Read(second, nil); err != nil || string(b) != "two" {
		t.Fatalf("Read under a new context = %q, %v", b, err)
	}
	if f := peer.mustNext(); f.Opcode != frame.OpPong || string(f.Payload) != "are you there" {
		t.Fatalf("peer got %v %q, want the pong", f.Opcode, f.Payload)
	}
	go c.Write(ctx, Text, []byte("three"))
	if f := peer.mustNext(); string(f.Payload) != "three" {
		t.Fatalf("peer got %q after the ended context, want three", f.Payload)
	}
}

// TestBackpressureBound checks the bound exactly under each policy: with
// writers that outnumber it on a connection whose peer does not read,
// BufferedAmount stays within MaxBufferedAmount, and a single write larger
// than the bound is taken when nothing else is buffered.
func TestBackpressureBound(t *testing.T) {
	for _, policy := range []Backpressure{BackpressureBlock, BackpressureError, BackpressureClose} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				c := mustNew(t, a, frame.Server, nil, &Options{MaxBufferedAmount: 1500, OnBackpressure: policy})
				defer c.CloseNow()
				// A write larger than the bound, with nothing else buffered.
				errs := make(chan error, 9)
				go func() { errs <- c.Write(ctx, Binary, make([]byte, 4000)) }()
				synctest.Wait()
				if got := c.BufferedAmount(); got != 4000 {
					t.Fatalf("BufferedAmount() = %d with one 4000-byte write, want 4000", got)
				}
				for range 8 {
					go func() { errs <- c.Write(ctx, Binary, make([]byte, 1000)) }()
				}
				synctest.Wait()
				if policy == BackpressureClose {
					full := 0
					for range 9 {
						if err := <-errs; errors.Is(err, ErrBufferFull) {
							full++
						} else if !errors.Is(err, net.ErrClosed) {
							t.Errorf("Write = %v, want ErrBufferFull or net.ErrClosed", err)
						}
					}
					if full == 0 || c.State() != Closed {
						t.Errorf("%d writes failed with ErrBufferFull, State() = %v; want some, and closed", full, c.State())
					}
					b.Close()
					return
				}
				if got := c.BufferedAmount(); got != 4000 {
					t.Errorf("BufferedAmount() = %d with 8 more writes waiting, want 4000", got)
				}
				full := 0
				if policy != BackpressureBlock {
					for range 8 {
						if err := <-errs; errors.Is(err, ErrBufferFull) {
							full++
						}
					}
					if full != 8 {
						t.Errorf("%d writes failed with ErrBufferFull, want 8", full)
					}
				}
				drained := make(chan struct{})
				go func() {
					defer close(drained)
					io.Copy(io.Discard, b)
				}()
				for range 9 - full {
					if err := <-errs; err != nil {
						t.Errorf("Write: %v", err)
					}
				}
				if got := c.BufferedAmount(); got != 0 {
					t.Errorf("BufferedAmount() = %d once written, want 0", got)
				}
				b.Close()
				<-drained
			})
		})
	}
}

// TestBackpressureWriter checks that a message writer's own gathered bytes
// never make it fail or wait: they are flushed to make room.
func TestBackpressureWriter(t *testing.T) {
	for _, policy := range []Backpressure{BackpressureBlock, BackpressureError, BackpressureClose} {
		c, peer := rawPair(t, frame.Server, &Options{MaxBufferedAmount: 1500, OnBackpressure: policy})
		go func() {
			w, err := c.Writer(ctx, Binary)
			if err != nil {
				t.Error(err)
				return
			}
			for range 3 {
				if _, err := w.Write(make([]byte, 1000)); err != nil {
					t.Errorf("%v: Write: %v", policy, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Errorf("%v: Close: %v", policy, err)
			}
		}()
		total := 0
		for {
			f := peer.mustNext()
			total += len(f.Payload)
			if f.Fin {
				break
			}
		}
		if total != 3000 {
			t.Errorf("%v: %d bytes arrived, want 3000", policy, total)
		}
	}
}

// TestWriteTimeout checks that a write to a peer that stopped reading
// fails after WriteTimeout, even with a context that never ends.
func TestWriteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		c := mustNew(t, a, frame.Server, nil, &Options{WriteTimeout: 10 * time.Second})
		defer c.CloseNow()
		start := time.Now()
		err := c.Write(context.Background(), Binary, make([]byte, 100))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write = %v, want an error matching os.ErrDeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != 10*time.Second {
			t.Errorf("Write failed after %v, want 10s", waited)
		}
		if c.State() != Closed {
			t.Errorf("State() = %v, want closed", c.State())
		}
	})
}

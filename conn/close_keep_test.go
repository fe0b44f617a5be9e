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
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/frame"
)

// TestCloseRacingReader is the usual program shape: one goroutine loops on
// Read while another calls Close. The peer sends its messages, then
// answers Close; every message it sent before its Close frame must reach
// the reader, in order, whether the reader was inside Read or between two
// Reads when Close began.
func TestCloseRacingReader(t *testing.T) {
	const rounds, messages = 200, 8
	for round := range rounds {
		client, server := connPair(t, nil, nil)
		want := make([]string, messages)
		for i := range want {
			want[i] = fmt.Sprintf("message %d of round %d", i, round)
		}
		peerDone := make(chan error, 1)
		go func() {
			for _, m := range want {
				if err := server.Write(ctx, Text, []byte(m)); err != nil {
					peerDone <- err
					return
				}
			}
			// Reading answers the client's Close frame, after the messages.
			for {
				if _, _, err := server.Read(ctx, nil); err != nil {
					peerDone <- nil
					return
				}
			}
		}()
		read := make(chan []string, 1)
		go func() {
			var got []string
			var buf []byte
			for {
				_, msg, err := client.Read(ctx, buf[:0])
				if err != nil {
					read <- got
					return
				}
				got = append(got, string(msg))
				buf = msg
			}
		}()
		if err := client.Close(CloseNormalClosure, ""); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
		if err := <-peerDone; err != nil {
			t.Fatalf("round %d: peer: %v", round, err)
		}
		if got := <-read; !slices.Equal(got, want) {
			t.Fatalf("round %d: reader got %d messages %q, want all %d", round, len(got), got, len(want))
		}
		client.CloseNow()
		server.CloseNow()
	}
}

// A peerFrame is a frame a test's raw peer sends.
type peerFrame struct {
	fin        bool
	op         frame.Opcode
	payload    string
	compressed bool // compress payload with the peer's codec and set RSV1
}

func text(s string) peerFrame   { return peerFrame{fin: true, op: frame.OpText, payload: s} }
func binary(s string) peerFrame { return peerFrame{fin: true, op: frame.OpBinary, payload: s} }

// A gotMessage is a message the application read.
type gotMessage struct {
	Type MessageType
	Data string
}

// TestCloseKeepsMessages checks what the application reads after Close:
// the data messages the peer sent before answering Close, whole and in
// order, then the error that says the connection is closed. Close either
// reads them itself (no Read in progress) and keeps them, or an
// application reader blocked in Read receives them, as before.
func TestCloseKeepsMessages(t *testing.T) {
	tests := []struct {
		name          string
		opts          Options
		deflate       bool
		frames        []peerFrame // sent after the Conn's Close frame
		noAnswer      bool        // the peer never sends its Close frame
		want          []gotMessage
		wantViolation CloseCode // the read error is a *ProtocolError with this code
		wantRead      int64     // Stats().MessagesRead
		// closeReads says the outcome holds only if Close reads the
		// messages: the bound on what Close keeps does not apply to a
		// reader, and a reader blocked in Read may or may not lose rlock to
		// Close between two messages.
		closeReads bool
	}{{
		name:     "messages of each type",
		frames:   []peerFrame{text("one"), binary("\x00\x01\x02"), text(""), text("four")},
		want:     []gotMessage{{Text, "one"}, {Binary, "\x00\x01\x02"}, {Text, ""}, {Text, "four"}},
		wantRead: 4,
	}, {
		name:     "no messages",
		wantRead: 0,
	}, {
		name: "text split across frames inside a UTF-8 sequence, ping between",
		frames: []peerFrame{
			{fin: false, op: frame.OpText, payload: "h\xc3"},
			{fin: true, op: frame.OpPing, payload: "ping"},
			{fin: false, op: frame.OpContinuation, payload: "\xa9llo, w\xc3"},
			{fin: true, op: frame.OpContinuation, payload: "\xb6rld"},
			text("after"),
		},
		want:     []gotMessage{{Text, "héllo, wörld"}, {Text, "after"}},
		wantRead: 2,
	}, {
		name:    "compressed messages with context takeover",
		deflate: true,
		frames: []peerFrame{
			{fin: true, op: frame.OpText, payload: strings.Repeat("compressed ", 20), compressed: true},
			text("plain"),
			{fin: true, op: frame.OpBinary, payload: strings.Repeat("compressed ", 30), compressed: true},
		},
		want:     []gotMessage{{Text, strings.Repeat("compressed ", 20)}, {Text, "plain"}, {Binary, strings.Repeat("compressed ", 30)}},
		wantRead: 3,
	}, {
		name:       "read limit bounds what is kept",
		opts:       Options{ReadLimit: 10},
		frames:     []peerFrame{text("aaaa"), text("bbbb"), text("cccc"), text("d")},
		want:       []gotMessage{{Text, "aaaa"}, {Text, "bbbb"}}, // "d" would fit, but comes after the first dropped
		wantRead:   4,
		closeReads: true,
	}, {
		name:       "read limit bounds what is kept, exactly reached",
		opts:       Options{ReadLimit: 8},
		frames:     []peerFrame{text("aaaa"), text("bbbb"), text("")},
		want:       []gotMessage{{Text, "aaaa"}, {Text, "bbbb"}, {Text, ""}},
		wantRead:   3,
		closeReads: true,
	}, {
		name:          "message over the read limit fails the connection",
		opts:          Options{ReadLimit: 10},
		frames:        []peerFrame{text("aaaa"), text("too long for it"), text("never read")},
		want:          []gotMessage{{Text, "aaaa"}},
		wantViolation: CloseMessageTooBig,
		wantRead:      1,
	}, {
		name:          "invalid UTF-8 fails the connection",
		frames:        []peerFrame{text("ok"), text("bad \xff"), text("never read")},
		want:          []gotMessage{{Text, "ok"}},
		wantViolation: CloseInvalidFramePayloadData,
		wantRead:      1,
	}, {
		name:     "peer never answers",
		frames:   []peerFrame{text("one"), text("two")},
		noAnswer: true,
		want:     []gotMessage{{Text, "one"}, {Text, "two"}},
		wantRead: 2,
	}}
	for _, tt := range tests {
		for _, role := range []frame.Role{frame.Server, frame.Client} {
			for _, mode := range []string{"Close reads, then Read", "Close reads, then Reader", "reader blocked in Read", "reader waits while Close reads", "nobody reads"} {
				if tt.closeReads && mode == "reader blocked in Read" {
					continue
				}
				t.Run(fmt.Sprintf("%s/%v/%s", tt.name, role, mode), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						testCloseKeeps(t, role, mode, tt.opts, tt.deflate, tt.frames, tt.noAnswer, tt.want, tt.wantViolation, tt.wantRead)
					})
				})
			}
		}
	}
}

func testCloseKeeps(t *testing.T, role frame.Role, mode string, opts Options, compress bool, frames []peerFrame, noAnswer bool, want []gotMessage, wantViolation CloseCode, wantRead int64) {
	a, b := net.Pipe()
	defer b.Close()
	var h *Handshake
	if compress {
		h = Deflate{}.handshake(role)
	}
	opts.CloseTimeout = time.Minute
	c := mustNew(t, a, role, h, &opts)
	defer c.CloseNow()
	peerRole := frame.Client
	if role == frame.Client {
		peerRole = frame.Server
	}
	peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: peerRole}

	var got []gotMessage
	var readErr error
	readAll := func() {
		for {
			var m gotMessage
			if mode == "Close reads, then Reader" {
				typ, r, err := c.Reader(ctx)
				if err != nil {
					readErr = err
					return
				}
				data, err := io.ReadAll(r)
				if err != nil {
					t.Errorf("reading a message from Reader: %v", err)
					return
				}
				m = gotMessage{typ, string(data)}
			} else {
				typ, data, err := c.Read(ctx, nil)
				if err != nil {
					readErr = err
					return
				}
				m = gotMessage{typ, string(data)}
			}
			got = append(got, m)
		}
	}
	readerDone := make(chan struct{})
	if mode == "reader blocked in Read" {
		go func() {
			readAll()
			close(readerDone)
		}()
		synctest.Wait()
		if !c.rlock.held.Load() {
			t.Fatal("the reader is not blocked in Read")
		}
	}

	closed := make(chan error, 1)
	go func() { closed <- c.Close(CloseNormalClosure, "bye") }()
	if f := peer.mustNext(); f.Opcode != frame.OpClose {
		t.Fatalf("the Conn sent %+v, want its Close frame", f)
	}
	if mode == "reader waits while Close reads" {
		// Close holds rlock, waiting for the peer; a reader comes and waits
		// for rlock, and a server closes the connection before letting go.
		synctest.Wait()
		if !c.rlock.held.Load() {
			t.Fatal("Close is not reading")
		}
		go func() {
			readAll()
			close(readerDone)
		}()
		synctest.Wait()
	}
	go func() {
		// Writes fail once the Conn has failed the connection.
		codec := peerCodec{takeover: true}
		for _, f := range frames {
			var rsv byte
			payload := []byte(f.payload)
			if f.compressed {
				rsv, payload = frame.RSV1, codec.compress(t, payload)
			}
			if _, err := b.Write(peer.frameBytes(f.fin, rsv, f.op, payload)); err != nil {
				return
			}
		}
		if !noAnswer {
			b.Write(peer.frameBytes(true, 0, frame.OpClose, closePayload(CloseNormalClosure, "bye")))
		}
	}()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The Conn sends nothing after its Close frame, not even for a violation.
	// A server closes TCP; a client waits for the server to.
	if f, err := peer.next(); err == nil {
		t.Errorf("the Conn sent %+v after its Close frame", f)
	}
	b.Close()
	synctest.Wait()
	switch mode {
	case "reader blocked in Read", "reader waits while Close reads":
		<-readerDone
	case "nobody reads":
		// The kept messages go with the Conn: the bubble ends with no
		// goroutine left, or synctest.Test fails.
		if s := c.State(); s != Closed {
			t.Errorf("State() = %v, want closed", s)
		}
		return
	default:
		readAll()
	}

	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages read after Close mismatch (-want +got):\n%s", diff)
	}
	if wantViolation != 0 {
		var pe *ProtocolError
		if !errors.As(readErr, &pe) || pe.Code != wantViolation {
			t.Errorf("read error %v, want a *ProtocolError with code %v", readErr, wantViolation)
		}
	} else {
		if !errors.Is(readErr, net.ErrClosed) {
			t.Errorf("read error %v, want one matching net.ErrClosed", readErr)
		}
		var ce *CloseError
		if answered := errors.As(readErr, &ce); answered == noAnswer || (answered && ce.Code != CloseNormalClosure) {
			t.Errorf("read error %v: the peer's answer is wrong (the peer answered: %v)", readErr, !noAnswer)
		}
	}
	// Reading again returns the same error, and no message.
	if typ, data, err := c.Read(ctx, nil); err == nil {
		t.Errorf("Read after the close error = %v %q", typ, data)
	}
	if n := c.Stats().MessagesRead; n != wantRead {
		t.Errorf("Stats().MessagesRead = %d, want %d", n, wantRead)
	}
	if s := c.State(); s != Closed {
		t.Errorf("State() = %v, want closed", s)
	}
}

// TestCloseKeepsMessageCutByContext checks that a message whose Read was
// cut by its context, and which Close then reads to its end, is kept
// whole: the part that Read had received is not lost.
func TestCloseKeepsMessageCutByContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		c := mustNew(t, a, frame.Server, nil, &Options{CloseTimeout: time.Minute})
		defer c.CloseNow()
		peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
		go peer.send(false, frame.OpText, []byte("hel"))
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, msg, err := c.Read(short, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read of half a message = %q, %v; want context.DeadlineExceeded", msg, err)
		}
		closed := make(chan error, 1)
		go func() { closed <- c.Close(CloseNormalClosure, "") }()
		peer.mustNext()
		go func() {
			b.Write(peer.frameBytes(true, 0, frame.OpContinuation, []byte("lo")))
			b.Write(peer.frameBytes(true, 0, frame.OpClose, closePayload(CloseNormalClosure, "")))
		}()
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		if typ, msg, err := c.Read(ctx, nil); typ != Text || string(msg) != "hello" || err != nil {
			t.Errorf("Read after Close = %v %q, %v; want the whole text message hello", typ, msg, err)
		}
		if _, msg, err := c.Read(ctx, nil); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Read after Close = %q, %v; want an error matching net.ErrClosed", msg, err)
		}
	})
}

// TestCloseUnansweredEndings: after Close, the peer breaks the connection
// instead of answering, or never answers. Whether a reader was inside Read
// or Close read by itself, later Reads say the same: 1006 for a broken
// connection, no *CloseError for an answer that never came; and Close
// waits one CloseTimeout in all, not one for a reader and another for
// itself.
func TestCloseUnansweredEndings(t *testing.T) {
	for _, breaks := range []bool{true, false} {
		for _, reading := range []bool{true, false} {
			name := fmt.Sprintf("breaks=%v/reader=%v", breaks, reading)
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					a, b := net.Pipe()
					defer b.Close()
					c := mustNew(t, a, frame.Server, nil, &Options{CloseTimeout: 10 * time.Second})
					defer c.CloseNow()
					peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
					readErr := make(chan error, 1)
					if reading {
						go func() {
							_, _, err := c.Read(context.Background(), nil)
							readErr <- err
						}()
						synctest.Wait() // the reader holds the read lock
					}
					go func() {
						if f := peer.mustNext(); f.Opcode != frame.OpClose {
							t.Errorf("peer got %v, want the Close frame", f.Opcode)
						}
						if breaks {
							b.Close()
						}
					}()
					start := time.Now()
					if err := c.Close(CloseNormalClosure, "bye"); err != nil {
						t.Fatalf("Close = %v", err)
					}
					if waited := time.Since(start); !breaks && waited != 10*time.Second {
						t.Errorf("Close waited %v without an answer, want the CloseTimeout, 10s", waited)
					}
					var err error
					if reading {
						err = <-readErr
					} else {
						_, _, err = c.Read(context.Background(), nil)
					}
					var ce *CloseError
					gotCE := errors.As(err, &ce)
					switch {
					case !errors.Is(err, net.ErrClosed):
						t.Errorf("Read = %v, want an error matching net.ErrClosed", err)
					case breaks && (!gotCE || ce.Code != CloseAbnormalClosure):
						t.Errorf("Read = %v, want a *CloseError with code 1006 for the broken connection", err)
					case !breaks && gotCE:
						t.Errorf("Read = %v, want no *CloseError: no answer came", err)
					}
				})
			})
		}
	}
}

// TestCloseMalformedAnswer: the peer answers Close with a Close frame
// whose payload is one byte, which no Close frame may have (RFC 6455,
// Section 5.5.1). Whether a reader or Close itself reads it, the
// connection ends at once as failed for a protocol error: Read returns a
// *ProtocolError 1002 and OnClose gets 1002.
func TestCloseMalformedAnswer(t *testing.T) {
	for _, reading := range []bool{true, false} {
		t.Run(fmt.Sprintf("reader=%v", reading), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				defer b.Close()
				closed := make(chan CloseCode, 1)
				c := mustNew(t, a, frame.Server, nil, &Options{
					CloseTimeout: 10 * time.Second,
					OnClose:      func(_ *Conn, code CloseCode, _ error) { closed <- code },
				})
				defer c.CloseNow()
				peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
				readErr := make(chan error, 1)
				if reading {
					go func() {
						_, _, err := c.Read(context.Background(), nil)
						readErr <- err
					}()
					synctest.Wait()
				}
				go func() {
					peer.mustNext() // our Close frame
					peer.send(true, frame.OpClose, []byte{0x03})
					io.Copy(io.Discard, b)
				}()
				start := time.Now()
				if err := c.Close(CloseNormalClosure, "bye"); err != nil {
					t.Fatalf("Close = %v", err)
				}
				if waited := time.Since(start); waited != 0 {
					t.Errorf("Close waited %v, want no wait once the malformed answer arrived", waited)
				}
				var err error
				if reading {
					err = <-readErr
				} else {
					_, _, err = c.Read(context.Background(), nil)
				}
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != CloseProtocolError {
					t.Errorf("Read = %v, want a *ProtocolError with code 1002", err)
				}
				if code := <-closed; code != CloseProtocolError {
					t.Errorf("OnClose code %d, want 1002", code)
				}
			})
		})
	}
}

// TestCloseKeepsAtMostOneMiB: with the default read limit, a peer that
// answers Close only after three messages of 600 KiB gets the first kept
// and the others discarded, so the Conn never holds much more than one
// message for reads that may never come.
func TestCloseKeepsAtMostOneMiB(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		c := mustNew(t, a, frame.Server, nil, nil)
		defer c.CloseNow()
		peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
		big := func(i byte) []byte { return bytes.Repeat([]byte{i}, 600<<10) }
		go func() {
			peer.mustNext() // our Close frame
			for i := range byte(3) {
				peer.send(true, frame.OpBinary, big(i))
			}
			peer.send(true, frame.OpClose, closePayload(CloseNormalClosure, ""))
			io.Copy(io.Discard, b)
		}()
		if err := c.Close(CloseNormalClosure, ""); err != nil {
			t.Fatalf("Close = %v", err)
		}
		typ, msg, err := c.Read(context.Background(), nil)
		if err != nil || typ != Binary || !bytes.Equal(msg, big(0)) {
			t.Fatalf("first Read = %v, %d bytes, %v; want the first message, 600 KiB", typ, len(msg), err)
		}
		var ce *CloseError
		if _, msg, err := c.Read(context.Background(), nil); !errors.As(err, &ce) || ce.Code != CloseNormalClosure {
			t.Errorf("second Read = %d bytes, %v; want the close error with the peer's 1000", len(msg), err)
		}
		if got := c.Stats().MessagesRead; got != 3 {
			t.Errorf("Stats().MessagesRead = %d, want 3 (kept or discarded)", got)
		}
	})
}

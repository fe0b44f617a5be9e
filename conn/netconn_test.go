//go:build !js

package conn

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/frame"
)

// pipePeer returns a server Conn on one end of a net.Pipe and a raw client
// peer on the other, for tests that run inside a synctest bubble.
func pipePeer(t *testing.T) (*Conn, *rawPeer) {
	a, b := net.Pipe()
	c := mustNew(t, a, frame.Server, nil, nil)
	t.Cleanup(func() { c.CloseNow(); b.Close() })
	return c, &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
}

func TestNetConnStream(t *testing.T) {
	client, server := connPair(t, &Options{WriteBufferSize: 512}, &Options{ReadBufferSize: 512})
	w, r := NetConn(client, Binary), NetConn(server, Binary)
	var want []byte
	for i, n := range []int{1, 0, 100, 511, 512, 513, 5000, 70000} {
		want = append(want, bytes.Repeat([]byte{byte(i + 'a')}, n)...)
	}
	go func() {
		rest := want
		for _, n := range []int{1, 100, 511, 512, 513, 5000, 70000} {
			if _, err := w.Write(rest[:n]); err != nil {
				t.Errorf("Write: %v", err)
				return
			}
			rest = rest[n:]
		}
		w.Close()
	}()
	// Read in pieces that straddle message boundaries.
	var got []byte
	buf := make([]byte, 777)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Read after %d bytes: %v", len(got), err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want %d; stream differs", len(got), len(want))
	}
}

func TestNetConnEnd(t *testing.T) {
	tests := []struct {
		name    string
		send    func(p *rawPeer)
		wantEOF bool
		wantErr any // pointer to the error type Read must return
		wantRx  CloseCode
	}{{
		name:    "normal closure",
		send:    func(p *rawPeer) { p.send(true, frame.OpClose, closePayload(CloseNormalClosure, "")) },
		wantEOF: true,
		wantRx:  CloseNormalClosure,
	}, {
		name:    "going away",
		send:    func(p *rawPeer) { p.send(true, frame.OpClose, closePayload(CloseGoingAway, "restart")) },
		wantEOF: true,
		wantRx:  CloseGoingAway,
	}, {
		name:    "other code",
		send:    func(p *rawPeer) { p.send(true, frame.OpClose, closePayload(4000, "app")) },
		wantErr: new(*CloseError),
		wantRx:  4000,
	}, {
		name:   "message of the other type",
		send:   func(p *rawPeer) { p.send(true, frame.OpText, []byte("hi")) },
		wantRx: CloseUnsupportedData,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, peer := rawPair(t, frame.Server, &Options{CloseTimeout: 200 * time.Millisecond})
			nc := NetConn(c, Binary)
			go tt.send(peer)
			_, err := nc.Read(make([]byte, 10))
			switch {
			case tt.wantEOF:
				if err != io.EOF {
					t.Fatalf("Read = %v, want io.EOF", err)
				}
			case tt.wantErr != nil:
				if !errors.As(err, tt.wantErr) {
					t.Fatalf("Read = %v, want a %T", err, tt.wantErr)
				}
			default:
				if err == nil || err == io.EOF {
					t.Fatalf("Read = %v, want an error", err)
				}
			}
			if _, again := nc.Read(make([]byte, 10)); again != err {
				t.Errorf("second Read = %v, want the same %v", again, err)
			}
			f := peer.mustNext()
			code, _, _ := frame.ParseClose(f.Payload)
			if f.Opcode != frame.OpClose || code != tt.wantRx {
				t.Errorf("peer received %v with code %d, want a close frame with %d", f.Opcode, code, tt.wantRx)
			}
		})
	}
}

func isTimeoutError(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout()
}

func TestNetConnReadDeadlineResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipePeer(t)
		nc := NetConn(c, Binary)
		whole := peer.frameBytes(true, 0, frame.OpBinary, []byte("0123456789"))
		go peer.write(whole[:9]) // the header and part of the payload
		buf := make([]byte, 100)
		n, err := nc.Read(buf)
		if err != nil || string(buf[:n]) != "012" {
			t.Fatalf("Read = %q, %v; want the part that arrived", buf[:n], err)
		}
		nc.SetReadDeadline(time.Now().Add(time.Second))
		start := time.Now()
		if n, err := nc.Read(buf); n != 0 || !isTimeoutError(err) {
			t.Fatalf("Read past the deadline = %d, %v; want 0 and a timeout", n, err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("Read timed out after %v, want 1s", d)
		}
		if n, err := nc.Read(buf); n != 0 || !isTimeoutError(err) {
			t.Fatalf("Read with the deadline still past = %d, %v; want 0 and a timeout", n, err)
		}
		nc.SetReadDeadline(time.Time{})
		go peer.write(whole[9:])
		n, err = nc.Read(buf)
		if err != nil || string(buf[:n]) != "3456789" {
			t.Fatalf("Read after the timeout = %q, %v; want the rest of the frame", buf[:n], err)
		}
	})
}

func TestNetConnDeadlineMovesPendingRead(t *testing.T) {
	tests := []struct {
		name        string
		initial     time.Duration // 0: none
		moveTo      time.Duration // from the move; 0: clear, negative: past
		wantTimeout time.Duration // since start; 0: the data arrives
	}{{
		name:        "set into the past",
		moveTo:      -time.Second,
		wantTimeout: time.Second,
	}, {
		name:        "brought forward",
		initial:     time.Hour,
		moveTo:      time.Second,
		wantTimeout: 2 * time.Second,
	}, {
		name:    "pushed back beyond the data",
		initial: 2 * time.Second,
		moveTo:  time.Hour,
	}, {
		name:    "cleared",
		initial: 2 * time.Second,
		moveTo:  0,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, peer := pipePeer(t)
				nc := NetConn(c, Binary)
				start := time.Now()
				if tt.initial != 0 {
					nc.SetReadDeadline(start.Add(tt.initial))
				}
				go func() {
					time.Sleep(time.Second)
					if tt.moveTo == 0 {
						nc.SetReadDeadline(time.Time{})
					} else {
						nc.SetReadDeadline(time.Now().Add(tt.moveTo))
					}
					time.Sleep(2 * time.Second)
					peer.send(true, frame.OpBinary, []byte("late"))
				}()
				buf := make([]byte, 10)
				n, err := nc.Read(buf)
				if tt.wantTimeout == 0 {
					if err != nil || string(buf[:n]) != "late" {
						t.Fatalf("Read = %q, %v; want the data sent after 3s", buf[:n], err)
					}
					return
				}
				if !isTimeoutError(err) {
					t.Fatalf("Read = %q, %v; want a timeout", buf[:n], err)
				}
				if d := time.Since(start); d != tt.wantTimeout {
					t.Errorf("Read timed out after %v, want %v", d, tt.wantTimeout)
				}
				nc.SetReadDeadline(time.Time{})
				if n, err := nc.Read(buf); err != nil || string(buf[:n]) != "late" {
					t.Errorf("Read after the timeout = %q, %v; want the data sent after 3s", buf[:n], err)
				}
			})
		})
	}
}

func TestNetConnWriteDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipePeer(t)
		nc := NetConn(c, Binary)
		// Nobody reads the pipe, so the write cannot start.
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		if n, err := nc.Write([]byte("blocked")); n != 0 || !isTimeoutError(err) {
			t.Fatalf("Write = %d, %v; want 0 and a timeout", n, err)
		}
		if s := c.State(); s != Open {
			t.Fatalf("state after a write that sent nothing = %v, want open", s)
		}
		nc.SetWriteDeadline(time.Time{})
		go func() {
			if _, err := nc.Write([]byte("next")); err != nil {
				t.Errorf("Write after the timeout: %v", err)
			}
		}()
		f := peer.mustNext()
		if diff := cmp.Diff(rawFrame{Fin: true, Opcode: frame.OpBinary, Payload: []byte("next")}, f); diff != "" {
			t.Errorf("frame after the timeout mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestNetConnConcurrent(t *testing.T) {
	client, server := connPair(t, nil, nil)
	a, b := NetConn(client, Text), NetConn(server, Text)
	go io.Copy(b, b) // echo
	const writers, each = 4, 50
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := a.Write([]byte("0123456789")); err != nil {
					t.Errorf("Write: %v", err)
					return
				}
				a.SetDeadline(time.Now().Add(time.Minute))
			}
		}()
	}
	got := make([]byte, writers*each*10)
	if _, err := io.ReadFull(a, got); err != nil {
		t.Fatalf("reading the echo: %v", err)
	}
	wg.Wait()
	if want := bytes.Repeat([]byte("0123456789"), writers*each); !bytes.Equal(got, want) {
		t.Error("echoed stream is not whole messages in sequence")
	}
}

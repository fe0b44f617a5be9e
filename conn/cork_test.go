//go:build !js

package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// A countingConn counts the Write calls that reach the network, and
// fails them with the error fail returns, once fail is set.
type countingConn struct {
	net.Conn
	writes atomic.Int64
	fail   atomic.Pointer[func() error]
}

var errWriteRefused = errors.New("write refused by the test")

func (c *countingConn) Write(p []byte) (int, error) {
	if f := c.fail.Load(); f != nil {
		return 0, (*f)()
	}
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// corkPair is rawPair with the Conn's writes counted.
func corkPair(t *testing.T, role frame.Role, opts *Options) (*Conn, *countingConn, *rawPeer) {
	var cc *countingConn
	c, p := rawPairOver(t, role, nil, opts, func(nc net.Conn) net.Conn {
		cc = &countingConn{Conn: nc}
		return cc
	})
	return c, cc, p
}

// batchOf returns n different messages of size bytes, and their frames as
// the peer sends them, in one piece.
func batchOf(p *rawPeer, n, size int) ([][]byte, []byte) {
	var msgs [][]byte
	var wire []byte
	for i := range n {
		m := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		msgs = append(msgs, m)
		wire = append(wire, p.frameBytes(true, 0, frame.OpBinary, m)...)
	}
	return msgs, wire
}

// echoN reads n messages and writes each back.
func echoN(t *testing.T, c *Conn, n int) {
	t.Helper()
	var buf []byte
	for range n {
		typ, m, err := c.Read(ctx, buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(ctx, typ, m); err != nil {
			t.Fatal(err)
		}
		buf = m
	}
}

// expectMessages reads frames from the peer's side and checks they are
// msgs, in order.
func (p *rawPeer) expectMessages(msgs [][]byte) {
	p.t.Helper()
	for i, want := range msgs {
		f := p.mustNext()
		if f.Opcode != frame.OpBinary || !f.Fin || !bytes.Equal(f.Payload, want) {
			p.t.Fatalf("frame %d: %v fin=%v %d bytes %.20q, want binary %d bytes %.20q", i, f.Opcode, f.Fin, len(f.Payload), f.Payload, len(want), want)
		}
	}
}

// TestCorkGathersReplies checks that replies to messages that arrived
// together go out in fewer writes than there are replies, in order and
// intact, in both roles (a client masks each gathered frame).
func TestCorkGathersReplies(t *testing.T) {
	for _, role := range []frame.Role{frame.Server, frame.Client} {
		for _, tc := range []struct{ n, size int }{{2, 16}, {16, 16}, {16, 1000}, {100, 100}, {30, 500}} {
			t.Run(fmt.Sprintf("%v/%dx%dB", role, tc.n, tc.size), func(t *testing.T) {
				c, cc, p := corkPair(t, role, nil)
				msgs, wire := batchOf(p, tc.n, tc.size)
				p.write(wire)
				done := make(chan struct{})
				go func() { defer close(done); p.expectMessages(msgs) }()
				echoN(t, c, tc.n)
				<-done
				if w := cc.writes.Load(); w > int64(tc.n+1)/2 {
					t.Errorf("%d replies took %d writes, want at most %d", tc.n, w, (tc.n+1)/2)
				}
			})
		}
	}
}

// TestCorkLoneMessage checks that the reply to a message that arrived
// alone is written before Write returns: corking never delays it.
func TestCorkLoneMessage(t *testing.T) {
	for _, role := range []frame.Role{frame.Server, frame.Client} {
		t.Run(role.String(), func(t *testing.T) {
			c, cc, p := corkPair(t, role, nil)
			for i := range 20 {
				msgs, wire := batchOf(p, 1, 10+i)
				p.write(wire)
				echoN(t, c, 1)
				if w := cc.writes.Load(); w != int64(i+1) {
					t.Fatalf("after reply %d, %d writes reached the network, want %d", i, w, i+1)
				}
				p.expectMessages(msgs)
			}
		})
	}
}

// TestCorkDelayBound checks that a reply gathered in a batch the
// application stops reading in the middle of goes out by itself, and
// counts in BufferedAmount until it does.
func TestCorkDelayBound(t *testing.T) {
	c, cc, p := corkPair(t, frame.Server, nil)
	msgs, wire := batchOf(p, 2, 100)
	p.write(wire)
	echoN(t, c, 1)
	if w, b := cc.writes.Load(), c.BufferedAmount(); w != 0 || b != 100 {
		t.Fatalf("after the first reply of a batch: %d writes, BufferedAmount %d; want 0 and 100 (gathered)", w, b)
	}
	p.expectMessages(msgs[:1]) // without reading on: the delay bound sends it
	// The write that sent it returns after the peer may have read it.
	for deadline := time.Now().Add(10 * time.Second); c.BufferedAmount() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("BufferedAmount = %d long after the reply arrived, want 0", c.BufferedAmount())
		}
		time.Sleep(time.Millisecond)
	}
	echoN(t, c, 1)
	p.expectMessages(msgs[1:])
}

// TestCorkOrder checks that gathered frames go out before a large frame,
// a pong and the Close frame written after them.
func TestCorkOrder(t *testing.T) {
	c, _, p := corkPair(t, frame.Server, nil)
	m1, m2, m3 := []byte("one"), []byte("two"), []byte("three")
	big := bytes.Repeat([]byte("B"), 40<<10) // larger than the cork
	var wire []byte
	for _, f := range []struct {
		op frame.Opcode
		p  []byte
	}{{frame.OpBinary, m1}, {frame.OpBinary, m2}, {frame.OpPing, []byte("ping")}, {frame.OpBinary, m3}} {
		wire = append(wire, p.frameBytes(true, 0, f.op, f.p)...)
	}
	p.write(wire)
	echoN(t, c, 1) // gathered: m2 waits
	if err := c.Write(ctx, Binary, big); err != nil {
		t.Fatal(err)
	}
	echoN(t, c, 2) // the reply to m2 is gathered (the ping waits), then the pong follows it
	closed := make(chan error, 1)
	go func() { closed <- c.Close(CloseNormalClosure, "bye") }()
	want := []rawFrame{
		{Fin: true, Opcode: frame.OpBinary, Payload: m1},
		{Fin: true, Opcode: frame.OpBinary, Payload: big},
		{Fin: true, Opcode: frame.OpBinary, Payload: m2},
		{Fin: true, Opcode: frame.OpPong, Payload: []byte("ping")},
		{Fin: true, Opcode: frame.OpBinary, Payload: m3},
		{Fin: true, Opcode: frame.OpClose, Payload: closePayload(CloseNormalClosure, "bye")},
	}
	for i, w := range want {
		f := p.mustNext()
		if f.Opcode != w.Opcode || !bytes.Equal(f.Payload, w.Payload) {
			t.Fatalf("frame %d: %v %.20q, want %v %.20q", i, f.Opcode, f.Payload, w.Opcode, w.Payload)
		}
	}
	p.send(true, frame.OpClose, closePayload(CloseNormalClosure, ""))
	if err := <-closed; err != nil {
		t.Errorf("Close = %v", err)
	}
}

// TestCorkFlushFails checks that gathered frames that cannot be written
// end the connection with an error saying so, rather than vanishing:
// when the delay bound sends them, and when a write that ends with its
// context sends them first.
func TestCorkFlushFails(t *testing.T) {
	t.Run("delay", func(t *testing.T) {
		c, cc, p := corkPair(t, frame.Server, nil)
		_, wire := batchOf(p, 2, 10)
		p.write(wire)
		echoN(t, c, 1)
		refuse := func() error { return errWriteRefused }
		cc.fail.Store(&refuse)
		waitClosed(t, c)
		err := c.Write(ctx, Binary, []byte("more"))
		if err == nil || !strings.Contains(err.Error(), "gathered frames") || !errors.Is(err, errWriteRefused) {
			t.Errorf("Write after the failed write = %v, want the write's error", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		c, cc, p := corkPair(t, frame.Server, nil)
		_, wire := batchOf(p, 2, 10)
		p.write(wire)
		echoN(t, c, 1)
		wctx, cancel := context.WithCancel(ctx)
		cut := func() error {
			cancel()
			time.Sleep(20 * time.Millisecond) // for the watcher to see it
			return os.ErrDeadlineExceeded
		}
		cc.fail.Store(&cut)
		err := c.Write(wctx, Binary, make([]byte, 40<<10)) // flushes the cork first
		if err == nil {
			t.Fatal("Write succeeded")
		}
		if s := c.State(); s != Closed {
			t.Errorf("State() = %v after the gathered frames were lost, want Closed", s)
		}
	})
}

// TestCorkConcurrentWriters checks that writers on other goroutines,
// whose frames are gathered with the replies while the reader is in a
// batch, lose nothing and keep their order.
func TestCorkConcurrentWriters(t *testing.T) {
	c, _, p := corkPair(t, frame.Server, nil)
	const batches, perBatch, writers, each = 20, 10, 3, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := c.Write(ctx, Text, fmt.Appendf(nil, "w%d %d", w, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() {
		for b := range batches {
			var wire []byte
			for i := range perBatch {
				wire = append(wire, p.frameBytes(true, 0, frame.OpBinary, fmt.Appendf(nil, "e%d", b*perBatch+i))...)
			}
			p.write(wire)
			time.Sleep(time.Millisecond)
		}
	}()
	go func() {
		var buf []byte
		for range batches * perBatch {
			typ, m, err := c.Read(ctx, buf[:0])
			if err != nil {
				t.Error(err)
				return
			}
			if err := c.Write(ctx, typ, m); err != nil {
				t.Error(err)
				return
			}
			buf = m
		}
	}()
	next := make(map[string]int)
	for range batches*perBatch + writers*each {
		f := p.mustNext()
		src, seq, _ := strings.Cut(string(f.Payload), " ")
		if f.Opcode == frame.OpBinary {
			src, seq = "e", src[1:]
		}
		if want := fmt.Sprint(next[src]); seq != want {
			t.Fatalf("from %s: message %s, want %s", src, seq, want)
		}
		next[src]++
	}
	wg.Wait()
}

//go:build unix

package conn

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/rfc6455/websocket/frame"
)

// TestIdleHoldsNoReadBuffer checks that Conns over TCP sockets waiting in
// Read hold no read buffer: a pair of them, each end with a goroutine
// blocked in Read after an exchange, costs well under the two 4 KiB
// buffers they would otherwise keep.
func TestIdleHoldsNoReadBuffer(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	const n = 100
	type pair struct{ a, b net.Conn }
	pairs := make([]pair, n)
	for i := range pairs {
		pairs[i].a, pairs[i].b = tcpPair(t)
	}
	before := int(memAfterGC().HeapAlloc)
	conns := make([]*Conn, 0, 2*n)
	var wg sync.WaitGroup
	for _, p := range pairs {
		client := mustNew(t, p.a, frame.Client, nil, nil)
		server := mustNew(t, p.b, frame.Server, nil, nil)
		conns = append(conns, client, server)
		wg.Add(2)
		go func() { defer wg.Done(); echoLoop(server, nil) }()
		if err := client.Write(ctx, Text, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := client.Read(ctx, nil); err != nil {
			t.Fatal(err)
		}
		go func() { defer wg.Done(); client.Read(ctx, nil) }()
	}
	perPair := (int(memAfterGC().HeapAlloc) - before) / n
	t.Logf("%d bytes of heap per pair of idle Conns", perPair)
	for _, c := range conns {
		c.CloseNow()
	}
	wg.Wait()
	if perPair >= 2*defaultReadBufferSize {
		t.Errorf("a pair of idle Conns holds %d bytes, want less than their two read buffers (%d)", perPair, 2*defaultReadBufferSize)
	}
}

// A prefixedConn is a TCP connection whose Read first returns prefix, as
// a connection wrapped by a PROXY protocol reader may return bytes it read
// ahead.
type prefixedConn struct {
	*net.TCPConn
	r io.Reader
}

func (c *prefixedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestWrappedSocketReadsThroughWrapper checks that a Conn over a type that
// wraps a *net.TCPConn reads through the wrapper's Read, never the socket
// underneath.
func TestWrappedSocketReadsThroughWrapper(t *testing.T) {
	a, b := tcpPair(t)
	peer := &rawPeer{t: t, nc: a, role: frame.Client}
	first := peer.frameBytes(true, 0, frame.OpText, []byte("read ahead by the wrapper"))
	tc := b.(*net.TCPConn)
	c := mustNew(t, &prefixedConn{TCPConn: tc, r: io.MultiReader(bytes.NewReader(first), tc)}, frame.Server, nil, nil)
	defer c.CloseNow()
	peer.send(true, frame.OpText, []byte("sent on the socket"))
	for _, want := range []string{"read ahead by the wrapper", "sent on the socket"} {
		if _, m, err := c.Read(ctx, nil); err != nil || string(m) != want {
			t.Fatalf("Read = %q, %v; want %q", m, err, want)
		}
	}
}

//go:build !js

package conn

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rfc6455/websocket/frame"
)

// A tapConn counts the bytes that pass through a net.Conn.
type tapConn struct {
	net.Conn
	read, written atomic.Int64
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *tapConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// tappedPair is connPairHandshake with the bytes each Conn reads and
// writes counted.
func tappedPair(t *testing.T, h *Handshake, clientOpts, serverOpts *Options) (client, server *Conn, clientTap, serverTap *tapConn) {
	a, b := tcpPair(t)
	clientTap, serverTap = &tapConn{Conn: a}, &tapConn{Conn: b}
	client = mustNew(t, clientTap, frame.Client, h, clientOpts)
	server = mustNew(t, serverTap, frame.Server, h, serverOpts)
	t.Cleanup(func() { client.CloseNow(); server.CloseNow() })
	return client, server, clientTap, serverTap
}

// A statsStep is one exchange of TestStats: a message from one end to the
// other, or a ping.
type statsStep struct {
	fromServer bool
	typ        MessageType
	size       int
	chunk      int  // if positive, the message is streamed through Writer in writes of chunk bytes
	prepared   bool // sent with WritePrepared
	ping       []byte
}

// compressible returns size bytes of text that compresses well.
func compressible(size int) []byte {
	return []byte(strings.Repeat("counter ", size/8+1)[:size])
}

// TestStats checks every counter after known exchanges, and the wire
// bytes against what the network connection carried, closing handshake
// included.
func TestStats(t *testing.T) {
	tests := []struct {
		name                   string
		deflate                *Deflate // of the client
		clientOpts, serverOpts Options
		steps                  []statsStep
		wantClient, wantServer Stats
	}{{
		name: "text",
		steps: []statsStep{
			{typ: Text, size: 5},
			{fromServer: true, typ: Text, size: 13},
			{fromServer: true, typ: Text, size: 0},
		},
		wantClient: Stats{MessagesWritten: 1, BytesWritten: 5, MessagesRead: 2, BytesRead: 13},
		wantServer: Stats{MessagesRead: 1, BytesRead: 5, MessagesWritten: 2, BytesWritten: 13},
	}, {
		name: "binary, read in place",
		steps: []statsStep{
			{typ: Binary, size: 200000},
			{fromServer: true, typ: Binary, size: 70000},
		},
		wantClient: Stats{MessagesWritten: 1, BytesWritten: 200000, MessagesRead: 1, BytesRead: 70000},
		wantServer: Stats{MessagesRead: 1, BytesRead: 200000, MessagesWritten: 1, BytesWritten: 70000},
	}, {
		name:       "fragmented",
		clientOpts: Options{WriteBufferSize: 16},
		steps: []statsStep{
			{typ: Text, size: 100, chunk: 7},
			{typ: Binary, size: 16, chunk: 16},
			{fromServer: true, typ: Binary, size: 9000, chunk: 1000},
		},
		wantClient: Stats{MessagesWritten: 2, BytesWritten: 116, MessagesRead: 1, BytesRead: 9000},
		wantServer: Stats{MessagesRead: 2, BytesRead: 116, MessagesWritten: 1, BytesWritten: 9000},
	}, {
		name:    "compressed with context takeover",
		deflate: &Deflate{},
		steps: []statsStep{
			{typ: Text, size: 1000},
			{typ: Text, size: 1000},
			{typ: Text, size: 10}, // under the threshold
			{fromServer: true, typ: Binary, size: 5000, chunk: 300},
			{fromServer: true, typ: Text, size: 2000, prepared: true},
		},
		wantClient: Stats{MessagesWritten: 3, BytesWritten: 2010, CompressedWritten: 2, MessagesRead: 2, BytesRead: 7000, CompressedRead: 2},
		wantServer: Stats{MessagesRead: 3, BytesRead: 2010, CompressedRead: 2, MessagesWritten: 2, BytesWritten: 7000, CompressedWritten: 2},
	}, {
		name:    "compressed without context takeover",
		deflate: &Deflate{ReadNoContextTakeover: true, WriteNoContextTakeover: true},
		steps: []statsStep{
			{typ: Text, size: 1000},
			{typ: Text, size: 300}, // under the threshold
			{typ: Binary, size: 600, prepared: true},
			{fromServer: true, typ: Text, size: 3000, prepared: true},
			{fromServer: true, typ: Text, size: 100, chunk: 30},
		},
		wantClient: Stats{MessagesWritten: 3, BytesWritten: 1900, CompressedWritten: 2, MessagesRead: 2, BytesRead: 3100, CompressedRead: 1},
		wantServer: Stats{MessagesRead: 3, BytesRead: 1900, CompressedRead: 2, MessagesWritten: 2, BytesWritten: 3100, CompressedWritten: 1},
	}, {
		name: "pings and pongs",
		steps: []statsStep{
			{ping: []byte("a")},
			{ping: []byte("bb")},
			{fromServer: true, ping: []byte("c")},
			{typ: Text, size: 3},
		},
		// Each ping step ends with an empty message each way.
		wantClient: Stats{PingsSent: 2, PongsReceived: 2, PingsReceived: 1, MessagesWritten: 4, BytesWritten: 3, MessagesRead: 3},
		wantServer: Stats{PingsSent: 1, PongsReceived: 1, PingsReceived: 2, MessagesRead: 4, BytesRead: 3, MessagesWritten: 3},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h *Handshake
			if tt.deflate != nil {
				h = tt.deflate.handshake(frame.Client)
			}
			client, server, clientTap, serverTap := tappedPair(t, h, &tt.clientOpts, &tt.serverOpts)
			pinged := map[*Conn]bool{}
			for _, s := range tt.steps {
				from, to := client, server
				if s.fromServer {
					from, to = server, client
				}
				if s.ping != nil {
					pingStep(t, from, to, s.ping)
					pinged[from] = true
					continue
				}
				msg := compressible(s.size)
				sendStep(t, from, s, msg)
				typ, got, err := to.Read(ctx, nil)
				if err != nil || typ != s.typ || !bytes.Equal(got, msg) {
					t.Fatalf("Read = %v, %d bytes, %v; want %v, %d bytes", typ, len(got), err, s.typ, len(msg))
				}
			}
			// The closing handshake: its frames count on the wire only.
			go server.Read(ctx, nil)
			if err := client.Close(CloseNormalClosure, "done"); err != nil {
				t.Fatal(err)
			}
			waitClosed(t, client)
			waitClosed(t, server)

			for _, c := range []struct {
				name string
				conn *Conn
				tap  *tapConn
				want Stats
			}{
				{"client", client, clientTap, tt.wantClient},
				{"server", server, serverTap, tt.wantServer},
			} {
				got := c.conn.Stats()
				if diff := cmp.Diff(c.want, got, cmpopts.IgnoreFields(Stats{}, "WireBytesRead", "WireBytesWritten", "RTT")); diff != "" {
					t.Errorf("%s Stats() mismatch (-want +got):\n%s", c.name, diff)
				}
				if got.WireBytesRead != c.tap.read.Load() || got.WireBytesWritten != c.tap.written.Load() {
					t.Errorf("%s: WireBytesRead %d, WireBytesWritten %d; the network connection carried %d in, %d out",
						c.name, got.WireBytesRead, got.WireBytesWritten, c.tap.read.Load(), c.tap.written.Load())
				}
				if (got.RTT > 0) != pinged[c.conn] {
					t.Errorf("%s: RTT = %v after pinging: %v", c.name, got.RTT, pinged[c.conn])
				}
			}
		})
	}
}

// sendStep sends msg from c as s says.
func sendStep(t *testing.T, c *Conn, s statsStep, msg []byte) {
	t.Helper()
	switch {
	case s.prepared:
		pm, err := NewPreparedMessage(s.typ, msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WritePrepared(ctx, pm); err != nil {
			t.Fatal(err)
		}
	case s.chunk > 0:
		w, err := c.Writer(ctx, s.typ)
		if err != nil {
			t.Fatal(err)
		}
		for p := msg; len(p) > 0; {
			n := min(s.chunk, len(p))
			if _, err := w.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		if err := c.Write(ctx, s.typ, msg); err != nil {
			t.Fatal(err)
		}
	}
}

// pingStep pings to from from, with both reading (to answer the ping and
// to see the pong), and stops the reads with a message each way.
func pingStep(t *testing.T, from, to *Conn, payload []byte) {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range []*Conn{from, to} {
		wg.Go(func() {
			if _, _, err := c.Read(ctx, nil); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := from.Ping(ctx, payload); err != nil {
		t.Fatal(err)
	}
	// Empty messages, which the tests' counts include.
	if err := from.Write(ctx, Binary, nil); err != nil {
		t.Fatal(err)
	}
	if err := to.Write(ctx, Binary, nil); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

var statsSink Stats

// BenchmarkStats measures reading the counters, as a metrics scraper
// does for every connection.
func BenchmarkStats(b *testing.B) {
	client, _ := connPair(b, nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		statsSink = client.Stats()
	}
}

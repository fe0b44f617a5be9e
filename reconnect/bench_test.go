package reconnect

import (
	"net"
	"testing"

	"github.com/rfc6455/websocket/conn"
)

// echo upgrades and echoes every message until the connection ends.
func echo(_ int, nc net.Conn) {
	c := upgrade(nc)
	if c == nil {
		return
	}
	defer c.CloseNow()
	var buf []byte
	for {
		typ, msg, err := c.Read(ctx, buf[:0])
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
		buf = msg
	}
}

// TestSteadyStateAllocs holds a Conn to what a conn.Conn promises: reads
// into a reused buffer and writes on an open connection allocate nothing.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	srv := listen(t, "127.0.0.1:0", nil, echo)
	r, err := Dial(ctx, srv.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.CloseNow()
	msg := make([]byte, 1000)
	buf := make([]byte, 0, len(msg))
	roundTrip := func() {
		if err := r.Write(ctx, conn.Binary, msg); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Read(ctx, buf[:0]); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip()
	if allocs := testing.AllocsPerRun(100, roundTrip); allocs != 0 {
		t.Errorf("%v allocations per round trip, want 0", allocs)
	}
}

// BenchmarkRoundTrip compares an echo round trip of 1 KiB over loopback
// through a reconnect.Conn and through the conn.Conn under it.
func BenchmarkRoundTrip(b *testing.B) {
	srv := listen(b, "127.0.0.1:0", nil, echo)
	r, err := Dial(ctx, srv.url(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.CloseNow()
	msg := make([]byte, 1024)
	buf := make([]byte, 0, len(msg))
	b.Run("reconnect", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			r.Write(ctx, conn.Binary, msg)
			r.Read(ctx, buf[:0])
		}
	})
	b.Run("conn", func(b *testing.B) {
		c := r.Current()
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			c.Write(ctx, conn.Binary, msg)
			c.Read(ctx, buf[:0])
		}
	})
}

//go:build !js

package conn

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/rfc6455/websocket/frame"
)

// TestSteadyStateAllocs checks that reading into a reused buffer and
// writing uncompressed messages allocate nothing, in both roles, with a
// context that cannot end and with one that can (as a request's can).
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, size := range []int{100, 10000, 100000} {
		for _, ctx := range []context.Context{context.Background(), cancellable} {
			t.Run(fmt.Sprintf("%d/%v", size, ctx), func(t *testing.T) { steadyStateAllocs(t, ctx, size) })
		}
	}
}

func steadyStateAllocs(t *testing.T, ctx context.Context, size int) {
	client, server := connPair(t, nil, nil)
	msg := payloadOf(size)
	buf := make([]byte, 0, size)
	roundTrip := func() {
		if err := client.Write(ctx, Binary, msg); err != nil {
			t.Fatal(err)
		}
		_, b, err := server.Read(ctx, buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		if err := server.Write(ctx, Binary, b); err != nil {
			t.Fatal(err)
		}
		if _, _, err := client.Read(ctx, buf[:0]); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip()
	if allocs := testing.AllocsPerRun(50, roundTrip); allocs != 0 {
		t.Errorf("%v allocations per round trip, want 0", allocs)
	}
}

func BenchmarkWriteRead(b *testing.B) {
	for _, size := range []int{16, 1024, 16 << 10, 1 << 20} {
		for _, role := range []frame.Role{frame.Server, frame.Client} {
			b.Run(fmt.Sprintf("%v/%d", role, size), func(b *testing.B) {
				client, server := connPair(b, nil, nil)
				from, to := server, client
				if role == frame.Client {
					from, to = client, server
				}
				msg := payloadOf(size)
				done := make(chan error, 1)
				n := b.N
				go func() {
					buf := make([]byte, 0, size)
					for i := 0; i < n; i++ {
						var err error
						if _, buf, err = to.Read(ctx, buf[:0]); err != nil {
							done <- err
							return
						}
					}
					done <- nil
				}()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < n; i++ {
					if err := from.Write(ctx, Binary, msg); err != nil {
						b.Fatal(err)
					}
				}
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkStreamingWriter compares many small writes through one message
// writer, which coalesces them into full frames, with a message per write.
func BenchmarkStreamingWriter(b *testing.B) {
	chunk := payloadOf(32)
	const chunks = 128
	b.Run("writer", func(b *testing.B) {
		c, peer := rawPair(b, frame.Server, nil)
		go io.Copy(io.Discard, peer.nc)
		b.SetBytes(chunks * 32)
		b.ReportAllocs()
		for b.Loop() {
			w, err := c.Writer(ctx, Binary)
			if err != nil {
				b.Fatal(err)
			}
			for range chunks {
				w.Write(chunk)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("message-per-write", func(b *testing.B) {
		c, peer := rawPair(b, frame.Server, nil)
		go io.Copy(io.Discard, peer.nc)
		b.SetBytes(chunks * 32)
		b.ReportAllocs()
		for b.Loop() {
			for range chunks {
				if err := c.Write(ctx, Binary, chunk); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkIdleConn reports the heap held by an idle Conn (after a message
// each way), without its network connection or any reading goroutine.
func BenchmarkIdleConn(b *testing.B) {
	const n = 1000
	pipes := make([][2]net.Conn, n)
	for i := range pipes {
		a, c := net.Pipe()
		pipes[i] = [2]net.Conn{a, c}
	}
	conns := make([]*Conn, n)
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range conns {
			conns[i], _ = New(pipes[i][0], frame.Server, nil, nil)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/conn")
		for i := range conns {
			conns[i] = nil
		}
	}
	runtime.KeepAlive(conns)
}

// BenchmarkConcurrentWriters has 64 goroutines writing 16-byte messages
// to one Conn, as goroutines of a hub pushing to the same client do.
func BenchmarkConcurrentWriters(b *testing.B) {
	c, peer := rawPair(b, frame.Server, nil)
	go io.Copy(io.Discard, peer.nc)
	msg := payloadOf(16)
	b.ReportAllocs()
	b.SetParallelism(32) // 64 goroutines on 2 CPUs
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Write(ctx, Binary, msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

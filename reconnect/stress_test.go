package reconnect

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
)

// TestWritersAcrossReconnects has four goroutines write while the server
// restarts (1012) every 25 messages: every message arrives at most once,
// and each writer's messages arrive in the order written.
func TestWritersAcrossReconnects(t *testing.T) {
	t.Parallel()
	const writers, perWriter, perConn = 4, 150, 25
	var mu sync.Mutex
	var got []string
	ended := make(chan struct{}, 1)
	srv := listen(t, "127.0.0.1:0", nil, func(i int, nc net.Conn) {
		c := upgrade(nc)
		if c == nil {
			return
		}
		for range perConn {
			_, msg, err := c.Read(ctx, nil)
			if err != nil {
				c.CloseNow()
				return
			}
			if string(msg) == "end" {
				select {
				case ended <- struct{}{}:
				default:
				}
				continue
			}
			mu.Lock()
			got = append(got, string(msg))
			mu.Unlock()
		}
		c.Close(conn.CloseServiceRestart, "")
	})
	r, err := Dial(ctx, srv.url(), &Options{MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, QueueMessages: writers * perWriter})
	if err != nil {
		t.Fatal(err)
	}
	reads := readLoop(r)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if err := r.Write(ctx, conn.Text, fmt.Appendf(nil, "%d %d", w, i)); err != nil {
					if errors.Is(err, ErrQueueFull) || errors.Is(err, ErrNotConnected) {
						t.Errorf("Write = %v", err)
					}
					failed.Add(1) // a broken connection: the message is lost
				}
				time.Sleep(100 * time.Microsecond) // spread the writes over the reconnections

			}
		})
	}
	wg.Wait()
	// Everything written before "end" has arrived or was lost when "end"
	// arrives; "end" may be lost too, so it is sent until it arrives.
	for arrived := false; !arrived; {
		r.Write(ctx, conn.Text, []byte("end"))
		select {
		case <-ended:
			arrived = true
		case <-time.After(time.Second):
		}
	}
	r.CloseNow()
	for res := range reads {
		if res.err != nil && !errors.Is(res.err, net.ErrClosed) {
			t.Errorf("Read = %v", res.err)
		}
	}
	srv.stop()
	mu.Lock()
	defer mu.Unlock()
	last := make([]int, writers)
	for i := range last {
		last[i] = -1
	}
	for _, m := range got {
		var w, i int
		if _, err := fmt.Sscanf(m, "%d %d", &w, &i); err != nil || w < 0 || w >= writers {
			t.Fatalf("server received %q", m)
		}
		if i <= last[w] {
			t.Errorf("writer %d: message %d arrived after %d", w, i, last[w])
		}
		last[w] = i
	}
	if srv.n.Load() < 2 {
		t.Errorf("%d connections; want reconnections", srv.n.Load())
	}
	t.Logf("%d connections, %d messages received, %d writes failed", srv.n.Load(), len(got), failed.Load())
}

// TestNoGoroutineLeft counts goroutines over loopback, outside synctest:
// after a reconnection, CloseNow, and the server's end, the process has no
// more goroutines than before the Dial. It does not run in parallel, so
// that the count is the package's own.
func TestNoGoroutineLeft(t *testing.T) {
	srv := listen(t, "127.0.0.1:0", nil, func(i int, nc net.Conn) {
		if i == 0 {
			closeWith(conn.CloseGoingAway)(i, nc)
			return
		}
		greet(i, nc)
	})
	before := runtime.NumGoroutine()
	r, err := Dial(ctx, srv.url(), fast(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, msg, err := r.Read(ctx, nil); err != nil || string(msg) != "hello 1" {
		t.Fatalf("Read = %q, %v; want hello 1 from the second connection", msg, err)
	}
	r.CloseNow()
	srv.stop()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, %d before the Dial:\n%s", runtime.NumGoroutine(), before, filterStacks(string(buf)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// filterStacks keeps the goroutine stacks that mention this module.
func filterStacks(all string) string {
	var keep []string
	for g := range strings.SplitSeq(all, "\n\n") {
		if strings.Contains(g, "rfc6455/websocket") && !strings.Contains(g, "TestNoGoroutineLeft") {
			keep = append(keep, g)
		}
	}
	return strings.Join(keep, "\n\n")
}

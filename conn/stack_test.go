//go:build !js

package conn

import (
	"runtime"
	"sync"
	"testing"
)

// TestIdleStack checks that a goroutine blocked in Read, below a frame as
// large as net/http's conn.serve (where a handler that serves its Conn
// runs), sits on a 4 KiB stack once messages of several sizes have been
// echoed: no function on the paths of Read and Write may have a frame so
// large that the stack must grow to 8 KiB, which it then keeps for the
// life of the connection.
func TestIdleStack(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes stack sizes")
	}
	const n = 100
	clients := make([]*Conn, n)
	servers := make([]*Conn, n)
	for i := range n {
		clients[i], servers[i] = connPair(t, nil, nil)
	}
	msgs := [][]byte{payloadOf(16), payloadOf(3000), payloadOf(20000)}
	before := int(memAfterGC().StackInuse)
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			underLargeFrame(s)
		}()
	}
	for _, c := range clients {
		for _, m := range msgs {
			if err := c.Write(ctx, Binary, m); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Read(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	perConn := (int(memAfterGC().StackInuse) - before) / n
	for _, c := range clients {
		c.CloseNow()
	}
	wg.Wait()
	t.Logf("%d bytes of stack per blocked reader", perConn)
	if perConn > 4096+512 {
		t.Errorf("a goroutine blocked in Read holds %d bytes of stack, want at most 4 KiB", perConn)
	}
}

// underLargeFrame echoes messages on c below a frame of about 1 KiB.
//
//go:noinline
func underLargeFrame(c *Conn) {
	var pad [1024]byte
	echoLoop(c, pad[:])
	runtime.KeepAlive(pad)
}

//go:noinline
func echoLoop(c *Conn, buf []byte) {
	for {
		typ, m, err := c.Read(ctx, buf[:0])
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, m); err != nil {
			return
		}
		buf = m
	}
}

// memAfterGC returns the runtime's memory statistics after two
// collections have freed what they can and shrunk the stacks they can.
func memAfterGC() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

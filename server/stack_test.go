package server

import (
	"io"
	"net"
	"runtime/metrics"
	"testing"
	"time"
	"unsafe"

	"github.com/rfc6455/websocket/conn"
)

// stackMoved runs f on a new goroutine, after before, and reports whether
// the goroutine's stack was moved, that is grown, while f ran.
func stackMoved(before, f func()) bool {
	moved := make(chan bool)
	go func() {
		before()
		var marker byte
		at := uintptr(unsafe.Pointer(&marker))
		f()
		moved <- uintptr(unsafe.Pointer(&marker)) != at
	}()
	return <-moved
}

// TestUpgradeConnStack checks that UpgradeConn grows a new goroutine's
// stack at most once, in reserveStack on entry, while the stack is
// shallow, and not again deeper down, where growing it costs more: the
// handshake fits in what reserveStack leaves, with compression too.
func TestUpgradeConnStack(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's frames are larger")
	}
	sample := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(sample)
	if size := sample[0].Value.Uint64(); size > 2048 {
		t.Logf("goroutines start with %d bytes of stack, so none grows here", size)
	} else {
		if !stackMoved(func() {}, reserveStack) {
			t.Errorf("reserveStack did not grow a new goroutine's stack of %d bytes", size)
		}
		// UpgradeConn grows the stack before it first calls the connection,
		// deep below which the stack would otherwise grow.
		server, client := net.Pipe()
		defer client.Close()
		go client.Write([]byte(browserRequest))
		rc := &readDepth{Conn: server}
		done := make(chan struct{})
		go func() {
			var marker byte
			rc.top = uintptr(unsafe.Pointer(&marker))
			if c, _, err := UpgradeConn(rc, nil); err == nil {
				c.CloseNow()
			}
			close(done)
		}()
		go io.Copy(io.Discard, client)
		<-done
		if rc.depth < uintptr(size) {
			t.Errorf("UpgradeConn called the connection %d bytes down the stack the goroutine started with: reserveStack did not grow it", rc.depth)
		}
	}
	tests := []struct {
		name string
		opts *Options
		head string
	}{
		{name: "no options", head: browserRequest},
		{name: "compression", opts: &Options{Compression: &conn.Compression{}}, head: browserRequest},
		{name: "rejected", opts: &Options{}, head: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, client := net.Pipe()
			go func() {
				client.Write([]byte(tt.head))
				io.Copy(io.Discard, client)
			}()
			moved := stackMoved(reserveStack, func() {
				c, _, err := UpgradeConn(server, tt.opts)
				if err == nil {
					c.CloseNow()
				}
			})
			client.Close()
			if moved {
				t.Errorf("UpgradeConn grew the stack that reserveStack had grown")
			}
		})
	}
}

// readDepth is a net.Conn that records how far below top, an address at
// the top of the calling goroutine's first stack, the first call of
// SetDeadline or Read is: less than that stack's size if the stack has
// not moved since.
type readDepth struct {
	net.Conn
	top, depth uintptr
}

func (c *readDepth) measure() {
	var marker byte
	if c.depth == 0 {
		c.depth = c.top - uintptr(unsafe.Pointer(&marker))
	}
}

func (c *readDepth) SetDeadline(t time.Time) error {
	c.measure()
	return c.Conn.SetDeadline(t)
}

func (c *readDepth) Read(p []byte) (int, error) {
	c.measure()
	return c.Conn.Read(p)
}

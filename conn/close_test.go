//go:build !js

package conn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// TestClientLearnsOfCloseAtOnce checks that a client's Read returns the
// server's Close frame as soon as it has answered it, even when the server
// keeps the TCP connection open (as nodejs-websocket does), and that the
// client then closes TCP itself after CloseTimeout, or as soon as the
// server does.
func TestClientLearnsOfCloseAtOnce(t *testing.T) {
	for _, serverCloses := range []bool{false, true} {
		name := "server keeps TCP open"
		if serverCloses {
			name = "server closes TCP"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				c := mustNew(t, a, frame.Client, nil, &Options{CloseTimeout: time.Hour})
				defer c.CloseNow()
				peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Server}
				go peer.write(peer.frameBytes(true, 0, frame.OpClose, frame.AppendClose(nil, CloseGoingAway, "restart")))
				start := time.Now()
				errc := make(chan error, 1)
				go func() {
					_, _, err := c.Read(ctx, nil)
					errc <- err
				}()
				if f := peer.mustNext(); f.Opcode != frame.OpClose {
					t.Fatalf("client answered with %+v, want its Close frame", f)
				}
				synctest.Wait()
				var err error
				select {
				case err = <-errc:
				default:
					t.Fatal("Read has not returned the server's Close frame")
				}
				var ce *CloseError
				if !errors.As(err, &ce) || ce.Code != CloseGoingAway || ce.Reason != "restart" {
					t.Fatalf("Read = %v, want the server's CloseError", err)
				}
				if waited := time.Since(start); waited != 0 {
					t.Errorf("Read returned after %v, want at once", waited)
				}
				if s := c.State(); s != Closing {
					t.Errorf("State() = %v while the client waits for the server to close TCP, want closing", s)
				}
				if serverCloses {
					b.Close()
				} else {
					time.Sleep(time.Hour)
				}
				synctest.Wait()
				if s := c.State(); s != Closed {
					t.Errorf("State() = %v, want closed", s)
				}
				b.Close()
			})
		})
	}
}

// TestReadAfterLocalClose checks what a reader sees when this endpoint
// closed first: an error saying so, matching net.ErrClosed, that carries
// the peer's answer as a *CloseError. The reader is either blocked in
// Read when Close is called, and sees the peer's answer itself, or reads
// after Close has seen it.
func TestReadAfterLocalClose(t *testing.T) {
	for _, role := range []frame.Role{frame.Server, frame.Client} {
		for _, readerFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v/reader first=%v", role, readerFirst), func(t *testing.T) {
				c, peer := rawPair(t, role, nil)
				errc := make(chan error, 1)
				read := func() {
					_, _, err := c.Read(ctx, nil)
					errc <- err
				}
				closed := make(chan error, 1)
				if readerFirst {
					go read()
					for !c.rlock.held.Load() {
						runtime.Gosched()
					}
				}
				go func() { closed <- c.Close(CloseGoingAway, "shutting down") }()
				f := peer.mustNext()
				peer.send(true, frame.OpClose, f.Payload)
				if err := <-closed; err != nil {
					t.Fatalf("Close: %v", err)
				}
				if !readerFirst {
					go read()
				}
				err := <-errc
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("Read = %v, want an error matching net.ErrClosed", err)
				}
				var ce *CloseError
				if !errors.As(err, &ce) || ce.Code != CloseGoingAway {
					t.Errorf("Read = %v, want the peer's answer as a CloseError", err)
				}
				// The message is what a log shows: it must not blame the peer.
				if !strings.Contains(err.Error(), "this endpoint closed") {
					t.Errorf("Read error %q does not say that this endpoint closed", err)
				}
			})
		}
	}
}

// TestPingWithEndedContext checks that a Ping whose context has already
// ended sends nothing.
func TestPingWithEndedContext(t *testing.T) {
	c, peer := rawPair(t, frame.Server, nil)
	ended, cancel := context.WithCancel(ctx)
	cancel()
	for range 100 {
		if _, err := c.Ping(ended, []byte("x")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Ping = %v, want context.Canceled", err)
		}
		if err := c.writeControl(ended, frame.OpPing, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("writeControl = %v, want context.Canceled", err)
		}
	}
	go c.Write(ctx, Text, []byte("first"))
	if f := peer.mustNext(); f.Opcode != frame.OpText {
		t.Errorf("first frame %+v, want the text message: a ping went out", f)
	}
}

// TestStaleReader checks that a reader kept past its message fails
// instead of reading the next one.
func TestStaleReader(t *testing.T) {
	c, peer := rawPair(t, frame.Server, nil)
	peer.send(true, frame.OpText, []byte("one"))
	peer.send(true, frame.OpText, []byte("two"))
	peer.send(true, frame.OpText, []byte("three"))
	_, old, err := c.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, current, err := c.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, err := old.Read(buf); !errors.Is(err, errStaleReader) {
		t.Errorf("old reader Read = %q, %v; want errStaleReader", buf[:n], err)
	}
	if n, err := current.Read(buf); string(buf[:n]) != "two" || err != nil {
		t.Errorf("current reader Read = %q, %v; want two", buf[:n], err)
	}
	if _, msg, err := c.Read(ctx, nil); string(msg) != "three" || err != nil {
		t.Errorf("Read = %q, %v", msg, err)
	}
	if n, err := current.Read(buf); !errors.Is(err, errStaleReader) {
		t.Errorf("reader after Read = %q, %v; want errStaleReader", buf[:n], err)
	}
}

// TestStaleWriter checks that a writer kept past its Close fails instead
// of writing into the next message.
func TestStaleWriter(t *testing.T) {
	c, peer := rawPair(t, frame.Server, nil)
	old, err := c.Writer(ctx, Text)
	if err != nil {
		t.Fatal(err)
	}
	old.Write([]byte("first"))
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	current, err := c.Writer(ctx, Text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Write([]byte("stray")); !errors.Is(err, errWriterClosed) {
		t.Errorf("old writer Write = %v, want errWriterClosed", err)
	}
	if err := old.Close(); !errors.Is(err, errWriterClosed) {
		t.Errorf("old writer Close = %v, want errWriterClosed", err)
	}
	current.Write([]byte("second"))
	go current.Close()
	for _, want := range []string{"first", "second"} {
		if f := peer.mustNext(); string(f.Payload) != want || !f.Fin {
			t.Errorf("frame %+v, want %q", f, want)
		}
	}
}

// TestWriteErrorSaysWhatHappened checks the error of a write that failed
// before any byte went out: the connection is closed, and nothing claims
// a frame was cut.
func TestWriteErrorSaysWhatHappened(t *testing.T) {
	c, _ := rawPair(t, frame.Server, nil)
	c.nc.Close() // under the Conn, as a network failure would
	err := c.Write(ctx, Text, []byte("hello"))
	if err == nil {
		t.Fatal("Write on a closed network connection succeeded")
	}
	// The message is what a log shows, so it is checked: "mid-frame" or
	// "after N bytes" would be false here, and so would a repeated prefix.
	if msg := err.Error(); strings.Contains(msg, "mid-frame") || strings.Contains(msg, "bytes of a frame") || strings.Count(msg, "write failed") != 1 {
		t.Errorf("Write error %q", msg)
	}
	if c.State() != Closed {
		t.Errorf("State() = %v, want closed", c.State())
	}
}

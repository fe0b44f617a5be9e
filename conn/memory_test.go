//go:build !js

package conn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/rfc6455/websocket/frame"
)

// TestTrickledMessageMemory checks a message that arrives slowly, in
// pieces, to a reader whose every Read has a short deadline: the part
// received is kept between Reads without being copied again and again,
// the caller's buffer is reused or grown as for any Read, the message
// comes out whole, and the idle Conn holds none of it afterwards.
func TestTrickledMessageMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const size, pieces = 4 << 20, 64
	for _, callerBuf := range []int{0, 64 << 10, 8 << 20} {
		t.Run(fmt.Sprintf("buffer=%d", callerBuf), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				c := mustNew(t, a, frame.Server, nil, nil)
				defer c.CloseNow()
				peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
				msg := bytes.Repeat([]byte("trickle "), size/8)
				wire := peer.frameBytes(true, 0, frame.OpBinary, msg)
				sent := make(chan struct{})
				go func() {
					defer close(sent)
					for i := range pieces {
						if i > 0 {
							time.Sleep(50 * time.Millisecond) // longer than each Read waits
						}
						peer.write(wire[i*len(wire)/pieces : (i+1)*len(wire)/pieces])
					}
				}()
				defer func() { <-sent }()
				buf := make([]byte, 0, callerBuf)
				var got []byte
				var cuts int
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for got == nil {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
					_, m, err := c.Read(ctx, buf[:0])
					cancel()
					switch {
					case errors.Is(err, context.DeadlineExceeded):
						cuts++
					case err != nil:
						t.Fatal(err)
					default:
						got = m
					}
				}
				runtime.ReadMemStats(&after)
				if !bytes.Equal(got, msg) {
					t.Fatalf("got %d bytes, want the %d sent", len(got), len(msg))
				}
				if cuts < pieces/2 {
					t.Fatalf("%d Reads were cut; the test means many", cuts)
				}
				// Growing a buffer to 4 MiB allocates about 8 MiB in all,
				// 12 MiB if reads cut at the wrong moments make it grow once
				// more; copying what had arrived at every cut into a fresh
				// buffer, as the Conn once did, allocated 1.8 GB here.
				if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4*size {
					t.Errorf("%d Reads cut: %d bytes allocated for a %d-byte message", cuts, allocated, size)
				}
				if c.partial != nil || c.resume {
					t.Errorf("the Conn still holds %d bytes of the delivered message", cap(c.partial))
				}
				b.Close()
			})
		})
	}
}

// TestTooBigClosesAtOnce checks that a frame whose header announces more
// than the read limit fails the connection with 1009 at once: the peer's
// Close frame would come after the rest of that frame, so none is awaited.
func TestTooBigClosesAtOnce(t *testing.T) {
	for _, role := range []frame.Role{frame.Server, frame.Client} {
		t.Run(role.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				c := mustNew(t, a, role, nil, &Options{ReadLimit: 1 << 20, CloseTimeout: time.Hour})
				defer c.CloseNow()
				peerRole := frame.Client
				if role == frame.Client {
					peerRole = frame.Server
				}
				peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: peerRole}
				h := frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 64 << 20, Masked: peerRole == frame.Client}
				answered := make(chan struct{})
				go func() {
					defer close(answered)
					peer.write(frame.AppendHeader(nil, h))
					f := peer.mustNext() // the Conn's Close frame
					// The answer finds the connection closed already.
					b.Write(peer.frameBytes(true, 0, frame.OpClose, f.Payload))
				}()
				defer func() { <-answered }()
				start := time.Now()
				_, _, err := c.Read(ctx, nil)
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != CloseMessageTooBig || !errors.Is(err, ErrReadLimit) {
					t.Fatalf("Read = %v, want a 1009 ProtocolError", err)
				}
				if waited := time.Since(start); waited != 0 {
					t.Errorf("Read returned after %v, want at once", waited)
				}
				if c.State() != Closed {
					t.Errorf("State() = %v, want closed", c.State())
				}
				b.Close()
			})
		})
	}
}

// readAllocs reads one message from c, checks that it is want, and
// returns the bytes allocated meanwhile.
func readAllocs(t *testing.T, c *Conn, want []byte) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, got, err := c.Read(ctx, nil)
	runtime.ReadMemStats(&after)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Read = %d bytes, %v", len(got), err)
	}
	return after.TotalAlloc - before.TotalAlloc
}

// TestFragmentedMessageMemory checks that a message sent in many small
// fragments costs what one large frame does: the buffer grows by doubling
// whatever the size of each fragment, instead of by one fragment at a time
// (which copies the whole message again for every fragment, quadratic in
// its length: Autobahn's 9.3.1, 4 MiB in 64-byte fragments, then takes
// minutes).
func TestFragmentedMessageMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const size, fragment = 1 << 20, 256
	msg := bytes.Repeat([]byte("fragmented message "), size/19)
	for _, limit := range []int64{0, 16 << 20} {
		t.Run(fmt.Sprintf("ReadLimit=%d", limit), func(t *testing.T) {
			c, peer := rawPair(t, frame.Server, &Options{ReadLimit: limit})
			var wire []byte
			for off := 0; off < len(msg); off += fragment {
				op := frame.OpContinuation
				if off == 0 {
					op = frame.OpBinary
				}
				end := min(off+fragment, len(msg))
				wire = append(wire, peer.frameBytes(end == len(msg), 0, op, msg[off:end])...)
			}
			go peer.write(wire)
			allocated := readAllocs(t, c, msg)
			t.Logf("a %d-byte message in %d-byte fragments: %d bytes allocated (%.2fx)", len(msg), fragment, allocated, float64(allocated)/float64(len(msg)))
			if allocated > 5*uint64(len(msg))/2 {
				t.Errorf("reading a %d-byte message in %d-byte fragments allocated %d bytes", len(msg), fragment, allocated)
			}
		})
	}
}

// TestLargeMessageMemory checks what reading a large message costs: the
// buffer grows by doubling from what has arrived, never to a length the
// peer only announced, so reading a message of n bytes allocates about 2n
// in all and holds at most about 1.5n at once (the last doubling's old and
// new arrays). The same holds for a compressed one, grown as it inflates.
func TestLargeMessageMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const size = 8 << 20
	msg := bytes.Repeat([]byte("large message "), size/14)
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compressed=%v", compress), func(t *testing.T) {
			var c *Conn
			var peer *rawPeer
			wire := []byte(nil)
			if compress {
				c, peer = rawPairDeflate(t, frame.Server, &Deflate{}, &Options{ReadLimit: 16 << 20})
				codec := peerCodec{takeover: true}
				wire = peer.frameBytes(true, frame.RSV1, frame.OpBinary, codec.compress(t, msg))
			} else {
				c, peer = rawPair(t, frame.Server, &Options{ReadLimit: 16 << 20})
				wire = peer.frameBytes(true, 0, frame.OpBinary, msg)
			}
			go peer.write(wire)
			allocated := readAllocs(t, c, msg)
			t.Logf("a %d-byte message: %d bytes allocated (%.2fx)", len(msg), allocated, float64(allocated)/float64(len(msg)))
			if allocated > 5*uint64(len(msg))/2 {
				t.Errorf("reading a %d-byte message allocated %d bytes", len(msg), allocated)
			}
		})
	}
}

// TestConnSize checks that a Conn fits the runtime's 1024-byte size
// class: it is most of what an idle connection costs, and one field too
// many moves every connection to the next class, 128 bytes up.
func TestConnSize(t *testing.T) {
	if size := unsafe.Sizeof(Conn{}); size > 1024 {
		t.Errorf("a Conn is %d bytes, want at most 1024", size)
	}
}

//go:build !js

package conn

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rfc6455/websocket/frame"
)

func TestKeepalive(t *testing.T) {
	tests := []struct {
		name      string
		peerPongs bool
		wantErr   error
	}{{
		name:      "silent peer",
		peerPongs: false,
		wantErr:   ErrKeepalive,
	}, {
		name:      "peer answers pings",
		peerPongs: true,
		wantErr:   nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				defer b.Close()
				c := mustNew(t, a, frame.Server, nil, &Options{KeepaliveInterval: time.Second, KeepaliveTimeout: 3 * time.Second})
				defer c.CloseNow()
				peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
				pings := 0
				go func() {
					for {
						f, err := peer.next()
						if err != nil {
							return
						}
						if f.Opcode == frame.OpPing {
							pings++
							if tt.peerPongs {
								b.Write(peer.frameBytes(true, 0, frame.OpPong, f.Payload))
							}
						}
					}
				}()
				readErr := make(chan error, 1)
				go func() {
					_, _, err := c.Read(ctx, nil)
					readErr <- err
				}()
				start := time.Now()
				select {
				case err := <-readErr:
					if tt.wantErr == nil {
						t.Fatalf("Read returned %v after %v with an answering peer", err, time.Since(start))
					}
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Read = %v, want %v", err, tt.wantErr)
					}
					if d := time.Since(start); d != 3*time.Second {
						t.Errorf("keepalive failed the connection after %v, want 3s", d)
					}
				case <-time.After(time.Minute):
					if tt.wantErr != nil {
						t.Fatal("silent peer not detected within a minute")
					}
				}
				synctest.Wait()
				if pings == 0 {
					t.Error("no keepalive ping was sent")
				}
			})
		})
	}
}

// TestKeepaliveTrickle checks what counts as life inside a frame: a peer
// that sends a message slowly, 4 KiB per interval, stays connected, and
// one that trickles a byte per interval inside a frame is failed, since
// bytes alone do not count.
func TestKeepaliveTrickle(t *testing.T) {
	for _, tt := range []struct {
		name    string
		perTick int
		wantErr error
	}{
		{"a byte per interval", 1, ErrKeepalive},
		{"4 KiB per interval", keepaliveProgress, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				c := mustNew(t, a, frame.Server, nil, &Options{KeepaliveInterval: 10 * time.Second})
				defer c.CloseNow()
				peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
				const ticks = 20
				msg := make([]byte, ticks*tt.perTick)
				wire := peer.frameBytes(true, 0, frame.OpBinary, msg)
				stop := make(chan struct{})
				go io.Copy(io.Discard, b) // what the Conn sends: its pings and Close frame
				go func() {
					b.Write(wire[:len(wire)-len(msg)]) // the header
					for i := 0; i < ticks; i++ {
						select {
						case <-stop:
							return
						case <-time.After(5 * time.Second):
						}
						if _, err := b.Write(msg[i*tt.perTick : (i+1)*tt.perTick]); err != nil {
							return
						}
					}
				}()
				_, got, err := c.Read(ctx, nil)
				close(stop)
				if !errors.Is(err, tt.wantErr) || (err == nil && len(got) != len(msg)) {
					t.Errorf("Read = %d bytes, %v; want %v", len(got), err, tt.wantErr)
				}
				b.Close()
			})
		})
	}
}

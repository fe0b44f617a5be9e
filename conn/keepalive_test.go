package conn

import (
	"bufio"
	"errors"
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

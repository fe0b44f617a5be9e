//go:build !js

package conn

import (
	"net"
	"testing"

	"github.com/rfc6455/websocket/frame"
)

// TestReadBuffer checks which buffer a Conn reads through: Options.ReadBuffer
// when it is large enough, whole and with the buffered bytes at its start
// even when they are a prefix of it, and otherwise one of ReadBufferSize.
func TestReadBuffer(t *testing.T) {
	tests := []struct {
		name       string
		given      int // capacity of Handshake.ReadBuffer
		size       int // Options.ReadBufferSize
		usesGiven  bool
		wantLength int
	}{
		{"none", 0, 0, false, defaultReadBufferSize},
		{"given", 4096, 0, true, 4096},
		{"given larger", 10000, 0, true, 10000},
		{"given smaller than the default", 1000, 0, false, defaultReadBufferSize},
		{"given smaller than asked", 4096, 8192, false, 8192},
		{"small size asked", 0, 512, false, 512},
		{"large size asked", 0, 100000, false, 100000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			var given []byte
			if tt.given > 0 {
				given = make([]byte, 10, tt.given)
			}
			// The first frame is already in the given buffer, as the bytes a
			// bufio.Reader read past a request are in its buffer.
			first := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Length: 2})
			first = append(first, "hi"...)
			buffered := append(given[:0], first...)
			c := mustNew(t, a, frame.Server, &Handshake{Buffered: buffered, ReadBuffer: given}, &Options{ReadBufferSize: tt.size})
			defer c.CloseNow()
			if usesGiven := tt.given > 0 && &c.rbuf[0] == &given[:1][0]; usesGiven != tt.usesGiven {
				t.Errorf("reads through the given buffer: %v, want %v", usesGiven, tt.usesGiven)
			}
			if len(c.rbuf) != tt.wantLength {
				t.Errorf("read buffer of %d bytes, want %d", len(c.rbuf), tt.wantLength)
			}
			if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != "hi" {
				t.Errorf("Read = %q, %v; want the buffered frame", msg, err)
			}
		})
	}
}

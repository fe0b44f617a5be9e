package fuzz

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/mask"
)

// masked returns a client frame with a fixed key.
func masked(fin bool, op frame.Opcode, payload string) []byte {
	h := frame.Header{Fin: fin, Opcode: op, Masked: true, Key: mask.Key{9, 8, 7, 6}, Length: int64(len(payload))}
	b := frame.AppendHeader(nil, h)
	n := len(b)
	b = append(b, payload...)
	h.Key.Apply(b[n:], 0)
	return b
}

// FuzzServerConn feeds arbitrary bytes from a client into a server Conn
// that reads messages until it fails. Whatever arrives, the Conn must not
// panic or hang, must return each message within the read limit, and must
// end with an error a caller can classify: a protocol error with a close
// code that may be sent, a CloseError, or the abnormal end of the stream.
func FuzzServerConn(f *testing.F) {
	f.Add(masked(true, frame.OpText, "Hello"))
	f.Add(bytes.Join([][]byte{masked(false, frame.OpText, "Hel"), masked(true, frame.OpPing, "p"), masked(true, frame.OpContinuation, "lo")}, nil))
	f.Add(masked(true, frame.OpClose, "\x03\xe8bye"))
	f.Add(masked(true, frame.OpText, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, input []byte) {
		a, b := net.Pipe()
		const limit = 1 << 12
		c := conn.New(a, frame.Server, nil, &conn.Options{ReadLimit: limit, MaxFragments: 64, CloseTimeout: 50 * time.Millisecond})
		defer c.CloseNow()
		go func() {
			// net.Pipe's Write returns once the Conn has read everything;
			// what the Conn writes back meanwhile is drained and dropped.
			go func() {
				var buf [512]byte
				for {
					if _, err := b.Read(buf[:]); err != nil {
						return
					}
				}
			}()
			b.Write(input)
			b.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var buf []byte
		for {
			typ, msg, err := c.Read(ctx, buf[:0])
			if err != nil {
				var pe *frame.ProtocolError
				var ce *conn.CloseError
				switch {
				case errors.As(err, &pe):
					if !pe.Code.IsValid() {
						t.Fatalf("protocol error with close code %v, which may not be sent", pe.Code)
					}
				case errors.As(err, &ce):
				case errors.Is(err, io.ErrClosedPipe):
					// Our end went away while the Conn was answering.
				case errors.Is(err, context.DeadlineExceeded):
					t.Fatalf("Conn hung on %x", input)
				default:
					t.Fatalf("unclassified error %v", err)
				}
				return
			}
			if len(msg) > limit || (typ != conn.Text && typ != conn.Binary) {
				t.Fatalf("Read returned %v of %d bytes", typ, len(msg))
			}
			buf = msg
		}
	})
}

package fuzz

import (
	"bytes"
	"compress/flate"
	"context"
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
// that reads messages until it fails (see readUntilFailure for what must
// hold).
func FuzzServerConn(f *testing.F) {
	f.Add(masked(true, frame.OpText, "Hello"))
	f.Add(bytes.Join([][]byte{masked(false, frame.OpText, "Hel"), masked(true, frame.OpPing, "p"), masked(true, frame.OpContinuation, "lo")}, nil))
	f.Add(masked(true, frame.OpClose, "\x03\xe8bye"))
	f.Add(masked(true, frame.OpText, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, input []byte) {
		readUntilFailure(t, input, nil, &conn.Options{ReadLimit: fuzzLimit, MaxFragments: 64, CloseTimeout: 50 * time.Millisecond})
	})
}

// compressed returns a masked client frame carrying msg compressed as
// permessage-deflate does, with RSV1 set.
func compressed(op frame.Opcode, msg string) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write([]byte(msg))
	w.Flush()
	z := b.Bytes()[:b.Len()-4]
	h := frame.Header{Fin: true, RSV: frame.RSV1, Opcode: op, Masked: true, Key: mask.Key{9, 8, 7, 6}, Length: int64(len(z))}
	out := frame.AppendHeader(nil, h)
	n := len(out)
	out = append(out, z...)
	h.Key.Apply(out[n:], 0)
	return out
}

// FuzzServerConnDeflate is FuzzServerConn with permessage-deflate
// negotiated: the first byte picks context takeover and the window, the
// rest arrives from the client. On top of FuzzServerConn's properties, a
// decompressed message must stay within the read limit however small its
// compressed form.
func FuzzServerConnDeflate(f *testing.F) {
	f.Add(append([]byte{0}, compressed(frame.OpText, "Hello, Hello, Hello")...))
	f.Add(append([]byte{0x17}, bytes.Join([][]byte{compressed(frame.OpBinary, "abcabcabc"), compressed(frame.OpText, "abc")}, nil)...))
	f.Add(append([]byte{1}, compressed(frame.OpBinary, string(make([]byte, 3*fuzzLimit)))...))
	f.Add(append([]byte{2}, masked(true, frame.OpText, "plain")...))
	f.Fuzz(func(t *testing.T, input []byte) {
		if len(input) == 0 {
			return
		}
		agreed := &conn.Handshake{Compression: &conn.Compression{ClientNoContextTakeover: input[0]&1 != 0, ClientMaxWindowBits: 8 + int(input[0]>>1)%8}}
		readUntilFailure(t, input[1:], agreed, &conn.Options{ReadLimit: fuzzLimit, MaxFragments: 64, CloseTimeout: 50 * time.Millisecond})
	})
}

const fuzzLimit = 1 << 12

// readUntilFailure feeds input from a client into a server Conn made with
// opts and reads messages until it fails. The Conn must not panic or
// hang, must return each message within the read limit, and must end
// with an error a caller can classify: a protocol error with a close code
// that may be sent, a CloseError, or the abnormal end of the stream.
func readUntilFailure(t *testing.T, input []byte, agreed *conn.Handshake, opts *conn.Options) {
	a, b := net.Pipe()
	c, err := conn.New(a, frame.Server, agreed, opts)
	if err != nil {
		t.Fatal(err)
	}
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
			checkReadError(t, err)
			return
		}
		if len(msg) > int(opts.ReadLimit) || (typ != conn.Text && typ != conn.Binary) {
			t.Fatalf("Read returned %v of %d bytes", typ, len(msg))
		}
		buf = msg
	}
}

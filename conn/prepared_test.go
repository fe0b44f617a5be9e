//go:build !js

package conn

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/frame"
)

func TestNewPreparedMessage(t *testing.T) {
	data := []byte("hello")
	pm, err := NewPreparedMessage(Text, data)
	if err != nil {
		t.Fatal(err)
	}
	data[0] = 'j' // the PreparedMessage holds its own copy
	if pm.typ != Text || string(pm.data) != "hello" {
		t.Errorf("got type %v, data %q; want Text, %q", pm.typ, pm.data, "hello")
	}
	for _, typ := range []MessageType{0, MessageType(frame.OpPing), MessageType(frame.OpClose)} {
		if _, err := NewPreparedMessage(typ, nil); err == nil {
			t.Errorf("NewPreparedMessage(%d) succeeded, want an error", typ)
		}
	}
}

// TestWritePrepared writes prepared messages, between ordinary ones, to a
// raw peer, and checks each frame on the wire: compressed when Write
// would compress it, decodable by an independent decompressor with the
// history the peer has, and its payload the one the PreparedMessage
// shares when the writer compresses without context takeover.
func TestWritePrepared(t *testing.T) {
	long := randomText(rand.New(rand.NewPCG(5, 6)), 3000)
	tests := []struct {
		name       string
		deflate    *Deflate
		threshold  int
		compressed bool // prepared messages go out compressed
		shared     bool // and their payload is the shared one
	}{
		{"uncompressed", nil, 0, false, false},
		{"takeover", &Deflate{}, -1, true, false},
		{"no-takeover", &Deflate{WriteNoContextTakeover: true}, -1, true, true},
		{"no-takeover/w9", &Deflate{WriteNoContextTakeover: true, WriteWindowBits: 9}, -1, true, true},
		{"no-takeover/below-threshold", &Deflate{WriteNoContextTakeover: true}, 1 << 20, false, false},
	}
	for _, tt := range tests {
		for _, role := range []frame.Role{frame.Server, frame.Client} {
			t.Run(fmt.Sprintf("%s/%v", tt.name, role), func(t *testing.T) {
				c, peer := rawPairDeflate(t, role, tt.deflate, &Options{CompressionThreshold: tt.threshold})
				pm, err := NewPreparedMessage(Binary, long)
				if err != nil {
					t.Fatal(err)
				}
				in := peerCodec{takeover: tt.deflate != nil && !tt.deflate.WriteNoContextTakeover}
				for i := range 6 {
					prepared := i%2 == 1
					want, typ := chatMessage(i), Text
					if prepared {
						want, typ = long, Binary
						err = c.WritePrepared(ctx, pm)
					} else {
						err = c.Write(ctx, Text, want)
					}
					if err != nil {
						t.Fatal(err)
					}
					f := peer.mustNext()
					if !f.Fin || f.Opcode != frame.Opcode(typ) {
						t.Fatalf("message %d: frame fin=%v %v, want one %v frame", i, f.Fin, f.Opcode, frame.Opcode(typ))
					}
					got := f.Payload
					if f.RSV == frame.RSV1 {
						got = in.decompress(t, f.Payload)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("message %d: the peer got (-want +got):\n%s", i, diff)
					}
					if !prepared {
						continue
					}
					if compressed := f.RSV == frame.RSV1; compressed != tt.compressed {
						t.Errorf("message %d: compressed=%v, want %v", i, compressed, tt.compressed)
					}
					shared := len(pm.compressed) == 1 && bytes.Equal(pm.compressed[0].payload, f.Payload)
					if shared != tt.shared {
						t.Errorf("message %d: payload shared=%v, want %v", i, shared, tt.shared)
					}
				}
				if c.BufferedAmount() != 0 {
					t.Errorf("BufferedAmount = %d after the writes, want 0", c.BufferedAmount())
				}
			})
		}
	}
}

// TestWritePreparedConcurrent broadcasts one PreparedMessage from many
// goroutines to connections with different settings, under -race, and
// checks every peer reads it and each setting was compressed once.
func TestWritePreparedConcurrent(t *testing.T) {
	msg := randomText(rand.New(rand.NewPCG(7, 8)), 5000)
	pm, err := NewPreparedMessage(Text, msg)
	if err != nil {
		t.Fatal(err)
	}
	settings := []Deflate{
		{WriteNoContextTakeover: true, ReadNoContextTakeover: true},
		{WriteNoContextTakeover: true, ReadNoContextTakeover: true, WriteWindowBits: 10, ReadWindowBits: 10},
		{},
	}
	var wg sync.WaitGroup
	for i := range 12 {
		d := settings[i%len(settings)]
		client, server := deflatePair(t, d, Options{CompressionThreshold: -1}, Options{CompressionThreshold: -1})
		wg.Go(func() {
			for range 3 {
				if err := server.WritePrepared(ctx, pm); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for range 3 {
				typ, got, err := client.Read(ctx, nil)
				if err != nil || typ != Text || !bytes.Equal(got, msg) {
					t.Errorf("client %d: Read = %v, %d bytes, %v; want Text, %d bytes", i, typ, len(got), err, len(msg))
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(pm.compressed); n != 2 {
		t.Errorf("%d compressed forms, want 2 (one per no-takeover window size)", n)
	}
}

// BenchmarkBroadcast sends one 4 KiB message to 16 server connections
// that compress without context takeover, with Write and with
// WritePrepared. The peers discard what arrives.
func BenchmarkBroadcast(b *testing.B) {
	var msg []byte
	for i := 0; len(msg) < 4096; i++ {
		msg = append(msg, chatMessage(i)...)
	}
	msg = msg[:4096]
	conns := make([]*Conn, 16)
	for i := range conns {
		c, peer := rawPairDeflate(b, frame.Server, &Deflate{WriteNoContextTakeover: true}, &Options{})
		go io.Copy(io.Discard, peer.nc)
		conns[i] = c
	}
	b.Run("Write", func(b *testing.B) {
		b.SetBytes(int64(len(msg) * len(conns)))
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range conns {
				if err := c.Write(ctx, Text, msg); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("WritePrepared", func(b *testing.B) {
		b.SetBytes(int64(len(msg) * len(conns)))
		b.ReportAllocs()
		for b.Loop() {
			pm, err := NewPreparedMessage(Text, msg)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range conns {
				if err := c.WritePrepared(ctx, pm); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

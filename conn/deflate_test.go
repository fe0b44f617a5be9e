//go:build !js

package conn

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/frame"
)

// chatMessage returns the i'th of a stream of JSON messages like those a
// chat or dashboard sends: repetitive keys, varying values.
func chatMessage(i int) []byte {
	return fmt.Appendf(nil, `{"type":"message","room":"general","user":"user-%d","seq":%d,"text":"hello number %d, how are things?","ts":%d}`, i%7, i, i*31%1000, 1700000000+i)
}

// randomText returns n bytes of letters: compressible, but not trivially.
func randomText(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "etaoin shrdlu"[r.IntN(13)]
	}
	return b
}

// A Deflate is permessage-deflate as agreed, from one endpoint's point of
// view: what it reads and what it writes.
type Deflate struct {
	ReadNoContextTakeover  bool
	WriteNoContextTakeover bool
	ReadWindowBits         int
	WriteWindowBits        int
}

// handshake returns the Handshake that agrees on d for an endpoint in
// role.
func (d Deflate) handshake(role frame.Role) *Handshake {
	p := &Compression{
		ServerNoContextTakeover: d.WriteNoContextTakeover,
		ClientNoContextTakeover: d.ReadNoContextTakeover,
		ServerMaxWindowBits:     d.WriteWindowBits,
		ClientMaxWindowBits:     d.ReadWindowBits,
	}
	if role == frame.Client {
		p.ServerNoContextTakeover, p.ClientNoContextTakeover = p.ClientNoContextTakeover, p.ServerNoContextTakeover
		p.ServerMaxWindowBits, p.ClientMaxWindowBits = p.ClientMaxWindowBits, p.ServerMaxWindowBits
	}
	return &Handshake{Compression: p}
}

// deflatePair returns a client and a server Conn over loopback TCP with
// permessage-deflate agreed as d (from the client's point of view).
func deflatePair(t testing.TB, d Deflate, clientOpts, serverOpts Options) (client, server *Conn) {
	return connPairHandshake(t, d.handshake(frame.Client), &clientOpts, &serverOpts)
}

// rawPairDeflate is rawPair with permessage-deflate agreed as d, from the
// Conn's point of view.
func rawPairDeflate(t testing.TB, role frame.Role, d *Deflate, opts *Options) (*Conn, *rawPeer) {
	if d == nil {
		return rawPair(t, role, opts)
	}
	return rawPairHandshake(t, role, d.handshake(role), opts)
}

func TestDeflateEcho(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var msgs [][]byte
	for i := range 40 {
		msgs = append(msgs, chatMessage(i))
	}
	msgs = append(msgs, nil, []byte("x"), bytes.Repeat([]byte("ab"), 64), randomText(r, 5000), randomText(r, 70000), bytes.Repeat([]byte{0}, 1<<20))
	random := make([]byte, 20000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	msgs = append(msgs, random, chatMessage(99))

	params := []Deflate{
		{},
		{ReadNoContextTakeover: true, WriteNoContextTakeover: true},
		{ReadNoContextTakeover: true},
		{WriteNoContextTakeover: true},
		{ReadWindowBits: 8, WriteWindowBits: 8},
		{ReadWindowBits: 10, WriteWindowBits: 12},
		{ReadWindowBits: 9, WriteWindowBits: 15, WriteNoContextTakeover: true},
	}
	for _, d := range params {
		for _, streamed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%+v/streamed=%v", d, streamed), func(t *testing.T) {
				client, server := deflatePair(t, d, Options{WriteBufferSize: 1000}, Options{CompressionThreshold: -1})
				// The server echoes with Read and Write; the client writes and
				// reads with Writer and Reader or with Write and Read.
				go func() {
					var buf []byte
					for {
						typ, msg, err := server.Read(ctx, buf[:0])
						if err != nil {
							return
						}
						if err := server.Write(ctx, typ, msg); err != nil {
							return
						}
						buf = msg
					}
				}()
				for i, msg := range msgs {
					typ := Text
					if bytes.Equal(msg, random) {
						typ = Binary
					}
					got, gotType := echo(t, client, typ, msg, streamed)
					if gotType != typ || !bytes.Equal(got, msg) {
						t.Fatalf("message %d (%d bytes): echo is %v of %d bytes, want %v", i, len(msg), gotType, len(got), typ)
					}
				}
			})
		}
	}
}

// echo sends msg from c and reads the echo.
func echo(t *testing.T, c *Conn, typ MessageType, msg []byte, streamed bool) ([]byte, MessageType) {
	t.Helper()
	if !streamed {
		if err := c.Write(ctx, typ, msg); err != nil {
			t.Fatalf("Write: %v", err)
		}
		gotType, got, err := c.Read(ctx, nil)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		return got, gotType
	}
	w, err := c.Writer(ctx, typ)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	for rest := msg; len(rest) > 0; {
		n := min(len(rest), 1+len(rest)%777)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatalf("Write on the message writer: %v", err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("closing the message writer: %v", err)
	}
	gotType, r, err := c.Reader(ctx)
	if err != nil {
		t.Fatalf("Reader: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading the message: %v", err)
	}
	return got, gotType
}

// A peerCodec compresses and decompresses as an independent peer would,
// with compress/flate: a held flate.Writer for context takeover, and the
// last 32 KiB of output as the dictionary for reading.
type peerCodec struct {
	takeover bool
	w        *flate.Writer
	out      bytes.Buffer
	hist     []byte
}

func (p *peerCodec) compress(t testing.TB, msg []byte) []byte {
	t.Helper()
	if p.w == nil || !p.takeover {
		p.out.Reset()
		p.w, _ = flate.NewWriter(&p.out, flate.BestSpeed)
	}
	start := p.out.Len()
	p.w.Write(msg)
	p.w.Flush()
	b := p.out.Bytes()[start:]
	if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
		t.Fatalf("flate output %x lacks the sync flush", b)
	}
	return bytes.Clone(b[:len(b)-4])
}

func (p *peerCodec) decompress(t testing.TB, payload []byte) []byte {
	t.Helper()
	in := append(bytes.Clone(payload), 0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff)
	out, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(in), p.hist))
	if err != nil {
		t.Fatalf("peer cannot decompress %x: %v", payload, err)
	}
	if p.takeover {
		p.hist = append(p.hist, out...)
		p.hist = p.hist[max(0, len(p.hist)-32768):]
	}
	return out
}

func TestDeflateAgainstFlate(t *testing.T) {
	for _, takeover := range []bool{true, false} {
		for _, role := range []frame.Role{frame.Server, frame.Client} {
			t.Run(fmt.Sprintf("%v/takeover=%v", role, takeover), func(t *testing.T) {
				d := &Deflate{ReadNoContextTakeover: !takeover, WriteNoContextTakeover: !takeover}
				c, peer := rawPairDeflate(t, role, d, &Options{WriteBufferSize: 2000, CompressionThreshold: -1})
				var in, out peerCodec
				in.takeover, out.takeover = takeover, takeover
				for i := range 30 {
					msg := chatMessage(i)
					if i == 20 {
						msg = randomText(rand.New(rand.NewPCG(3, 4)), 10000)
					}
					// The peer sends msg compressed in three fragments, with a ping
					// between them.
					z := out.compress(t, msg)
					a, b := len(z)/3, 2*len(z)/3
					peer.write(peer.frameBytes(false, frame.RSV1, frame.OpText, z[:a]))
					peer.send(true, frame.OpPing, []byte("p"))
					peer.write(peer.frameBytes(false, 0, frame.OpContinuation, z[a:b]))
					peer.write(peer.frameBytes(true, 0, frame.OpContinuation, z[b:]))
					typ, got, err := c.Read(ctx, nil)
					if err != nil || typ != Text || !bytes.Equal(got, msg) {
						t.Fatalf("message %d: Read = %v %q, %v; want %q", i, typ, got, err, msg)
					}
					if f := peer.mustNext(); f.Opcode != frame.OpPong {
						t.Fatalf("peer got %v, want the pong", f.Opcode)
					}
					// The Conn echoes it, compressed, once whole and once streamed.
					if err := c.Write(ctx, Text, got); err != nil {
						t.Fatal(err)
					}
					f := peer.mustNext()
					if !f.Fin || f.RSV != frame.RSV1 || f.Opcode != frame.OpText {
						t.Fatalf("message %d: frame fin=%v rsv=%#x %v, want one compressed text frame", i, f.Fin, f.RSV, f.Opcode)
					}
					if diff := cmp.Diff(msg, in.decompress(t, f.Payload)); diff != "" {
						t.Fatalf("message %d: the peer decompressed (-want +got):\n%s", i, diff)
					}
					w, _ := c.Writer(ctx, Binary)
					w.Write(got)
					w.Close()
					var z2 []byte
					for first := true; ; first = false {
						f := peer.mustNext()
						wantRSV, wantOp := byte(0), frame.OpContinuation
						if first {
							wantRSV, wantOp = frame.RSV1, frame.OpBinary
						}
						if f.RSV != wantRSV || f.Opcode != wantOp {
							t.Fatalf("message %d: streamed frame rsv=%#x %v, want rsv=%#x %v", i, f.RSV, f.Opcode, wantRSV, wantOp)
						}
						z2 = append(z2, f.Payload...)
						if f.Fin {
							break
						}
					}
					if diff := cmp.Diff(msg, in.decompress(t, z2)); diff != "" {
						t.Fatalf("message %d: the peer decompressed the streamed message (-want +got):\n%s", i, diff)
					}
				}
			})
		}
	}
}

func TestDeflateThreshold(t *testing.T) {
	tests := []struct {
		name       string
		d          Deflate
		threshold  int
		size       int
		compressed bool
	}{
		{name: "takeover default, short", size: 127, compressed: false},
		{name: "takeover default, at threshold", size: 128, compressed: true},
		{name: "no takeover default, short", d: Deflate{WriteNoContextTakeover: true}, size: 511, compressed: false},
		{name: "no takeover default, long", d: Deflate{WriteNoContextTakeover: true}, size: 512, compressed: true},
		{name: "negative compresses all", threshold: -1, size: 1, compressed: true},
		{name: "explicit", threshold: 50, size: 49, compressed: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, peer := rawPairDeflate(t, frame.Server, &tt.d, &Options{CompressionThreshold: tt.threshold})
			msg := payloadOf(tt.size)
			go c.Write(ctx, Binary, msg)
			f := peer.mustNext()
			if got := f.RSV == frame.RSV1; got != tt.compressed {
				t.Fatalf("a %d-byte message was compressed: %v, want %v", tt.size, got, tt.compressed)
			}
			var codec peerCodec
			got := f.Payload
			if tt.compressed {
				got = codec.decompress(t, f.Payload)
			}
			if !bytes.Equal(got, msg) {
				t.Errorf("payload %q, want %q", got, msg)
			}
		})
	}
}

func TestDeflateViolations(t *testing.T) {
	var codec peerCodec
	text := codec.compress(t, []byte("hello"))
	badUTF8 := codec.compress(t, []byte("valid, then \xff"))
	zeros := make([]byte, 17<<20)
	var zb bytes.Buffer
	zw, _ := flate.NewWriter(&zb, flate.BestCompression)
	zw.Write(zeros)
	zw.Flush()
	bomb := zb.Bytes()[:zb.Len()-4]
	tests := []struct {
		name     string
		opts     Options
		send     func(p *rawPeer) []byte
		wantCode CloseCode
		wantErr  error
	}{{
		name: "RSV1 on a continuation frame",
		send: func(p *rawPeer) []byte {
			return append(p.frameBytes(false, frame.RSV1, frame.OpText, text[:2]), p.frameBytes(true, frame.RSV1, frame.OpContinuation, text[2:])...)
		},
		wantCode: CloseProtocolError,
	}, {
		name:     "RSV1 on a ping",
		send:     func(p *rawPeer) []byte { return p.frameBytes(true, frame.RSV1, frame.OpPing, nil) },
		wantCode: CloseProtocolError,
	}, {
		name:     "RSV2 with permessage-deflate",
		send:     func(p *rawPeer) []byte { return p.frameBytes(true, 0x20, frame.OpText, []byte("x")) },
		wantCode: CloseProtocolError,
	}, {
		name: "invalid compressed data",
		send: func(p *rawPeer) []byte {
			return p.frameBytes(true, frame.RSV1, frame.OpBinary, []byte{0xff, 0xff, 0xff})
		},
		wantCode: CloseInvalidFramePayloadData,
	}, {
		name:     "invalid UTF-8 once decompressed",
		send:     func(p *rawPeer) []byte { return p.frameBytes(true, frame.RSV1, frame.OpText, badUTF8) },
		wantCode: CloseInvalidFramePayloadData,
	}, {
		name:     "17 MiB of zeros in 17 KiB, over a 16 MiB limit",
		opts:     Options{ReadLimit: 16 << 20},
		send:     func(p *rawPeer) []byte { return p.frameBytes(true, frame.RSV1, frame.OpBinary, bomb) },
		wantCode: CloseMessageTooBig,
		wantErr:  ErrReadLimit,
	}, {
		name:     "compressed payload far beyond the limit",
		opts:     Options{ReadLimit: 1000},
		send:     func(p *rawPeer) []byte { return p.frameBytes(true, frame.RSV1, frame.OpBinary, make([]byte, 5000)) },
		wantCode: CloseMessageTooBig,
		wantErr:  ErrReadLimit,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.CloseTimeout = 200 * time.Millisecond
			c, peer := rawPairDeflate(t, frame.Server, &Deflate{}, &opts)
			go peer.nc.Write(tt.send(peer))
			_, _, err := c.Read(ctx, nil)
			var pe *frame.ProtocolError
			if !errors.As(err, &pe) || pe.Code != tt.wantCode {
				t.Fatalf("Read error = %v, want a protocol error with code %d", err, tt.wantCode)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Read error = %v, want one matching %v", err, tt.wantErr)
			}
			f := peer.mustNext()
			if code, _, _ := frame.ParseClose(f.Payload); f.Opcode != frame.OpClose || code != tt.wantCode {
				t.Errorf("peer got %v with code %d, want close %d", f.Opcode, code, tt.wantCode)
			}
		})
	}
	if len(bomb) > 20<<10 {
		t.Errorf("the bomb is %d bytes; the test means one of about 17 KiB", len(bomb))
	}
}

func TestDeflateReadTimeoutResumes(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		t.Run(fmt.Sprintf("streaming=%v", streaming), func(t *testing.T) {
			c, peer := rawPairDeflate(t, frame.Server, &Deflate{}, &Options{})
			codec := peerCodec{takeover: true}
			first := randomText(rand.New(rand.NewPCG(5, 6)), 50000)
			second := append(bytes.Clone(first[:20000]), "and something new"...)
			z := codec.compress(t, first)
			wire := peer.frameBytes(true, frame.RSV1, frame.OpText, z)
			cut := len(wire) / 2
			peer.write(wire[:cut])
			tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			var got []byte
			var err error
			if streaming {
				var r io.Reader
				_, r, err = c.Reader(tctx)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 1000)
				for {
					n, rerr := r.Read(buf)
					got = append(got, buf[:n]...)
					if rerr != nil {
						err = rerr
						break
					}
				}
			} else {
				_, _, err = c.Read(tctx, nil)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("first read = %v, want context.DeadlineExceeded", err)
			}
			peer.write(wire[cut:])
			if streaming {
				_, r, err := c.Reader(ctx)
				if err != nil {
					t.Fatal(err)
				}
				rest, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rest...)
			} else {
				_, got, err = c.Read(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, first) {
				t.Fatalf("resumed message has %d bytes, want %d", len(got), len(first))
			}
			// The history survived: a message referring to the first decodes.
			peer.write(peer.frameBytes(true, frame.RSV1, frame.OpText, codec.compress(t, second)))
			if _, got, err := c.Read(ctx, nil); err != nil || !bytes.Equal(got, second) {
				t.Fatalf("next Read = %d bytes, %v; want the %d-byte message", len(got), err, len(second))
			}
		})
	}
}

// TestDeflateWriteCancelledKeepsPeerInStep checks that a compressed message
// whose write never started does not leave the compressor's history ahead
// of the peer's.
func TestDeflateWriteCancelledKeepsPeerInStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		c := mustNew(t, a, frame.Server, &Handshake{Compression: &Compression{}}, &Options{CompressionThreshold: -1})
		defer c.CloseNow()
		peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
		codec := peerCodec{takeover: true}
		msg := chatMessage(1)
		go c.Write(ctx, Text, msg)
		if got := codec.decompress(t, peer.mustNext().Payload); !bytes.Equal(got, msg) {
			t.Fatalf("first message %q, want %q", got, msg)
		}
		// Nobody reads: the write times out before any byte moves.
		tctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := c.Write(tctx, Text, chatMessage(2)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Write = %v, want context.DeadlineExceeded", err)
		}
		// The next message must decode with the history the peer has.
		msg = chatMessage(3)
		go c.Write(ctx, Text, msg)
		if got := codec.decompress(t, peer.mustNext().Payload); !bytes.Equal(got, msg) {
			t.Fatalf("message after the cancelled one %q, want %q", got, msg)
		}
	})
}

func TestDeflateSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, d := range []Deflate{{}, {ReadNoContextTakeover: true, WriteNoContextTakeover: true}} {
		t.Run(fmt.Sprintf("%+v", d), func(t *testing.T) {
			every := Options{CompressionThreshold: -1}
			client, server := deflatePair(t, d, every, every)
			buf := make([]byte, 0, 4096)
			var msgs [][]byte
			for i := range 200 {
				// Chat-sized, and some larger than one read of the
				// decompressor, so that it returns the end of a message on
				// its own.
				m := chatMessage(i)
				if i%10 == 0 {
					m = append(m, randomText(r, 3000)...)
				}
				msgs = append(msgs, m)
			}
			i := 0
			roundTrip := func() {
				i++
				if err := client.Write(ctx, Text, msgs[i%len(msgs)]); err != nil {
					t.Fatal(err)
				}
				_, b, err := server.Read(ctx, buf[:0])
				if err != nil {
					t.Fatal(err)
				}
				if err := server.Write(ctx, Text, b); err != nil {
					t.Fatal(err)
				}
				if _, _, err := client.Read(ctx, buf[:0]); err != nil {
					t.Fatal(err)
				}
			}
			for range 10 {
				roundTrip()
			}
			if allocs := testing.AllocsPerRun(100, roundTrip); allocs != 0 {
				t.Errorf("%v allocations per compressed round trip, want 0", allocs)
			}
		})
	}
}

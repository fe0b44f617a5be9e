package frame

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A decoded frame, for comparing decoder output.
type decodedFrame struct {
	Header  Header
	Payload []byte
}

// decodeAll feeds stream to d in pieces cut at the given points and
// returns the frames it produced.
func decodeAll(d *Decoder, stream []byte, cuts []int) ([]decodedFrame, error) {
	var frames []decodedFrame
	var cur *decodedFrame
	prev := 0
	for _, cut := range append(cuts, len(stream)) {
		piece := stream[prev:cut]
		prev = cut
		for {
			ev, chunk, n, err := d.Next(piece)
			if err != nil {
				return frames, err
			}
			piece = piece[n:]
			switch ev {
			case EventNeedMore:
				if len(piece) != 0 {
					return frames, fmt.Errorf("EventNeedMore left %d bytes", len(piece))
				}
			case EventHeader:
				frames = append(frames, decodedFrame{Header: d.Header(), Payload: []byte{}})
				cur = &frames[len(frames)-1]
			case EventPayload:
				cur.Payload = append(cur.Payload, chunk...)
			case EventEnd:
				if d.Remaining() != 0 {
					return frames, fmt.Errorf("EventEnd with %d bytes remaining", d.Remaining())
				}
				cur = nil
			}
			if ev == EventNeedMore {
				break
			}
		}
	}
	return frames, nil
}

func TestDecoderRFCExamples(t *testing.T) {
	hello := []byte("Hello")
	tests := []struct {
		name string
		role Role
		in   [][]byte
		want []decodedFrame
	}{{
		name: "unmasked text at a client",
		role: Client,
		in:   [][]byte{rfcUnmaskedHello},
		want: []decodedFrame{{Header: Header{Fin: true, Opcode: OpText, Length: 5}, Payload: hello}},
	}, {
		name: "masked text at a server",
		role: Server,
		in:   [][]byte{rfcMaskedHello},
		want: []decodedFrame{{Header: Header{Fin: true, Opcode: OpText, Masked: true, Key: rfcKey, Length: 5}, Payload: hello}},
	}, {
		name: "fragments, ping and pong",
		role: Client,
		in:   [][]byte{rfcFragment1, rfcPing, rfcFragment2, {0x8A, 0x00}},
		want: []decodedFrame{
			{Header: Header{Opcode: OpText, Length: 3}, Payload: []byte("Hel")},
			{Header: Header{Fin: true, Opcode: OpPing, Length: 5}, Payload: hello},
			{Header: Header{Fin: true, Opcode: OpContinuation, Length: 2}, Payload: []byte("lo")},
			{Header: Header{Fin: true, Opcode: OpPong}, Payload: []byte{}},
		},
	}, {
		name: "masked pong at a server",
		role: Server,
		in:   [][]byte{rfcMaskedPong},
		want: []decodedFrame{{Header: Header{Fin: true, Opcode: OpPong, Masked: true, Key: rfcKey, Length: 5}, Payload: hello}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := bytes.Join(tt.in, nil)
			// Every single cut point, and byte-at-a-time.
			for cut := 0; cut <= len(stream); cut++ {
				d := Decoder{Role: tt.role}
				got, err := decodeAll(&d, bytes.Clone(stream), []int{cut})
				if err != nil {
					t.Fatalf("cut at %d: %v", cut, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Fatalf("cut at %d: mismatch (-want +got):\n%s", cut, diff)
				}
			}
			var cuts []int
			for i := 1; i < len(stream); i++ {
				cuts = append(cuts, i)
			}
			d := Decoder{Role: tt.role}
			got, err := decodeAll(&d, bytes.Clone(stream), cuts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("byte at a time: mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecoderLargeMaskedSplit feeds a large masked frame in uneven pieces,
// so unmasking continues across pieces at every key position.
func TestDecoderLargeMaskedSplit(t *testing.T) {
	payload := make([]byte, 70000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: rfcKey, Length: int64(len(payload))}
	stream := AppendHeader(nil, h)
	masked := bytes.Clone(payload)
	rfcKey.Apply(masked, 0)
	stream = append(stream, masked...)
	var cuts []int
	for c, step := 1, 1; c < len(stream); c, step = c+step, step%13+1 {
		cuts = append(cuts, c)
	}
	d := Decoder{Role: Server}
	got, err := decodeAll(&d, stream, cuts)
	if err != nil {
		t.Fatal(err)
	}
	want := []decodedFrame{{Header: h, Payload: payload}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name string
		role Role
		rsv  byte
		in   []byte
	}{{
		name: "unmasked frame at a server",
		role: Server,
		in:   rfcUnmaskedHello,
	}, {
		name: "masked frame at a client",
		role: Client,
		in:   rfcMaskedHello,
	}, {
		name: "RSV1 without extension",
		role: Client,
		in:   []byte{0xC1, 0x00},
	}, {
		name: "rsv2 with only RSV1 negotiated",
		role: Client,
		rsv:  RSV1,
		in:   []byte{0xA1, 0x00},
	}, {
		name: "reserved opcode",
		role: Client,
		in:   []byte{0x85, 0x00},
	}, {
		name: "fragmented close",
		role: Client,
		in:   []byte{0x08, 0x00},
	}, {
		name: "long ping",
		role: Client,
		in:   []byte{0x89, 0x7E, 0x00, 0x7E},
	}, {
		name: "64-bit length with the top bit set",
		role: Client,
		in:   []byte{0x82, 0x7F, 0xFF, 0, 0, 0, 0, 0, 0, 0},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for cut := 0; cut <= len(tt.in); cut++ {
				d := Decoder{Role: tt.role, RSV: tt.rsv}
				_, err := decodeAll(&d, bytes.Clone(tt.in), []int{cut})
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != CloseCode(1002) {
					t.Fatalf("cut at %d: error = %v, want a *ProtocolError with code 1002", cut, err)
				}
			}
		})
	}
}

func TestDecoderDoesNotAllocate(t *testing.T) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: rfcKey, Length: 1000}
	stream := append(AppendHeader(nil, h), make([]byte, 1000)...)
	var d Decoder
	allocs := testing.AllocsPerRun(100, func() {
		p := stream
		for len(p) > 0 {
			_, _, n, err := d.Next(p[:min(len(p), 7)])
			if err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		d.Next(nil)
	})
	if allocs != 0 {
		t.Errorf("decoding allocates %v times per frame, want 0", allocs)
	}
}

func BenchmarkDecoder(b *testing.B) {
	for _, size := range []int{16, 1024, 64 << 10} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: rfcKey, Length: int64(size)}
			stream := append(AppendHeader(nil, h), make([]byte, size)...)
			var d Decoder
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				p := stream
				for {
					ev, _, n, err := d.Next(p)
					if err != nil {
						b.Fatal(err)
					}
					p = p[n:]
					if ev == EventEnd {
						break
					}
				}
			}
		})
	}
}

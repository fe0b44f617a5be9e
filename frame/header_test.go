package frame

import (
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/mask"
)

// Frames from RFC 6455, Section 5.7.
var (
	rfcUnmaskedHello = []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}
	rfcMaskedHello   = []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	rfcFragment1     = []byte{0x01, 0x03, 0x48, 0x65, 0x6c}
	rfcFragment2     = []byte{0x80, 0x02, 0x6c, 0x6f}
	rfcPing          = []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}
	rfcMaskedPong    = []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	rfc256Binary     = []byte{0x82, 0x7E, 0x01, 0x00}
	rfc64KBinary     = []byte{0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}
)

var rfcKey = mask.Key{0x37, 0xfa, 0x21, 0x3d}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		want     Header
		wantN    int
		wantErr  error
		wantCode CloseCode
	}{{
		name:  "RFC 6455 5.7 unmasked Hello",
		in:    rfcUnmaskedHello,
		want:  Header{Fin: true, Opcode: OpText, Length: 5},
		wantN: 2,
	}, {
		name:  "RFC 6455 5.7 masked Hello",
		in:    rfcMaskedHello,
		want:  Header{Fin: true, Opcode: OpText, Masked: true, Key: rfcKey, Length: 5},
		wantN: 6,
	}, {
		name:  "RFC 6455 5.7 first fragment",
		in:    rfcFragment1,
		want:  Header{Opcode: OpText, Length: 3},
		wantN: 2,
	}, {
		name:  "RFC 6455 5.7 last fragment",
		in:    rfcFragment2,
		want:  Header{Fin: true, Opcode: OpContinuation, Length: 2},
		wantN: 2,
	}, {
		name:  "RFC 6455 5.7 ping",
		in:    rfcPing,
		want:  Header{Fin: true, Opcode: OpPing, Length: 5},
		wantN: 2,
	}, {
		name:  "RFC 6455 5.7 masked pong",
		in:    rfcMaskedPong,
		want:  Header{Fin: true, Opcode: OpPong, Masked: true, Key: rfcKey, Length: 5},
		wantN: 6,
	}, {
		name:  "RFC 6455 5.7 256 bytes",
		in:    rfc256Binary,
		want:  Header{Fin: true, Opcode: OpBinary, Length: 256},
		wantN: 4,
	}, {
		name:  "RFC 6455 5.7 64 KiB",
		in:    rfc64KBinary,
		want:  Header{Fin: true, Opcode: OpBinary, Length: 65536},
		wantN: 10,
	}, {
		name:  "all RSV bits and a reserved opcode are parsed, not judged",
		in:    []byte{0x73, 0x00},
		want:  Header{RSV: RSV1 | rsv2 | rsv3, Opcode: 3},
		wantN: 2,
	}, {
		name:  "largest 64-bit length",
		in:    []byte{0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
		want:  Header{Fin: true, Opcode: OpBinary, Length: 1<<63 - 1},
		wantN: 10,
	}, {
		name:     "64-bit length with the most significant bit set",
		in:       []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0},
		wantN:    10,
		wantErr:  &ProtocolError{},
		wantCode: CloseCode(1002),
	}, {
		name:    "empty",
		in:      nil,
		wantN:   2,
		wantErr: io.ErrUnexpectedEOF,
	}, {
		name:    "one byte",
		in:      []byte{0x81},
		wantN:   2,
		wantErr: io.ErrUnexpectedEOF,
	}, {
		name:    "masked header missing its key",
		in:      rfcMaskedHello[:5],
		wantN:   6,
		wantErr: io.ErrUnexpectedEOF,
	}, {
		name:    "64-bit length cut short",
		in:      rfc64KBinary[:9],
		wantN:   10,
		wantErr: io.ErrUnexpectedEOF,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := ParseHeader(tt.in)
			if n != tt.wantN || !matchErr(err, tt.wantErr, tt.wantCode) {
				t.Fatalf("ParseHeader(%x) = n %d, err %v; want n %d, err %v", tt.in, n, err, tt.wantN, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseHeader(%x) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// matchErr reports whether err matches want: nil, a sentinel, or a
// *ProtocolError with the given code.
func matchErr(err, want error, code CloseCode) bool {
	if _, ok := want.(*ProtocolError); ok {
		var pe *ProtocolError
		return errors.As(err, &pe) && pe.Code == code
	}
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

func TestAppendHeader(t *testing.T) {
	tests := []struct {
		name string
		in   Header
		want []byte
	}{{
		name: "RFC 6455 5.7 unmasked Hello",
		in:   Header{Fin: true, Opcode: OpText, Length: 5},
		want: rfcUnmaskedHello[:2],
	}, {
		name: "RFC 6455 5.7 masked Hello",
		in:   Header{Fin: true, Opcode: OpText, Masked: true, Key: rfcKey, Length: 5},
		want: rfcMaskedHello[:6],
	}, {
		name: "RFC 6455 5.7 first fragment",
		in:   Header{Opcode: OpText, Length: 3},
		want: rfcFragment1[:2],
	}, {
		name: "RFC 6455 5.7 256 bytes",
		in:   Header{Fin: true, Opcode: OpBinary, Length: 256},
		want: rfc256Binary,
	}, {
		name: "RFC 6455 5.7 64 KiB",
		in:   Header{Fin: true, Opcode: OpBinary, Length: 65536},
		want: rfc64KBinary,
	}, {
		name: "125 is the longest 7-bit length",
		in:   Header{Fin: true, Opcode: OpBinary, Length: 125},
		want: []byte{0x82, 125},
	}, {
		name: "126 takes the 16-bit form",
		in:   Header{Fin: true, Opcode: OpBinary, Length: 126},
		want: []byte{0x82, 126, 0, 126},
	}, {
		name: "65535 is the longest 16-bit length",
		in:   Header{Fin: true, Opcode: OpBinary, Length: 65535},
		want: []byte{0x82, 126, 0xFF, 0xFF},
	}, {
		name: "RSV bits",
		in:   Header{Fin: true, RSV: RSV1 | rsv3, Opcode: OpText},
		want: []byte{0xD1, 0},
	}, {
		name: "a key without Masked is not written",
		in:   Header{Fin: true, Opcode: OpPing, Key: rfcKey},
		want: []byte{0x89, 0},
	}, {
		name: "negative length is written as 0",
		in:   Header{Fin: true, Opcode: OpBinary, Length: -1},
		want: []byte{0x82, 0},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			got := AppendHeader(prefix, tt.in)
			if diff := cmp.Diff(append([]byte("prefix"), tt.want...), got); diff != "" {
				t.Errorf("AppendHeader(%+v) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestParseHeaderSplit checks that every proper prefix of a header gives
// io.ErrUnexpectedEOF and a need that is never below the bytes given.
func TestParseHeaderSplit(t *testing.T) {
	headers := []Header{
		{Fin: true, Opcode: OpText, Length: 5},
		{Fin: true, Opcode: OpText, Masked: true, Key: rfcKey, Length: 5},
		{Opcode: OpBinary, Length: 300, Masked: true, Key: rfcKey},
		{Fin: true, Opcode: OpBinary, Length: 1 << 40, Masked: true, Key: rfcKey},
		{Fin: true, RSV: RSV1, Opcode: OpClose, Length: 2},
	}
	for _, h := range headers {
		wire := AppendHeader(nil, h)
		for i := 0; i < len(wire); i++ {
			_, n, err := ParseHeader(wire[:i])
			if !errors.Is(err, io.ErrUnexpectedEOF) || n <= i || n > len(wire) {
				t.Errorf("ParseHeader(%x) = n %d, err %v; want n in (%d, %d], io.ErrUnexpectedEOF", wire[:i], n, err, i, len(wire))
			}
		}
	}
}

func TestCheck(t *testing.T) {
	masked := func(h Header) Header { h.Masked = true; h.Key = rfcKey; return h }
	tests := []struct {
		name    string
		h       Header
		role    Role
		rsv     byte
		wantErr bool
	}{{
		name: "masked text at server",
		h:    masked(Header{Fin: true, Opcode: OpText, Length: 5}),
		role: Server,
	}, {
		name: "unmasked text at client",
		h:    Header{Fin: true, Opcode: OpText, Length: 5},
		role: Client,
	}, {
		name:    "unmasked text at server",
		h:       Header{Fin: true, Opcode: OpText, Length: 5},
		role:    Server,
		wantErr: true,
	}, {
		name:    "masked text at client",
		h:       masked(Header{Fin: true, Opcode: OpText, Length: 5}),
		role:    Client,
		wantErr: true,
	}, {
		name:    "RSV1 not negotiated",
		h:       Header{Fin: true, RSV: RSV1, Opcode: OpText},
		role:    Client,
		wantErr: true,
	}, {
		name: "RSV1 negotiated",
		h:    Header{Fin: true, RSV: RSV1, Opcode: OpText},
		role: Client,
		rsv:  RSV1,
	}, {
		name:    "rsv2 when only RSV1 is negotiated",
		h:       Header{Fin: true, RSV: rsv2, Opcode: OpText},
		role:    Client,
		rsv:     RSV1,
		wantErr: true,
	}, {
		name:    "rsv3",
		h:       Header{Fin: true, RSV: rsv3, Opcode: OpBinary},
		role:    Client,
		wantErr: true,
	}, {
		name:    "reserved non-control opcode 3",
		h:       Header{Fin: true, Opcode: 3},
		role:    Client,
		wantErr: true,
	}, {
		name:    "reserved non-control opcode 7",
		h:       Header{Fin: true, Opcode: 7},
		role:    Client,
		wantErr: true,
	}, {
		name:    "reserved control opcode 0xB",
		h:       Header{Fin: true, Opcode: 0xB},
		role:    Client,
		wantErr: true,
	}, {
		name:    "reserved control opcode 0xF",
		h:       Header{Fin: true, Opcode: 0xF},
		role:    Client,
		wantErr: true,
	}, {
		name:    "fragmented ping",
		h:       Header{Opcode: OpPing},
		role:    Client,
		wantErr: true,
	}, {
		name: "ping of 125 bytes",
		h:    Header{Fin: true, Opcode: OpPing, Length: 125},
		role: Client,
	}, {
		name:    "ping of 126 bytes",
		h:       Header{Fin: true, Opcode: OpPing, Length: 126},
		role:    Client,
		wantErr: true,
	}, {
		name:    "close of 126 bytes",
		h:       Header{Fin: true, Opcode: OpClose, Length: 126},
		role:    Client,
		wantErr: true,
	}, {
		name: "unfinished text is fine",
		h:    Header{Opcode: OpText, Length: 1 << 20},
		role: Client,
	}, {
		name: "continuation",
		h:    Header{Opcode: OpContinuation, Length: 1},
		role: Client,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.Check(tt.role, tt.rsv)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Check(%v, %#x) = %v, want nil", tt.role, tt.rsv, err)
				}
				return
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != CloseCode(1002) {
				t.Fatalf("Check(%v, %#x) = %v, want a *ProtocolError with code 1002", tt.role, tt.rsv, err)
			}
			if len(pe.Reason) > maxCloseReason {
				t.Errorf("reason %q is longer than a close frame can carry", pe.Reason)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got  string
		want string
	}{
		{got: OpText.String(), want: "text"},
		{got: OpPong.String(), want: "pong"},
		{got: Opcode(0xB).String(), want: "reserved opcode 0xb"},
		{got: CloseCode(1000).String(), want: "normal closure (1000)"},
		{got: CloseCode(4000).String(), want: "4000"},
		{got: Client.String(), want: "client"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}

// TestParseHeaderDoesNotAllocate checks the promise of ParseHeader's
// documentation for complete and partial headers.
func TestParseHeaderDoesNotAllocate(t *testing.T) {
	wire := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Key: rfcKey, Length: 1 << 20})
	for _, n := range []int{len(wire), 3} {
		if allocs := testing.AllocsPerRun(100, func() { ParseHeader(wire[:n]) }); allocs != 0 {
			t.Errorf("ParseHeader of %d of %d bytes: %v allocations, want 0", n, len(wire), allocs)
		}
	}
}

func BenchmarkParseHeader(b *testing.B) {
	wire := AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Key: rfcKey, Length: 1 << 20})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseHeader(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendHeader(b *testing.B) {
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: rfcKey, Length: 1 << 20}
	buf := make([]byte, 0, MaxHeaderLen)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendHeader(buf[:0], h)
	}
}

func TestProtocolErrorMessage(t *testing.T) {
	cause := errors.New("cause")
	err := &ProtocolError{Code: CloseCode(1009), Reason: "message over the read limit", Err: cause}
	want := "websocket: message over the read limit (close 1009, message too big): cause"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, cause) {
		t.Error("errors.Is(err, cause) = false, want true")
	}
}

package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseHeader checks that ParseHeader never panics, that a header it
// accepts re-encodes to the same bytes when the input used the minimal
// length encoding, and that parsing the re-encoded form gives the same
// header.
func FuzzParseHeader(f *testing.F) {
	for _, seed := range [][]byte{rfcUnmaskedHello, rfcMaskedHello, rfcFragment1, rfcPing, rfcMaskedPong, rfc256Binary, rfc64KBinary, {0x82, 0x7E, 0x00, 0x05}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			if n <= len(b) || n > MaxHeaderLen {
				t.Fatalf("short input %x: need %d", b, n)
			}
			return
		}
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != CloseCode(1002) {
				t.Fatalf("ParseHeader(%x) error %v is not a 1002 protocol error", b, err)
			}
			return
		}
		if n < 2 || n > MaxHeaderLen || n > len(b) || len(AppendHeader(nil, h)) > n {
			t.Fatalf("ParseHeader(%x) = n %d, header %+v", b, n, h)
		}
		wire := AppendHeader(nil, h)
		h2, n2, err := ParseHeader(wire)
		if err != nil || n2 != len(wire) {
			t.Fatalf("re-parse of %x: n %d, err %v", wire, n2, err)
		}
		if diff := cmp.Diff(h, h2); diff != "" {
			t.Fatalf("round trip mismatch (-want +got):\n%s", diff)
		}
		if n == len(wire) && !bytes.Equal(wire, b[:n]) {
			t.Fatalf("AppendHeader(ParseHeader(%x)) = %x", b[:n], wire)
		}
	})
}

// FuzzDecoder checks that a Decoder fed a stream in two pieces produces
// the same frames, or the same failure, as one fed the stream whole.
func FuzzDecoder(f *testing.F) {
	f.Add(bytes.Join([][]byte{rfcFragment1, rfcPing, rfcFragment2}, nil), 3, false)
	f.Add(rfcMaskedHello, 4, true)
	f.Add(append(AppendHeader(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, Key: rfcKey, Length: 300}), make([]byte, 300)...), 100, true)
	f.Fuzz(func(t *testing.T, stream []byte, cut int, server bool) {
		role := Client
		if server {
			role = Server
		}
		if cut < 0 || cut > len(stream) {
			cut = len(stream) / 2
		}
		d1 := Decoder{Role: role, RSV: RSV1}
		want, wantErr := decodeAll(&d1, bytes.Clone(stream), nil)
		d2 := Decoder{Role: role, RSV: RSV1}
		got, gotErr := decodeAll(&d2, bytes.Clone(stream), []int{cut})
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("whole: %v; cut at %d: %v", wantErr, cut, gotErr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("cut at %d: mismatch (-whole +cut):\n%s", cut, diff)
		}
		for _, fr := range got {
			if int64(len(fr.Payload)) > fr.Header.Length {
				t.Fatalf("payload of %d bytes for length %d", len(fr.Payload), fr.Header.Length)
			}
			if err := fr.Header.Check(role, RSV1); err != nil {
				t.Fatalf("decoder passed a header that fails Check: %v", err)
			}
		}
	})
}

// FuzzParseClose checks that ParseClose never panics, accepts only valid
// codes and UTF-8 reasons, and that AppendClose round-trips what it
// accepts.
func FuzzParseClose(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03, 0xE8})
	f.Add([]byte{0x03, 0xE8, 'o', 'k'})
	f.Add([]byte{0x03, 0xE8, 0xED, 0xA0, 0x80})
	f.Fuzz(func(t *testing.T, payload []byte) {
		code, reason, err := ParseClose(payload)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || (pe.Code != CloseCode(1002) && pe.Code != CloseCode(1007)) {
				t.Fatalf("ParseClose(%x) error %v has the wrong type or code", payload, err)
			}
			return
		}
		if len(payload) > 0 && !code.IsValid() {
			t.Fatalf("ParseClose(%x) accepted code %d", payload, code)
		}
		if len(payload) <= MaxControlPayload {
			if got := AppendClose(nil, code, reason); !bytes.Equal(got, payload) {
				t.Fatalf("AppendClose(ParseClose(%x)) = %x", payload, got)
			}
		}
	})
}

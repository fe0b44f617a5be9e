package frame

import (
	"encoding/binary"
	"io"
	"math"

	"github.com/rfc6455/websocket/mask"
)

// Limits of the framing layer.
const (
	// MaxHeaderLen is the length of the longest frame header: 2 bytes,
	// 8 bytes of extended payload length and a 4-byte masking key.
	MaxHeaderLen = 14

	// MaxControlPayload is the largest payload a control frame may carry
	// ([RFC 6455, Section 5.5]).
	//
	// [RFC 6455, Section 5.5]: https://www.rfc-editor.org/rfc/rfc6455#section-5.5
	MaxControlPayload = 125
)

// RSV1 is the first reserved bit of a frame header, as it sits in the
// first byte, for [Header.RSV], [Header.Check] and [Decoder.RSV]. It is
// the only one an extension registered with IANA defines: permessage-deflate
// marks compressed messages with it ([RFC 7692, Section 6]). RSV2 and RSV3
// are the bits 0x20 and 0x10.
//
// [RFC 7692, Section 6]: https://www.rfc-editor.org/rfc/rfc7692#section-6
const RSV1 byte = 0x40

// rsvBits are the three reserved bits.
const (
	rsv2    byte = 0x20
	rsv3    byte = 0x10
	rsvBits      = RSV1 | rsv2 | rsv3
)

// A Header is a frame header ([RFC 6455, Section 5.2]).
//
// [RFC 6455, Section 5.2]: https://www.rfc-editor.org/rfc/rfc6455#section-5.2
type Header struct {
	Fin    bool     // final fragment of a message
	RSV    byte     // reserved bits as they sit in the first byte: any of 0x40 (RSV1), 0x20 and 0x10
	Opcode Opcode   // four bits
	Masked bool     // Key holds a masking key
	Key    mask.Key // masking key, if Masked
	Length int64    // payload length, 0 to 1<<63 - 1
}

// ParseHeader parses the frame header at the start of b and returns it with
// its length in bytes. It does not allocate and does not retain b.
//
// If b holds only part of a header, ParseHeader returns
// [io.ErrUnexpectedEOF] and n is the number of bytes the header needs in
// all, as far as b tells (at least len(b)+1). A 64-bit payload length with
// the most significant bit set is a *[ProtocolError]: it "MUST be 0"
// ([RFC 6455, Section 5.2]). ParseHeader checks nothing else; see
// [Header.Check].
//
// [RFC 6455, Section 5.2]: https://www.rfc-editor.org/rfc/rfc6455#section-5.2
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return Header{}, 2, io.ErrUnexpectedEOF
	}
	b0, b1 := b[0], b[1]
	n = 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	if len(b) < n {
		return Header{}, n, io.ErrUnexpectedEOF
	}
	h = Header{
		Fin:    b0&0x80 != 0,
		RSV:    b0 & rsvBits,
		Opcode: Opcode(b0 & 0x0F),
		Masked: b1&0x80 != 0,
	}
	p := 2
	switch l := b1 & 0x7F; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:]))
		p += 2
	case 127:
		l64 := binary.BigEndian.Uint64(b[2:])
		if l64 > math.MaxInt64 {
			return Header{}, n, protocolError("64-bit payload length has its most significant bit set")
		}
		h.Length = int64(l64)
		p += 8
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Key[:], b[p:p+4])
	}
	return h, n, nil
}

// AppendHeader appends the wire form of h to dst and returns the extended
// slice. It always uses the minimal length encoding, as
// [RFC 6455, Section 5.2] requires: "the minimal number of bytes MUST be
// used to encode the length". A negative Length is encoded as 0; the Key
// is written only if Masked is set.
//
// [RFC 6455, Section 5.2]: https://www.rfc-editor.org/rfc/rfc6455#section-5.2
func AppendHeader(dst []byte, h Header) []byte {
	b0 := byte(h.Opcode&0x0F) | h.RSV&rsvBits
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch l := max(h.Length, 0); {
	case l <= 125:
		dst = append(dst, b0, b1|byte(l))
	case l <= 0xFFFF:
		dst = append(dst, b0, b1|126, byte(l>>8), byte(l))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(l))
	}
	if h.Masked {
		dst = append(dst, h.Key[:]...)
	}
	return dst
}

// A Role says which end of a connection an endpoint is.
type Role uint8

// The two roles. Clients mask every frame they send; servers mask none
// ([RFC 6455, Section 5.1]).
//
// [RFC 6455, Section 5.1]: https://www.rfc-editor.org/rfc/rfc6455#section-5.1
const (
	Server Role = iota
	Client
)

// String returns "server" or "client".
func (r Role) String() string {
	if r == Client {
		return "client"
	}
	return "server"
}

// Check reports whether a frame with header h may arrive at an endpoint of
// the given role, when the negotiated extensions define the reserved bits
// in rsv (any of 0x40, [RSV1], 0x20 and 0x10). A violation is a
// *[ProtocolError] with code 1002 (protocol error). Check enforces the rules
// of RFC 6455 that need no more than the header:
//
//   - "MUST be 0 unless an extension is negotiated that defines meanings
//     for non-zero values" (RSV bits, Section 5.2);
//   - "If an unknown opcode is received, the receiving endpoint MUST _Fail
//     the WebSocket Connection_" (Section 5.2);
//   - "All control frames MUST have a payload length of 125 bytes or less
//     and MUST NOT be fragmented" (Section 5.5);
//   - "The server MUST close the connection upon receiving a frame that is
//     not masked" and "A client MUST close a connection if it detects a
//     masked frame" (Section 5.1).
//
// Rules about sequences of frames (a continuation with no message to
// continue, a new message inside a fragmented one) are the reader's job.
func (h Header) Check(role Role, rsv byte) error {
	if bad := h.RSV &^ rsv; bad != 0 {
		switch {
		case bad&RSV1 != 0:
			return protocolError("RSV1 set without a negotiated extension that defines it")
		case bad&rsv2 != 0:
			return protocolError("RSV2 set without a negotiated extension that defines it")
		default:
			return protocolError("RSV3 set without a negotiated extension that defines it")
		}
	}
	if h.Opcode.isReserved() {
		return protocolError("frame with " + h.Opcode.String())
	}
	if h.Opcode.IsControl() {
		if !h.Fin {
			return protocolError("fragmented " + h.Opcode.String() + " frame")
		}
		if h.Length > MaxControlPayload {
			return protocolError(h.Opcode.String() + " frame payload longer than 125 bytes")
		}
	}
	if role == Server && !h.Masked {
		return protocolError("unmasked frame from client")
	}
	if role == Client && h.Masked {
		return protocolError("masked frame from server")
	}
	return nil
}

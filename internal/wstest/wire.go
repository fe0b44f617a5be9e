package wstest

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes used by the catalogue, as [RFC 6455, Section 5.2] numbers them.
// The suite deliberately sends the reserved ones too, so opcodes are plain
// bytes rather than a validated type.
//
// [RFC 6455, Section 5.2]: https://www.rfc-editor.org/rfc/rfc6455#section-5.2
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close codes the judgement refers to.
const (
	closeNormalCode      = 1000
	closeGoingAway       = 1001
	closeProtocolError   = 1002
	closeInvalidPayload  = 1007
	maxAcceptedFrameSize = 256 << 20
)

// A txFrame describes one frame exactly as the suite puts it on the wire,
// legal or not.
type txFrame struct {
	Opcode byte   // any value 0-15, reserved ones included
	Fin    bool   // FIN bit
	RSV    byte   // the three RSV bits as a number 0-7
	Data   []byte // payload, repeated up to Len when Len > len(Data)
	Len    int    // if > 0, the payload length; Data is repeated to fill it
	// Chop, if > 0, writes the encoded frame in pieces of this many bytes,
	// each with its own Write call.
	Chop int
	// Sync asks for the frame to be written with its own Write call
	// instead of being coalesced with the next one.
	Sync bool
}

// payload returns the frame's payload with Data repeated to Len.
func (f *txFrame) payload() []byte {
	if f.Len <= 0 || f.Len == len(f.Data) {
		return f.Data
	}
	out := make([]byte, f.Len)
	if len(f.Data) == 0 {
		return out
	}
	for i := 0; i < f.Len; i += len(f.Data) {
		copy(out[i:], f.Data)
	}
	return out
}

// appendHeader appends a frame header with the given fields. A mask key is
// written when mask is non-nil.
func appendHeader(dst []byte, opcode byte, fin bool, rsv byte, length int, mask []byte) []byte {
	b0 := opcode&0x0F | (rsv&7)<<4
	if fin {
		b0 |= 0x80
	}
	var b1 byte
	if mask != nil {
		b1 = 0x80
	}
	switch {
	case length < 126:
		dst = append(dst, b0, b1|byte(length))
	case length < 1<<16:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(length))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(length))
	}
	if mask != nil {
		dst = append(dst, mask...)
	}
	return dst
}

// maskBytes XORs b in place with key, starting at key position pos, and
// returns the next position.
func maskBytes(key []byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// newMaskKey returns four random bytes.
func newMaskKey() []byte {
	k := make([]byte, 4)
	_, _ = rand.Read(k)
	return k
}

// encodeFrame returns the wire bytes of f, masked with a fresh key when
// masked is true.
func encodeFrame(f *txFrame, masked bool) []byte {
	p := f.payload()
	var key []byte
	if masked {
		key = newMaskKey()
	}
	out := appendHeader(make([]byte, 0, len(p)+14), f.Opcode, f.Fin, f.RSV, len(p), key)
	start := len(out)
	out = append(out, p...)
	if masked {
		maskBytes(key, 0, out[start:])
	}
	return out
}

// rxFrame is a frame as read from the peer, payload unmasked.
type rxFrame struct {
	fin     bool
	rsv     byte
	opcode  byte
	masked  bool
	len1    byte   // the 7-bit length field
	length  uint64 // the decoded payload length
	payload []byte
}

var errFrameTooBig = errors.New("wstest: frame larger than the suite accepts")

// readFrame reads one whole frame from r. It does not judge the frame;
// the session applies the checks in Autobahn's order.
func readFrame(r io.Reader) (*rxFrame, error) {
	var h [14]byte
	if _, err := io.ReadFull(r, h[:2]); err != nil {
		return nil, err
	}
	f := &rxFrame{
		fin:    h[0]&0x80 != 0,
		rsv:    (h[0] >> 4) & 7,
		opcode: h[0] & 0x0F,
		masked: h[1]&0x80 != 0,
		len1:   h[1] & 0x7F,
	}
	switch f.len1 {
	case 126:
		if _, err := io.ReadFull(r, h[2:4]); err != nil {
			return nil, err
		}
		f.length = uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		if _, err := io.ReadFull(r, h[2:10]); err != nil {
			return nil, err
		}
		f.length = binary.BigEndian.Uint64(h[2:10])
	default:
		f.length = uint64(f.len1)
	}
	var key [4]byte
	if f.masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return nil, err
		}
	}
	if f.length > maxAcceptedFrameSize {
		return nil, fmt.Errorf("%w: %d bytes", errFrameTooBig, f.length)
	}
	f.payload = make([]byte, f.length)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return nil, err
	}
	if f.masked {
		maskBytes(key[:], 0, f.payload)
	}
	return f, nil
}

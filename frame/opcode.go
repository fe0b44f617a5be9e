package frame

import "strconv"

// An Opcode says how to interpret a frame's payload
// ([RFC 6455, Section 5.2]).
//
// [RFC 6455, Section 5.2]: https://www.rfc-editor.org/rfc/rfc6455#section-5.2
type Opcode byte

// The opcodes defined by RFC 6455, Section 5.2. The values 0x3-0x7 and
// 0xB-0xF are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

var opcodeNames = [16]string{
	OpContinuation: "continuation",
	OpText:         "text",
	OpBinary:       "binary",
	OpClose:        "close",
	OpPing:         "ping",
	OpPong:         "pong",
}

// String returns the opcode's name, or "reserved opcode 0xN".
func (op Opcode) String() string {
	if op < 16 && opcodeNames[op] != "" {
		return opcodeNames[op]
	}
	return "reserved opcode 0x" + strconv.FormatUint(uint64(op), 16)
}

// IsControl reports whether op is a control opcode: one with the most
// significant bit set ([RFC 6455, Section 5.5]). Reserved control opcodes
// count as control opcodes.
//
// [RFC 6455, Section 5.5]: https://www.rfc-editor.org/rfc/rfc6455#section-5.5
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// isReserved reports whether op is one of the reserved opcodes 0x3-0x7 and
// 0xB-0xF, or does not fit in four bits.
func (op Opcode) isReserved() bool {
	return op > 0xF || (op >= 0x3 && op <= 0x7) || op >= 0xB
}

// A CloseCode is the status code of a Close frame
// ([RFC 6455, Section 7.4]). Codes 1000-2999 are the protocol's, 3000-3999
// are registered by libraries and frameworks, and 4000-4999 are for
// private use. Package conn names the registered ones.
//
// [RFC 6455, Section 7.4]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4
type CloseCode uint16

// The close codes this package itself uses or names. The names of all the
// registered codes are in package conn, where applications use them.
const (
	closeProtocolError           CloseCode = 1002
	closeNoStatusReceived        CloseCode = 1005
	closeInvalidFramePayloadData CloseCode = 1007
)

// closeCodeNames are the names of the codes in the IANA WebSocket Close
// Code Number Registry ([RFC 6455, Section 7.4.1] and Section 11.7).
//
// [RFC 6455, Section 7.4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
var closeCodeNames = map[CloseCode]string{
	1000: "normal closure",
	1001: "going away",
	1002: "protocol error",
	1003: "unsupported data",
	1005: "no status received",
	1006: "abnormal closure",
	1007: "invalid frame payload data",
	1008: "policy violation",
	1009: "message too big",
	1010: "mandatory extension",
	1011: "internal server error",
	1012: "service restart",
	1013: "try again later",
	1014: "bad gateway",
	1015: "TLS handshake",
}

// String returns the code's registered name followed by its number, such
// as "normal closure (1000)", or just the number for unregistered codes.
func (c CloseCode) String() string {
	n := strconv.FormatUint(uint64(c), 10)
	if name, ok := closeCodeNames[c]; ok {
		return name + " (" + n + ")"
	}
	return n
}

// IsValid reports whether c may appear in a Close frame on the wire:
// 1000-1003, 1007-1014 and 3000-4999 ([RFC 6455, Section 7.4]). Codes
// below 1000, 1004-1006, 1015, 1016-2999 and from 5000 on are not.
//
// [RFC 6455, Section 7.4]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4
func (c CloseCode) IsValid() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

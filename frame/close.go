package frame

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// maxCloseReason is the longest reason a Close frame can carry: the
// control-frame limit of 125 bytes less the 2-byte code.
const maxCloseReason = MaxControlPayload - 2

// ParseClose parses the payload of a Close frame
// ([RFC 6455, Section 5.5.1]). An empty payload gives code 1005 (no
// status received) and no error. The errors are *[ProtocolError]s: a
// 1-byte payload or a code that [CloseCode.IsValid] rejects is a protocol
// error (1002); a reason that is not valid UTF-8 is invalid frame payload
// data (1007: "the data within a Close frame MUST be ... UTF-8-encoded
// data", Section 5.5.1 and Section 8.1).
//
// [RFC 6455, Section 5.5.1]: https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1
func ParseClose(payload []byte) (code CloseCode, reason string, err error) {
	switch len(payload) {
	case 0:
		return closeNoStatusReceived, "", nil
	case 1:
		return 0, "", protocolError("close frame payload of 1 byte")
	}
	code = CloseCode(binary.BigEndian.Uint16(payload))
	if !code.IsValid() {
		return code, "", protocolError("close frame with invalid code " + strconv.Itoa(int(code)))
	}
	r := payload[2:]
	if !utf8.Valid(r) {
		return code, "", &ProtocolError{Code: closeInvalidFramePayloadData, Reason: "close reason is not valid UTF-8"}
	}
	return code, string(r), nil
}

// AppendClose appends the payload of a Close frame with the given code and
// reason to dst and returns the extended slice. Code 1005 (no status
// received) gives an empty payload, which is how a Close frame says "no
// code". A reason longer than 123 bytes is cut to fit at a UTF-8
// character boundary. AppendClose does not check code; callers that take
// codes from users should check [CloseCode.IsValid] first.
func AppendClose(dst []byte, code CloseCode, reason string) []byte {
	if code == closeNoStatusReceived {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	if len(reason) > maxCloseReason {
		n := maxCloseReason
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n--
		}
		reason = reason[:n]
	}
	return append(dst, reason...)
}

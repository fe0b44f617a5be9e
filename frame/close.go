package frame

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// MaxCloseReason is the longest reason a Close frame can carry: the
// control-frame limit of 125 bytes less the 2-byte code.
const MaxCloseReason = MaxControlPayload - 2

// ParseClose parses the payload of a Close frame
// ([RFC 6455, Section 5.5.1]). An empty payload gives
// [CloseNoStatusReceived] and no error. The errors are *[ProtocolError]s:
// a 1-byte payload or a code that [CloseCode.IsValid] rejects is
// [CloseProtocolError]; a reason that is not valid UTF-8 is
// [CloseInvalidFramePayloadData] ("the data within a Close frame MUST
// be ... UTF-8-encoded data", Section 5.5.1 and Section 8.1).
//
// [RFC 6455, Section 5.5.1]: https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1
func ParseClose(payload []byte) (code CloseCode, reason string, err error) {
	switch len(payload) {
	case 0:
		return CloseNoStatusReceived, "", nil
	case 1:
		return 0, "", protocolError("close frame payload of 1 byte")
	}
	code = CloseCode(binary.BigEndian.Uint16(payload))
	if !code.IsValid() {
		return code, "", protocolError("close frame with invalid code " + strconv.Itoa(int(code)))
	}
	r := payload[2:]
	if !utf8.Valid(r) {
		return code, "", &ProtocolError{Code: CloseInvalidFramePayloadData, Reason: "close reason is not valid UTF-8"}
	}
	return code, string(r), nil
}

// AppendClose appends the payload of a Close frame with the given code and
// reason to dst and returns the extended slice. [CloseNoStatusReceived]
// gives an empty payload, which is how a Close frame says "no code". A
// reason longer than [MaxCloseReason] bytes is cut to fit at a UTF-8
// character boundary. AppendClose does not check code; callers that take
// codes from users should check [CloseCode.IsValid] first.
func AppendClose(dst []byte, code CloseCode, reason string) []byte {
	if code == CloseNoStatusReceived {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	if len(reason) > MaxCloseReason {
		n := MaxCloseReason
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n--
		}
		reason = reason[:n]
	}
	return append(dst, reason...)
}

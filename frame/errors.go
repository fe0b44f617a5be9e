package frame

import "strconv"

// A ProtocolError reports that the peer violated RFC 6455 and that the
// connection must be failed with Code ([RFC 6455, Section 7.1.7]).
//
// [RFC 6455, Section 7.1.7]: https://www.rfc-editor.org/rfc/rfc6455#section-7.1.7
type ProtocolError struct {
	Code   CloseCode // 1002 (protocol error), 1007 (invalid payload data), 1008 (policy violation), 1009 (message too big)
	Reason string    // what was wrong; short enough for a Close frame (≤ 123 bytes) and valid UTF-8
	Err    error     // optional cause
}

// Error returns "websocket: " followed by the reason and the close code.
// The prefix names the protocol, not this package, because the connection
// layer returns these errors too.
func (e *ProtocolError) Error() string {
	msg := "websocket: " + e.Reason + " (close " + strconv.Itoa(int(e.Code))
	if name, ok := closeCodeNames[e.Code]; ok {
		msg += ", " + name
	}
	msg += ")"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause, if any.
func (e *ProtocolError) Unwrap() error { return e.Err }

func protocolError(reason string) *ProtocolError {
	return &ProtocolError{Code: closeProtocolError, Reason: reason}
}

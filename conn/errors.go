package conn

import (
	"errors"
	"strconv"

	"github.com/rfc6455/websocket/frame"
)

// A CloseError is the Close frame the peer sent
// ([RFC 6455, Section 5.5.1]), or, with code
// [frame.CloseAbnormalClosure], the report that the connection ended
// without one ([RFC 6455, Section 7.1.5]).
//
// [RFC 6455, Section 5.5.1]: https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1
// [RFC 6455, Section 7.1.5]: https://www.rfc-editor.org/rfc/rfc6455#section-7.1.5
type CloseError struct {
	Code   frame.CloseCode // frame.CloseNoStatusReceived if the frame had no body
	Reason string
}

// Error returns a message with the code and reason.
func (e *CloseError) Error() string {
	s := "conn: closed by peer with code " + strconv.Itoa(int(e.Code))
	if e.Code == frame.CloseAbnormalClosure {
		s = "conn: connection ended without a close frame (1006)"
	}
	if e.Reason != "" {
		s += ": " + strconv.Quote(e.Reason)
	}
	return s
}

var (
	// ErrReadLimit is wrapped by the *frame.ProtocolError (code 1009)
	// returned when a message exceeds Options.ReadLimit.
	ErrReadLimit = errors.New("conn: message exceeds the read limit")

	// ErrKeepalive is returned when keepalive saw neither a pong nor any
	// other data from the peer within Options.KeepaliveTimeout.
	ErrKeepalive = errors.New("conn: keepalive timeout: the peer sent nothing")

	// ErrBufferFull is returned by writes that would take BufferedAmount
	// past Options.MaxBufferedAmount under the BackpressureError and
	// BackpressureClose policies.
	ErrBufferFull = errors.New("conn: write buffer full")
)

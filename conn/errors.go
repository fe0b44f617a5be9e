package conn

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/rfc6455/websocket/frame"
)

// A CloseError is the Close frame the peer sent
// ([RFC 6455, Section 5.5.1]), or, with code [CloseAbnormalClosure], the
// report that the connection ended without one
// ([RFC 6455, Section 7.1.5]).
//
// [RFC 6455, Section 5.5.1]: https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1
// [RFC 6455, Section 7.1.5]: https://www.rfc-editor.org/rfc/rfc6455#section-7.1.5
type CloseError struct {
	Code   CloseCode // CloseNoStatusReceived if the frame had no body
	Reason string
}

// Error returns a message with the code and reason.
func (e *CloseError) Error() string {
	s := "conn: the peer closed the connection with code " + e.Code.String()
	if e.Code == CloseAbnormalClosure {
		s = "conn: the connection ended without a close frame (1006)"
	}
	if e.Reason != "" {
		s += ": " + strconv.Quote(e.Reason)
	}
	return s
}

// A ProtocolError reports that the peer violated RFC 6455 and that the
// connection was failed with Code, the close code sent to the peer
// ([RFC 6455, Section 7.1.7]): 1002 (protocol error), 1007 (invalid UTF-8
// or compressed data), 1008 (too many fragments) or 1009 (message too big,
// wrapping [ErrReadLimit]). It is the type package frame defines.
//
// [RFC 6455, Section 7.1.7]: https://www.rfc-editor.org/rfc/rfc6455#section-7.1.7
type ProtocolError = frame.ProtocolError

var (
	// ErrReadLimit is wrapped by the *ProtocolError (code 1009) returned
	// when a message exceeds Options.ReadLimit.
	ErrReadLimit = errors.New("conn: message exceeds the read limit")

	// ErrKeepalive is returned when keepalive saw no sign of life from the
	// peer (a complete frame, a pong among them, or 4 KiB of payload)
	// within Options.KeepaliveTimeout.
	ErrKeepalive = errors.New("conn: keepalive timeout: no sign of life from the peer")

	// ErrBufferFull is returned by writes that would take BufferedAmount
	// past Options.MaxBufferedAmount under the BackpressureError and
	// BackpressureClose policies.
	ErrBufferFull = errors.New("conn: write buffer full")
)

// A localCloseError reports that this endpoint closed the connection: it
// sent the first Close frame, with code and reason. It matches
// net.ErrClosed, and the peer's answering Close frame, if one came, as a
// *CloseError.
type localCloseError struct {
	code   CloseCode
	reason string
	answer *CloseError
}

func (e *localCloseError) Error() string {
	s := "conn: this endpoint closed the connection with code " + e.code.String()
	if e.reason != "" {
		s += ": " + strconv.Quote(e.reason)
	}
	return s
}

func (e *localCloseError) Unwrap() []error {
	if e.answer == nil {
		return []error{net.ErrClosed}
	}
	return []error{net.ErrClosed, e.answer}
}

var errClosed = fmt.Errorf("conn: connection closed: %w", net.ErrClosed)

// A closedError reports the use of a connection that ended because of
// cause. It matches net.ErrClosed and cause.
type closedError struct{ cause error }

func (e *closedError) Error() string {
	return "conn: connection closed: " + strings.TrimPrefix(e.cause.Error(), "conn: ")
}

func (e *closedError) Unwrap() []error { return []error{net.ErrClosed, e.cause} }

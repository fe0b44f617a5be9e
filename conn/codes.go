package conn

import "github.com/rfc6455/websocket/frame"

// A CloseCode is the status code of a Close frame
// ([RFC 6455, Section 7.4]): the code [Conn.Close] sends and a
// [CloseError] carries. Codes 3000-3999 are registered by libraries and
// frameworks and 4000-4999 are for private use, so an application may
// close with CloseCode(4000) and up. It is the type package frame defines.
//
// [RFC 6455, Section 7.4]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4
type CloseCode = frame.CloseCode

// The close codes of the IANA WebSocket Close Code Number Registry
// ([RFC 6455, Section 7.4.1] and Section 11.7), with the registry's names.
//
// CloseNoStatusReceived and CloseAbnormalClosure are never sent: a
// [CloseError] carries them to say "the Close frame had no code" and "the
// connection ended without a Close frame". The registry's 1015 (TLS
// handshake failure) is never seen by a Conn.
//
// [RFC 6455, Section 7.4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
const (
	CloseNormalClosure           CloseCode = 1000 // the purpose of the connection is fulfilled
	CloseGoingAway               CloseCode = 1001 // a server going down, a browser leaving a page
	CloseProtocolError           CloseCode = 1002 // the peer broke RFC 6455
	CloseUnsupportedData         CloseCode = 1003 // a message of a type the endpoint cannot take
	CloseNoStatusReceived        CloseCode = 1005 // the Close frame had no code
	CloseAbnormalClosure         CloseCode = 1006 // the connection ended without a Close frame
	CloseInvalidFramePayloadData CloseCode = 1007 // a message not consistent with its type, such as invalid UTF-8 text
	ClosePolicyViolation         CloseCode = 1008 // a message that violates the endpoint's policy
	CloseMessageTooBig           CloseCode = 1009 // a message too big to process
	CloseMandatoryExtension      CloseCode = 1010 // the client needed an extension the server did not agree to
	CloseInternalServerErr       CloseCode = 1011 // the server met an unexpected condition
	CloseServiceRestart          CloseCode = 1012 // the server is restarting
	CloseTryAgainLater           CloseCode = 1013 // the server is overloaded: try again later
	CloseBadGateway              CloseCode = 1014 // a gateway got an invalid response upstream
)

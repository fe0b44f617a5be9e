// Package frame reads and writes the WebSocket framing of RFC 6455,
// Section 5, on byte slices.
//
// The package does no I/O and holds no buffers, so nothing it returns is
// "valid until the next call": [ParseHeader] and [AppendHeader] work on caller-owned
// slices, and a [Decoder] is a push decoder that is fed whatever bytes
// arrived, in pieces of any size, and hands back frame headers and unmasked
// payload chunks that alias the bytes it was fed. A user with an event loop
// of their own can drive the protocol with it.
//
// # Concurrency
//
// The functions are safe for concurrent use. A [Decoder] is not; it belongs
// to the one goroutine that reads a connection.
//
// # Errors
//
// Every violation of RFC 6455 by the peer is reported as a *[ProtocolError]
// carrying the close code to send before failing the connection
// ([RFC 6455, Section 7.1.7]). A header that is not complete yet is
// reported as [io.ErrUnexpectedEOF] by [ParseHeader]; the [Decoder] simply
// waits for more bytes.
//
// [RFC 6455, Section 7.1.7]: https://www.rfc-editor.org/rfc/rfc6455#section-7.1.7
package frame

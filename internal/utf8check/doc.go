// Package utf8check validates UTF-8 incrementally and fails fast, for the
// text messages of RFC 6455.
//
// The payload of a text message is "text data encoded as UTF-8"
// ([RFC 6455, Section 5.6]), and an endpoint that finds it is not "MUST
// _Fail the WebSocket Connection_" ([RFC 6455, Section 8.1]). A message
// arrives in frames, and a frame in reads of any size, so a [Validator] is
// fed the payload in pieces: a character may be cut anywhere, and the
// verdict must come at the first byte that no continuation could make
// valid, not at the end of the message. [Valid] checks a whole slice, such
// as the reason in a Close frame.
//
// Validity is that of RFC 3629, the same as [unicode/utf8.Valid]: no
// overlong forms, no surrogates (U+D800 to U+DFFF), nothing above U+10FFFF.
//
// The validator is a table-driven automaton with a word-at-a-time skip over
// ASCII. It is written in pure Go, and it neither allocates nor retains the
// bytes it is given.
//
// # Concurrency
//
// [Valid] is safe for concurrent use. A [Validator] is not; it belongs to
// the goroutine that reads the message.
//
// # Errors
//
// Invalid input is not an error value here: [Validator.Write] returns the
// index of the first bad byte and false, and the caller turns that into
// its own error (the connection layer fails the connection with close code
// 1007, as [RFC 6455, Section 7.4.1] names it).
//
// [RFC 6455, Section 5.6]: https://www.rfc-editor.org/rfc/rfc6455#section-5.6
// [RFC 6455, Section 7.4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
// [RFC 6455, Section 8.1]: https://www.rfc-editor.org/rfc/rfc6455#section-8.1
package utf8check

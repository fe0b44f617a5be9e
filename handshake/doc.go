// Package handshake implements the opening handshake of RFC 6455,
// Section 4: computing and checking Sec-WebSocket-Accept, validating a
// client's request, building the server's 101 response, building the
// client's request and validating the server's response, subprotocol
// selection and the Sec-WebSocket-Extensions grammar of Section 9.1.
//
// It works on *http.Request, *http.Response and plain strings, never on
// sockets, so the server package's raw fast path can validate a request it
// parsed itself without building an *http.Request.
//
// # Errors
//
// Request validation returns a *[Error] whose Status is the HTTP answer a
// server gives: 400 Bad Request for a malformed request, 405 Method Not
// Allowed for a method other than GET, 426 Upgrade Required for a version
// other than 13 (the response must carry "Sec-WebSocket-Version: 13";
// the error matches [ErrBadVersion]), and 403 Forbidden for a rejected
// origin (matching [ErrOrigin]). Response validation returns errors that
// say what was wrong with the server's answer.
package handshake

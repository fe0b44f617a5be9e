// Package server upgrades HTTP requests to WebSocket connections
// ([RFC 6455, Section 4.2]): from a net/http handler with [Upgrade], or
// straight from a net.Conn with [UpgradeConn] for programs that run their
// own accept loop. [Handler] runs a function per connection and shuts all
// of them down gracefully with Close frames, which http.Server.Shutdown
// does not do for hijacked connections.
//
// Cross-origin browser requests are refused with 403 unless their origin
// is allowed in Options.OriginPatterns (the defence against cross-site
// WebSocket hijacking of [RFC 6455, Section 10.2]).
//
// # Concurrency
//
// Upgrade and UpgradeConn may be called from any number of goroutines. A
// Handler's Shutdown may be called while it serves.
//
// # Errors
//
// A rejected handshake is answered with the right HTTP status (400, 403,
// 405, 426 with "Sec-WebSocket-Version: 13", 431 for oversized headers)
// and reported as a *handshake.Error carrying that status.
//
// [RFC 6455, Section 4.2]: https://www.rfc-editor.org/rfc/rfc6455#section-4.2
// [RFC 6455, Section 10.2]: https://www.rfc-editor.org/rfc/rfc6455#section-10.2
package server

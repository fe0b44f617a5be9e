// Package server upgrades HTTP requests to WebSocket connections
// ([RFC 6455, Section 4.2]): from a net/http handler with [Upgrade], or
// straight from a net.Conn with [UpgradeConn] for programs that run their
// own accept loop. [Handler] runs a function per connection and shuts all
// of them down gracefully with Close frames, which http.Server.Shutdown
// does not do for hijacked connections.
//
// A server that accepts compression (browsers offer it on every
// connection), speaks a subprotocol, pings idle clients and closes with a
// code needs this package and package conn:
//
//	h := &server.Handler{
//		Options: &server.Options{
//			Subprotocols: []string{"chat.v1"},
//			Compression:  &conn.Compression{},
//			Conn:         conn.Options{KeepaliveInterval: 30 * time.Second},
//		},
//		Serve: func(c *conn.Conn, r *http.Request) {
//			typ, msg, err := c.Read(r.Context(), nil)
//			...
//			c.Close(conn.CloseNormalClosure, "done")
//		},
//		OnUpgradeError: func(r *http.Request, err error) { log.Print(err) },
//	}
//	http.Handle("/ws", h)
//
// Options holds what the server offers and accepts; Options.Conn, a
// conn.Options, holds how each connection reads, writes and waits: the
// read limit, the keepalive interval, the close timeout, backpressure and
// the compression level. What the handshake agreed is read back from the
// Conn (Conn.Subprotocol, Conn.Extensions).
//
// Cross-origin browser requests are refused with 403 unless their origin
// is allowed in Options.OriginPatterns (the defence against cross-site
// WebSocket hijacking of [RFC 6455, Section 10.2]).
//
// Upgrade also accepts WebSockets over HTTP/2 ([RFC 8441]): browsers open
// them as streams of the page's connection when the server allows
// extended CONNECT, which net/http in Go 1.26 does only when the process
// starts with GODEBUG=http2xconnect=1. The handler must then not return
// while the Conn is in use. See the README for what else differs.
//
// An http.Server in front of Upgrade should set ReadHeaderTimeout, as
// every server facing the internet should: its zero value lets a client
// hold a connection by sending its request slowly.
//
// # Concurrency
//
// Upgrade and UpgradeConn may be called from any number of goroutines. A
// Handler's Shutdown may be called while it serves.
//
// # Errors
//
// A rejected handshake is answered with the right HTTP status (400, 403,
// 405, 426 with "Sec-WebSocket-Version: 13", 431 for oversized headers,
// and on the raw path 505 for a request line of another HTTP version)
// and reported as a *handshake.Error carrying that status. Options out of
// their range fail every upgrade with 500 and an error naming the field.
//
// [RFC 6455, Section 4.2]: https://www.rfc-editor.org/rfc/rfc6455#section-4.2
// [RFC 6455, Section 10.2]: https://www.rfc-editor.org/rfc/rfc6455#section-10.2
// [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
package server

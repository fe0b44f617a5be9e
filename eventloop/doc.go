// Package eventloop serves many WebSocket connections with a few
// goroutines: on Linux, a handful of event loops wait on all the sockets
// at once (epoll), read what has arrived, and hand each message to one
// function. An idle connection holds no goroutine and no read buffer,
// only its *conn.Conn, so a server can keep far more connections open
// than one goroutine per connection allows.
//
// The connections are the same *conn.Conn that package server makes,
// with the same protocol rules, limits, close handshake, compression,
// keepalive and hooks (conn.Options.OnOpen and OnClose); only who waits
// for the network changes:
//
//	s := &eventloop.Server{
//		Options: &server.Options{Compression: &conn.Compression{}},
//		OnMessage: func(c *conn.Conn, typ conn.MessageType, data []byte) {
//			c.Write(context.Background(), typ, data) // echo
//		},
//	}
//	http.Handle("/ws", s) // or: s.Serve(listener), without net/http
//
// Connections reach the loops three ways: [Server.Serve] accepts from a
// net.Listener and performs the opening handshake itself, as
// server.UpgradeConn does; [Server.ServeHTTP] upgrades a request from
// net/http, so the server sits behind any router; and [Server.ServeConn]
// takes a Conn the application upgraded itself. A Conn over anything but
// a TCP or Unix socket (TLS, an HTTP/2 stream), and every Conn on systems
// other than Linux, is read by a goroutine of its own instead, with the
// same calls of OnMessage: the API is the same everywhere.
//
// # Reading
//
// The Server reads every connection it serves; the application must not
// call Read or Reader on them. OnMessage runs on the connection's loop,
// one message at a time per connection, with data valid only until it
// returns. While it runs, the other connections of the loop wait, so it
// should not block: it may write, and should hand slow work to a
// goroutine. A message that arrives in pieces is kept by its Conn between
// reads, within Options.Conn.ReadLimit.
//
// # Writing
//
// Writes may come from OnMessage or from any goroutine, to any
// connection, and never wait for a peer: what the socket does not take at
// once is queued and written when the socket becomes writable, and counts
// in Conn.BufferedAmount (and so under Options.Conn.MaxBufferedAmount,
// whose BackpressureError and BackpressureClose policies apply as for any
// Conn). Replies to a batch of messages that arrived together go out in
// one write. A write is queued whole while less than 1 MiB (or
// MaxBufferedAmount, if larger) waits; a write that finds more waiting
// fails and ends the connection, since its peer is not reading. Memory
// per connection is so bounded by the queue and one write. A program that
// pushes more than that to slow peers watches BufferedAmount, or sets
// MaxBufferedAmount with BackpressureError and tries again later.
//
// A write from OnMessage still waits for a message another goroutine is
// writing to the same connection through Conn.Writer to end.
//
// # Closing
//
// Close and the close handshake follow RFC 6455, Section 7, as for any
// Conn; Conn.Close returns once its Close frame is written, and the loop
// completes the handshake (or CloseTimeout ends it). The end of every
// connection is reported by conn.Options.OnClose. [Server.Shutdown]
// sends 1001 Going Away to every connection and waits for them;
// [Server.Close] closes them at once. Neither may be called from
// OnMessage or a hook running on a loop, since both wait for the loops
// to end. A connection closed with writes still queued keeps its socket
// open up to 5 seconds more to send them, its Close frame last.
//
// Keepalive (conn.Options.KeepaliveInterval) runs on the loops' ticks, a
// quarter of the shortest interval apart, not on a timer per connection.
package eventloop

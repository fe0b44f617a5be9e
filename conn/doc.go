// Package conn implements the WebSocket connection that both roles share
// once the opening handshake is done: messages, fragmentation, control
// frames, the closing handshake, UTF-8 validation, limits, cancellation,
// compression and keepalive ([RFC 6455, Sections 5-8]).
//
// A program gets a [Conn] from server.Upgrade, server.UpgradeConn or
// client.Dial, configured by an [Options] value in their options (the
// field Conn of server.Options and client.Options). It knows nothing about
// HTTP: what the opening handshake agreed reaches it as a [Handshake],
// which those packages fill in, and a program that performs the handshake
// itself passes one to [New].
//
// An everyday server reads and writes messages, and closes with a code:
//
//	for {
//		typ, msg, err := c.Read(ctx, buf[:0])
//		if err != nil {
//			return // a *CloseError when the peer closed; see Errors
//		}
//		if err := c.Write(ctx, typ, msg); err != nil {
//			return
//		}
//		buf = msg
//	}
//	...
//	c.Close(conn.CloseGoingAway, "restarting")
//
// # Reading
//
// [Conn.Read] returns the next whole message, appended to a buffer the
// caller may reuse, and [Conn.Reader] streams one. While reading, a Conn
// answers pings with pongs, skips unsolicited pongs, reports the peer's
// Close frame as a *[CloseError] after completing the closing handshake,
// and fails the connection with the right close code on any protocol
// violation. A read whose context ends returns the context's error and
// leaves the Conn usable: the next read continues exactly where it stopped,
// even in the middle of a frame.
//
// Pongs (for [Conn.Ping] and keepalive) and the peer's Close frame are
// only seen while some goroutine reads, so an application that only
// writes should still run a read loop.
//
// The peer may send messages until it answers [Conn.Close]. If no read
// is in progress, Close reads them itself and keeps them (up to 1 MiB, or
// Options.ReadLimit bytes if less), so later reads still return the
// messages the peer sent before its Close frame, then the close error.
//
// A Conn handed to package eventloop is read by its event loop, which
// passes each message to a function: Read and Reader then return an
// error saying so, and Close returns once its Close frame is written,
// leaving the rest of the closing handshake to the loop.
//
// # Writing, and replies gathered into one write
//
// [Conn.Write] sends a message in one frame and [Conn.Writer] streams one
// in frames of Options.WriteBufferSize bytes. A Conn holds no write buffer
// of its own between messages.
//
// A peer that pipelines (sends several messages without waiting for the
// replies) would cost the loop above one system call per reply. Instead,
// while the message Read returned is followed by another whole frame
// already in the read buffer, small writes (up to 4 KiB of payload, from
// any goroutine) are gathered and go out together, in order: with the
// first write made once the reader holds no whole frame (usually the
// reply to the last message of the batch), before the reader waits for
// the network or anything else is written, when 32 KiB are gathered, and
// at the latest 1 ms after the first, should the application stop reading
// in the middle of a batch. A Write that was gathered returns nil at once;
// its bytes count in [Conn.BufferedAmount] until they are written, and if
// writing them fails the connection is closed and later calls return that
// error. A message that arrives alone is never gathered, so this adds no
// latency to a request and its reply.
//
// # Compression
//
// When the opening handshake agreed on permessage-deflate ([RFC 7692]),
// which browsers offer on every connection and server.Options.Compression
// accepts, frames with RSV1 are decompressed as they are read, the read
// limit applying to the decompressed size, and messages of at least
// Options.CompressionThreshold bytes are compressed as they are written.
// The compressor and decompressor state is pooled across connections and
// borrowed only for the length of a message; between messages a
// connection holds only its history window for each direction that uses
// context takeover, 2^bits bytes. Every window size from 8 to 15 bits is
// honoured. A [PreparedMessage] broadcast with [Conn.WritePrepared] is
// compressed once for all the connections that compress it the same way.
//
// # Streams
//
// [NetConn] adapts a Conn to a [net.Conn], carrying a byte stream in
// messages, with deadlines that do not break the connection.
//
// # In the browser
//
// Built for GOOS=js GOARCH=wasm, a Conn is the browser's WebSocket object,
// which client.Dial opens, with the same methods: the browser does the
// framing, compression, answers to pings and the closing handshake.
// Incoming messages are queued as the browser delivers them, within
// Options.ReadLimit and a queue bound; Ping is not available, Close takes
// only the codes a browser may send (1000, 3000-4999), and [New] returns
// an error. The Conn documentation of that build lists the differences.
//
// # Metrics
//
// [Conn.Stats] returns a connection's counters (messages, payload and
// wire bytes each way, compressed messages, pings, pongs, the last
// round-trip time) from any goroutine, at any time, without blocking.
// Options.OnOpen and Options.OnClose, set once in the options of a server
// or client, run for every connection as it opens and, exactly once, as
// it closes, with its close code: enough for a gauge of open connections
// and a count of closes per code.
//
// # Concurrency
//
// One goroutine may read while any number of goroutines write. A second
// concurrent reader waits for the first. Writes of whole messages and
// streamed messages never interleave their frames; control frames (pong,
// ping, close) go out between the fragments of a message being streamed.
// All methods are safe to call concurrently, and none panics on misuse.
//
// # Errors
//
//   - A Close frame from the peer: *[CloseError] with its code and reason.
//     A connection that ended without one: *[CloseError] with code
//     [CloseAbnormalClosure].
//   - A connection this endpoint closed with [Conn.Close]: an error
//     matching [net.ErrClosed] that says so, and matches the peer's answer
//     as a *[CloseError].
//   - A protocol violation by the peer: *[ProtocolError] carrying the close
//     code the violation calls for (1002, 1007, 1008 or 1009), which is
//     the code sent unless this endpoint had sent its Close frame already;
//     it wraps [ErrReadLimit] when a message was too big.
//   - A context that ended: an error matching the context's error
//     ([context.DeadlineExceeded] or [context.Canceled]).
//   - Use after close: an error matching [net.ErrClosed].
//   - Options out of range: an error from [New] and [Options.Validate]
//     naming the field.
//
// [RFC 6455, Sections 5-8]: https://www.rfc-editor.org/rfc/rfc6455#section-5
// [RFC 7692]: https://www.rfc-editor.org/rfc/rfc7692
package conn

// Package reconnect keeps a WebSocket client connected across failures: a
// [Conn] dials with [client.Dial], and when the connection ends abnormally
// or a dial fails for a reason that may pass (the server restarting, a
// network outage, 503 or 429 answers), it dials again after a randomized,
// exponentially growing delay, until it succeeds, the failure is one that
// retrying cannot fix, [Options.MaxAttempts] dials in a row have failed,
// [Options.MaxDowntime] has passed without a connection, or [Conn.Close]
// is called.
//
// A program reads and writes as it would on a [conn.Conn]:
//
//	c, err := reconnect.Dial(ctx, "wss://example.com/feed", &reconnect.Options{
//		OnConnect: func(c *conn.Conn, _ *http.Response) {
//			c.Write(ctx, conn.Text, []byte(`{"subscribe":"prices"}`))
//		},
//	})
//	if err != nil {
//		return err
//	}
//	defer c.CloseNow()
//	for {
//		typ, msg, err := c.Read(ctx, nil) // waits across reconnections
//		if err != nil {
//			return err // the server said goodbye for good, or c gave up
//		}
//		fmt.Println(typ, string(msg))
//	}
//
// # Delivery
//
// Each connection is a new WebSocket session: the server does not know it
// is the same client, and nothing is resent or deduplicated. Messages are
// delivered at most once. A message is received whole or not at all, but
// messages in flight when a connection drops are lost: those the server
// sent that had not yet arrived, and those a Write had handed to a
// connection that was already broken. An application that needs every
// message must number them and ask for what it missed, in OnConnect for
// instance, which runs on each new connection before anything else is read
// or written on it.
//
// Only writes made while no connection is open can be queued
// ([Options.QueueMessages], [Options.QueueBytes]); they are sent in order
// on the next connection, after OnConnect and before any later write.
//
// # Noticing a lost connection
//
// As with a [conn.Conn], the end of a connection is seen by the goroutine
// that reads: a Conn starts reconnecting when a [Conn.Read] fails, so a
// program that only writes must still keep a Read going. Keepalive
// ([conn.Options.KeepaliveInterval], in the Conn field of
// [client.Options]) notices a peer that vanished without closing.
//
// # Concurrency
//
// One goroutine may read while any number of goroutines write, as with a
// [conn.Conn]. All methods are safe for concurrent use. While a connection
// is down, a Conn holds one goroutine, which waits and dials; Close ends
// it and waits for it (see [Conn.Close] for the one exception, a Close
// called while a callback is running).
//
// # Errors
//
//   - A connection that ended for good, or a dial that failed in a way that
//     retrying cannot fix: the error that said so, as [conn.Conn] or
//     [client.Dial] returned it (a *conn.CloseError with code 1000, a
//     *client.HandshakeError with status 403, ...).
//   - A Conn that gave up after [Options.MaxAttempts] failed dials or
//     [Options.MaxDowntime] without a connection: an
//     error matching [ErrGaveUp] that also wraps the last failure.
//   - A Write while no connection is open: [ErrNotConnected] without a
//     queue, [ErrQueueFull] when the queue is full.
//   - A Conn closed with [Conn.Close] or [Conn.CloseNow]: an error matching
//     net.ErrClosed.
//   - A context that ended: an error matching the context's error; the Conn
//     stays usable.
package reconnect

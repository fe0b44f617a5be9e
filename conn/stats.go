package conn

import (
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// Stats are the counters of a [Conn], from the end of the opening
// handshake on. [Conn.Stats] returns them.
//
// Messages and their bytes count data messages only, as the application
// sees them: payload after decompression, without frame headers. Wire
// bytes count every frame, control frames included, as it travels:
// headers, masking and compression included. A message cut by an error or
// a closed connection counts in neither message count, though the payload
// and wire bytes of it that went through do.
type Stats struct {
	// MessagesRead is the number of data messages received in full,
	// including those a later read discarded unread, and those
	// [Conn.Close] read while waiting for the peer's Close frame, whether
	// it kept them for later reads or discarded them past its bound.
	// BytesRead is their payload after decompression, counted as it
	// arrives.
	MessagesRead int64
	BytesRead    int64

	// MessagesWritten is the number of data messages whose last frame was
	// written. BytesWritten is their payload before compression, counted
	// as each frame is written in full.
	MessagesWritten int64
	BytesWritten    int64

	// WireBytesRead and WireBytesWritten are the bytes read from and
	// written to the network connection: frames with their headers, of
	// data and control frames alike, including the bytes that the opening
	// handshake had read past its end, and any frame written in part.
	// Over an HTTP/2 stream they count the stream's data, without HTTP/2's
	// own framing.
	WireBytesRead    int64
	WireBytesWritten int64

	// CompressedRead and CompressedWritten are the numbers of data
	// messages, among MessagesRead and MessagesWritten, that were
	// compressed with permessage-deflate.
	CompressedRead    int64
	CompressedWritten int64

	// PingsSent counts Ping frames written: by [Conn.Ping] and by
	// keepalive. PingsReceived and PongsReceived count the Ping and Pong
	// frames the peer sent, solicited or not, up to the peer's Close frame.
	PingsSent     int64
	PingsReceived int64
	PongsReceived int64

	// RTT is the last round-trip time measured, from a Ping frame sent to
	// the Pong frame answering it: that of the last [Conn.Ping] to
	// succeed, or of the last keepalive ping answered, whichever came
	// later. It is zero until one is measured.
	RTT time.Duration
}

// Stats returns the connection's counters. It never blocks, does not
// allocate, and may be called from any goroutine at any time, also while
// other goroutines read and write and after the connection has closed.
// Each counter is read atomically, but the set is not a snapshot: a
// message that is being written may already count in WireBytesWritten and
// not yet in MessagesWritten.
func (c *Conn) Stats() Stats {
	s := &c.stats
	return Stats{
		MessagesRead:      s.messagesRead.load(),
		BytesRead:         s.bytesRead.load(),
		MessagesWritten:   s.messagesWritten.load(),
		BytesWritten:      s.bytesWritten.load(),
		WireBytesRead:     s.wireRead.load(),
		WireBytesWritten:  s.wireWritten.load(),
		CompressedRead:    s.compressedRead.load(),
		CompressedWritten: s.compressedWritten.load(),
		PingsSent:         s.pingsSent.load(),
		PingsReceived:     s.pingsReceived.load(),
		PongsReceived:     s.pongsReceived.load(),
		RTT:               time.Duration(s.rtt.Load()),
	}
}

// connStats holds the counters of a Conn. Each counter has one writer at
// a time, which the Conn's locks ensure, so it is updated by an atomic
// load and store rather than an atomic add: the read counters under
// rlock, the message counters of writing under wmsg, and the frame
// counters of writing under wframe. Only rtt has several writers.
type connStats struct {
	messagesRead   counter // under rlock
	bytesRead      counter
	wireRead       counter
	compressedRead counter
	pingsReceived  counter
	pongsReceived  counter

	messagesWritten   counter // under wmsg
	bytesWritten      counter
	compressedWritten counter

	wireWritten counter // under wframe
	pingsSent   counter

	rtt atomic.Int64 // nanoseconds; stored by Ping and the reader

	// keepaliveSent is when the keepalive ping awaiting its pong was
	// written, in unix nanoseconds, or zero. Written under wframe and by
	// the reader.
	keepaliveSent atomic.Int64
}

// A counter is a statistic with one writer at a time and any number of
// readers.
type counter struct{ n atomic.Int64 }

func (c *counter) add(n int64) { c.n.Store(c.n.Load() + n) }

func (c *counter) load() int64 { return c.n.Load() }

// countMessageWritten counts a data message whose last frame was written.
// The caller holds wmsg.
func (s *connStats) countMessageWritten(compressed bool) {
	s.messagesWritten.add(1)
	if compressed {
		s.compressedWritten.add(1)
	}
}

// countFrameWritten counts n bytes of a frame with opcode op written to
// the network, and a ping if the frame was written in full. The caller
// holds wframe.
func (c *Conn) countFrameWritten(op frame.Opcode, n int, err error) {
	c.stats.wireWritten.add(int64(n))
	if op == frame.OpPing && err == nil {
		c.stats.pingsSent.add(1)
	}
}

// countMessageRead counts a data message received in full. The caller
// holds rlock.
func (s *connStats) countMessageRead(compressed bool) {
	s.messagesRead.add(1)
	if compressed {
		s.compressedRead.add(1)
	}
}

// countPong counts a Pong frame from the peer and, if it answers the
// keepalive ping awaiting its pong (which has no payload), measures the
// round trip. The caller holds rlock.
func (c *Conn) countPong(payload []byte) {
	c.stats.pongsReceived.add(1)
	if len(payload) == 0 {
		if sent := c.stats.keepaliveSent.Swap(0); sent != 0 {
			c.stats.rtt.Store(time.Now().UnixNano() - sent)
		}
	}
}

package conn

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/rfc6455/websocket/internal/deflate"
)

// A PreparedMessage is a message to be sent to many connections, as a
// server broadcasting an update does. With permessage-deflate and no
// context takeover on the writing side, each message is compressed on its
// own ([RFC 7692, Section 7.1.1]), so the compressed payload is the same
// for every connection that compresses at the same level and window size:
// a PreparedMessage compresses it once for each such setting and
// [Conn.WritePrepared] sends the stored result.
//
// Where the payload depends on the connection it is made per write, as
// [Conn.Write] makes it: with context takeover the compressed form refers
// to that connection's earlier messages. Uncompressed messages cost the
// same either way, since a Conn never copies a large payload to frame it.
//
// A PreparedMessage is safe for concurrent use by any number of
// connections.
//
// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu         sync.Mutex
	compressed []preparedPayload // one per setting asked for so far
}

// A preparedPayload is the compressed form of a PreparedMessage for one
// compression setting.
type preparedPayload struct {
	level, windowBits int
	payload           []byte
}

// NewPreparedMessage returns a PreparedMessage of type typ (Text or
// Binary) holding a copy of data. As with [Conn.Write], the UTF-8 of a
// Text message is the caller's responsibility.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if typ != Text && typ != Binary {
		return nil, fmt.Errorf("conn: invalid message type %d", typ)
	}
	return &PreparedMessage{typ: typ, data: slices.Clone(data)}, nil
}

// compressedFor returns pm's payload compressed on its own at level with a
// window of 2^windowBits bytes, compressing it on first use.
func (pm *PreparedMessage) compressedFor(level, windowBits int) []byte {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	for _, p := range pm.compressed {
		if p.level == level && p.windowBits == windowBits {
			return p.payload
		}
	}
	// Compressed while holding mu: connections waiting for the same
	// setting would otherwise each compress it too.
	out := deflate.NewCompressor(level, windowBits, false).Compress(nil, pm.data)
	pm.compressed = append(pm.compressed, preparedPayload{level, windowBits, out})
	return out
}

// WritePrepared sends pm as one message, in a single frame, with the same
// semantics as [Conn.Write]: cancellation, backpressure (counting pm's
// uncompressed length) and errors are Write's. The message is compressed
// if Write would compress it; when the Conn compresses without context
// takeover the compressed payload is shared with every other Conn using
// the same level and window size, and otherwise it is made afresh.
func (c *Conn) WritePrepared(ctx context.Context, pm *PreparedMessage) error {
	return c.writeMessage(ctx, pm.typ, pm.data, pm)
}

package conn

import (
	"fmt"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/optcheck"
)

// Defaults for the zero values of [Options].
const (
	DefaultReadLimit    = 32 << 20
	DefaultCloseTimeout = 5 * time.Second
)

// A MessageType is the type of a data message
// ([RFC 6455, Section 5.6]). Its values are the opcodes of the first frame.
//
// [RFC 6455, Section 5.6]: https://www.rfc-editor.org/rfc/rfc6455#section-5.6
type MessageType uint8

// The two message types.
const (
	Text   = MessageType(frame.OpText)
	Binary = MessageType(frame.OpBinary)
)

// String returns "text" or "binary".
func (t MessageType) String() string { return frame.Opcode(t).String() }

// A State is where a connection stands, with the values of the readyState
// attribute of the WHATWG WebSocket interface.
type State int32

// The states of a connection.
const (
	Connecting State = iota // opening handshake under way (never a Conn's state)
	Open                    // messages may be sent and received
	Closing                 // a Close frame was sent or received
	Closed                  // the TCP connection is closed
)

var stateNames = [...]string{"connecting", "open", "closing", "closed"}

// String returns the state's name in lower case.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown state"
}

// A Backpressure policy says what a write does when it would take
// [Conn.BufferedAmount] past Options.MaxBufferedAmount.
type Backpressure uint8

// The backpressure policies.
const (
	BackpressureBlock Backpressure = iota // wait for the writes before it, under the write's context
	BackpressureError                     // return ErrBufferFull; the Conn stays usable
	BackpressureClose                     // abort the connection; the write returns ErrBufferFull
)

// Options configure a [Conn]: how it reads, writes, waits and
// compresses. They hold only what this endpoint wants; what the opening
// handshake agreed with the peer (the subprotocol, the extensions, the
// compression parameters) reaches the Conn through a [Handshake], which
// the server and client packages fill in. The zero value is ready to use
// and safe. [Options.Validate] reports a field out of its range; New,
// server.Upgrade and client.Dial call it.
type Options struct {
	// ReadLimit is the largest message, in bytes, that a read accepts
	// (after decompression). A longer message fails the connection with
	// close code 1009 as soon as its frame headers tell it is too long,
	// before its payload is buffered. Zero means DefaultReadLimit
	// (32 MiB); a negative value means no limit.
	ReadLimit int64

	// MaxFragments is the largest number of frames a message may have.
	// More fail the connection with close code 1008. Zero means 131,072;
	// negative means no limit.
	MaxFragments int

	// CloseTimeout bounds each wait of the closing handshake: for the
	// peer's Close frame and for the TCP connection to end. Zero means
	// DefaultCloseTimeout (5 s).
	CloseTimeout time.Duration

	// ReadBufferSize and WriteBufferSize are the sizes of the buffers a
	// Conn reads and writes frames through, 4096 bytes each if zero.
	// WriteBufferSize is also the frame size of streamed messages. With
	// the default read size, a Conn over a *net.TCPConn or *net.UnixConn
	// on a Unix system waits for the socket to be readable without a
	// buffer and borrows one of 16 KiB from a pool only to read what
	// arrived, so an idle connection holds none.
	ReadBufferSize  int
	WriteBufferSize int

	// KeepaliveInterval, if positive, turns on keepalive: a ping is sent
	// whenever the peer has shown no sign of life for this long, and the
	// connection fails with ErrKeepalive when it has shown none, not even
	// a pong, for KeepaliveTimeout (zero means twice the interval; it may
	// not be shorter than the interval). A sign of life is a complete
	// frame, or 4 KiB of a frame's payload: a peer that trickles a few
	// bytes per interval inside a frame fails. Keepalive uses a timer, not
	// a goroutine, and needs a reader to see the pongs.
	KeepaliveInterval time.Duration
	KeepaliveTimeout  time.Duration

	// WriteTimeout, if positive, bounds each write of a frame to the
	// network, whatever the write's context says: a frame not written
	// within it means the peer has stopped reading, and fails the
	// connection with an error matching os.ErrDeadlineExceeded. Zero means
	// no bound: a write to a peer that stops reading waits for as long as
	// its context lets it.
	WriteTimeout time.Duration

	// MaxBufferedAmount, if positive, bounds BufferedAmount: the bytes
	// accepted by writes and not yet written. BufferedAmount never passes
	// it, except by one write larger than the bound, which is taken only
	// when nothing else is buffered. OnBackpressure says what a write that
	// would pass the bound does: wait, under its context, until the writes
	// before it are written (so that one message at a time is buffered),
	// fail with ErrBufferFull, or close the connection.
	MaxBufferedAmount int64
	OnBackpressure    Backpressure

	// CompressionLevel is the effort spent compressing when
	// permessage-deflate is in use, from 1 (fastest) to 9 (smallest
	// output); zero means a default that favours speed.
	CompressionLevel int

	// CompressionThreshold is the size below which messages are sent
	// uncompressed when permessage-deflate is in use. Zero means 128
	// bytes with context takeover and 512 without, where short messages
	// rarely shrink; negative means every message is compressed.
	CompressionThreshold int

	// OnOpen, if not nil, is called once for every Conn these options
	// configure, by New just before it returns the Conn: after a server
	// has written its handshake response, or a client has read it. It
	// may use the Conn as the caller of New would, to write a first
	// message, say; New returns when it does. Set in server.Options.Conn
	// or client.Options.Conn, it applies to every connection.
	//
	// OnClose, if not nil, is called exactly once for every Conn that
	// OnOpen was called for (even if OnOpen is nil), when the connection
	// has reached Closed and its network connection is closed. It runs on
	// the goroutine that closed it (a reader, a writer, Close, CloseNow,
	// or a timer of the Conn), holding none of the Conn's locks but the
	// read lock when a reader closed it, and a Read waiting for that lock
	// gives up once the connection is closed; so it may call any method of
	// the Conn: [Conn.Stats] for the final counts, while reads and writes
	// return an error at once (or, for reads, a message that [Conn.Close]
	// kept). It should not block, as that goroutine waits for it.
	//
	// code is the connection's close code as [RFC 6455, Section 7.1.5]
	// defines it: the code of the Close frame received from the peer,
	// whether it closed first or answered this endpoint's Close;
	// CloseNoStatusReceived (1005) if that frame had no code; and
	// CloseAbnormalClosure (1006) if none was received, because the
	// network connection broke, the peer did not answer within
	// CloseTimeout, CloseNow was called or keepalive timed out. The
	// exception is a connection this endpoint failed for a violation by
	// the peer: code is the one sent for it (1002, 1007, 1008 or 1009),
	// which is what a count of closes per code is for. err is what writes
	// return from then on: it
	// matches [net.ErrClosed], and the cause where there is one, such as
	// the peer's *[CloseError] (code 1006 for a broken connection), a
	// *[ProtocolError], [ErrKeepalive] or a network error.
	//
	// [RFC 6455, Section 7.1.5]: https://www.rfc-editor.org/rfc/rfc6455#section-7.1.5
	OnOpen  func(c *Conn)
	OnClose func(c *Conn, code CloseCode, err error)
}

// Validate reports whether every field of o is within its range. The
// error names the first field that is not.
func (o *Options) Validate() error {
	switch {
	case o.CloseTimeout < 0:
		return optionError("CloseTimeout", o.CloseTimeout, "it may not be negative")
	case o.ReadBufferSize < 0:
		return optionError("ReadBufferSize", o.ReadBufferSize, "it may not be negative")
	case o.WriteBufferSize < 0:
		return optionError("WriteBufferSize", o.WriteBufferSize, "it may not be negative")
	case o.KeepaliveInterval < 0:
		return optionError("KeepaliveInterval", o.KeepaliveInterval, "it may not be negative")
	case o.KeepaliveTimeout < 0:
		return optionError("KeepaliveTimeout", o.KeepaliveTimeout, "it may not be negative")
	case o.WriteTimeout < 0:
		return optionError("WriteTimeout", o.WriteTimeout, "it may not be negative")
	case o.MaxBufferedAmount < 0:
		return optionError("MaxBufferedAmount", o.MaxBufferedAmount, "it may not be negative")
	case o.KeepaliveTimeout > 0 && o.KeepaliveInterval == 0:
		return optionError("KeepaliveTimeout", o.KeepaliveTimeout, "it has no effect without KeepaliveInterval")
	case o.KeepaliveTimeout > 0 && o.KeepaliveTimeout < o.KeepaliveInterval:
		return optionError("KeepaliveTimeout", o.KeepaliveTimeout, "it is shorter than KeepaliveInterval, so an idle peer would fail before it is pinged")
	case o.OnBackpressure > BackpressureClose:
		return optionError("OnBackpressure", o.OnBackpressure, "it is not one of the Backpressure constants")
	case o.CompressionLevel < 0 || o.CompressionLevel > 9:
		return optionError("CompressionLevel", o.CompressionLevel, "it must be 1 to 9, or 0 for the default")
	}
	return nil
}

func optionError(field string, value any, problem string) error {
	return fmt.Errorf("conn: Options.%s is %v: %s", field, value, problem)
}

// A Handshake is what the opening handshake left for the connection: what
// the two endpoints agreed on, and any bytes read past it. The server and
// client packages fill one in for every connection. A program that
// performs the opening handshake itself (with package handshake, say)
// fills it in from the response the server sent.
type Handshake struct {
	// Subprotocol is the subprotocol the server chose
	// (Sec-WebSocket-Protocol), or "".
	Subprotocol string

	// Extensions is the Sec-WebSocket-Extensions value of the server's
	// response, or "". It is reported by Conn.Extensions; it does not
	// turn anything on.
	Extensions string

	// Compression, if not nil, holds the permessage-deflate parameters
	// ([RFC 7692]) the handshake agreed: the Conn then compresses and
	// decompresses messages. Its fields are those of the server's
	// response, except that a client's ClientMaxWindowBits is the largest
	// window it may use: the response's value, or the one its offer
	// named when the response names none.
	//
	// [RFC 7692]: https://www.rfc-editor.org/rfc/rfc7692
	Compression *Compression

	// Buffered holds bytes read from the connection past the handshake,
	// which the Conn reads first. New copies them.
	Buffered []byte

	// ReadBuffer, if its capacity is at least Options.ReadBufferSize, is
	// the buffer the Conn reads frames through, all of its capacity,
	// instead of one of its own, unless the Conn borrows its buffers
	// (see Options.ReadBufferSize); Buffered may be a prefix of it. The
	// Conn owns it from then on. The server package uses it to read
	// through the buffer of the bufio.Reader that http.Hijacker returns,
	// which net/http keeps alive anyway.
	ReadBuffer []byte
}

// Compression holds the parameters of permessage-deflate ([RFC 7692]),
// the compression browsers offer on every connection. Its fields are the
// extension's parameters, named as on the wire.
//
// In server.Options and client.Options it asks for the extension: the
// server accepts a client's offer, granting the parameters set here
// whatever the client offered, and the client offers it with them. The
// zero value asks for compression with context takeover and 15-bit
// windows in both directions, as browsers do. In a [Handshake] it holds
// what the handshake agreed.
//
// With context takeover each direction keeps a history of 2^bits bytes
// between messages, so that a message may refer to earlier ones; the
// NoContextTakeover fields have the server's or the client's messages
// compressed each on its own, which spares the connection that history,
// and the MaxWindowBits fields bound it. Options.CompressionLevel and
// Options.CompressionThreshold say how messages are compressed.
//
// [RFC 7692]: https://www.rfc-editor.org/rfc/rfc7692
type Compression struct {
	// ServerNoContextTakeover and ClientNoContextTakeover have the
	// server's or the client's messages compressed each on its own
	// ([RFC 7692, Section 7.1.1]).
	//
	// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool

	// ServerMaxWindowBits and ClientMaxWindowBits bound the base-two
	// logarithm of the LZ77 window the server or the client compresses
	// with: 8 to 15, or 0 for no bound (15) ([RFC 7692, Section 7.1.2]).
	//
	// [RFC 7692, Section 7.1.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.2
	ServerMaxWindowBits int
	ClientMaxWindowBits int
}

// validate reports whether the window sizes are within RFC 7692's range,
// naming them after prefix, such as "conn: Handshake.Compression".
func (p *Compression) validate(prefix string) error {
	return optcheck.Windows(prefix, p.ServerMaxWindowBits, p.ClientMaxWindowBits)
}

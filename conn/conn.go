package conn

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/deflate"
	"github.com/rfc6455/websocket/internal/utf8check"
)

// Defaults for the zero values of [Options].
const (
	DefaultReadLimit       = 32 << 20
	DefaultMaxFragments    = 1 << 17
	DefaultCloseTimeout    = 5 * time.Second
	DefaultReadBufferSize  = 4096
	DefaultWriteBufferSize = 4096
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
	BackpressureBlock Backpressure = iota // wait, as with no limit
	BackpressureError                     // return ErrBufferFull; the Conn stays usable
	BackpressureClose                     // abort the connection; the write returns ErrBufferFull
)

// Options configure a [Conn]. The zero value is ready to use and safe.
type Options struct {
	// ReadLimit is the largest message, in bytes, that a read accepts
	// (after decompression). A longer message fails the connection with
	// close code 1009 as soon as its frame headers tell it is too long,
	// before its payload is buffered. Zero means DefaultReadLimit; a
	// negative value means no limit.
	ReadLimit int64

	// MaxFragments is the largest number of frames a message may have.
	// More fail the connection with close code 1008. Zero means
	// DefaultMaxFragments; negative means no limit.
	MaxFragments int

	// CloseTimeout bounds each wait of the closing handshake: for the
	// peer's Close frame and for the TCP connection to end. Zero means
	// DefaultCloseTimeout.
	CloseTimeout time.Duration

	// ReadBufferSize and WriteBufferSize are the sizes of the buffers a
	// Conn reads and writes frames through. WriteBufferSize is also the
	// frame size of streamed messages. Zero means the defaults.
	ReadBufferSize  int
	WriteBufferSize int

	// ReadBuffer, if its capacity is at least ReadBufferSize (or
	// DefaultReadBufferSize), is the buffer the Conn reads frames
	// through, all of its capacity, instead of one of its own. It lets a
	// server reuse the buffer of the bufio.Reader that http.Hijacker
	// returns, which net/http keeps alive as long as the handler runs.
	// The Conn owns it from then on. The buffered argument of New may be
	// a prefix of it.
	ReadBuffer []byte

	// KeepaliveInterval, if positive, turns on keepalive: a ping is sent
	// whenever the peer has sent nothing for this long, and the
	// connection fails with ErrKeepalive when it has sent nothing, not
	// even a pong, for KeepaliveTimeout (zero means twice the
	// interval). Keepalive uses a timer, not a goroutine, and needs a
	// reader to see the pongs.
	KeepaliveInterval time.Duration
	KeepaliveTimeout  time.Duration

	// MaxBufferedAmount, if positive, bounds BufferedAmount: the bytes
	// accepted by writes and not yet written. OnBackpressure says what a
	// write that would pass the bound does.
	MaxBufferedAmount int64
	OnBackpressure    Backpressure

	// Subprotocol and Extensions are the negotiated values of the
	// Sec-WebSocket-Protocol and Sec-WebSocket-Extensions headers, kept
	// for Conn.Subprotocol and Conn.Extensions.
	Subprotocol string
	Extensions  string

	// Deflate, if not nil, turns on permessage-deflate (RFC 7692) with
	// the parameters the handshake agreed. The server and client
	// packages set it when the extension was negotiated. Frames with
	// RSV1 set are then decompressed, and messages written are
	// compressed.
	Deflate *Deflate

	// CompressionLevel is the effort spent compressing, from 1 (fastest)
	// to 9 (smallest output); zero means a default that favours speed.
	CompressionLevel int

	// CompressionThreshold is the size below which messages are sent
	// uncompressed. Zero means 128 bytes with context takeover and 512
	// without, where short messages rarely shrink; negative means every
	// message is compressed.
	CompressionThreshold int
}

// A Conn is a WebSocket connection after the opening handshake.
type Conn struct {
	nc   net.Conn
	role frame.Role
	opts Options // defaults filled in

	state    atomic.Int32
	closedCh chan struct{} // see done; guarded by mu

	// Interrupting I/O when a call's context ends.
	rwatch, wwatch watcher

	// Reading. Guarded by rlock.
	rlock    ctxLock
	rbuf     []byte
	rpos     int
	rend     int
	dec      frame.Decoder
	readErr  error // sticky
	inMsg    bool  // a data message is being received
	msgType  MessageType
	msgSize  int64
	msgFrags int
	fin      bool // the data frame being received is final
	utf8     utf8check.Validator
	inCtrl   bool // the frame being received is a control frame
	ctrlOp   frame.Opcode
	ctrl     [frame.MaxControlPayload]byte
	ctrlLen  int
	partial  []byte // message Read had received when its context ended
	resume   bool   // the message being read was cut by a context
	mr       messageReader

	// Decompression, when permessage-deflate was negotiated. Guarded by
	// rlock. The wire-level message (inMsg) may end before its
	// decompressed payload has all been read (inflating).
	inflater   *deflate.Decompressor
	compressed bool // the message being received is compressed
	inflating  bool // its decompressed payload is not yet all read
	rawSize    int64
	csrc       compressedSource

	// Writing. wmsg is held for a whole data message, wframe for one frame.
	wmsg         ctxLock
	wframe       ctxLock
	hdr          [frame.MaxHeaderLen]byte
	bufs         net.Buffers
	bufsArr      [2][]byte
	mw           messageWriter
	buffered     atomic.Int64
	pendingPong  atomic.Bool
	pendingPing  atomic.Bool
	ctrlMu       sync.Mutex // guards pong and ping
	pong         [frame.MaxControlPayload]byte
	pongLen      int
	lastActivity atomic.Int64 // unix nanoseconds of the last bytes received

	// Compression, when permessage-deflate was negotiated. Guarded by wmsg.
	deflater  *deflate.Compressor
	level     int // the compression level deflater was made with
	threshold int

	closeSent atomic.Bool // a Close frame was sent, or is being sent

	// Closing. Guarded by mu.
	mu          sync.Mutex
	closeRcvd   bool // the peer's Close frame arrived
	peerClose   *CloseError
	failure     error // why the connection was failed or closed locally
	pings       map[string]chan struct{}
	pingCounter uint64
	keepalive   *time.Timer
}

// New returns a Conn for nc, an established connection whose opening
// handshake has completed, acting in the given role. buffered holds any
// bytes already read from nc past the handshake; they are read first. New
// does not retain buffered. opts may be nil.
//
// The Conn owns nc from now on: closing the Conn closes nc.
func New(nc net.Conn, role frame.Role, buffered []byte, opts *Options) *Conn {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	c := newConn(max(o.ReadBufferSize, len(buffered)), o.ReadBuffer)
	c.nc, c.role = nc, role
	c.opts = o
	c.opts.ReadBuffer = nil // now c.rbuf, if it was used
	c.initialize(buffered)
	return c
}

// A connWithBuffer is a Conn and its read buffer in one allocation.
type connWithBuffer struct {
	Conn
	buf [DefaultReadBufferSize]byte
}

// newConn allocates a Conn whose read buffer holds at least size bytes:
// all of given, if it is large enough, or else one of size bytes,
// allocated with the Conn when it is no larger than
// DefaultReadBufferSize.
func newConn(size int, given []byte) *Conn {
	switch {
	case cap(given) >= size:
		c := new(Conn)
		c.rbuf = given[:cap(given)]
		return c
	case size <= DefaultReadBufferSize:
		cb := new(connWithBuffer)
		cb.rbuf = cb.buf[:size]
		return &cb.Conn
	}
	c := new(Conn)
	c.rbuf = make([]byte, size)
	return c
}

// initialize sets up a Conn that newConn allocated, with its nc, role and
// opts, reading buffered first.
func (c *Conn) initialize(buffered []byte) {
	o := &c.opts
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.MaxFragments == 0 {
		o.MaxFragments = DefaultMaxFragments
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.WriteBufferSize <= 0 {
		o.WriteBufferSize = DefaultWriteBufferSize
	}
	if o.KeepaliveInterval > 0 && o.KeepaliveTimeout <= 0 {
		o.KeepaliveTimeout = 2 * o.KeepaliveInterval
	}
	c.rend = copy(c.rbuf, buffered)
	c.dec.Role = c.role
	c.mr.c = c
	c.mw.c = c
	c.csrc.c = c
	c.rwatch = watcher{c: c, read: true}
	c.wwatch.c = c
	if o.Deflate != nil {
		c.setUpDeflate()
	}
	c.state.Store(int32(Open))
	c.lastActivity.Store(time.Now().UnixNano())
	if o.KeepaliveInterval > 0 {
		c.mu.Lock()
		c.keepalive = time.AfterFunc(o.KeepaliveInterval, c.keepaliveTick)
		c.mu.Unlock()
	}
}

// State returns the state of the connection.
func (c *Conn) State() State { return State(c.state.Load()) }

// BufferedAmount returns the number of bytes that writes have accepted but
// not yet written to the network, like the bufferedAmount attribute of the
// WHATWG WebSocket interface.
func (c *Conn) BufferedAmount() int64 { return c.buffered.Load() }

// Subprotocol returns the negotiated subprotocol, or "".
func (c *Conn) Subprotocol() string { return c.opts.Subprotocol }

// Extensions returns the negotiated Sec-WebSocket-Extensions value, or "".
func (c *Conn) Extensions() string { return c.opts.Extensions }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

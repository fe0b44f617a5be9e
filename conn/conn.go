//go:build !js

package conn

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/deflate"
	"github.com/rfc6455/websocket/internal/drive"
	"github.com/rfc6455/websocket/internal/utf8check"
)

// Other defaults, which the field docs of Options give.
const (
	defaultMaxFragments    = 1 << 17
	defaultReadBufferSize  = 4096
	defaultWriteBufferSize = 4096
)

// A Conn is a WebSocket connection after the opening handshake.
type Conn struct {
	// Fields are ordered within each group so that small ones share
	// words: an idle Conn is most of what a connection costs.
	nc   net.Conn
	opts Options // defaults filled in

	subprotocol, extensions string // agreed by the opening handshake

	state    atomic.Int32
	role     frame.Role
	closedCh chan struct{} // see done; guarded by mu

	// Interrupting I/O when a call's context ends.
	rwatch, wwatch watcher

	// Reading. Guarded by rlock.
	rlock    ctxLock
	rbuf     []byte
	rbufp    *[]byte // rbuf's pool entry, when it came from readBuffers
	raw      syscall.RawConn
	rawRead  func(fd uintptr) bool // readReady, when raw is not nil
	rawErr   error
	rpos     int
	rend     int
	dec      frame.Decoder
	readErr  error // sticky
	inMsg    bool  // a data message is being received
	msgType  MessageType
	msgSize  int64
	msgFrags int
	fin      bool // the data frame being received is final
	draining bool // under a driver, failed and awaiting the peer's Close frame
	drained  bool // under a driver, the last read took all the socket had
	utf8     utf8check.Validator
	inCtrl   bool // the frame being received is a control frame
	ctrlOp   frame.Opcode
	resume   bool                           // the message being read was cut by a context
	ctrlLen  uint8                          // of the control frame's payload in ctrl
	ctrl     *[frame.MaxControlPayload]byte // made by the first control frame with a payload
	partial  []byte                         // message Read had received when its context ended
	mr       messageReader
	progress int // payload bytes since the last sign of life, for keepalive

	// Decompression, when permessage-deflate was negotiated. Guarded by
	// rlock. The wire-level message (inMsg) may end before its
	// decompressed payload has all been read (inflating).
	inflater   *deflate.Decompressor
	compressed bool // the message being received is compressed
	inflating  bool // its decompressed payload is not yet all read
	rawSize    int64
	csrc       *compressedSource // with inflater

	// Writing. wmsg is held for a whole data message, wframe for one frame.
	wmsg         ctxLock
	wframe       ctxLock
	mw           *messageWriter // made by the first Writer
	buffered     atomic.Int64
	pendingPong  atomic.Bool
	pendingPing  atomic.Bool
	ctrlMu       sync.Mutex                     // guards pong and pongLen
	pong         *[frame.MaxControlPayload]byte // made by the first ping
	lastActivity atomic.Int64                   // unix nanoseconds of the last sign of life (see alive)

	// Corking (cork.go). cork and corkPayload are guarded by wframe.
	batching    atomic.Bool // the reader holds a whole frame it has not returned
	hasCork     atomic.Bool // cork is not nil
	cork        *[]byte     // gathered frames, pooled; nil when there are none
	corkPayload int64       // payload bytes in cork, counted in buffered
	corkTimer   atomic.Pointer[time.Timer]

	// Compression, when permessage-deflate was negotiated. Guarded by wmsg.
	deflater        *deflate.Compressor
	level           int  // the compression level deflater was made with
	writeBits       int  // the window deflater was made with
	writeNoTakeover bool // deflater compresses each message on its own
	threshold       int

	closeSent   atomic.Bool // a Close frame was sent, or is being sent
	driven      atomic.Bool // a driver reads and waits for this Conn (driven.go)
	awaitingEOF atomic.Bool // a client waits for the server to close TCP

	// Closing. Guarded by mu.
	mu          sync.Mutex
	peerClose   *CloseError
	closeRcvd   bool      // the peer's Close frame arrived
	pongLen     uint8     // guarded by ctrlMu, not mu
	sentCode    CloseCode // of the Close frame sent
	sentReason  string
	failure     error // why the connection was failed or closed locally
	pings       map[string]chan struct{}
	pingCounter uint64
	keepalive   *time.Timer
	kept        []keptMessage // read by Close, not yet by the application
	hasKept     atomic.Bool   // kept is not empty; read without mu

	stats connStats

	transport drive.Transport // nc, once driven is set
}

// New returns a Conn for nc, an established connection whose opening
// handshake has completed, acting in the given role. h says what the
// handshake agreed and holds any bytes read past it; nil means no
// subprotocol, no extension and nothing buffered. opts may be nil. New
// fails only if opts does not pass [Options.Validate] or h holds
// parameters outside their range.
//
// The Conn owns nc from now on: closing the Conn closes nc.
func New(nc net.Conn, role frame.Role, h *Handshake, opts *Options) (*Conn, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var hs Handshake
	if h != nil {
		hs = *h
	}
	if role != frame.Server && role != frame.Client {
		return nil, fmt.Errorf("conn: role %d is neither frame.Server nor frame.Client", role)
	}
	if hs.Compression != nil {
		if err := hs.Compression.validate("conn: Handshake.Compression"); err != nil {
			return nil, err
		}
	}
	if o.ReadBufferSize == 0 {
		o.ReadBufferSize = defaultReadBufferSize
	}
	var c *Conn
	raw := rawConnOf(nc)
	if raw != nil && o.ReadBufferSize == defaultReadBufferSize && len(hs.Buffered) <= borrowedReadSize {
		c = new(Conn)
		c.useRawReads(raw, hs.Buffered)
	} else {
		c = newConn(max(o.ReadBufferSize, len(hs.Buffered)), hs.ReadBuffer)
	}
	c.nc, c.role = nc, role
	c.opts = o
	c.subprotocol, c.extensions = hs.Subprotocol, hs.Extensions
	c.initialize(hs.Buffered, hs.Compression)
	if o.OnOpen != nil {
		o.OnOpen(c)
	}
	return c, nil
}

// A connWithBuffer is a Conn and its read buffer in one allocation.
type connWithBuffer struct {
	Conn
	buf [defaultReadBufferSize]byte
}

// newConn allocates a Conn whose read buffer holds at least size bytes:
// all of given, if it is large enough, or else one of size bytes,
// allocated with the Conn when it is no larger than
// defaultReadBufferSize.
func newConn(size int, given []byte) *Conn {
	switch {
	case cap(given) >= size:
		c := new(Conn)
		c.rbuf = given[:cap(given)]
		return c
	case size <= defaultReadBufferSize:
		cb := new(connWithBuffer)
		cb.rbuf = cb.buf[:size]
		return &cb.Conn
	}
	c := new(Conn)
	c.rbuf = make([]byte, size)
	return c
}

// initialize sets up a Conn that newConn allocated, with its nc, role and
// opts, reading buffered first and compressing as agreed, if compression
// is not nil.
func (c *Conn) initialize(buffered []byte, compression *Compression) {
	o := &c.opts
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.MaxFragments == 0 {
		o.MaxFragments = defaultMaxFragments
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.WriteBufferSize == 0 {
		o.WriteBufferSize = defaultWriteBufferSize
	}
	if o.KeepaliveInterval > 0 && o.KeepaliveTimeout == 0 {
		o.KeepaliveTimeout = 2 * o.KeepaliveInterval
	}
	c.rend = copy(c.rbuf, buffered)
	c.stats.wireRead.add(int64(c.rend))
	c.dec.Role = c.role
	c.mr.c = c
	c.rwatch = watcher{c: c, read: true}
	c.wwatch.c = c
	if compression != nil {
		c.setUpDeflate(*compression)
	}
	c.state.Store(int32(Open))
	if o.KeepaliveInterval > 0 {
		c.lastActivity.Store(time.Now().UnixNano())
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
func (c *Conn) BufferedAmount() int64 { return c.buffered.Load() + c.queued() }

// queued returns what a driver's transport holds of what was written.
func (c *Conn) queued() int64 {
	if !c.driven.Load() {
		return 0
	}
	return c.transport.Queued()
}

// Subprotocol returns the subprotocol the opening handshake agreed on, or
// "", like the protocol attribute of the WHATWG WebSocket interface.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the Sec-WebSocket-Extensions value the server
// answered with, or "", like the extensions attribute of the WHATWG
// WebSocket interface.
func (c *Conn) Extensions() string { return c.extensions }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

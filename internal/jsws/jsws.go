//go:build js && wasm

// Package jsws drives the browser's WebSocket object (the WHATWG
// WebSocket interface) for GOOS=js GOARCH=wasm: it opens one, queues the
// messages its event handlers deliver, and sends and closes. Package conn
// builds its Conn on a Socket under js, and package client opens one.
//
// The browser does the framing, the masking, the closing handshake, the
// answers to pings and any permessage-deflate; a page sees whole messages
// and the code and reason of the close. It has no receive backpressure:
// the browser delivers every message as soon as it has it, so a Socket
// queues them, within the bounds Open is given, until they are read.
//
// JavaScript event handlers run on the JavaScript event loop and must not
// block, so the handlers only append to the queue under a mutex and signal
// a channel that never blocks them.
package jsws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall/js"
	"time"
)

// The readyState values of a WebSocket object.
const (
	StateConnecting = 0
	StateOpen       = 1
	StateClosing    = 2
	StateClosed     = 3
)

// A Message is one message the browser delivered.
type Message struct {
	Text bool // a string in JavaScript; otherwise an ArrayBuffer
	Data []byte
}

// How a Socket ended, in End.Failure.
const (
	Closed    = iota // the close event arrived: Code, Reason, Clean
	TooBig           // a message of Size bytes was over the read limit
	QueueFull        // Size bytes were queued, over the queue bound
	Aborted          // Abort was called
)

// An End says how a Socket ended.
type End struct {
	Failure int    // Closed, TooBig, QueueFull or Aborted
	Code    int    // of the close event (1006 when the browser saw no Close frame)
	Reason  string // of the close event
	Clean   bool   // the close event's wasClean
	Size    int64  // for TooBig and QueueFull
}

// The close codes a Socket sends when it fails the connection. The
// browser may send only 1000 and 3000-4999, so 1009 and 1008 go out in the
// private range, with a reason that names them.
const (
	codeTooBig    = 4009
	codeQueueFull = 4008
)

// A Socket is an open WebSocket object.
type Socket struct {
	ws    js.Value
	funcs []js.Func // the event handlers, released when the socket ends
	url   string

	readLimit  int64 // negative: none
	queueLimit int64 // bytes

	opened chan struct{} // closed by the open event
	closed chan struct{} // closed when the socket ended (close event, failure or Abort)
	gone   chan struct{} // closed when the handlers were released (close event or Abort)
	notify chan struct{} // capacity 1: a message was queued or the socket ended

	mu       sync.Mutex
	queue    []Message
	head     int
	queued   int64 // bytes in queue[head:]
	end      *End  // how the socket ended, once it has
	released bool  // funcs were released
	sawError bool  // the error event fired
}

// Open creates a WebSocket object for url, offering protocols, and waits
// until it opens, fails, or ctx ends. Messages longer than readLimit bytes
// (negative: no limit) fail the connection with TooBig. Messages that
// would take the queue past QueueLimit(readLimit) bytes fail it with
// QueueFull. A
// failure to open gives an error; the browser does not tell a page why
// (the HTTP status of a refused handshake, a DNS or TLS failure), so
// neither can the error.
func Open(ctx context.Context, url string, protocols []string, readLimit int64) (s *Socket, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, errors.New("this JavaScript environment has no WebSocket constructor")
	}
	args := []any{url}
	if len(protocols) > 0 {
		list := make([]any, len(protocols))
		for i, p := range protocols {
			list[i] = p
		}
		args = append(args, list)
	}
	var ws js.Value
	if err := catch(func() { ws = ctor.New(args...) }); err != nil {
		return nil, fmt.Errorf("new WebSocket(%q): %w", url, err)
	}
	ws.Set("binaryType", "arraybuffer")
	s = &Socket{
		ws:         ws,
		url:        ws.Get("url").String(),
		readLimit:  readLimit,
		queueLimit: QueueLimit(readLimit),
		opened:     make(chan struct{}),
		closed:     make(chan struct{}),
		gone:       make(chan struct{}),
		notify:     make(chan struct{}, 1),
	}
	s.handle("open", func(js.Value) { close(s.opened) })
	s.handle("message", s.onMessage)
	s.handle("error", func(js.Value) {
		s.mu.Lock()
		s.sawError = true
		s.mu.Unlock()
	})
	s.handle("close", s.onClose)
	select {
	case <-s.opened:
		return s, nil
	case <-s.closed:
		select {
		case <-s.opened:
			// Opened and closed at once: the messages before the close
			// are queued, and the Conn reports the close after them.
			return s, nil
		default:
		}
		s.mu.Lock()
		end := *s.end
		s.mu.Unlock()
		return nil, fmt.Errorf("the browser could not open a WebSocket to %s (close code %d): it does not tell a page why, such as the HTTP status of a refused handshake", url, end.Code)
	case <-ctx.Done():
		s.Abort()
		return nil, ctx.Err()
	}
}

// QueueLimit returns the most a Socket queues, in bytes, of messages not
// yet read: twice the read limit, so that a reader that is one message
// behind does not fail, or 64 MiB with no read limit.
func QueueLimit(readLimit int64) int64 {
	if readLimit < 0 {
		return 64 << 20
	}
	return 2 * readLimit
}

// handle sets the on<event> attribute of the WebSocket object to fn.
func (s *Socket) handle(event string, fn func(ev js.Value)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		fn(args[0])
		return nil
	})
	s.funcs = append(s.funcs, f)
	s.ws.Set("on"+event, f)
}

// release detaches and releases the event handlers, once. The caller
// holds mu.
func (s *Socket) release() {
	if s.released {
		return
	}
	s.released = true
	close(s.gone)
	for _, name := range []string{"onopen", "onmessage", "onerror", "onclose"} {
		s.ws.Set(name, js.Null())
	}
	for _, f := range s.funcs {
		f.Release()
	}
	s.funcs = nil
}

// ended records how the socket ended, if it had not ended yet, and wakes
// the reader. The caller holds mu.
func (s *Socket) ended(e End) {
	if s.end != nil {
		return
	}
	s.end = &e
	close(s.closed)
	s.wake()
}

func (s *Socket) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Socket) onMessage(ev js.Value) {
	data := ev.Get("data")
	var m Message
	var size int64
	if data.Type() == js.TypeString {
		m.Text = true
		m.Data = []byte(data.String())
		size = int64(len(m.Data))
	} else {
		size = int64(data.Get("byteLength").Int())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.end != nil {
		return
	}
	switch {
	case s.readLimit >= 0 && size > s.readLimit:
		s.fail(End{Failure: TooBig, Size: size}, codeTooBig, fmt.Sprintf("message too big (1009): %d bytes, the limit is %d", size, s.readLimit))
		return
	case s.queued > 0 && s.queued+size > s.queueLimit:
		s.fail(End{Failure: QueueFull, Size: s.queued + size}, codeQueueFull, "messages arrive faster than they are read (1008)")
		return
	}
	if !m.Text {
		m.Data = make([]byte, size)
		js.CopyBytesToGo(m.Data, js.Global().Get("Uint8Array").New(data))
	}
	if s.head > 0 && s.head == len(s.queue) {
		clear(s.queue)
		s.queue, s.head = s.queue[:0], 0
	}
	s.queue = append(s.queue, m)
	s.queued += size
	s.wake()
}

// fail ends the socket because of e, closing the WebSocket with code and
// reason. Messages queued before stay readable. The caller holds mu.
func (s *Socket) fail(e End, code int, reason string) {
	s.ended(e)
	catch(func() { s.ws.Call("close", code, reason) })
	// The close event that follows releases the handlers.
}

func (s *Socket) onClose(ev js.Value) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended(End{
		Failure: Closed,
		Code:    ev.Get("code").Int(),
		Reason:  ev.Get("reason").String(),
		Clean:   ev.Get("wasClean").Bool(),
	})
	s.release()
}

// Next returns the next queued message, if there is one. Once the queue
// is empty and the socket has ended, it returns how it ended. Otherwise
// it returns neither, and Notify tells when to try again.
func (s *Socket) Next() (Message, *End, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head < len(s.queue) {
		m := s.queue[s.head]
		s.queue[s.head] = Message{}
		s.head++
		s.queued -= int64(len(m.Data))
		return m, nil, true
	}
	return Message{}, s.end, false
}

// Notify returns a channel that receives when a message was queued or the
// socket ended. One goroutine at a time may wait on it.
func (s *Socket) Notify() <-chan struct{} { return s.notify }

// Done returns a channel that is closed when the socket has ended.
func (s *Socket) Done() <-chan struct{} { return s.closed }

// End returns how the socket ended, or nil.
func (s *Socket) End() *End {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end
}

// Send sends p as one message: a string if text is set (p is taken as
// UTF-8), an ArrayBuffer view otherwise.
func (s *Socket) Send(text bool, p []byte) error {
	var v js.Value
	if text {
		v = js.ValueOf(string(p))
	} else {
		v = js.Global().Get("Uint8Array").New(len(p))
		js.CopyBytesToJS(v, p)
	}
	return catch(func() { s.ws.Call("send", v) })
}

// StartClose starts the closing handshake with code and reason, or with
// no code if code is negative. The browser accepts only 1000 and 3000-4999, and a
// reason of at most 123 bytes of UTF-8; the caller checks.
func (s *Socket) StartClose(code int, reason string) error {
	if code < 0 {
		return catch(func() { s.ws.Call("close") })
	}
	return catch(func() { s.ws.Call("close", code, reason) })
}

// Abort ends the socket at once: it releases the event handlers, so no
// event reaches Go from then on, and asks the browser to close the
// WebSocket, which sends a Close frame without a code if it is open. The
// browser gives a page no way to drop a connection without a Close frame.
func (s *Socket) Abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended(End{Failure: Aborted})
	s.release()
	catch(func() { s.ws.Call("close") })
}

// ReadyState returns the readyState attribute.
func (s *Socket) ReadyState() int { return s.ws.Get("readyState").Int() }

// BufferedAmount returns the bufferedAmount attribute: bytes passed to
// send and not yet handed to the network.
func (s *Socket) BufferedAmount() int64 { return int64(s.ws.Get("bufferedAmount").Float()) }

// Protocol returns the protocol attribute: the subprotocol the server
// chose, or "".
func (s *Socket) Protocol() string { return s.ws.Get("protocol").String() }

// Extensions returns the extensions attribute: the
// Sec-WebSocket-Extensions value the server answered with, or "".
func (s *Socket) Extensions() string { return s.ws.Get("extensions").String() }

// URL returns the url attribute, the URL resolved by the browser.
func (s *Socket) URL() string { return s.ws.Get("url").String() }

// Released reports whether the event handlers were released: no
// js.Func of the socket is left.
func (s *Socket) Released() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.released
}

// AwaitClose waits up to timeout for the close event, and then, if it has
// not come, aborts the socket. It reports whether the close event came.
func (s *Socket) AwaitClose(timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.gone:
		return true
	case <-t.C:
		s.Abort()
		return false
	}
}

// catch runs f and returns the JavaScript exception it threw, if any.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if jsErr, ok := r.(js.Error); ok {
				err = jsErr
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

// A Socket is a net.Conn only so that it can be handed to conn.New, whose
// signature is the same on every platform; conn uses the methods above.
// Read and Write fail, Close is Abort, and the deadlines are ignored.
var _ net.Conn = (*Socket)(nil)

var errNotStream = errors.New("jsws: a browser WebSocket carries messages, not a byte stream: use conn.Conn")

// Read fails: see the net.Conn note above.
func (s *Socket) Read([]byte) (int, error) { return 0, errNotStream }

// Write fails: see the net.Conn note above.
func (s *Socket) Write([]byte) (int, error) { return 0, errNotStream }

// Close aborts the socket.
func (s *Socket) Close() error { s.Abort(); return nil }

// LocalAddr returns the page's origin (location.origin), which is what the
// server sees as the Origin of the handshake, under the network
// "websocket"; the browser does not tell a page its IP address and port.
func (s *Socket) LocalAddr() net.Addr {
	origin := "browser"
	if loc := js.Global().Get("location"); loc.Type() == js.TypeObject {
		if o := loc.Get("origin"); o.Type() == js.TypeString {
			origin = o.String()
		}
	}
	return Addr(origin)
}

// RemoteAddr returns the WebSocket's URL under the network "websocket".
func (s *Socket) RemoteAddr() net.Addr { return Addr(s.url) }

// SetDeadline is ignored.
func (s *Socket) SetDeadline(time.Time) error { return nil }

// SetReadDeadline is ignored.
func (s *Socket) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline is ignored.
func (s *Socket) SetWriteDeadline(time.Time) error { return nil }

// An Addr is the address of one end of a browser WebSocket: a URL or an
// origin, in the network "websocket".
type Addr string

// Network returns "websocket".
func (Addr) Network() string { return "websocket" }

// String returns the URL or origin.
func (a Addr) String() string { return string(a) }

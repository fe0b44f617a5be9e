package eventloop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/internal/drive"
)

var (
	errNotSocket    = errors.New("eventloop: not a TCP or Unix socket")
	errTooManyFiles = syscall.EMFILE
)

// A poller is the set of event loops of a Server.
type poller struct {
	srv      *Server
	loops    []*loop
	next     atomic.Uint32 // round robin over loops
	wg       sync.WaitGroup
	stopOnce sync.Once
}

func newPoller(s *Server, n int) (*poller, error) {
	p := &poller{srv: s}
	for range n {
		l, err := newLoop(p)
		if err != nil {
			p.stop()
			return nil, err
		}
		p.loops = append(p.loops, l)
	}
	for _, l := range p.loops {
		p.wg.Add(1)
		go l.run()
	}
	return p, nil
}

// add hands c to one of the loops, or fails with errNotSocket if c is
// not over a socket.
func (p *poller) add(c *conn.Conn) error {
	l := p.loops[p.next.Add(1)%uint32(len(p.loops))]
	var f *fdConn
	s, err := drive.Take(c, func(nc net.Conn) (drive.Transport, error) {
		var err error
		f, err = l.wrap(nc)
		return f, err
	})
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.c, f.s = c, s
	f.limit = max(maxQueued, int(min(s.MaxBuffered(), 1<<40)))
	f.mu.Unlock()
	return l.register(f)
}

func (p *poller) conns() []*conn.Conn {
	var all []*conn.Conn
	for _, l := range p.loops {
		l.mu.Lock()
		for _, f := range l.conns {
			all = append(all, f.c)
		}
		l.mu.Unlock()
	}
	return all
}

// stop ends the loops, waits for them, closes every connection they
// still hold, and closes their descriptors. Only the first call does
// anything.
func (p *poller) stop() {
	p.stopOnce.Do(func() {
		for _, l := range p.loops {
			l.mu.Lock()
			l.stopping = true
			l.wakeLocked()
			l.mu.Unlock()
		}
		p.wg.Wait()
		for _, c := range p.conns() {
			c.CloseNow()
		}
		for _, l := range p.loops {
			l.mu.Lock()
			left := make([]*fdConn, 0, len(l.conns))
			for _, f := range l.conns {
				left = append(left, f) // lingering, or added since
			}
			l.mu.Unlock()
			for _, f := range left {
				f.mu.Lock()
				f.closeFD()
				f.mu.Unlock()
			}
			l.mu.Lock()
			l.closedFDs = true
			l.epf.Close()
			syscall.Close(l.wakeR)
			syscall.Close(l.wakeW)
			l.mu.Unlock()
		}
	})
}

// A loop waits on one epoll instance for the sockets of its connections
// and reads them when they are readable, on one goroutine.
type loop struct {
	p     *poller
	epfd  int
	epf   *os.File        // epfd, for waiting in the runtime's poller
	raw   syscall.RawConn // of epf
	wakeR int             // a pipe whose read end is in epfd, to wake the loop
	wakeW int

	mu        sync.Mutex
	conns     map[uint32]*fdConn // by id, which epoll events carry
	lastID    uint32
	pending   []*fdConn // registered, to be read once by the loop
	stopping  bool
	closedFDs bool          // epfd and the pipe are closed
	tick      time.Duration // between keepalive ticks; 0 when none is needed
	laddr     net.Addr      // the local address of the last connection wrapped

	buf      []byte          // messages are read into it; used by the loop only
	due      []drive.Session // for keepalive; used by the loop only
	deadline time.Time       // of epf; used by the loop only
}

func newLoop(p *poller) (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		syscall.Close(epfd)
		return nil, os.NewSyscallError("pipe2", err)
	}
	l := &loop{p: p, epfd: epfd, wakeR: fds[0], wakeW: fds[1], conns: make(map[uint32]*fdConn)}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(l.wakeR), Pad: 0}
	err = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, l.wakeR, &ev)
	if err == nil {
		err = syscall.SetNonblock(epfd, true)
	}
	if err != nil {
		syscall.Close(epfd)
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	// The loop's goroutine waits for epfd to become readable in the
	// runtime's own poller, like any goroutine reading a socket, rather
	// than in a blocking epoll_wait, which would hold an OS thread.
	l.epf = os.NewFile(uintptr(epfd), "epoll")
	if l.raw, err = l.epf.SyscallConn(); err != nil {
		l.epf.Close()
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil, err
	}
	return l, nil
}

// wakeLocked makes the loop look at its pending work. The caller holds
// mu, under which stop closes the pipe.
func (l *loop) wakeLocked() {
	if !l.closedFDs {
		syscall.Write(l.wakeW, []byte{0})
	}
}

// wrap takes the socket of nc for the loop: it keeps a duplicate of the
// descriptor and closes nc, which frees what the runtime kept for it.
func (l *loop) wrap(nc net.Conn) (*fdConn, error) {
	var sc syscall.Conn
	switch nc := nc.(type) {
	case *net.TCPConn:
		sc = nc
	case *net.UnixConn:
		sc = nc
	default:
		return nil, errNotSocket
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, errNotSocket
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) {
		fd, dupErr = dupCloexec(int(s))
	}); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, dupErr
	}
	f := &fdConn{loop: l, fd: int32(fd), laddr: l.localAddr(nc.LocalAddr()), raddr: nc.RemoteAddr(), limit: maxQueued}
	nc.Close()
	// In the epoll set from the start, so that a write the socket refuses
	// can ask for writability at once; events before register are skipped
	// (and, level-triggered, reported again).
	if err := l.add(f); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return f, nil
}

// add gives f an id no connection of the loop has and puts its socket in
// the epoll set, unless the loop is stopping.
func (l *loop) add(f *fdConn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return ErrServerClosed
	}
	for {
		l.lastID++
		if _, used := l.conns[l.lastID]; !used && l.lastID != 0 {
			break
		}
	}
	f.id = l.lastID
	return f.ctl(syscall.EPOLL_CTL_ADD, syscall.EPOLLIN|syscall.EPOLLRDHUP)
}

// localAddr returns a, or an equal address a connection of the loop
// already holds: the connections of one listener share their local
// address.
func (l *loop) localAddr(a net.Addr) net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, ok := l.laddr.(*net.TCPAddr); ok {
		if ta, ok := a.(*net.TCPAddr); ok && ta.Port == last.Port && ta.Zone == last.Zone && ta.IP.Equal(last.IP) {
			return last
		}
	}
	l.laddr = a
	return a
}

func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, os.NewSyscallError("fcntl", errno)
	}
	return int(r), nil
}

// register adds f to the loop, which reads it once at once, for what the
// Conn may already hold, and then whenever its socket is readable.
func (l *loop) register(f *fdConn) error {
	l.mu.Lock()
	if l.stopping {
		l.mu.Unlock()
		f.c.CloseNow()
		return ErrServerClosed
	}
	l.conns[f.id] = f
	l.pending = append(l.pending, f)
	if k := f.s.Keepalive(); k > 0 && (l.tick == 0 || k/4 < l.tick) {
		l.tick = max(k/4, time.Millisecond)
	}
	l.wakeLocked() // for pending, and for tick
	l.mu.Unlock()
	return nil
}

func (l *loop) remove(f *fdConn) {
	l.mu.Lock()
	if l.conns[f.id] == f {
		delete(l.conns, f.id)
	}
	l.mu.Unlock()
}

// run is the loop's goroutine.
func (l *loop) run() {
	defer l.p.wg.Done()
	events := make([]syscall.EpollEvent, 256)
	var nextTick time.Time
	var lastTick time.Duration
	for {
		l.mu.Lock()
		tick, stopping, pending := l.tick, l.stopping, l.pending
		l.pending = nil
		l.mu.Unlock()
		if stopping {
			return
		}
		for _, f := range pending {
			l.serve(f)
		}
		var deadline time.Time
		if tick > 0 {
			if tick != lastTick {
				nextTick = time.Now().Add(tick)
			}
			deadline = nextTick
		}
		lastTick = tick
		n, err := l.wait(events, deadline)
		if err != nil {
			l.p.srv.logf("eventloop: %v", err)
			return
		}
		for i := range events[:n] {
			ev := &events[i]
			if ev.Pad == 0 {
				var drain [64]byte
				for {
					if n, _ := syscall.Read(l.wakeR, drain[:]); n <= 0 {
						break
					}
				}
				continue
			}
			l.mu.Lock()
			f := l.conns[uint32(ev.Pad)]
			l.mu.Unlock()
			if f == nil {
				continue // closed since the event
			}
			if ev.Events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
				f.flush() // a lingering socket closes when it fails
			}
			if ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
				l.serve(f)
			}
		}
		// Ticks come after reading what is ready, so that a pong that has
		// arrived counts before keepalive judges the peer silent.
		if tick > 0 && !time.Now().Before(nextTick) {
			l.keepalive()
			nextTick = time.Now().Add(tick)
		}
	}
}

// wait returns the events ready, waiting until some are or until
// deadline, if it is not zero. RawConn.Read looks before it waits, so an
// epoll set with events ready costs one epoll_wait.
func (l *loop) wait(events []syscall.EpollEvent, deadline time.Time) (int, error) {
	if !deadline.Equal(l.deadline) {
		l.epf.SetReadDeadline(deadline)
		l.deadline = deadline
	}
	var n int
	var err error
	rerr := l.raw.Read(func(uintptr) bool {
		n, err = epollWait(l.epfd, events)
		return n > 0 || err != nil
	})
	if rerr != nil && !errors.Is(rerr, os.ErrDeadlineExceeded) {
		return 0, rerr
	}
	return n, err
}

// epollWait returns the events ready on epfd without waiting.
func epollWait(epfd int, events []syscall.EpollEvent) (int, error) {
	for {
		n, err := syscall.EpollWait(epfd, events, 0)
		if err != syscall.EINTR {
			if err != nil {
				return 0, os.NewSyscallError("epoll_wait", err)
			}
			return n, nil
		}
	}
}

// serve reads f's Conn until nothing more has arrived, handing each
// message to OnMessage.
func (l *loop) serve(f *fdConn) {
	for {
		typ, msg, err := f.s.Read(l.buf[:0])
		if err != nil {
			return
		}
		l.p.srv.deliver(f.c, conn.MessageType(typ), msg)
		l.buf = keepBuffer(l.buf, msg)
	}
}

// keepalive ticks every connection that has keepalive on.
// The sessions are gathered first, since a tick may end a connection,
// which takes it out of conns under mu. The ticks' interval follows the
// connections there are: once none has keepalive, the loop stops ticking.
func (l *loop) keepalive() {
	due := l.due[:0]
	var shortest time.Duration
	l.mu.Lock()
	for _, f := range l.conns {
		if k := f.s.Keepalive(); k > 0 {
			due = append(due, f.s)
			if shortest == 0 || k < shortest {
				shortest = k
			}
		}
	}
	l.tick = 0
	if shortest > 0 {
		l.tick = max(shortest/4, time.Millisecond)
	}
	l.mu.Unlock()
	for i, s := range due {
		s.Tick()
		due[i] = nil
	}
	l.due = due
}

// maxQueued is how many bytes of a connection's writes may wait for its
// socket, unless the Conn's Options.MaxBufferedAmount is larger: a write
// is queued whole while less waits, so a queue holds at most that plus
// one write. A write that finds more waiting fails, and its connection
// ends: its peer is not reading.
const maxQueued = 1 << 20

// lingerTimeout bounds how long a closed connection's socket stays open
// to send what its writes queued, the Close frame last.
const lingerTimeout = 5 * time.Second

// An fdConn is the drive.Transport of a Conn on a loop: a socket whose
// reads and writes never wait; what the socket does not take of a write
// is queued and sent when it is writable. Every connection has one, so
// what only a connection that was ever refused a write needs is in a
// backlog made then.
type fdConn struct {
	loop  *loop
	c     *conn.Conn
	s     drive.Session
	laddr net.Addr
	raddr net.Addr
	limit int // on the queue: maxQueued or Options.MaxBufferedAmount

	mu      sync.Mutex // held over every system call on fd
	b       *backlog   // nil until the socket first refuses a write
	fd      int32      // -1 once closed
	id      uint32
	closed  bool // Close was called; the socket may linger to send the queue
	writing bool // EPOLLOUT is asked for
}

// A backlog is what an fdConn's writes left for later. Guarded by the
// fdConn's mu.
type backlog struct {
	queue []byte // written, not yet taken by the socket
	err   error  // the socket failed a write
}

func (f *fdConn) ctl(op int, events uint32) error {
	ev := syscall.EpollEvent{Events: events, Fd: f.fd, Pad: int32(f.id)}
	if err := syscall.EpollCtl(f.loop.epfd, op, int(f.fd), &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// Read reads what has arrived, or returns drive.ErrWouldBlock.
func (f *fdConn) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, net.ErrClosed
	}
	for {
		n, err := syscall.Read(int(f.fd), p)
		switch err {
		case nil:
			if n == 0 && len(p) > 0 {
				return 0, io.EOF
			}
			return n, nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, drive.ErrWouldBlock
		}
		return 0, f.opError("read", err)
	}
}

// Write writes p, queueing what the socket does not take. It never
// waits, so a loop can write to any of its connections.
func (f *fdConn) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, net.ErrClosed
	}
	b := f.b
	switch {
	case b == nil || (len(b.queue) == 0 && b.err == nil):
		n, err := f.write(p)
		if err != nil {
			return n, err
		}
		if n < len(p) {
			f.backlog().queue = append(f.b.queue, p[n:]...)
			if err := f.wantWritable(true); err != nil {
				return n, err
			}
		}
		return len(p), nil
	case b.err != nil:
		return 0, b.err
	case len(b.queue) < f.limit:
		b.queue = append(b.queue, p...)
		return len(p), nil
	}
	return 0, fmt.Errorf("eventloop: the peer reads too slowly: %d bytes wait to be written", len(b.queue))
}

// backlog returns f's backlog, making it on first use. The caller holds
// mu.
func (f *fdConn) backlog() *backlog {
	if f.b == nil {
		f.b = new(backlog)
	}
	return f.b
}

// write writes what the socket takes of p without waiting. The caller
// holds mu.
func (f *fdConn) write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Write(int(f.fd), p[done:])
		switch err {
		case nil:
			done += n
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return done, nil
		}
		f.backlog().err = f.opError("write", err)
		return done, f.b.err
	}
	return done, nil
}

// wantWritable asks epoll to report, or no longer to report, that the
// socket is writable. The caller holds mu.
func (f *fdConn) wantWritable(on bool) error {
	if on == f.writing {
		return nil
	}
	events := uint32(syscall.EPOLLIN | syscall.EPOLLRDHUP)
	if on {
		events |= syscall.EPOLLOUT
	}
	f.writing = on
	return f.ctl(syscall.EPOLL_CTL_MOD, events)
}

// flush writes what is queued, when the socket is writable. A socket
// that lingers after Close is closed once its queue is sent.
func (f *fdConn) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.b
	if f.fd < 0 || b == nil {
		return
	}
	n, err := f.write(b.queue)
	b.queue = b.queue[:copy(b.queue, b.queue[n:])]
	if err != nil {
		b.queue = nil
	}
	if len(b.queue) > 0 {
		return
	}
	if cap(b.queue) > maxKeptBuffer {
		b.queue = nil
	}
	if f.closed {
		f.closeFD()
		return
	}
	if err == nil {
		f.wantWritable(false)
	}
}

// Close closes the socket, or, if writes are still queued, stops reading
// it and leaves it open until the queue is sent (flush), at most
// lingerTimeout: the queue may end with the Close frame.
func (f *fdConn) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return net.ErrClosed
	}
	f.closed = true
	if b := f.b; b != nil && len(b.queue) > 0 && b.err == nil {
		// Only writability matters now; a peer that keeps sending must
		// not wake the loop for nothing.
		if f.ctl(syscall.EPOLL_CTL_MOD, syscall.EPOLLOUT) == nil {
			time.AfterFunc(lingerTimeout, func() {
				f.mu.Lock()
				defer f.mu.Unlock()
				f.closeFD()
			})
			return nil
		}
	}
	return f.closeFD()
}

// closeFD closes the descriptor, once, which also takes it out of the
// epoll set, and takes f out of its loop. The caller holds mu.
func (f *fdConn) closeFD() error {
	if f.fd < 0 {
		return nil
	}
	err := syscall.Close(int(f.fd))
	f.fd = -1
	if f.b != nil {
		f.b.queue = nil
	}
	f.loop.remove(f)
	if err != nil {
		return f.opError("close", err)
	}
	return nil
}

func (f *fdConn) opError(op string, err error) error {
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	return &net.OpError{Op: op, Net: f.laddr.Network(), Source: f.laddr, Addr: f.raddr, Err: err}
}

// LocalAddr implements net.Conn.
func (f *fdConn) LocalAddr() net.Addr { return f.laddr }

// RemoteAddr implements net.Conn.
func (f *fdConn) RemoteAddr() net.Addr { return f.raddr }

// SetDeadline implements net.Conn.
func (f *fdConn) SetDeadline(t time.Time) error {
	f.SetReadDeadline(t)
	return f.SetWriteDeadline(t)
}

// SetReadDeadline implements net.Conn. Reads never wait, so there is
// nothing for a read deadline to bound.
func (f *fdConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline implements net.Conn. Writes never wait, so there is
// nothing for a write deadline to bound.
func (f *fdConn) SetWriteDeadline(time.Time) error { return nil }

// Queued implements drive.Transport.
func (f *fdConn) Queued() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.b == nil {
		return 0
	}
	return int64(len(f.b.queue))
}

// Raw implements drive.Transport.
func (f *fdConn) Raw() syscall.RawConn { return (*rawConn)(f) }

// A rawConn is an fdConn as a syscall.RawConn whose Read never waits.
type rawConn fdConn

func (r *rawConn) Control(fn func(fd uintptr)) error {
	f := (*fdConn)(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return net.ErrClosed
	}
	fn(uintptr(f.fd))
	return nil
}

// Read calls fn once: reads never wait under a loop.
func (r *rawConn) Read(fn func(fd uintptr) bool) error { return r.once(fn) }

// Write calls fn once, like Read.
func (r *rawConn) Write(fn func(fd uintptr) bool) error { return r.once(fn) }

// once calls fn with the descriptor and returns drive.ErrWouldBlock if fn
// asked to wait.
func (r *rawConn) once(fn func(fd uintptr) bool) error {
	f := (*fdConn)(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return net.ErrClosed
	}
	if !fn(uintptr(f.fd)) {
		return drive.ErrWouldBlock
	}
	return nil
}

//go:build unix

package conn

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/rfc6455/websocket/internal/drive"
)

// A Conn over a TCP or Unix socket holds no read buffer while it waits
// for the network, which is most of an idle connection's life: it waits
// for the socket to become readable through syscall.RawConn, takes a
// buffer from a pool only to read what arrived, and gives it back when a
// read finds nothing more. Every fill starts reading at the start of the
// buffer, so nothing in it is live when it goes back.

// borrowedReadSize is the size of the buffers borrowed for reading. Held
// only while bytes arrive, they can be larger than a buffer every
// connection keeps: a read takes in a whole batch of pipelined messages,
// whose replies then go out in one write (see cork.go).
const borrowedReadSize = 16 << 10

var readBuffers = sync.Pool{New: func() any { b := make([]byte, borrowedReadSize); return &b }}

// rawConnOf returns the raw connection of nc if nc is a socket whose
// reads can wait without a buffer: a *net.TCPConn or *net.UnixConn, and
// not a type that wraps one, whose Read may do more than read.
func rawConnOf(nc net.Conn) syscall.RawConn {
	var sc syscall.Conn
	switch nc := nc.(type) {
	case *net.TCPConn:
		sc = nc
	case *net.UnixConn:
		sc = nc
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// useRawReads makes c read through raw, starting with buffered. The
// caller has not given c a read buffer.
func (c *Conn) useRawReads(raw syscall.RawConn, buffered []byte) {
	c.raw = raw
	c.rawRead = c.readReady
	if len(buffered) > 0 {
		c.takeReadBuffer()
	}
}

// takeReadBuffer gives c a pooled read buffer.
func (c *Conn) takeReadBuffer() {
	c.rbufp = readBuffers.Get().(*[]byte)
	c.rbuf = *c.rbufp
}

// releaseReadBuffer gives the borrowed read buffer back, if c holds one.
func (c *Conn) releaseReadBuffer() {
	if c.rbufp != nil {
		readBuffers.Put(c.rbufp)
		c.rbufp, c.rbuf = nil, nil
	}
}

// fillRaw is fill for a Conn that reads through raw.
func (c *Conn) fillRaw() (int, error) {
	if c.drained {
		// A read that did not fill the buffer took all there was. Under a
		// driver, whose level-triggered wait reports the socket again if
		// more has come since, another read would only find nothing.
		c.drained = false
		c.releaseReadBuffer()
		return 0, drive.ErrWouldBlock
	}
	c.rawErr = nil
	if err := c.raw.Read(c.rawRead); err != nil {
		return 0, err
	}
	if c.rawErr != nil {
		return 0, c.rawErr
	}
	if c.rend == 0 {
		return 0, io.EOF
	}
	return c.rend, nil
}

// readReady reads from the socket fd into rbuf, taking a buffer if c
// has none, and reports whether the read is done; if nothing has arrived,
// it gives the buffer back and asks to wait (see syscall.RawConn).
func (c *Conn) readReady(fd uintptr) bool {
	if c.rbufp == nil {
		c.takeReadBuffer()
	}
	for {
		n, err := syscall.Read(int(fd), c.rbuf)
		switch err {
		case nil:
			c.rend = n // fill sets it again
			c.drained = c.driven.Load() && n > 0 && n < len(c.rbuf)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			c.releaseReadBuffer()
			return false
		}
		c.rawErr = os.NewSyscallError("read", err)
		return true
	}
}

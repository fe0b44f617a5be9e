// Package drive connects package conn, the protocol core, to drivers that
// do their own waiting: the event loop of package eventloop. Such a driver
// waits for many sockets at once and lets a Conn read only what has
// arrived, so no goroutine waits per connection.
//
// Package conn fills in Take when it is initialized; a driver calls it to
// take over a Conn. Nothing here is for applications.
package drive

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// ErrWouldBlock is returned by a Transport's reads when nothing has
// arrived, and by Session.Read when no whole message is available yet.
var ErrWouldBlock = errors.New("drive: nothing to read yet")

// A Transport replaces a Conn's network connection under a driver. Its
// reads never wait: they return ErrWouldBlock instead. Its writes never
// lose data: what the socket does not take at once is queued and written
// when the socket is writable.
type Transport interface {
	net.Conn

	// Raw returns the socket for reads that borrow a buffer only while
	// bytes arrive; its Read calls the function once and returns
	// ErrWouldBlock if the function asked to wait.
	Raw() syscall.RawConn

	// Queued returns the bytes accepted by writes and not yet written to
	// the socket.
	Queued() int64
}

// A Session is a Conn under a driver.
type Session interface {
	// Read returns the next whole message whose bytes have arrived,
	// appended to buf, or ErrWouldBlock. A message whose bytes have
	// partly arrived is kept for a later Read. Any other error means
	// the connection failed or was closed; if it failed for a protocol
	// violation, later Reads read what the peer sends until its Close
	// frame and return ErrWouldBlock until then. Read must not be
	// called from two goroutines at once.
	Read(buf []byte) (typ int, msg []byte, err error)

	// MaxBuffered returns the Conn's Options.MaxBufferedAmount: a driver
	// queues at least that much before it gives up on a peer.
	MaxBuffered() int64

	// Keepalive returns the Conn's keepalive interval, or 0.
	Keepalive() time.Duration

	// Tick does what the Conn's keepalive timer would: it pings a silent
	// peer and fails a connection silent for too long. A driver calls it
	// at least four times per keepalive interval.
	Tick()

	// Err returns why the connection ended.
	Err() error
}

// Take makes the Conn c (a *conn.Conn) read and write through the
// Transport wrap returns for its network connection, and returns the
// Session through which a driver reads it. It waits for a write in
// progress to end. It fails, leaving c as it was, if wrap fails or c is
// being read, driven already or closed.
var Take func(c any, wrap func(nc net.Conn) (Transport, error)) (Session, error)

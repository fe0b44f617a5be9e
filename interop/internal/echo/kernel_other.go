//go:build !linux

package echo

import (
	"errors"
	"net"
	"time"
)

// errNotLinux is why the event-loop echo server cannot count bytes nor
// route connections here: both take Linux system calls.
var errNotLinux = errors.New("echo: the kernel's byte counts and peeking need Linux")

// kernelBytes returns the bytes the TCP connection has received and has
// had acknowledged; only on Linux.
func kernelBytes(local, remote net.Addr) (in, out int64, err error) { return 0, 0, errNotLinux }

// peekRequestLine returns the first line the peer has sent, without
// consuming it; only on Linux.
func peekRequestLine(tc *net.TCPConn, deadline time.Time) (string, error) { return "", errNotLinux }

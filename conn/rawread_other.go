//go:build !unix && !js

package conn

import (
	"errors"
	"net"
	"syscall"
)

// rawConnOf returns nil: reads that wait without a buffer are implemented
// on Unix systems only.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

func (c *Conn) useRawReads(syscall.RawConn, []byte) {}

func (c *Conn) fillRaw() (int, error) { return 0, errors.ErrUnsupported }

// borrowedReadSize is 0 where no buffer is borrowed (rawConnOf returns
// nil).
const borrowedReadSize = 0

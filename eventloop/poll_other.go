//go:build !linux

package eventloop

import (
	"errors"

	"github.com/rfc6455/websocket/conn"
)

// Where there is no event loop, every Conn is served by a goroutine of its
// own (Server.serveBlocking), with the same API.

var (
	errNotSocket    = errors.New("eventloop: no event loop on this system")
	errTooManyFiles = errors.New("eventloop: too many open files") // never matched
)

type poller struct{}

func newPoller(*Server, int) (*poller, error) { return nil, nil }

func (*poller) add(*conn.Conn) error { return errNotSocket }
func (*poller) conns() []*conn.Conn  { return nil }
func (*poller) stop()                {}

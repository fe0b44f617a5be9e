// Package hooktest records the calls of conn.Options.OnOpen and OnClose,
// for the tests of the packages that make Conns (server, the HTTP/2 tests,
// the interop checks). Package conn's own tests keep a recorder of their
// own, since they cannot import this package.
package hooktest

import (
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
)

// A Log records what the hooks of one server or client saw. Its zero value
// is ready; Options must be called before the hooks run.
type Log struct {
	mu     sync.Mutex
	opened int
	codes  []conn.CloseCode
	stats  conn.Stats // as OnClose read them
	closed chan struct{}
}

// Options returns conn.Options whose hooks record into l. onOpen, if not
// nil, runs in OnOpen after it was recorded.
func (l *Log) Options(onOpen func(c *conn.Conn)) conn.Options {
	l.closed = make(chan struct{}, 10)
	return conn.Options{
		OnOpen: func(c *conn.Conn) {
			l.mu.Lock()
			l.opened++
			l.mu.Unlock()
			if onOpen != nil {
				onOpen(c)
			}
		},
		OnClose: func(c *conn.Conn, code conn.CloseCode, _ error) {
			l.mu.Lock()
			l.codes = append(l.codes, code)
			l.stats = c.Stats()
			l.mu.Unlock()
			l.closed <- struct{}{}
		},
	}
}

// Wait waits up to timeout for OnClose, checks that each hook ran once,
// OnClose with code, and returns the counters OnClose read. end names the
// endpoint in failures.
func (l *Log) Wait(t testing.TB, end string, code conn.CloseCode, timeout time.Duration) conn.Stats {
	t.Helper()
	select {
	case <-l.closed:
	case <-time.After(timeout):
		t.Fatalf("%s: OnClose not called within %v", end, timeout)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opened != 1 || len(l.codes) != 1 || l.codes[0] != code {
		t.Errorf("%s: OnOpen called %d times, OnClose with %v; want once each, with %v", end, l.opened, l.codes, code)
	}
	return l.stats
}

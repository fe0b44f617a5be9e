package conn

import (
	"context"
	"sync"
)

// A ctxLock is a mutex whose Lock gives up when a context ends or the
// connection closes. Unlike a channel used as a mutex it costs no
// allocation until two goroutines contend for it: a waiter makes the
// channel that the next unlock closes to wake every waiter, who then
// try again.
type ctxLock struct {
	mu   sync.Mutex
	held bool
	wake chan struct{} // made by the first waiter, closed by unlock
}

// lock acquires l, or returns ctx's error or the error for a closed c.
func (l *ctxLock) lock(ctx context.Context, c *Conn) error {
	l.mu.Lock()
	for l.held {
		if l.wake == nil {
			l.wake = make(chan struct{})
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done():
			return c.closedErr()
		}
		l.mu.Lock()
	}
	l.held = true
	l.mu.Unlock()
	return nil
}

// tryLock acquires l if it is free and reports whether it did.
func (l *ctxLock) tryLock() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held {
		return false
	}
	l.held = true
	return true
}

// unlock releases l and wakes its waiters.
func (l *ctxLock) unlock() {
	l.mu.Lock()
	l.held = false
	if l.wake != nil {
		close(l.wake)
		l.wake = nil
	}
	l.mu.Unlock()
}

// closedChan is a closed channel, the done channel of a Conn that closed
// before anyone waited for it.
var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// done returns a channel that is closed when the connection closes. It is
// made on the first call, so a Conn nobody waits on costs no channel.
func (c *Conn) done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closedCh == nil {
		if c.State() == Closed {
			return closedChan
		}
		c.closedCh = make(chan struct{})
	}
	return c.closedCh
}

// isShut reports whether the network connection has been closed.
func (c *Conn) isShut() bool { return c.State() == Closed }

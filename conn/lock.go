package conn

import (
	"context"
	"sync"
)

// A ctxLock is a mutex whose lock gives up when a context ends or the
// connection closes. Unlike a channel used as a mutex it costs no
// allocation until two goroutines contend for it. The first waiter makes
// wake, a channel of one token that stays for the life of the lock; each
// unlock that finds waiters leaves a token there, which wakes one of them
// to try again. A token is never lost: one left for a waiter that gave up
// wakes the next, and a stale one only makes a waiter look again.
type ctxLock struct {
	mu      sync.Mutex
	held    bool
	waiters int
	wake    chan struct{} // capacity 1; made by the first waiter
}

// lock acquires l, or returns ctx's error or the error for a closed c.
func (l *ctxLock) lock(ctx context.Context, c *Conn) error {
	l.mu.Lock()
	if !l.held {
		l.held = true
		l.mu.Unlock()
		return nil
	}
	if l.wake == nil {
		l.wake = make(chan struct{}, 1)
	}
	wake := l.wake
	l.waiters++
	for l.held {
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			l.gaveUp()
			return ctx.Err()
		case <-c.done():
			l.gaveUp()
			return c.closedErr()
		}
		l.mu.Lock()
	}
	l.waiters--
	l.held = true
	l.mu.Unlock()
	return nil
}

// gaveUp records that a waiter stopped waiting. A token left for it stays
// in wake for the next waiter.
func (l *ctxLock) gaveUp() {
	l.mu.Lock()
	l.waiters--
	l.mu.Unlock()
}

// signal leaves a token for a waiter, if none is there yet. The caller
// holds mu.
func (l *ctxLock) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
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

// unlock releases l and wakes one waiter, if any.
func (l *ctxLock) unlock() {
	l.mu.Lock()
	l.held = false
	if l.waiters > 0 {
		l.signal()
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

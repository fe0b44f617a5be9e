//go:build !js

package conn

import (
	"context"
	"sync"
	"sync/atomic"
)

// A ctxLock is a mutex whose lock gives up when a context ends or the
// connection closes. Unlike a channel used as a mutex it costs no
// allocation until two goroutines contend for it, and uncontended it costs
// one atomic operation to lock and two to unlock.
//
// A goroutine that finds it held counts itself in waiters and waits on
// wake, a channel of one token made by the first waiter and kept for the
// life of the lock; each unlock that sees waiters leaves a token there,
// which wakes one of them to try again. A token is never lost: one left for
// a waiter that gave up wakes the next, and a stale one only makes a waiter
// look again. A waiter counts itself before it tries the lock, and an
// unlock frees the lock before it looks at the count, so either the waiter
// takes the lock or the unlock sees the waiter.
type ctxLock struct {
	held    atomic.Bool
	waiters atomic.Int32
	mu      sync.Mutex    // guards making wake
	wake    chan struct{} // capacity 1; made by the first waiter
}

// lock acquires l, or returns ctx's error or the error for a closed c.
func (l *ctxLock) lock(ctx context.Context, c *Conn) error {
	if l.held.CompareAndSwap(false, true) {
		return nil
	}
	l.mu.Lock()
	if l.wake == nil {
		l.wake = make(chan struct{}, 1)
	}
	wake := l.wake
	l.mu.Unlock()
	l.waiters.Add(1)
	defer l.waiters.Add(-1)
	for !l.held.CompareAndSwap(false, true) {
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done():
			return c.closedErr()
		}
	}
	return nil
}

// tryLock acquires l if it is free and reports whether it did.
func (l *ctxLock) tryLock() bool { return l.held.CompareAndSwap(false, true) }

// unlock releases l and wakes one waiter, if any.
func (l *ctxLock) unlock() {
	l.held.Store(false)
	if l.waiters.Load() > 0 {
		l.mu.Lock()
		wake := l.wake
		l.mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
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

//go:build !js

package conn

import (
	"context"
	"sync"
	"time"
)

// aLongTimeAgo is a deadline in the past, for interrupting I/O.
var aLongTimeAgo = time.Unix(1, 0)

// A watcher interrupts the reads (or the writes) of nc when the context of
// the call in progress ends, by moving nc's deadline into the past.
//
// It stays registered with a context from one call to the next, so that
// calls made with the same context (a request's context, say) allocate
// nothing: only a context with a new Done channel costs a
// context.AfterFunc. Between calls an ending context only marks the
// watcher; the deadline moves only while a call is in progress, so that
// other I/O (a pong written between messages) is never cut.
//
// begin and end bracket one call; the calls of a watcher are serialized by
// the Conn's locks (rlock for reads, wframe for writes).
type watcher struct {
	c  *Conn
	mu sync.Mutex

	done   <-chan struct{} // Done of the context watched, or nil
	stop   func() bool     // stops the context.AfterFunc for done
	read   bool            // watches reads, not writes
	active bool            // a call is in progress under done
	ended  bool            // the context watched has ended
}

func (w *watcher) setDeadline(t time.Time) {
	if w.read {
		w.c.nc.SetReadDeadline(t)
	} else {
		w.c.nc.SetWriteDeadline(t)
	}
}

// begin starts watching ctx for a call and reports whether it does: a
// context that cannot end needs no watching.
func (w *watcher) begin(ctx context.Context) bool {
	done := ctx.Done()
	if done == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if done != w.done {
		if w.stop != nil {
			w.stop()
		}
		w.done, w.ended = done, false
		w.stop = context.AfterFunc(ctx, func() { w.fire(done) })
	}
	w.active = true
	if w.ended {
		w.setDeadline(aLongTimeAgo)
	}
	return true
}

// fire runs when the context with the given Done channel ends; a context
// no longer watched is ignored.
func (w *watcher) fire(done <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if done != w.done {
		return
	}
	w.ended = true
	if w.active {
		w.setDeadline(aLongTimeAgo)
	}
}

// end finishes a call that begin watched and reports whether its context
// ended, in which case it clears the deadline it had set.
func (w *watcher) end() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.active = false
	if w.ended {
		w.setDeadline(time.Time{})
	}
	return w.ended
}

// interrupted reports whether the context of the call in progress has
// ended.
func (w *watcher) interrupted() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.active && w.ended
}

// release stops watching, so that a closed Conn is not kept alive by a
// context that outlives it.
func (w *watcher) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		w.stop()
		w.stop, w.done = nil, nil
	}
}

//go:build !js

package conn

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
)

func TestCtxLock(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := mustNew(t, a, frame.Server, nil, nil)
	var l ctxLock
	if err := l.lock(ctx, c); err != nil {
		t.Fatal(err)
	}
	if l.tryLock() {
		t.Fatal("tryLock took a held lock")
	}

	// A waiter whose context ends gives up with the context's error.
	tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := l.lock(tctx, c); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock of a held lock under an ending context = %v, want context.DeadlineExceeded", err)
	}

	// Waiters are woken by unlock, one at a time holding the lock.
	const waiters, rounds = 8, 200
	var wg sync.WaitGroup
	held := 0
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := l.lock(ctx, c); err != nil {
					t.Error(err)
					return
				}
				held++ // the race detector checks that the lock excludes
				l.unlock()
			}
		}()
	}
	l.unlock()
	wg.Wait()
	if held != waiters*rounds {
		t.Fatalf("held %d times, want %d", held, waiters*rounds)
	}

	// Closing the connection wakes a waiter with an error matching
	// net.ErrClosed.
	if !l.tryLock() {
		t.Fatal("tryLock failed on a free lock")
	}
	errc := make(chan error, 1)
	go func() { errc <- l.lock(ctx, c) }()
	time.Sleep(10 * time.Millisecond) // let it wait; the test holds either way
	c.CloseNow()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("lock after close = %v, want net.ErrClosed", err)
	}
	if err := l.lock(ctx, c); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("lock of a held lock on a closed Conn = %v, want net.ErrClosed", err)
	}
}

// TestCtxLockWaitersGivingUp has waiters whose contexts end while others
// wait on, so that tokens are left for waiters who gave up; a lost wakeup
// would leave the rest waiting until the test's timeout.
func TestCtxLockWaitersGivingUp(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := mustNew(t, a, frame.Server, nil, nil)
	defer c.CloseNow()
	var l ctxLock
	var wg sync.WaitGroup
	held, gaveUp := 0, 0
	var mu sync.Mutex
	for i := range 16 {
		wg.Go(func() {
			for range 300 {
				lctx, cancel := ctx, context.CancelFunc(func() {})
				if i%2 == 0 {
					lctx, cancel = context.WithTimeout(ctx, time.Duration(i)*time.Microsecond)
				}
				err := l.lock(lctx, c)
				cancel()
				if err != nil {
					mu.Lock()
					gaveUp++
					mu.Unlock()
					continue
				}
				held++
				runtime.Gosched() // so that others come to wait
				l.unlock()
			}
		})
	}
	wg.Wait()
	if held+gaveUp != 16*300 || held < 8*300 {
		t.Fatalf("held %d times and gave up %d times, want %d in all and at least %d held", held, gaveUp, 16*300, 8*300)
	}
	if l.held.Load() || l.waiters.Load() != 0 {
		t.Fatalf("after all: held=%v waiters=%d, want a free lock with no waiters", l.held.Load(), l.waiters.Load())
	}
}

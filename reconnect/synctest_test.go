package reconnect

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/conn"
)

// The tests in this file run in testing/synctest bubbles over net.Pipe:
// time is fake, so delays of seconds or hours pass at once and exactly,
// and synctest.Test fails if any goroutine the test started (the Conn's
// among them) is left blocked at the end.

const pipeURL = "ws://pipe.test/"

// closeWith upgrades and closes the connection with code.
func closeWith(code conn.CloseCode) serveFunc {
	return func(i int, nc net.Conn) {
		if c := upgrade(nc); c != nil {
			c.Close(code, "")
		}
	}
}

// TestBackoffWaits checks the waits between dials against the full jitter
// formula, with the random draw at its largest, at its smallest, and from
// math/rand: after n failed dials, the wait is within
// [0, min(MaxDelay, MinDelay×2^n)], is what OnDisconnect was told, and
// MaxAttempts failed dials give up with an error that wraps the last.
// TestMaxDowntime: with the largest waits (2, 4, 8, 16 s after 1 to 4
// failed dials) and MaxDowntime 25 s, the Conn dials at 0, 2, 6 and 14 s
// and gives up at 14 s rather than wait until 30 s.
func TestMaxDowntime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var dials []time.Duration
		start := time.Now()
		p := &pipeNet{serve: func(int) serveFunc {
			dials = append(dials, time.Since(start))
			return nil
		}}
		opts := &Options{
			Client:      p.clientOptions(),
			MinDelay:    time.Second,
			MaxDelay:    20 * time.Second,
			MaxDowntime: 25 * time.Second,
			MaxAttempts: 10, // ends the test if MaxDowntime did not
			randN:       maxRand,
		}
		_, err := Dial(ctx, pipeURL, opts)
		if !errors.Is(err, ErrGaveUp) || !isRefused(err) {
			t.Fatalf("Dial = %v, want an error matching ErrGaveUp and the refusal", err)
		}
		want := []time.Duration{0, 2 * time.Second, 6 * time.Second, 14 * time.Second}
		if !slices.Equal(dials, want) {
			t.Errorf("dials at %v, want %v", dials, want)
		}
		if gaveUp := time.Since(start); gaveUp != 14*time.Second {
			t.Errorf("gave up after %v, want 14s", gaveUp)
		}
	})
}

func TestBackoffWaits(t *testing.T) {
	tests := []struct {
		name  string
		randN func(int64) int64
		exact bool // the wait is the bound itself
	}{
		{"largest", maxRand, true},
		{"smallest", zeroRand, false},
		{"math/rand", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &pipeNet{serve: func(int) serveFunc { return nil }}
				var mu sync.Mutex
				var dials []time.Time
				p.serve = func(int) serveFunc {
					mu.Lock()
					dials = append(dials, time.Now())
					mu.Unlock()
					return nil
				}
				rec := newRecorder()
				opts := &Options{
					Client:       p.clientOptions(),
					MinDelay:     time.Second,
					MaxDelay:     20 * time.Second,
					MaxAttempts:  8,
					OnDisconnect: rec.onDisconnect,
					randN:        tt.randN,
				}
				_, err := Dial(ctx, pipeURL, opts)
				if !errors.Is(err, ErrGaveUp) || !isRefused(err) {
					t.Fatalf("Dial = %v, want an error matching ErrGaveUp and the refusal", err)
				}
				calls := rec.get()
				if len(dials) != 8 || len(calls) != 8 {
					t.Fatalf("%d dials and %d calls of OnDisconnect, want 8 of each", len(dials), len(calls))
				}
				bounds := []time.Duration{2, 4, 8, 16, 20, 20, 20} // seconds, after 1 to 7 failed dials
				for i, bound := range bounds {
					bound *= time.Second
					wait := dials[i+1].Sub(dials[i])
					if wait != calls[i].next {
						t.Errorf("wait %d: %v, but OnDisconnect was told %v", i, wait, calls[i].next)
					}
					if wait < 0 || wait > bound || tt.exact && wait != bound {
						t.Errorf("wait %d: %v, want within [0, %v]", i, wait, bound)
					}
					if tt.randN != nil && !tt.exact && wait != 0 {
						t.Errorf("wait %d: %v, want 0", i, wait)
					}
				}
				if last := calls[7]; last.next >= 0 || last.err != err {
					t.Errorf("last OnDisconnect call: %v, %v; want Dial's error and a negative next", last.err, last.next)
				}
			})
		})
	}
}

// TestRetryAfterWait has the server refuse with 503 and Retry-After: 7,
// then accept: the second dial comes 7 s after the first, plus the random
// wait (zero here).
func TestRetryAfterWait(t *testing.T) {
	for _, header := range []string{"Retry-After: 7\r\n", ""} {
		t.Run(fmt.Sprintf("%q", header), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var dials []time.Time
				p := &pipeNet{}
				p.serve = func(i int) serveFunc {
					dials = append(dials, time.Now())
					if i == 0 {
						return func(_ int, nc net.Conn) { refuse(nc, 503, header) }
					}
					return greet
				}
				r, err := Dial(ctx, pipeURL, &Options{Client: p.clientOptions(), randN: zeroRand})
				if err != nil {
					t.Fatal(err)
				}
				want := time.Duration(0)
				if header != "" {
					want = 7 * time.Second
				}
				if wait := dials[1].Sub(dials[0]); wait != want {
					t.Errorf("second dial %v after the first, want %v", wait, want)
				}
				r.CloseNow()
				p.wg.Wait()
			})
		})
	}
}

// TestGiveUpAfterDrop has the server restart (1012) and never come back:
// after MaxAttempts refused dials Read returns an error matching ErrGaveUp
// and the last refusal, and the goroutine has ended.
func TestGiveUpAfterDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &pipeNet{}
		p.serve = func(i int) serveFunc {
			if i == 0 {
				return closeWith(conn.CloseServiceRestart)
			}
			return nil
		}
		rec := newRecorder()
		r, err := Dial(ctx, pipeURL, &Options{Client: p.clientOptions(), MaxAttempts: 3, OnDisconnect: rec.onDisconnect})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = r.Read(ctx, nil)
		if !errors.Is(err, ErrGaveUp) || !isRefused(err) {
			t.Fatalf("Read = %v, want an error matching ErrGaveUp and the refusal", err)
		}
		if n := p.n.Load(); n != 4 {
			t.Errorf("%d dials, want 4: the first connection and 3 attempts", n)
		}
		if err2 := r.Write(ctx, conn.Text, []byte("x")); err2 != err {
			t.Errorf("Write after giving up = %v, want %v", err2, err)
		}
		if s := r.State(); s != conn.Closed {
			t.Errorf("State = %v, want closed", s)
		}
		synctest.Wait()
		if !goroutineEnded(r) {
			t.Error("the redialing goroutine is still running")
		}
		calls := rec.get()
		if len(calls) != 4 || !isCloseCode(conn.CloseServiceRestart)(calls[0].err) || calls[3].next >= 0 {
			t.Errorf("OnDisconnect calls %v, want the 1012, two refusals with waits, and the end", calls)
		}
		p.wg.Wait()
	})
}

// TestQueueFlush writes while the connection is down and checks what the
// next connection's server receives: OnConnect's message first, then the
// queued ones in order as the policy left them, then a later write.
func TestQueueFlush(t *testing.T) {
	tests := []struct {
		name     string
		maxMsgs  int
		maxBytes int64
		policy   QueuePolicy
		wantErrs []error // of the writes of q0 to q3
		want     []string
	}{{
		name:     "no queue",
		wantErrs: []error{ErrNotConnected, ErrNotConnected, ErrNotConnected, ErrNotConnected},
		want:     []string{"auth", "live"},
	}, {
		name:     "reject new",
		maxMsgs:  3,
		wantErrs: []error{nil, nil, nil, ErrQueueFull},
		want:     []string{"auth", "q0", "q1", "q2", "live"},
	}, {
		name:     "drop oldest",
		maxMsgs:  3,
		policy:   DropOldest,
		wantErrs: []error{nil, nil, nil, nil},
		want:     []string{"auth", "q1", "q2", "q3", "live"},
	}, {
		name:     "drop oldest by bytes",
		maxBytes: 4,
		policy:   DropOldest,
		wantErrs: []error{nil, nil, nil, nil},
		want:     []string{"auth", "q2", "q3", "live"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				received := make(chan string, 10)
				p := &pipeNet{}
				p.serve = func(i int) serveFunc {
					if i == 0 {
						return closeWith(conn.CloseTryAgainLater)
					}
					return func(_ int, nc net.Conn) {
						c := upgrade(nc)
						if c == nil {
							return
						}
						defer c.CloseNow()
						for {
							_, msg, err := c.Read(ctx, nil)
							if err != nil {
								close(received)
								return
							}
							received <- string(msg)
						}
					}
				}
				var r *Conn
				opts := &Options{
					Client:        p.clientOptions(),
					QueueMessages: tt.maxMsgs,
					QueueBytes:    tt.maxBytes,
					QueuePolicy:   tt.policy,
					OnConnect: func(c *conn.Conn, _ *http.Response) {
						if r != nil { // not on the first connection
							c.Write(ctx, conn.Text, []byte("auth"))
						}
					},
				}
				r, err := Dial(ctx, pipeURL, opts)
				if err != nil {
					t.Fatal(err)
				}
				reads := make(chan error, 1)
				go func() {
					_, _, err := r.Read(ctx, nil)
					reads <- err
				}()
				synctest.Wait() // the 1013 was read; the Conn waits to dial
				if s := r.State(); s != conn.Connecting {
					t.Fatalf("State = %v, want connecting", s)
				}
				for i, want := range tt.wantErrs {
					if err := r.Write(ctx, conn.Text, fmt.Appendf(nil, "q%d", i)); err != want {
						t.Errorf("Write q%d = %v, want %v", i, err, want)
					}
				}
				var got []string
				for len(got) < len(tt.want)-1 {
					got = append(got, <-received)
				}
				synctest.Wait() // the new connection is open
				if s := r.State(); s != conn.Open {
					t.Errorf("State = %v, want open", s)
				}
				if err := r.Write(ctx, conn.Text, []byte("live")); err != nil {
					t.Errorf("Write once connected = %v", err)
				}
				got = append(got, <-received)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("server received (-want +got):\n%s", diff)
				}
				r.CloseNow()
				if err := <-reads; !errors.Is(err, net.ErrClosed) {
					t.Errorf("Read = %v, want an error matching net.ErrClosed", err)
				}
				p.wg.Wait()
			})
		})
	}
}

// TestClosePrompt calls Close while the Conn waits an hour to dial again,
// while a dial waits for a server that never answers, and from
// OnDisconnect and OnConnect: Close returns without any time passing, the
// blocked Read returns an error matching net.ErrClosed, and no goroutine
// is left (synctest.Test fails otherwise).
func TestClosePrompt(t *testing.T) {
	hang := func(_ int, nc net.Conn) {
		nc.Read(make([]byte, 4096)) // the request; then no answer until the client leaves
		nc.Read(make([]byte, 1))
		nc.Close()
	}
	tests := []struct {
		name         string
		second       serveFunc // the server's second connection; nil refuses
		fromCallback string    // "OnDisconnect", "OnConnect" or ""
	}{
		{name: "during the backoff"},
		{name: "during a dial", second: hang},
		{name: "from OnDisconnect", fromCallback: "OnDisconnect"},
		{name: "from OnConnect", second: greet, fromCallback: "OnConnect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &pipeNet{}
				p.serve = func(i int) serveFunc {
					switch i {
					case 0:
						return closeWith(conn.CloseGoingAway)
					case 1:
						return tt.second
					}
					t.Errorf("dial %d: want no more than 2", i)
					return nil
				}
				var r *Conn
				closed := make(chan error, 1)
				opts := &Options{Client: p.clientOptions(), MinDelay: time.Hour, MaxDelay: time.Hour, randN: zeroRand}
				if tt.second == nil {
					opts.randN = maxRand // wait the full hour
				}
				switch tt.fromCallback {
				case "OnDisconnect":
					opts.OnDisconnect = func(error, time.Duration) { closed <- r.CloseNow() }
				case "OnConnect":
					opts.OnConnect = func(*conn.Conn, *http.Response) {
						if r != nil {
							closed <- r.Close(conn.CloseNormalClosure, "")
						}
					}
				}
				r, err := Dial(ctx, pipeURL, opts)
				if err != nil {
					t.Fatal(err)
				}
				reads := make(chan error, 1)
				go func() {
					_, _, err := r.Read(ctx, nil)
					reads <- err
				}()
				synctest.Wait()
				if tt.fromCallback == "" {
					start := time.Now()
					closed <- r.Close(conn.CloseNormalClosure, "")
					if d := time.Since(start); d != 0 {
						t.Errorf("Close took %v of fake time, want none", d)
					}
					if !goroutineEnded(r) {
						t.Error("Close returned before the redialing goroutine ended")
					}
				}
				if err := <-closed; err != nil {
					t.Errorf("Close = %v", err)
				}
				if err := <-reads; !errors.Is(err, net.ErrClosed) {
					t.Errorf("Read = %v, want an error matching net.ErrClosed", err)
				}
				if err := r.CloseNow(); !errors.Is(err, net.ErrClosed) {
					t.Errorf("second close = %v, want an error matching net.ErrClosed", err)
				}
				if err := r.Write(ctx, conn.Text, []byte("x")); !errors.Is(err, net.ErrClosed) {
					t.Errorf("Write after Close = %v, want an error matching net.ErrClosed", err)
				}
				synctest.Wait()
				if !goroutineEnded(r) {
					t.Error("the redialing goroutine outlived Close")
				}
				p.wg.Wait()
			})
		})
	}
}

// TestReadContext ends a Read's context while the Conn waits to dial
// again: Read returns the context's error, and the next Read gets the
// message of the next connection.
func TestReadContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &pipeNet{}
		p.serve = func(i int) serveFunc {
			if i == 0 {
				return closeWith(conn.CloseServiceRestart)
			}
			return greet
		}
		r, err := Dial(ctx, pipeURL, &Options{Client: p.clientOptions(), MinDelay: 10 * time.Second, randN: maxRand})
		if err != nil {
			t.Fatal(err)
		}
		defer p.wg.Wait()
		defer r.CloseNow()
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, _, err := r.Read(short, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read = %v, want context.DeadlineExceeded", err)
		}
		if _, msg, err := r.Read(ctx, nil); err != nil || string(msg) != "hello 1" {
			t.Fatalf("next Read = %q, %v; want hello 1", msg, err)
		}
	})
}

// TestDialContext ends the first Dial's context while it waits between
// refused dials: the error matches the context's and the last refusal.
func TestDialContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &pipeNet{serve: func(int) serveFunc { return nil }}
		short, cancel := context.WithTimeout(ctx, 4500*time.Millisecond)
		defer cancel()
		_, err := Dial(short, pipeURL, &Options{Client: p.clientOptions(), MinDelay: time.Second, MaxDelay: time.Second, randN: maxRand})
		if !errors.Is(err, context.DeadlineExceeded) || !isRefused(err) {
			t.Fatalf("Dial = %v, want an error matching context.DeadlineExceeded and the refusal", err)
		}
		if n := p.n.Load(); n != 5 {
			t.Errorf("%d dials in 4.5 s, one a second, want 5", n)
		}
	})
}

// TestNotRetried checks that a handshake refused for good, a bad URL and
// bad client options fail the first Dial without a second dial.
func TestNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &pipeNet{serve: func(int) serveFunc { return func(_ int, nc net.Conn) { refuse(nc, 401, "") } }}
		// MaxAttempts only bounds this test if 401 is retried by mistake.
		if _, err := Dial(ctx, pipeURL, &Options{Client: p.clientOptions(), MaxAttempts: 5}); !isStatus(401)(err) {
			t.Errorf("Dial = %v, want the 401", err)
		}
		if n := p.n.Load(); n != 1 {
			t.Errorf("%d dials, want 1", n)
		}
		if _, err := Dial(ctx, "http://pipe.test/", &Options{Client: p.clientOptions()}); err == nil {
			t.Error("Dial of an http URL succeeded")
		}
		bad := p.clientOptions()
		bad.Subprotocols = []string{"a b"}
		if _, err := Dial(ctx, pipeURL, &Options{Client: bad}); err == nil {
			t.Error("Dial with a bad subprotocol succeeded")
		}
		if n := p.n.Load(); n != 1 {
			t.Errorf("%d dials, want still 1", n)
		}
		p.wg.Wait()
	})
}

// TestWriteDuringFlush writes while queued messages are being sent on a
// new connection: the write is queued behind them (it returns at once and
// arrives last) rather than overtaking them on the connection.
func TestWriteDuringFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		received := make(chan string, 10)
		p := &pipeNet{}
		p.serve = func(i int) serveFunc {
			if i == 0 {
				return closeWith(conn.CloseTryAgainLater)
			}
			return func(_ int, nc net.Conn) {
				c := upgrade(nc)
				if c == nil {
					return
				}
				defer c.CloseNow()
				<-gate // net.Pipe has no buffer: the client's writes wait for this
				for {
					_, msg, err := c.Read(ctx, nil)
					if err != nil {
						close(received)
						return
					}
					received <- string(msg)
				}
			}
		}
		r, err := Dial(ctx, pipeURL, &Options{Client: p.clientOptions(), QueueMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		go r.Read(ctx, nil)
		synctest.Wait()
		for _, m := range []string{"q0", "q1"} {
			if err := r.Write(ctx, conn.Text, []byte(m)); err != nil {
				t.Fatalf("Write %s = %v", m, err)
			}
		}
		time.Sleep(2 * time.Second) // past the wait: the Conn dials and starts sending q0
		synctest.Wait()
		wrote := make(chan error, 1)
		go func() { wrote <- r.Write(ctx, conn.Text, []byte("live")) }()
		synctest.Wait()
		select {
		case err := <-wrote:
			if err != nil {
				t.Errorf("Write during the flush = %v, want it queued", err)
			}
		default:
			t.Error("Write during the flush blocked, want it queued")
		}
		close(gate)
		var got []string
		for range 3 {
			got = append(got, <-received)
		}
		if diff := cmp.Diff([]string{"q0", "q1", "live"}, got); diff != "" {
			t.Errorf("server received (-want +got):\n%s", diff)
		}
		r.CloseNow()
		p.wg.Wait()
	})
}

// TestLostConnClosed has the server send a Close frame (1012) and leave
// the TCP connection open: the Conn closes it at once rather than leave
// it, and a goroutine of the conn package watching it, for
// conn.Options.CloseTimeout while it waits to dial again.
func TestLostConnClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		serverDone := make(chan struct{})
		p := &pipeNet{}
		p.serve = func(i int) serveFunc {
			if i > 0 {
				return nil
			}
			return func(_ int, nc net.Conn) {
				defer close(serverDone)
				if upgrade(nc) == nil {
					return
				}
				nc.Write([]byte{0x88, 0x02, 0x03, 0xf4}) // Close, 1012, unmasked; the Conn is left alone
				for {
					if _, err := nc.Read(make([]byte, 64)); err != nil {
						return
					}
				}
			}
		}
		r, err := Dial(ctx, pipeURL, &Options{Client: p.clientOptions(), MinDelay: time.Hour, MaxDelay: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		go r.Read(ctx, nil)
		synctest.Wait()
		select {
		case <-serverDone:
		default:
			t.Error("the lost connection is still open")
		}
		r.CloseNow()
		p.wg.Wait()
	})
}

// TestMisuse checks the errors of calls that cannot be honoured, and that
// they leave the Conn working: a message type that is neither text nor
// binary, a context already ended while disconnected (nothing is queued),
// a close code that may not be sent.
func TestMisuse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		received := make(chan string, 10)
		p := &pipeNet{}
		p.serve = func(i int) serveFunc {
			if i == 0 {
				return closeWith(conn.CloseTryAgainLater)
			}
			return func(_ int, nc net.Conn) {
				c := upgrade(nc)
				if c == nil {
					return
				}
				defer c.CloseNow()
				for {
					_, msg, err := c.Read(ctx, nil)
					if err != nil {
						return
					}
					received <- string(msg)
				}
			}
		}
		r, err := Dial(ctx, pipeURL, &Options{Client: p.clientOptions(), QueueMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		reads := make(chan error, 1)
		go func() {
			_, _, err := r.Read(ctx, nil)
			reads <- err
		}()
		synctest.Wait()
		if err := r.Write(ctx, conn.MessageType(9), []byte("x")); err == nil {
			t.Error("Write of type 9 succeeded")
		}
		done, cancel := context.WithCancel(ctx)
		cancel()
		if err := r.Write(done, conn.Text, []byte("cancelled")); !errors.Is(err, context.Canceled) {
			t.Errorf("Write with an ended context = %v, want context.Canceled", err)
		}
		if err := r.Close(1005+1, ""); err == nil || errors.Is(err, net.ErrClosed) {
			t.Errorf("Close(1006) = %v, want an error about the code", err)
		}
		if err := r.Write(ctx, conn.Text, []byte("queued")); err != nil {
			t.Errorf("Write = %v", err)
		}
		if got := <-received; got != "queued" {
			t.Errorf("server received %q first, want queued", got)
		}
		if err := r.Close(conn.CloseNormalClosure, ""); err != nil {
			t.Errorf("Close = %v", err)
		}
		if err := <-reads; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read = %v, want an error matching net.ErrClosed", err)
		}
		p.wg.Wait()
	})
}

func TestDelayExtremes(t *testing.T) {
	o, err := (&Options{MinDelay: time.Hour, MaxDelay: math.MaxInt64}).validate()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 40, 1000} {
		for _, rnd := range []func(int64) int64{zeroRand, maxRand, randN} {
			d := o.delay(n, handshakeError(503, "600"), rnd)
			if d < 10*time.Minute {
				t.Errorf("delay(%d) = %v, want at least the Retry-After, and no overflow", n, d)
			}
		}
	}
}

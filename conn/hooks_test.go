//go:build !js

package conn

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// A hookRecorder records the calls of Options.OnOpen and OnClose.
type hookRecorder struct {
	mu     sync.Mutex
	opened []*Conn
	closed map[*Conn][]closeCall
	calls  chan struct{} // receives a token on every OnClose call
}

type closeCall struct {
	code CloseCode
	err  error
}

func newHookRecorder() *hookRecorder {
	return &hookRecorder{closed: map[*Conn][]closeCall{}, calls: make(chan struct{}, 100)}
}

// options returns o with hooks that record into r.
func (r *hookRecorder) options(o Options) *Options {
	o.OnOpen = func(c *Conn) {
		r.mu.Lock()
		r.opened = append(r.opened, c)
		r.mu.Unlock()
	}
	o.OnClose = func(c *Conn, code CloseCode, err error) {
		if c.State() != Closed {
			panic("OnClose called on a connection in state " + c.State().String())
		}
		// Any method may be called, and none blocks.
		c.Stats()
		if c.Write(ctx, Text, []byte("late")) == nil || c.Close(CloseNormalClosure, "") == nil || c.CloseNow() == nil {
			panic("a write or close from OnClose succeeded")
		}
		if _, _, err := c.Read(ctx, nil); err == nil {
			panic("a read from OnClose succeeded")
		}
		r.mu.Lock()
		r.closed[c] = append(r.closed[c], closeCall{code, err})
		r.mu.Unlock()
		r.calls <- struct{}{}
	}
	return &o
}

// wait waits for n calls of OnClose.
func (r *hookRecorder) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.calls:
		case <-time.After(time.Minute):
			t.Fatalf("OnClose not called %d times within a minute", n)
		}
	}
}

func (r *hookRecorder) closes(c *Conn) []closeCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed[c]
}

// readAll reads from c until it fails.
func readAll(c *Conn) {
	for {
		if _, _, err := c.Read(ctx, nil); err != nil {
			return
		}
	}
}

// TestOnClose checks that OnClose is called exactly once, with the close
// code that ended the connection and an error saying why, on both ends,
// for every way a connection ends.
func TestOnClose(t *testing.T) {
	const none = CloseCode(0) // no Conn on the client's side
	tests := []struct {
		name          string
		serverOpts    Options
		rawClient     bool // the client is a peer that drains what it receives and sends nothing
		end           func(client, server *Conn, clientNC net.Conn)
		wantClient    CloseCode
		wantServer    CloseCode
		wantServerErr error
	}{{
		name:          "client closes with 1000",
		end:           func(client, _ *Conn, _ net.Conn) { client.Close(CloseNormalClosure, "bye") },
		wantClient:    CloseNormalClosure,
		wantServer:    CloseNormalClosure,
		wantServerErr: &CloseError{Code: CloseNormalClosure, Reason: "bye"},
	}, {
		name:          "client closes with 4000",
		end:           func(client, _ *Conn, _ net.Conn) { client.Close(4000, "") },
		wantClient:    4000,
		wantServer:    4000,
		wantServerErr: &CloseError{Code: 4000},
	}, {
		name:       "server closes with 1001",
		end:        func(_, server *Conn, _ net.Conn) { server.Close(CloseGoingAway, "restart") },
		wantClient: CloseGoingAway,
		wantServer: CloseGoingAway,
	}, {
		name:          "close frame without a code",
		end:           func(client, _ *Conn, _ net.Conn) { client.Close(CloseNoStatusReceived, "") },
		wantClient:    CloseNoStatusReceived,
		wantServer:    CloseNoStatusReceived,
		wantServerErr: &CloseError{Code: CloseNoStatusReceived},
	}, {
		name:       "CloseNow",
		end:        func(_, server *Conn, _ net.Conn) { server.CloseNow() },
		wantClient: CloseAbnormalClosure,
		wantServer: CloseAbnormalClosure,
	}, {
		name:          "TCP connection cut",
		end:           func(_, _ *Conn, clientNC net.Conn) { clientNC.Close() },
		wantClient:    CloseAbnormalClosure,
		wantServer:    CloseAbnormalClosure,
		wantServerErr: &CloseError{Code: CloseAbnormalClosure},
	}, {
		name: "protocol error",
		end: func(_, _ *Conn, clientNC net.Conn) {
			clientNC.Write([]byte{0x83, 0x80, 1, 2, 3, 4}) // reserved opcode 3
		},
		wantClient:    CloseProtocolError,
		wantServer:    CloseProtocolError,
		wantServerErr: &ProtocolError{Code: CloseProtocolError},
	}, {
		name:          "invalid UTF-8",
		end:           func(client, _ *Conn, _ net.Conn) { client.Write(ctx, Text, []byte("a\xff")) },
		wantClient:    CloseInvalidFramePayloadData,
		wantServer:    CloseInvalidFramePayloadData,
		wantServerErr: &ProtocolError{Code: CloseInvalidFramePayloadData},
	}, {
		name:          "read limit",
		serverOpts:    Options{ReadLimit: 10},
		end:           func(client, _ *Conn, _ net.Conn) { client.Write(ctx, Binary, make([]byte, 100)) },
		wantClient:    CloseMessageTooBig,
		wantServer:    CloseMessageTooBig,
		wantServerErr: ErrReadLimit,
	}, {
		// RFC 6455, Section 7.1.5: no Close frame received, so 1006, though
		// this endpoint sent one.
		name:       "server closes, no answer",
		serverOpts: Options{CloseTimeout: time.Second},
		rawClient:  true,
		end:        func(_, server *Conn, _ net.Conn) { server.Close(4000, "unanswered") },
		wantClient: none,
		wantServer: CloseAbnormalClosure,
	}, {
		name:          "keepalive timeout",
		serverOpts:    Options{KeepaliveInterval: time.Second},
		rawClient:     true,
		end:           func(*Conn, *Conn, net.Conn) {},
		wantClient:    none,
		wantServer:    CloseAbnormalClosure,
		wantServerErr: ErrKeepalive,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				rec := newHookRecorder()
				server := mustNew(t, b, frame.Server, nil, rec.options(tt.serverOpts))
				go readAll(server)
				var client *Conn
				if tt.rawClient {
					go func() {
						var buf [64]byte
						for {
							if _, err := a.Read(buf[:]); err != nil {
								return
							}
						}
					}()
				} else {
					client = mustNew(t, a, frame.Client, nil, rec.options(Options{}))
					go readAll(client)
				}
				wantOpened := 2
				if tt.rawClient {
					wantOpened = 1
				}
				if len(rec.opened) != wantOpened || rec.opened[0] != server {
					t.Fatalf("OnOpen called for %d Conns, want %d", len(rec.opened), wantOpened)
				}

				tt.end(client, server, a)
				rec.wait(t, wantOpened)
				a.Close()
				// Whatever happens to a closed Conn must not call OnClose again.
				for _, c := range []*Conn{client, server} {
					if c != nil {
						c.CloseNow()
						c.Close(CloseNormalClosure, "")
					}
				}
				synctest.Wait()

				for _, end := range []struct {
					name string
					c    *Conn
					want CloseCode
				}{{"server", server, tt.wantServer}, {"client", client, tt.wantClient}} {
					if end.c == nil {
						continue
					}
					calls := rec.closes(end.c)
					if len(calls) != 1 {
						t.Fatalf("%s: OnClose called %d times: %v", end.name, len(calls), calls)
					}
					if calls[0].code != end.want {
						t.Errorf("%s: OnClose code %v (%v), want %v", end.name, calls[0].code, calls[0].err, end.want)
					}
					if !errors.Is(calls[0].err, net.ErrClosed) {
						t.Errorf("%s: OnClose error %v does not match net.ErrClosed", end.name, calls[0].err)
					}
				}
				if tt.wantServerErr != nil {
					err := rec.closes(server)[0].err
					if !matches(err, tt.wantServerErr) {
						t.Errorf("server: OnClose error %v, want one matching %v", err, tt.wantServerErr)
					}
				}
			})
		})
	}
}

// matches reports whether err matches want: the same *CloseError, a
// *ProtocolError with the same code, or an error errors.Is finds.
func matches(err, want error) bool {
	var ce *CloseError
	var pe *ProtocolError
	switch w := want.(type) {
	case *CloseError:
		return errors.As(err, &ce) && *ce == *w
	case *ProtocolError:
		return errors.As(err, &pe) && pe.Code == w.Code
	}
	return errors.Is(err, want)
}

// TestOnCloseOnce races Close, CloseNow and a failing read on one
// connection: OnClose is called once.
func TestOnCloseOnce(t *testing.T) {
	for range 50 {
		a, b := net.Pipe()
		rec := newHookRecorder()
		client := mustNew(t, a, frame.Client, nil, rec.options(Options{CloseTimeout: 100 * time.Millisecond}))
		server := mustNew(t, b, frame.Server, nil, rec.options(Options{CloseTimeout: 100 * time.Millisecond}))
		var wg sync.WaitGroup
		wg.Go(func() { readAll(client) })
		wg.Go(func() { readAll(server) })
		wg.Go(func() { server.Close(CloseNormalClosure, "") })
		wg.Go(func() { server.CloseNow() })
		wg.Go(func() { client.Close(CloseGoingAway, "") })
		wg.Go(func() { client.CloseNow() })
		wg.Wait()
		rec.wait(t, 2)
		for _, c := range []*Conn{client, server} {
			if n := len(rec.closes(c)); n != 1 {
				t.Fatalf("OnClose called %d times", n)
			}
		}
	}
}

// TestStatsConcurrent reads the counters while other goroutines read and
// write, for the race detector, and checks the totals.
func TestStatsConcurrent(t *testing.T) {
	client, server := connPair(t, nil, nil)
	const writers, perWriter = 4, 50
	stop := make(chan struct{})
	var polls sync.WaitGroup
	for _, c := range []*Conn{client, server} {
		polls.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					if s := c.Stats(); s.MessagesRead < 0 || s.BytesWritten < 0 {
						t.Error("negative counter")
					}
				}
			}
		})
	}
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range perWriter {
				if err := client.Write(ctx, Binary, make([]byte, 10)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range writers * perWriter {
			if _, _, err := server.Read(ctx, nil); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	polls.Wait()
	client.CloseNow()
	for _, s := range []Stats{client.Stats(), server.Stats()} {
		if s.MessagesRead+s.MessagesWritten != writers*perWriter || s.BytesRead+s.BytesWritten != 10*writers*perWriter {
			t.Errorf("Stats() = %+v after %d messages of 10 bytes", s, writers*perWriter)
		}
	}
}

// TestKeepaliveRTT checks that keepalive pings measure the round trip,
// from the first ping still unanswered.
func TestKeepaliveRTT(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		c := mustNew(t, a, frame.Server, nil, &Options{KeepaliveInterval: time.Second, KeepaliveTimeout: 10 * time.Second})
		defer c.CloseNow()
		go readAll(c)
		peer := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), role: frame.Client}
		f, err := peer.next()
		if err != nil || f.Opcode != frame.OpPing {
			t.Fatalf("first frame: %v, %v; want a ping", f.Opcode, err)
		}
		// Unanswered for 2.5 s, during which the next two pings go out.
		go func() {
			for {
				if _, err := peer.next(); err != nil {
					return
				}
			}
		}()
		time.Sleep(2500 * time.Millisecond)
		b.Write(peer.frameBytes(true, 0, frame.OpPong, nil))
		synctest.Wait()
		s := c.Stats()
		if s.RTT != 2500*time.Millisecond || s.PingsSent != 3 || s.PongsReceived != 1 {
			t.Errorf("RTT %v, PingsSent %d, PongsReceived %d; want 2.5s, 3, 1", s.RTT, s.PingsSent, s.PongsReceived)
		}
	})
}

package hostile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/mask"
	"github.com/rfc6455/websocket/server"
)

// The limits of the server under test: small, so that the rows that pass
// them run quickly.
const (
	readLimit      = 256 << 10
	maxFragments   = 100
	closeTimeout   = 300 * time.Millisecond
	handshakeLimit = 2 * time.Second
	maxHeaderBytes = 16 << 10
	keepalive      = time.Second // fails a silent peer after 2 s
	writeTimeout   = 2 * time.Second
)

// serverOptions configure both upgrade paths of the server under test.
var serverOptions = &server.Options{
	Compression:      &conn.Compression{},
	HandshakeTimeout: handshakeLimit,
	MaxHeaderBytes:   maxHeaderBytes,
	Conn: conn.Options{
		ReadLimit:         readLimit,
		MaxFragments:      maxFragments,
		CloseTimeout:      closeTimeout,
		KeepaliveInterval: keepalive,
		WriteTimeout:      writeTimeout,
	},
}

// An event is how a connection of the server under test ended: its
// echo loop's error, or the error of an upgrade that failed.
type event struct {
	row     string // the request's X-Row field, if the request was read
	healthy bool   // the request had X-Healthy
	upgrade bool   // the upgrade failed
	err     error
}

// A subject is the server under test: an echo server on both upgrade
// paths, reporting how each connection ended.
type subject struct {
	addr   map[string]string // "http" and "raw": host:port
	events chan event
}

func startSubject(t *testing.T) *subject {
	s := &subject{addr: map[string]string{}, events: make(chan event, 64)}
	report := func(e event) {
		select {
		case s.events <- e:
		default:
			// A row that expects no event does not read them; a full
			// channel drops the oldest.
			select {
			case <-s.events:
			default:
			}
			s.events <- e
		}
	}

	h := &server.Handler{
		Options: serverOptions,
		Serve: func(c *conn.Conn, r *http.Request) {
			report(event{row: r.Header.Get("X-Row"), healthy: r.Header.Get("X-Healthy") != "", err: echo(c)})
		},
		OnUpgradeError: func(r *http.Request, err error) {
			report(event{row: r.Header.Get("X-Row"), upgrade: true, err: err})
		},
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: handshakeLimit, MaxHeaderBytes: maxHeaderBytes}
	hl := listen(t)
	go hs.Serve(hl)
	s.addr["http"] = hl.Addr().String()

	rl := listen(t)
	go func() {
		for {
			nc, err := rl.Accept()
			if err != nil {
				return
			}
			go func() {
				c, req, err := server.UpgradeConn(nc, serverOptions)
				if err != nil {
					report(event{row: req.Header("X-Row"), upgrade: true, err: err})
					return
				}
				report(event{row: req.Header("X-Row"), healthy: req.Header("X-Healthy") != "", err: echo(c)})
				c.CloseNow()
			}()
		}
	}()
	s.addr["raw"] = rl.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		hs.Shutdown(ctx)
	})
	return s
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// echo echoes messages until the connection ends, and returns why it did.
func echo(c *conn.Conn) error {
	ctx := context.Background()
	var buf []byte
	for {
		typ, msg, err := c.Read(ctx, buf[:0])
		if err != nil {
			return err
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return err
		}
		if cap(msg) <= 64<<10 {
			buf = msg
		}
	}
}

// healthy runs n clients on each path that echo messages, checking each,
// until stop is closed, and returns a function that stops them and
// reports what went wrong.
func healthy(t *testing.T, s *subject, n int) (stop func() []error) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	var echoes atomic.Int64
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for _, path := range []string{"http", "raw"} {
		for i := range n {
			opts := &client.Options{Header: http.Header{"X-Healthy": {"1"}}, Proxy: noProxy}
			if i%2 == 1 {
				opts.Compression = &conn.Compression{}
			}
			c, _, err := client.Dial(context.Background(), "ws://"+s.addr[path]+"/", opts)
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				defer c.CloseNow()
				ctx := context.Background()
				// Prepared messages, a reused buffer and a ticker: the
				// healthy traffic allocates next to nothing, so that what a
				// row allocates is its own.
				var msgs [][]byte
				for j := range 16 {
					msgs = append(msgs, fmt.Appendf(nil, "%s %d message %d %s", path, i, j, strings.Repeat("x", j*20)))
				}
				buf := make([]byte, 0, 1024)
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				for j := 0; ; j++ {
					select {
					case <-done:
						if err := c.Close(conn.CloseNormalClosure, ""); err != nil {
							fail(fmt.Errorf("healthy %s client %d: Close: %w", path, i, err))
						}
						return
					case <-tick.C:
					}
					msg := msgs[j%len(msgs)]
					if err := c.Write(ctx, conn.Text, msg); err != nil {
						fail(fmt.Errorf("healthy %s client %d: Write: %w", path, i, err))
						return
					}
					got, err := readInto(ctx, c, buf)
					if err != nil || !bytes.Equal(got, msg) {
						fail(fmt.Errorf("healthy %s client %d: echo %q, %v; want %q", path, i, got, err, msg))
						return
					}
					echoes.Add(1)
				}
			})
		}
	}
	return func() []error {
		close(done)
		wg.Wait()
		if echoes.Load() == 0 {
			errs = append(errs, errors.New("the healthy clients echoed nothing"))
		}
		t.Logf("healthy clients: %d echoes", echoes.Load())
		return errs
	}
}

// readInto reads a message into buf's array.
func readInto(ctx context.Context, c *conn.Conn, buf []byte) ([]byte, error) {
	_, msg, err := c.Read(ctx, buf[:0])
	return msg, err
}

func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

// --- What a row checks ---

// A want is what the owner of the server-side Conn sees: the error its
// read loop or its upgrade ended with.
type want func(err error) bool

func protocolError(code conn.CloseCode) want {
	return func(err error) bool {
		var pe *conn.ProtocolError
		return errors.As(err, &pe) && pe.Code == code
	}
}

func closeError(code conn.CloseCode) want {
	return func(err error) bool {
		var ce *conn.CloseError
		return errors.As(err, &ce) && ce.Code == code
	}
}

func upgradeError(status int) want {
	return func(err error) bool {
		var he *handshake.Error
		return errors.As(err, &he) && he.Status == status
	}
}

func is(target error) want { return func(err error) bool { return errors.Is(err, target) } }

var anyError want = func(err error) bool { return err != nil }

// Bounds on the memory a row may make the process allocate in all, with
// the healthy clients' traffic: they allocate a few kilobytes per echo.
const (
	smallMemory = 4 << 20
	limitMemory = 4*readLimit + smallMemory // a message up to the read limit, grown by doubling
)

// A cost is what one row took.
type cost struct {
	row       string
	allocated uint64
	took      time.Duration
}

// settle waits until the goroutines are back to baseline, and reports
// whether they are.
func settle(baseline int) (int, bool) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline || time.Now().After(deadline) {
			return n, n <= baseline
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// measure runs f and checks what every row must hold: it allocated at
// most bound bytes, and left no goroutine behind.
func measure(t *testing.T, name string, baseline int, bound uint64, f func()) cost {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	if n, ok := settle(baseline); !ok {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines after the row, %d before:\n%s", n, baseline, buf)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	// The race detector allocates on its own account, in proportion to
	// time and traffic: its runs check everything but memory.
	if allocated > bound && !raceEnabled {
		t.Errorf("allocated %d bytes, bound %d", allocated, bound)
	}
	return cost{row: name, allocated: allocated, took: took}
}

// --- Frames as a peer sends them ---

// clientFrame returns a masked frame as a client sends it.
func clientFrame(fin bool, rsv byte, op frame.Opcode, payload []byte) []byte {
	return wireFrame(fin, rsv, op, payload, true)
}

// serverFrame returns an unmasked frame as a server sends it.
func serverFrame(fin bool, rsv byte, op frame.Opcode, payload []byte) []byte {
	return wireFrame(fin, rsv, op, payload, false)
}

func wireFrame(fin bool, rsv byte, op frame.Opcode, payload []byte, masked bool) []byte {
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Length: int64(len(payload)), Masked: masked}
	if masked {
		h.Key = mask.NewKey()
	}
	b := frame.AppendHeader(nil, h)
	n := len(b)
	b = append(b, payload...)
	if masked {
		h.Key.Apply(b[n:], 0)
	}
	return b
}

func closePayload(code conn.CloseCode, reason string) []byte {
	return frame.AppendClose(nil, code, reason)
}

// rawClose returns a Close frame payload with any 16-bit code, valid or
// not.
func rawClose(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// endless returns a script that writes head and then repeats unit until
// the peer goes away.
func endless(head, unit string) func(nc net.Conn) {
	return func(nc net.Conn) {
		nc.SetWriteDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(nc, head); err != nil {
			return
		}
		chunk := []byte(strings.Repeat(unit, max(1, 16<<10/len(unit))))
		for {
			if _, err := nc.Write(chunk); err != nil {
				return
			}
		}
	}
}

// readAll reads what the peer sends until it closes the connection or
// within passes, and reports whether it closed.
func readAll(nc net.Conn, r io.Reader, within time.Duration) ([]byte, bool) {
	nc.SetReadDeadline(time.Now().Add(within))
	var out bytes.Buffer
	_, err := io.Copy(&out, io.LimitReader(r, 64<<20))
	return out.Bytes(), err == nil || !errors.Is(err, os.ErrDeadlineExceeded)
}

// scanClose returns the code of the first Close frame in b, decoded by d,
// or 0 if there is none; and whether the frames parse.
func scanClose(d *frame.Decoder, b []byte) (conn.CloseCode, bool) {
	var payload []byte
	isClose := false
	for {
		ev, chunk, n, err := d.Next(b)
		b = b[n:]
		if err != nil {
			return 0, false
		}
		switch ev {
		case frame.EventNeedMore:
			return 0, len(b) == 0
		case frame.EventHeader:
			isClose = d.Header().Opcode == frame.OpClose
			payload = payload[:0]
		case frame.EventPayload:
			if isClose {
				payload = append(payload, chunk...)
			}
		case frame.EventEnd:
			if isClose {
				code, _, err := frame.ParseClose(payload)
				if err != nil || code == 1005 {
					return code, err == nil
				}
				return code, true
			}
		}
	}
}

package bench

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/bench/internal/echo"
)

// idleConns is the number of connections BenchmarkDeflateIdle opens per
// measurement. Each costs a file descriptor at each end.
var idleConns = flag.Int("deflate.idle.conns", 300, "connections per BenchmarkDeflateIdle measurement")

// idlePeerEnv, when set, makes TestDeflateIdlePeer the other end of a
// BenchmarkDeflateIdle measurement, in a process of its own.
const idlePeerEnv = "BENCH_DEFLATE_IDLE_PEER"

// Where BenchmarkDeflateIdle measures: both ends in this process, or
// one end here and the other in a child process, so that the memory of
// each end is known on its own.
const (
	sidePair   = "pair"
	sideServer = "server"
	sideClient = "client"
)

// idleMessages are what each connection exchanges before it goes idle:
// echoed, so both ends compress and decompress, and more than 32 KiB in
// all, so that a 32 KiB history fills as on a long-lived connection.
func idleMessages() [][]byte {
	ws := deflateWorkloads()
	chat, j16 := ws[0].msgs, ws[1].msgs
	return [][]byte{chat[0], j16[0], chat[1], j16[1], chat[2]}
}

// BenchmarkDeflateIdle measures the memory that idle connections hold
// once each has compressed and decompressed a few messages both ways:
// Go heap in use (runtime.MemStats.HeapAlloc after two collections) plus
// goroutine stacks (StackInuse), divided by the number of connections.
// side=pair counts both ends, each with the one goroutine that reads;
// side=server and side=client count one end, the other running in a
// child process. fixed-B is what a server holds for all its connections
// (gws's pool of compressors, say), left out of B/idle-conn. ns/op is
// the time of a whole measurement. Run it with -benchtime=1x.
func BenchmarkDeflateIdle(b *testing.B) {
	deflateWorkloads()
	for _, m := range []deflateMode{takeover15, takeover10, noTakeover} {
		for _, s := range deflateSubjects {
			for _, side := range []string{sidePair, sideServer, sideClient} {
				b.Run(fmt.Sprintf("mode=%s/lib=%s/side=%s", m.name, s.name, side), func(b *testing.B) {
					benchIdle(b, s, m, side)
				})
			}
		}
	}
}

// benchIdle is one case of BenchmarkDeflateIdle or BenchmarkIdle.
func benchIdle(b *testing.B, s deflateSubject, m deflateMode, side string) {
	if !s.supports(m) {
		b.Skipf("%s cannot be configured for %s", s.name, m.name)
	}
	var sum idleResult
	for range b.N {
		r, err := measureIdle(s, m, side, *idleConns)
		if err != nil {
			b.Fatal(err)
		}
		sum.add(r)
	}
	n := float64(b.N)
	b.ReportMetric(float64(sum.heap+sum.stack)/n, "B/idle-conn")
	b.ReportMetric(float64(sum.heap)/n, "heap-B/conn")
	b.ReportMetric(float64(sum.stack)/n, "stack-B/conn")
	b.ReportMetric(sum.goroutines/n, "goroutines/conn")
	if side != sideClient {
		b.ReportMetric(float64(sum.fixed)/n, "fixed-B")
	}
}

// An idleResult is one measurement, per connection but for fixed.
type idleResult struct {
	heap, stack, fixed int64
	goroutines         float64
}

func (r *idleResult) add(o idleResult) {
	r.heap += o.heap
	r.stack += o.stack
	r.fixed += o.fixed
	r.goroutines += o.goroutines
}

type memSnapshot struct {
	heap, stack int64
	goroutines  int
}

func snapshot() memSnapshot {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnapshot{heap: int64(ms.HeapAlloc), stack: int64(ms.StackInuse), goroutines: runtime.NumGoroutine()}
}

func perConn(before, after memSnapshot, n int) idleResult {
	return idleResult{
		heap:       (after.heap - before.heap) / int64(n),
		stack:      (after.stack - before.stack) / int64(n),
		goroutines: float64(after.goroutines-before.goroutines) / float64(n),
	}
}

// idleWarmUp is the number of connections opened, used and closed
// before a measurement, so that state a server shares between its
// connections and allocates on first use (such as gws's pool of 32
// compressors) counts as fixed, not per connection.
const idleWarmUp = 64

func measureIdle(s deflateSubject, m deflateMode, side string, n int) (idleResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	msgs := idleMessages()
	start := snapshot()
	defer waitGoroutines(start.goroutines)

	var url string
	var e *echo.Server // the server, when in this process
	if side == sideClient {
		peer, u, err := startIdlePeer(ctx, sideServer, s, m, "", 0)
		if err != nil {
			return idleResult{}, err
		}
		defer peer.stop()
		url = u
	} else {
		e = &echo.Server{}
		u, stop, err := serveIdle(s.serve(m, e))
		if err != nil {
			return idleResult{}, err
		}
		defer stop()
		url = u
	}

	g := runtime.NumGoroutine()
	warm, err := dialIdle(ctx, s, m, url, idleWarmUp, msgs)
	warm.close()
	if err != nil {
		return idleResult{}, fmt.Errorf("warming up: %w", err)
	}
	if err := waitGoroutines(g); err != nil {
		return idleResult{}, fmt.Errorf("warming up: %w", err)
	}
	if e != nil {
		e.Echoed.Store(0)
	}

	before := snapshot()
	if side == sideServer {
		peer, _, err := startIdlePeer(ctx, sideClient, s, m, url, n)
		if err != nil {
			return idleResult{}, err
		}
		defer peer.stop()
	} else {
		cs, err := dialIdle(ctx, s, m, url, n, msgs)
		defer cs.close()
		if err != nil {
			return idleResult{}, err
		}
	}
	if e != nil {
		// The clients have all their echoes; wait for the servers'
		// Writes to return too.
		for e.Echoed.Load() < int64(n*len(msgs)) {
			if ctx.Err() != nil {
				return idleResult{}, fmt.Errorf("%d of %d messages echoed: %w", e.Echoed.Load(), n*len(msgs), ctx.Err())
			}
			time.Sleep(time.Millisecond)
		}
	}
	r := perConn(before, snapshot(), n)
	if side != sideClient {
		r.fixed = before.heap - start.heap
	}
	return r, nil
}

// serveIdle serves h on a loopback port until stop is called.
func serveIdle(h http.Handler) (url string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "ws://" + l.Addr().String() + "/", func() { srv.Close() }, nil
}

// idleClients are the clients of a measurement.
type idleClients struct {
	cs      []deflateClient
	closing *atomic.Bool
}

// close closes every client at once.
func (c idleClients) close() {
	if c.closing != nil {
		c.closing.Store(true)
	}
	for _, cl := range c.cs {
		cl.Close()
	}
}

// dialIdle dials n clients and has each exchange msgs with the server,
// one message at a time, checking every echo. All clients share one
// receiver, so that the harness adds nothing per connection.
func dialIdle(ctx context.Context, s deflateSubject, m deflateMode, url string, n int, msgs [][]byte) (idleClients, error) {
	var want atomic.Pointer[[]byte]
	results := make(chan error, 1)
	closing := new(atomic.Bool)
	r := receiver{
		onMessage: func(p []byte) { results <- checkEcho(0, p, *want.Load()) },
		onEnd: func(err error) {
			if !closing.Load() {
				results <- fmt.Errorf("reading ended: %w", err)
			}
		},
	}
	cs := idleClients{closing: closing}
	for i := range n {
		c, ext, err := s.dial(ctx, url, m, r)
		if err != nil {
			return cs, fmt.Errorf("connection %d: %w", i, err)
		}
		cs.cs = append(cs.cs, c)
		if err := m.checkExtensions(ext); err != nil {
			return cs, err
		}
		for j := range msgs {
			want.Store(&msgs[j])
			if err := c.Write(ctx, msgs[j]); err != nil {
				return cs, fmt.Errorf("connection %d, message %d: %w", i, j, err)
			}
			select {
			case err := <-results:
				if err != nil {
					return cs, fmt.Errorf("connection %d, message %d: %w", i, j, err)
				}
			case <-ctx.Done():
				return cs, fmt.Errorf("connection %d, message %d: %w", i, j, ctx.Err())
			}
		}
	}
	return cs, nil
}

// waitGoroutines waits, for up to ten seconds, until no more than n
// goroutines are left, so that closed connections are gone before a
// measurement begins.
func waitGoroutines(n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d goroutines left, want at most %d", runtime.NumGoroutine(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// An idlePeer is the child process holding the other ends.
type idlePeer struct {
	cmd   *exec.Cmd
	stdin io.Closer
}

// stop ends the child, which closes its connections.
func (p idlePeer) stop() {
	p.stdin.Close()
	p.cmd.Wait()
}

// startIdlePeer runs the other end of a measurement in a child process:
// role sideServer serves and returns its URL, role sideClient dials n
// clients to url; either way it returns once the child is ready.
func startIdlePeer(ctx context.Context, role string, s deflateSubject, m deflateMode, url string, n int) (idlePeer, string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeflateIdlePeer$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s %d %s", idlePeerEnv, role, s.name, m.name, n, url))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return idlePeer{}, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return idlePeer{}, "", err
	}
	if err := cmd.Start(); err != nil {
		return idlePeer{}, "", err
	}
	p := idlePeer{cmd: cmd, stdin: stdin}
	ready := make(chan string, 1)
	var output strings.Builder // what the child printed before it was ready
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				ready <- rest
				break
			}
			output.WriteString(sc.Text() + "\n")
		}
		close(ready)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case u, ok := <-ready:
		if !ok {
			p.stop()
			return idlePeer{}, "", fmt.Errorf("the peer process ended before it was ready:\n%s", output.String())
		}
		return p, u, nil
	case <-ctx.Done():
		p.cmd.Process.Kill()
		p.stop()
		return idlePeer{}, "", ctx.Err()
	}
}

// TestDeflateIdlePeer is the child process of BenchmarkDeflateIdle and
// BenchmarkIdle; it skips unless started by one of them.
func TestDeflateIdlePeer(t *testing.T) {
	spec := os.Getenv(idlePeerEnv)
	if spec == "" {
		t.Skip("the child process of BenchmarkDeflateIdle")
	}
	f := strings.Fields(spec)
	if len(f) < 4 {
		t.Fatalf("%s=%q", idlePeerEnv, spec)
	}
	role, libName, modeName := f[0], f[1], f[2]
	n, err := strconv.Atoi(f[3])
	if err != nil {
		t.Fatal(err)
	}
	var s deflateSubject
	subjects := deflateSubjects
	if modeName == uncompressed.name {
		subjects = idleEchoSubjects()
	}
	for _, ds := range subjects {
		if ds.name == libName {
			s = ds
		}
	}
	var m deflateMode
	for _, dm := range []deflateMode{takeover15, takeover10, noTakeover, uncompressed} {
		if dm.name == modeName {
			m = dm
		}
	}
	if s.name == "" || m.name == "" {
		t.Fatalf("%s=%q: unknown library or mode", idlePeerEnv, spec)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	switch role {
	case sideServer:
		url, stop, err := serveIdle(s.serve(m, &echo.Server{}))
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		fmt.Printf("ready %s\n", url)
	case sideClient:
		if len(f) < 5 {
			t.Fatalf("%s=%q: no URL", idlePeerEnv, spec)
		}
		cs, err := dialIdle(ctx, s, m, f[4], n, idleMessages())
		defer cs.close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ready ok\n")
	default:
		t.Fatalf("%s=%q: unknown role", idlePeerEnv, spec)
	}
	// Hold the connections until the benchmark closes stdin.
	io.Copy(io.Discard, os.Stdin)
}

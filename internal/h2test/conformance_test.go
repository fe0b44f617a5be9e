//lint:file-ignore SA1019 x/net's http2.Transport is deprecated for net/http's, which cannot send an extended CONNECT (RFC 8441) in Go 1.26.

package h2test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/internal/h2stream"
	autobahn "github.com/rfc6455/websocket/internal/subject"
	"github.com/rfc6455/websocket/internal/wstest"
	"github.com/rfc6455/websocket/server"
)

// TestConformance runs the Go-native Autobahn catalogue against our server
// over HTTP/2: every case opens its WebSocket as an extended CONNECT stream
// of one h2c connection, and the suite speaks its raw frames on the
// stream. The cases are conformanceCases.
func TestConformance(t *testing.T) {
	echo := &server.Handler{
		Options: &server.Options{Compression: &conn.Compression{}, Conn: conn.Options{ReadLimit: 64 << 20, CompressionThreshold: -1}},
		Serve: func(c *conn.Conn, r *http.Request) {
			var buf []byte
			for {
				typ, msg, err := c.Read(ctx, buf[:0])
				if err != nil || c.Write(ctx, typ, msg) != nil {
					return
				}
				buf = msg
			}
		},
	}
	ln := serveH2C(t, echo)

	transport := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	defer transport.CloseIdleConnections()
	target := "http://" + ln.Addr().String() + "/"
	dial := func(ctx context.Context, extensions string) (net.Conn, http.Header, error) {
		pr, pw := io.Pipe()
		req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodConnect, target, pr)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set(":protocol", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		if extensions != "" {
			req.Header.Set("Sec-WebSocket-Extensions", extensions)
		}
		resp, err := transport.RoundTrip(req)
		if err != nil {
			pw.Close()
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			pw.Close()
			return nil, nil, fmt.Errorf("extended CONNECT answered %s", resp.Status)
		}
		stream := h2stream.Stream{
			Write: pw.Write,
			Abort: func() { pw.CloseWithError(io.ErrClosedPipe) },
			End:   func() { pw.Close() },
		}
		return h2stream.New(resp.Body, stream, nil, h2stream.Addr(ln.Addr().String())), resp.Header, nil
	}

	cases := conformanceCases(t)
	c := &wstest.Client{Agent: "rfc6455-websocket-h2", Cases: cases, Parallel: 4, Dial: dial, URL: "ws://" + ln.Addr().String() + "/"}
	results, err := c.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, results, len(cases))
}

// TestClientConformance runs the catalogue against our client over
// HTTP/2: the suite's fuzzing server accepts each case's extended CONNECT
// on one h2c connection and plays the case on the stream. The server
// speaks only h2c, and the handler counts the requests by protocol, so
// every case is shown to have run over HTTP/2.
func TestClientConformance(t *testing.T) {
	cases := conformanceCases(t)
	srv := &wstest.Server{Cases: cases}
	var overH1, overH2 atomic.Int64
	ln := serveH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			overH2.Add(1)
		} else {
			overH1.Add(1)
		}
		srv.ServeHTTP(w, r)
	}))
	opts := autobahn.ClientOptions()
	opts.HTTP2 = &client.HTTP2{Cleartext: true}
	const agent = "rfc6455-websocket-h2"
	if err := autobahn.RunClient(ctx, "ws://"+ln.Addr().String(), agent, opts, 0, t.Logf); err != nil {
		t.Fatal(err)
	}
	checkResults(t, srv.Results()[agent], len(cases))
	// getCaseCount, every case, and updateReports.
	if h1, h2 := overH1.Load(), overH2.Load(); h1 != 0 || h2 != int64(len(cases)+2) {
		t.Errorf("%d requests over HTTP/1.1 and %d over HTTP/2, want 0 and %d", h1, h2, len(cases)+2)
	}
}

// serveH2C serves h on a new listener with HTTP/2 over cleartext (h2c),
// with flow-control windows for the suite's 16 MiB messages, until the
// test ends.
func serveH2C(t *testing.T, h http.Handler) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	hs := &http.Server{Handler: h, Protocols: p, ReadHeaderTimeout: 5 * time.Second,
		HTTP2: &http.HTTP2Config{MaxReceiveBufferPerConnection: 64 << 20, MaxReceiveBufferPerStream: 32 << 20}}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln
}

// conformanceCases selects the cases both roles run: those of the autobahn
// package (subject.Cases), but section 9 under -short and under the race
// detector: its messages of up to 16 MiB run under the race detector in
// the autobahn package, over TCP.
func conformanceCases(t *testing.T) []wstest.Case {
	cases, err := autobahn.Cases(testing.Short() || raceEnabled)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// checkResults fails the test for every case a conformant subject must
// not get (subject.Failures), and if there are not want results.
func checkResults(t *testing.T, results []*wstest.Result, want int) {
	t.Helper()
	if len(results) != want {
		t.Fatalf("%d results for %d cases", len(results), want)
	}
	failures, counts := autobahn.Failures(results)
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d cases over HTTP/2: %v", len(results), counts)
}

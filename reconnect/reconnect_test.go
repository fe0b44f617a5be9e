package reconnect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

// fast are options for tests over loopback: short delays, so that they do
// not sleep long; no assertion depends on them.
func fast(rec *recorder) *Options {
	o := &Options{MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
	if rec != nil {
		o.OnDisconnect = rec.onDisconnect
	}
	return o
}

// readResult is what a Read returned.
type readResult struct {
	msg string
	err error
}

// readLoop reads from r until Read fails, sending every result to the
// returned channel, which it closes at the end.
func readLoop(r *Conn) <-chan readResult {
	ch := make(chan readResult, 100)
	go func() {
		defer close(ch)
		for {
			_, msg, err := r.Read(ctx, nil)
			ch <- readResult{string(msg), err}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan readResult) readResult {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("no Read result in 10 s")
		return readResult{}
	}
}

// TestServerRestart runs a server that crashes (its listener and
// connections closed without a Close frame) and comes back on the same
// address after the client has found it down: Read goes on with the new
// connection.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := listen(t, "127.0.0.1:0", &n, greet)
	rec := newRecorder()
	r, err := Dial(ctx, srv.url(), fast(rec))
	if err != nil {
		t.Fatal(err)
	}
	reads := readLoop(r)
	if got := next(t, reads); got != (readResult{msg: "hello 0"}) {
		t.Fatalf("first Read = %+v, want hello 0", got)
	}
	srv.stop()
	rec.waitFor(t, "1006", isCloseCode(conn.CloseAbnormalClosure))
	rec.waitFor(t, "a refused dial", isRefused)
	if s := r.State(); s != conn.Connecting {
		t.Errorf("State while the server is down = %v, want connecting", s)
	}
	listen(t, srv.addr(), &n, greet)
	if got := next(t, reads); got.err != nil || got.msg == "hello 0" {
		t.Fatalf("Read after the restart = %+v, want a hello from the new server", got)
	}
	if s := r.State(); s != conn.Open {
		t.Errorf("State after the restart = %v, want open", s)
	}
	if err := r.CloseNow(); err != nil {
		t.Errorf("CloseNow = %v", err)
	}
	if got := next(t, reads); !errors.Is(got.err, net.ErrClosed) {
		t.Errorf("Read after CloseNow = %v, want an error matching net.ErrClosed", got.err)
	}
	if !goroutineEnded(r) {
		t.Error("the redialing goroutine outlived CloseNow")
	}
}

// TestRefusals has a server refuse every handshake with one status: the
// statuses that may pass are retried up to MaxAttempts, the others fail
// the Dial at once.
func TestRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		retry  bool
	}{
		{status: 400},
		{status: 401},
		{status: 403},
		{status: 404},
		{status: 426},
		{status: 429, retry: true},
		{status: 500, retry: true},
		{status: 502, retry: true},
		{status: 503, retry: true},
		{status: 504, retry: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			srv := listen(t, "127.0.0.1:0", nil, func(i int, nc net.Conn) { refuse(nc, tt.status, "") })
			opts := fast(nil)
			opts.MaxAttempts = 3
			r, err := Dial(ctx, srv.url(), opts)
			if r != nil {
				t.Fatal("Dial succeeded")
			}
			var he *client.HandshakeError
			if !errors.As(err, &he) || he.Response.StatusCode != tt.status {
				t.Fatalf("Dial = %v, want a *client.HandshakeError with status %d", err, tt.status)
			}
			wantDials := 1
			if tt.retry {
				wantDials = 3
			}
			if got := errors.Is(err, ErrGaveUp); got != tt.retry {
				t.Errorf("Dial = %v; matches ErrGaveUp: %v, want %v", err, got, tt.retry)
			}
			srv.stop()
			if got := int(srv.n.Load()); got != wantDials {
				t.Errorf("server saw %d handshakes, want %d", got, wantDials)
			}
		})
	}
}

// TestRefusedThenAccepted has a server refuse with 503 three times, then
// accept: Dial returns the fourth connection, having told OnDisconnect of
// each refusal.
func TestRefusedThenAccepted(t *testing.T) {
	t.Parallel()
	srv := listen(t, "127.0.0.1:0", nil, func(i int, nc net.Conn) {
		if i < 3 {
			refuse(nc, 503, "")
			return
		}
		greet(i, nc)
	})
	rec := newRecorder()
	r, err := Dial(ctx, srv.url(), fast(rec))
	if err != nil {
		t.Fatal(err)
	}
	defer r.CloseNow()
	_, msg, err := r.Read(ctx, nil)
	if err != nil || string(msg) != "hello 3" {
		t.Fatalf("Read = %q, %v; want hello 3", msg, err)
	}
	calls := rec.get()
	if len(calls) != 3 {
		t.Fatalf("OnDisconnect called %d times, want 3: %v", len(calls), calls)
	}
	for i, d := range calls {
		if !isStatus(503)(d.err) || d.next < 0 {
			t.Errorf("OnDisconnect call %d: %v, next %v; want the 503 and a wait", i, d.err, d.next)
		}
	}
}

// TestCloseCodes has the server close the first connection with each
// code: the codes that may pass are followed by a new connection, whose
// message the next Read returns; the others end the Conn with the
// *conn.CloseError.
func TestCloseCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code  conn.CloseCode
		retry bool
	}{
		{code: conn.CloseNormalClosure},
		{code: conn.CloseGoingAway, retry: true},
		{code: conn.CloseProtocolError},
		{code: conn.CloseUnsupportedData},
		{code: conn.CloseNoStatusReceived},
		{code: conn.CloseAbnormalClosure, retry: true}, // no Close frame: the server drops the connection
		{code: conn.CloseInvalidFramePayloadData},
		{code: conn.ClosePolicyViolation},
		{code: conn.CloseMessageTooBig},
		{code: conn.CloseInternalServerErr, retry: true},
		{code: conn.CloseServiceRestart, retry: true},
		{code: conn.CloseTryAgainLater, retry: true},
		{code: conn.CloseBadGateway, retry: true},
		{code: 3000},
		{code: 4000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(int(tt.code)), func(t *testing.T) {
			t.Parallel()
			srv := listen(t, "127.0.0.1:0", nil, func(i int, nc net.Conn) {
				c := upgrade(nc)
				if c == nil {
					return
				}
				if i > 0 {
					c.Write(ctx, conn.Text, []byte("again"))
					drain(c)
					return
				}
				if tt.code == conn.CloseAbnormalClosure {
					nc.Close()
					return
				}
				c.Close(tt.code, "test")
			})
			rec := newRecorder()
			r, err := Dial(ctx, srv.url(), fast(rec))
			if err != nil {
				t.Fatal(err)
			}
			defer r.CloseNow()
			_, msg, err := r.Read(ctx, nil)
			if tt.retry {
				if err != nil || string(msg) != "again" {
					t.Fatalf("Read = %q, %v; want the message of the second connection", msg, err)
				}
				return
			}
			var ce *conn.CloseError
			if !errors.As(err, &ce) || ce.Code != tt.code {
				t.Fatalf("Read = %q, %v; want a *conn.CloseError with code %d", msg, err, tt.code)
			}
			if _, _, err2 := r.Read(ctx, nil); err2 != err {
				t.Errorf("second Read = %v, want the same error", err2)
			}
			if werr := r.Write(ctx, conn.Text, []byte("x")); werr != err {
				t.Errorf("Write after the end = %v, want %v", werr, err)
			}
			if s := r.State(); s != conn.Closed {
				t.Errorf("State = %v, want closed", s)
			}
			if calls := rec.get(); len(calls) != 1 || calls[0].next >= 0 || calls[0].err != err {
				t.Errorf("OnDisconnect calls %v, want one, with the error and a negative next", calls)
			}
			srv.stop()
			if n := srv.n.Load(); n != 1 {
				t.Errorf("server saw %d connections, want 1", n)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"1000", &conn.CloseError{Code: 1000}, false},
		{"1001", &conn.CloseError{Code: 1001}, true},
		{"1006", &conn.CloseError{Code: 1006}, true},
		{"1008", &conn.CloseError{Code: 1008}, false},
		{"1013 wrapped", fmt.Errorf("x: %w", &conn.CloseError{Code: 1013}), true},
		{"4000", &conn.CloseError{Code: 4000}, false},
		{"protocol error", &conn.ProtocolError{Code: 1002}, false},
		{"handshake 503", handshakeError(503, ""), true},
		{"handshake 429", handshakeError(429, ""), true},
		{"handshake 403", handshakeError(403, ""), false},
		{"handshake 101, bad accept", handshakeError(101, ""), false},
		{"handshake without response", &client.HandshakeError{Err: errors.New("x")}, false},
		{"refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"DNS", &net.DNSError{Err: "no such host", Name: "x.invalid"}, true},
		{"EOF", fmt.Errorf("client: reading the handshake response: %w", io.EOF), true},
		{"handshake timeout", fmt.Errorf("client: opening handshake: %w", context.DeadlineExceeded), true},
		{"1006 as Read returns it", fmt.Errorf("closed: %w %w", net.ErrClosed, &conn.CloseError{Code: 1006}), true},
		{"1000 as Read returns it", fmt.Errorf("closed: %w %w", net.ErrClosed, &conn.CloseError{Code: 1000}), false},
		{"keepalive", conn.ErrKeepalive, true},
		{"keepalive as Read returns it", fmt.Errorf("closed: %w %w", net.ErrClosed, conn.ErrKeepalive), true},
		{"write timeout", os.ErrDeadlineExceeded, true},
		{"closed here", net.ErrClosed, false},
		{"canceled", context.Canceled, false},
		{"unknown authority", fmt.Errorf("client: TLS handshake: %w", x509.UnknownAuthorityError{}), false},
		{"bad URL", errors.New(`client: URL scheme "http" is not ws or wss`), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%s: %v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func handshakeError(status int, retryAfter string) error {
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return &client.HandshakeError{Response: &http.Response{StatusCode: status, Header: h}, Err: errors.New("refused")}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"503 seconds", handshakeError(503, "7"), 7 * time.Second},
		{"429 seconds", handshakeError(429, " 120 "), 2 * time.Minute},
		{"503 date", handshakeError(503, now.Add(90*time.Second).Format(http.TimeFormat)), 90 * time.Second},
		{"date passed", handshakeError(503, now.Add(-time.Hour).Format(http.TimeFormat)), 0},
		{"capped", handshakeError(503, "86400"), maxRetryAfter},
		{"huge", handshakeError(503, "99999999999999999999"), 0},
		{"negative", handshakeError(503, "-5"), 0},
		{"garbage", handshakeError(503, "soon"), 0},
		{"absent", handshakeError(503, ""), 0},
		{"500 ignores it", handshakeError(500, "7"), 0},
		{"not a refusal", &conn.CloseError{Code: 1013}, 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.err, now); got != tt.want {
			t.Errorf("retryAfter(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBackoffBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		min, max time.Duration
		n        int
		want     time.Duration
	}{
		{time.Second, 30 * time.Second, 0, time.Second},
		{time.Second, 30 * time.Second, 1, 2 * time.Second},
		{time.Second, 30 * time.Second, 4, 16 * time.Second},
		{time.Second, 30 * time.Second, 5, 30 * time.Second},
		{time.Second, 30 * time.Second, 1000, 30 * time.Second},
		{time.Second, time.Second, 3, time.Second},
		{3 * time.Millisecond, time.Duration(1<<63 - 1), 62, time.Duration(1<<63 - 1)},
		{3 * time.Millisecond, time.Duration(1<<63 - 1), 10, 3 * 1024 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := backoffBound(tt.min, tt.max, tt.n); got != tt.want {
			t.Errorf("backoffBound(%v, %v, %d) = %v, want %v", tt.min, tt.max, tt.n, got, tt.want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts *Options
		want string // the field named, "" for none
	}{
		{"nil", nil, ""},
		{"zero", &Options{}, ""},
		{"MinDelay alone above the default MaxDelay", &Options{MinDelay: time.Minute}, ""},
		{"negative MinDelay", &Options{MinDelay: -1}, "Options.MinDelay"},
		{"negative MaxDelay", &Options{MaxDelay: -1}, "Options.MaxDelay"},
		{"MinDelay over MaxDelay", &Options{MinDelay: 2 * time.Second, MaxDelay: time.Second}, "Options.MinDelay"},
		{"negative MaxAttempts", &Options{MaxAttempts: -1}, "Options.MaxAttempts"},
		{"negative MaxDowntime", &Options{MaxDowntime: -time.Second}, "Options.MaxDowntime"},
		{"negative QueueMessages", &Options{QueueMessages: -1}, "Options.QueueMessages"},
		{"negative QueueBytes", &Options{QueueBytes: -1}, "Options.QueueBytes"},
		{"bad QueuePolicy", &Options{QueuePolicy: 7}, "Options.QueuePolicy"},
	}
	for _, tt := range tests {
		_, err := tt.opts.validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: validate = %v, want no error", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: validate = %v, want an error naming %s", tt.name, err, tt.want)
		}
		// Dial checks the options before it dials: this address refuses.
		if _, err := Dial(ctx, "ws://127.0.0.1:1/", tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Dial = %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
}

func TestQueue(t *testing.T) {
	t.Parallel()
	type op struct {
		p       string
		wantErr error
	}
	tests := []struct {
		name     string
		maxMsgs  int
		maxBytes int64
		policy   QueuePolicy
		ops      []op
		want     []string
	}{{
		name:    "reject new by count",
		maxMsgs: 2,
		ops:     []op{{p: "a"}, {p: "b"}, {p: "c", wantErr: ErrQueueFull}},
		want:    []string{"a", "b"},
	}, {
		name:    "drop oldest by count",
		maxMsgs: 2,
		policy:  DropOldest,
		ops:     []op{{p: "a"}, {p: "b"}, {p: "c"}},
		want:    []string{"b", "c"},
	}, {
		name:     "reject new by bytes",
		maxBytes: 5,
		ops:      []op{{p: "abc"}, {p: "de"}, {p: "f", wantErr: ErrQueueFull}},
		want:     []string{"abc", "de"},
	}, {
		name:     "drop oldest by bytes, as many as needed",
		maxBytes: 5,
		policy:   DropOldest,
		ops:      []op{{p: "a"}, {p: "b"}, {p: "c"}, {p: "defg"}},
		want:     []string{"c", "defg"},
	}, {
		name:     "too large alone, whatever the policy",
		maxBytes: 3,
		policy:   DropOldest,
		ops:      []op{{p: "a"}, {p: "bcde", wantErr: ErrQueueFull}},
		want:     []string{"a"},
	}, {
		name:     "both bounds",
		maxMsgs:  3,
		maxBytes: 4,
		policy:   DropOldest,
		ops:      []op{{p: "a"}, {p: "b"}, {p: "c"}, {p: "d"}, {p: "efg"}},
		want:     []string{"d", "efg"},
	}, {
		name:     "empty messages count",
		maxMsgs:  1,
		maxBytes: 10,
		ops:      []op{{p: ""}, {p: "", wantErr: ErrQueueFull}},
		want:     []string{""},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := queue{maxMsgs: tt.maxMsgs, maxBytes: tt.maxBytes, policy: tt.policy}
			for _, op := range tt.ops {
				b := []byte(op.p)
				if err := q.push(conn.Text, b); err != op.wantErr {
					t.Errorf("push(%q) = %v, want %v", op.p, err, op.wantErr)
				}
				copy(b, "XXXX") // the queue holds a copy
			}
			var total int64
			for _, m := range q.msgs {
				total += int64(len(m.p))
			}
			if total != q.bytes {
				t.Errorf("bytes = %d, want %d", q.bytes, total)
			}
			var got []string
			for m, ok := q.pop(); ok; m, ok = q.pop() {
				got = append(got, string(m.p))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("queue mismatch (-want +got):\n%s", diff)
			}
			if q.bytes != 0 {
				t.Errorf("bytes = %d once empty", q.bytes)
			}
		})
	}
}

// TestTLSNotRetried dials a TLS server whose certificate the client does
// not trust: the Dial fails at once, without a second attempt, with the
// certificate error; with the certificate trusted it connects.
func TestTLSNotRetried(t *testing.T) {
	t.Parallel()
	var dials atomic.Int32
	srv := httptest.NewUnstartedServer(&server.Handler{Serve: func(c *conn.Conn, r *http.Request) {
		c.Write(r.Context(), conn.Text, []byte("secure"))
		c.Close(conn.CloseNormalClosure, "")
	}})
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	url := "wss" + strings.TrimPrefix(srv.URL, "https")
	opts := fast(nil)
	opts.MaxAttempts = 3
	_, err := Dial(ctx, url, opts)
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) || errors.Is(err, ErrGaveUp) {
		t.Fatalf("Dial = %v, want a certificate error, not retried", err)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	opts.Client = &client.Options{TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}
	r, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.CloseNow()
	if _, msg, err := r.Read(ctx, nil); err != nil || string(msg) != "secure" {
		t.Errorf("Read = %q, %v; want secure", msg, err)
	}
}

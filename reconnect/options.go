package reconnect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
)

const (
	defaultMinDelay = time.Second
	defaultMaxDelay = 30 * time.Second

	// maxRetryAfter bounds the wait a server can ask for with Retry-After.
	maxRetryAfter = 10 * time.Minute
)

// Options configure a [Conn]. A nil *Options is the zero value: reconnect
// for as long as it takes after every failure [Retryable] accepts, with
// delays growing from 1 s to 30 s, no queue, no callbacks. Dial checks
// every field before it connects; one out of its range fails the Dial with
// an error naming the field.
type Options struct {
	// Client configures each dial; see [client.Options]. Its
	// HandshakeTimeout (10 s by default) bounds each attempt.
	Client *client.Options

	// MinDelay and MaxDelay shape the wait before each dial after a
	// failure ("full jitter"): after n consecutive failed dials (n = 0
	// when a connection has just ended) the wait is drawn uniformly from
	//
	//	[0, min(MaxDelay, MinDelay × 2^n)]
	//
	// so that clients that lost the same server do not come back all at
	// once. Zero means 1 s and 30 s (or MinDelay, if that is longer). When a server refuses with 429 or 503
	// and a Retry-After field, the wait is that long (up to 10 minutes)
	// plus the random wait above.
	MinDelay time.Duration
	MaxDelay time.Duration

	// MaxAttempts, if positive, is the number of consecutive failed dials
	// after which the Conn gives up; the count starts again at each
	// connection that opens. Zero means no limit: only Close, a failure
	// Retry rejects, or the Dial's context (for the first connection)
	// stops the Conn.
	MaxAttempts int

	// MaxDowntime, if positive, bounds how long the Conn stays without a
	// connection: from the moment a connection is lost (or Dial is
	// called), it dials only while the wait before the next dial ends
	// within MaxDowntime, and gives up instead of waiting past it. A dial
	// that has started may still take its HandshakeTimeout. Zero means no
	// bound.
	MaxDowntime time.Duration

	// Retry reports whether a failure should be followed by another dial:
	// the error a Read returned when a connection ended, or the error of a
	// failed dial. Nil means [Retryable].
	Retry func(err error) bool

	// OnConnect, if set, is called with each new connection and the
	// server's 101 response, before queued messages are sent on it and
	// before Read returns its messages: the place to authenticate or
	// subscribe again. It may write on c; it must not read from it.
	OnConnect func(c *conn.Conn, resp *http.Response)

	// OnDisconnect, if set, is called after each failure, with the failure
	// (what the Conn's Read saw, or what the dial returned) and the wait
	// before the next dial, or a negative next when the Conn gives up; err
	// is then what Read will return.
	OnDisconnect func(err error, next time.Duration)

	// QueueMessages and QueueBytes, if either is positive, turn on a queue
	// for the messages written while no connection is open, bounded in
	// number of messages and in payload bytes (each bound applies if it is
	// positive). Queued messages are sent in order on the next connection.
	// Without a queue such writes fail with ErrNotConnected.
	QueueMessages int
	QueueBytes    int64

	// QueuePolicy says what a write does when the queue is full.
	QueuePolicy QueuePolicy

	randN func(n int64) int64 // for tests: a number in [0, n); nil means math/rand/v2
}

// A QueuePolicy says what a write does when the queue of messages waiting
// for a connection is full.
type QueuePolicy uint8

// The queue policies.
const (
	RejectNew  QueuePolicy = iota // the write fails with ErrQueueFull; the queue is unchanged
	DropOldest                    // the oldest queued messages are dropped to make room
)

// validate checks o's fields and returns a copy with the defaults filled in.
func (o *Options) validate() (Options, error) {
	var v Options
	if o != nil {
		v = *o
	}
	switch {
	case v.MinDelay < 0:
		return v, fmt.Errorf("reconnect: Options.MinDelay is negative (%v)", v.MinDelay)
	case v.MaxDelay < 0:
		return v, fmt.Errorf("reconnect: Options.MaxDelay is negative (%v)", v.MaxDelay)
	case v.MaxAttempts < 0:
		return v, fmt.Errorf("reconnect: Options.MaxAttempts is negative (%d)", v.MaxAttempts)
	case v.MaxDowntime < 0:
		return v, fmt.Errorf("reconnect: Options.MaxDowntime is negative (%v)", v.MaxDowntime)
	case v.QueueMessages < 0:
		return v, fmt.Errorf("reconnect: Options.QueueMessages is negative (%d)", v.QueueMessages)
	case v.QueueBytes < 0:
		return v, fmt.Errorf("reconnect: Options.QueueBytes is negative (%d)", v.QueueBytes)
	case v.QueuePolicy > DropOldest:
		return v, fmt.Errorf("reconnect: Options.QueuePolicy %d is not a QueuePolicy", v.QueuePolicy)
	}
	if v.MinDelay == 0 {
		v.MinDelay = defaultMinDelay
	}
	if v.MaxDelay == 0 {
		v.MaxDelay = max(defaultMaxDelay, v.MinDelay)
	}
	if v.MinDelay > v.MaxDelay {
		return v, fmt.Errorf("reconnect: Options.MinDelay (%v) is longer than Options.MaxDelay (%v)", v.MinDelay, v.MaxDelay)
	}
	if v.Retry == nil {
		v.Retry = Retryable
	}
	return v, nil
}

// backoffBound returns min(maxDelay, minDelay × 2^n), without overflow.
func backoffBound(minDelay, maxDelay time.Duration, n int) time.Duration {
	d := minDelay
	for range n {
		if d >= maxDelay/2 {
			return maxDelay
		}
		d *= 2
	}
	return min(d, maxDelay)
}

// delay returns the wait before the next dial after n consecutive failed
// dials, the last of which failed with err; randN(k) returns a number in
// [0, k).
func (o *Options) delay(n int, err error, randN func(int64) int64) time.Duration {
	k := int64(backoffBound(o.MinDelay, o.MaxDelay, n))
	if k < math.MaxInt64 {
		k++ // the bound itself may be drawn
	}
	jitter, ra := time.Duration(randN(k)), retryAfter(err, time.Now())
	if jitter > math.MaxInt64-ra {
		return math.MaxInt64
	}
	return ra + jitter
}

// randN is the default source of randomness for delays.
func randN(n int64) int64 { return rand.Int64N(n) }

// retryAfter returns the wait that a 429 or 503 refusal asked for in its
// Retry-After field (RFC 9110, Section 10.2.3), a number of seconds or a
// date, capped at maxRetryAfter; zero if there is none.
func retryAfter(err error, now time.Time) time.Duration {
	var he *client.HandshakeError
	if !errors.As(err, &he) || he.Response == nil {
		return 0
	}
	if s := he.Response.StatusCode; s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(he.Response.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil {
		d = maxRetryAfter
		if secs < uint64(maxRetryAfter/time.Second) {
			d = time.Duration(secs) * time.Second
		}
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}

// Retryable reports whether err, the end of a connection or the failure
// of a dial, may pass if the client dials again. It is the default
// [Options.Retry], and reports true for
//
//   - a connection that ended without a Close frame (1006), through a
//     network error, a keepalive timeout or a write timeout;
//   - a Close frame from the server with code 1001 (going away), 1011
//     (internal error), 1012 (service restart), 1013 (try again later) or
//     1014 (bad gateway) ([RFC 6455, Section 7.4.1], IANA registry);
//   - a dial that failed on the network (connection refused or reset, DNS,
//     timeouts), or whose handshake the server answered with a 5xx status
//     or 429 (too many requests).
//
// It reports false for every other Close code (1000 normal closure, 1002,
// 1003, 1005, 1007, 1008, 1009, 1010, and the 3000-4999 codes of
// applications), for a connection this client failed because the server
// broke the protocol (*conn.ProtocolError), for handshakes refused with
// other statuses (400, 401, 403, 404, 426, ...) or answered in breach of
// RFC 6455, for TLS certificate errors, invalid URLs and options, and for
// errors it does not know.
//
// [RFC 6455, Section 7.4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	// A Conn's errors after its end match net.ErrClosed as well as their
	// cause: the cause decides.
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case conn.CloseGoingAway, conn.CloseAbnormalClosure, conn.CloseInternalServerErr,
			conn.CloseServiceRestart, conn.CloseTryAgainLater, conn.CloseBadGateway:
			return true
		}
		return false
	}
	var pe *conn.ProtocolError
	if errors.As(err, &pe) {
		return false
	}
	if errors.Is(err, conn.ErrKeepalive) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	if errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled) {
		return false // closed by this endpoint
	}
	var he *client.HandshakeError
	if errors.As(err, &he) {
		if he.Response == nil {
			return false
		}
		s := he.Response.StatusCode
		return s >= 500 && s <= 599 || s == http.StatusTooManyRequests
	}
	var (
		verr  *tls.CertificateVerificationError
		uaerr x509.UnknownAuthorityError
		hnerr x509.HostnameError
		cierr x509.CertificateInvalidError
		aerr  tls.AlertError
	)
	if errors.As(err, &verr) || errors.As(err, &uaerr) || errors.As(err, &hnerr) || errors.As(err, &cierr) || errors.As(err, &aerr) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

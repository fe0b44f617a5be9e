// Package subject holds this library's Autobahn subjects: the echo server
// the fuzzing client tests and the client the fuzzing server tests. The
// commands in autobahn/cmd and the conformance tests share them.
package subject

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/eventloop"
	"github.com/rfc6455/websocket/server"
)

// readLimit is above the suite's largest message (16 MiB).
const readLimit = 64 << 20

// EchoHandler returns the echo server: every message comes back with its
// type.
func EchoHandler() http.Handler {
	return &server.Handler{
		// Any permessage-deflate offer is accepted as made; every echo is
		// compressed, however short, so that sections 12 and 13 exercise
		// the compressor as well as the decompressor.
		Options: &server.Options{Compression: &conn.Compression{}, Conn: deflateConn},
		Serve:   func(c *conn.Conn, r *http.Request) { echo(context.Background(), c) },
	}
}

// EventLoopEcho returns the echo server on event loops: the same
// options, with every message echoed from the loop that read it.
func EventLoopEcho() *eventloop.Server {
	return &eventloop.Server{
		Options: &server.Options{Compression: &conn.Compression{}, Conn: deflateConn},
		OnMessage: func(c *conn.Conn, typ conn.MessageType, data []byte) {
			c.Write(context.Background(), typ, data)
		},
	}
}

// echo echoes messages until the connection ends. The suite decides how
// each case ends and judges it, so errors are not reported.
func echo(ctx context.Context, c *conn.Conn) {
	var buf []byte
	for {
		typ, msg, err := c.Read(ctx, buf[:0])
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
		buf = msg
	}
}

// deflateConn configures the subjects' connections.
var deflateConn = conn.Options{ReadLimit: readLimit, CompressionThreshold: -1}

// ClientOptions returns the options the client subject dials with, for a
// caller to change (to dial over HTTP/2, say). They offer
// permessage-deflate as browsers do, with client_max_window_bits, so that
// the suite may ask for a smaller window (13.3-13.6).
func ClientOptions() *client.Options {
	return &client.Options{Compression: &conn.Compression{}, Conn: deflateConn}
}

// RunClient runs every case of the fuzzing server at base (such as
// ws://127.0.0.1:9001) as agent, dialing with opts (ClientOptions if
// nil), then asks it to write its reports. A case that has not ended after
// caseTimeout (if positive) is closed, and the run goes on with the next;
// the wait for the reports has the same bound.
func RunClient(ctx context.Context, base, agent string, opts *client.Options, caseTimeout time.Duration, logf func(string, ...any)) error {
	if opts == nil {
		opts = ClientOptions()
	}
	count, err := caseCount(ctx, base, opts)
	if err != nil {
		return err
	}
	logf("testclient: %d cases", count)
	for i := 1; i <= count; i++ {
		u := fmt.Sprintf("%s/runCase?case=%d&agent=%s", base, i, url.QueryEscape(agent))
		if err := runCase(ctx, u, opts, caseTimeout); err != nil {
			logf("testclient: case %d: %v", i, err)
		}
	}
	if err := runCase(ctx, base+"/updateReports?agent="+url.QueryEscape(agent), opts, caseTimeout); err != nil {
		return fmt.Errorf("updateReports: %w", err)
	}
	return nil
}

// errCaseTimeout is the cause of a case's context when its time is up,
// and what runCase's error then wraps.
var errCaseTimeout = errors.New("case did not end in time")

// runCase dials u and echoes until the suite ends the connection (it
// closes after the reports too), or until timeout, if positive, has
// passed; the connection is closed either way.
func runCase(ctx context.Context, u string, opts *client.Options, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errCaseTimeout)
		defer cancel()
	}
	c, _, err := client.Dial(ctx, u, opts)
	if err == nil {
		echo(ctx, c)
		c.CloseNow()
	}
	if context.Cause(ctx) == errCaseTimeout {
		return fmt.Errorf("%w (%v), closed", errCaseTimeout, timeout)
	}
	return err
}

func caseCount(ctx context.Context, base string, opts *client.Options) (int, error) {
	c, _, err := client.Dial(ctx, base+"/getCaseCount", opts)
	if err != nil {
		return 0, fmt.Errorf("getCaseCount: %w", err)
	}
	defer c.CloseNow()
	_, msg, err := c.Read(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("getCaseCount: %w", err)
	}
	c.Close(conn.CloseNormalClosure, "")
	n, err := strconv.Atoi(string(msg))
	if err != nil {
		return 0, fmt.Errorf("getCaseCount: %q is not a number", msg)
	}
	return n, nil
}

// Package subject holds this library's Autobahn subjects: the echo server
// the fuzzing client tests and the client the fuzzing server tests. The
// commands in autobahn/cmd and the conformance tests share them.
package subject

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
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

// clientOptions offer permessage-deflate as browsers do, with
// client_max_window_bits, so that the suite may ask for a smaller window
// (13.3-13.6).
var clientOptions = &client.Options{Compression: &conn.Compression{}, Conn: deflateConn}

// RunClient runs every case of the fuzzing server at base (such as
// ws://127.0.0.1:9001) as agent, then asks it to write its reports.
func RunClient(ctx context.Context, base, agent string, logf func(string, ...any)) error {
	count, err := caseCount(ctx, base)
	if err != nil {
		return err
	}
	logf("testclient: %d cases", count)
	for i := 1; i <= count; i++ {
		u := fmt.Sprintf("%s/runCase?case=%d&agent=%s", base, i, url.QueryEscape(agent))
		c, _, err := client.Dial(ctx, u, clientOptions)
		if err != nil {
			logf("testclient: case %d: %v", i, err)
			continue
		}
		echo(ctx, c)
		c.CloseNow()
	}
	c, _, err := client.Dial(ctx, base+"/updateReports?agent="+url.QueryEscape(agent), clientOptions)
	if err != nil {
		return fmt.Errorf("updateReports: %w", err)
	}
	c.Read(ctx, nil) // the suite closes once the reports are written
	c.CloseNow()
	return nil
}

func caseCount(ctx context.Context, base string) (int, error) {
	c, _, err := client.Dial(ctx, base+"/getCaseCount", clientOptions)
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

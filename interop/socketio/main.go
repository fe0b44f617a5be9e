// Command socketio checks this module's client against a Socket.IO server
// (interop/node/socketio-server.js), the back end many browser apps talk
// to: it speaks Engine.IO protocol 4 over a WebSocket, as socket.io-client
// does when told to use only that transport. It checks the Engine.IO open
// packet, connects to the default namespace, receives an emitted event,
// sends an event that asks for an acknowledgement and checks both the
// echo and the acknowledgement, answers every heartbeat ping for a while,
// and closes with 1000. With -deflate it offers permessage-deflate and
// requires it to be agreed. It prints one RESULT line and exits 1 on any
// failure.
//
//	go run ./interop/socketio -url 'ws://127.0.0.1:18102/socket.io/?EIO=4&transport=websocket'
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
)

func main() {
	url := flag.String("url", "", "ws:// URL of the Socket.IO endpoint, with ?EIO=4&transport=websocket")
	deflate := flag.Bool("deflate", false, "offer permessage-deflate and require it")
	label := flag.String("label", "go-client socketio ?", "the peer, roles and variant for the RESULT line")
	timeout := flag.Duration("timeout", 30*time.Second, "bound on the whole check")
	ignorePings := flag.Bool("ignore-pings", false, "do not answer heartbeats (to see the check fail)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	fmt.Printf("%s: %s\n", *label, *url)
	note, err := run(ctx, *url, *deflate, *ignorePings)
	verdict := "ok"
	if err != nil {
		verdict, note = "FAIL", err.Error()
		fmt.Printf("  FAIL: %v\n", err)
	}
	fmt.Printf("RESULT %s %s %s\n", *label, verdict, note)
	if err != nil {
		os.Exit(1)
	}
}

// A session is the Engine.IO side of one connection: it answers
// heartbeats while waiting for the packet the check expects.
type session struct {
	c           *conn.Conn
	pings       int
	ignorePings bool
}

// next returns the next Engine.IO packet other than a heartbeat ping,
// answering pings with pongs ("2" and "3", Engine.IO protocol 4).
func (s *session) next(ctx context.Context) (string, error) {
	for {
		typ, msg, err := s.c.Read(ctx, nil)
		if err != nil {
			return "", err
		}
		if typ != conn.Text {
			return "", fmt.Errorf("a %v message, want Engine.IO's text packets", typ)
		}
		if string(msg) == "2" {
			s.pings++
			if s.ignorePings {
				continue
			}
			if err := s.c.Write(ctx, conn.Text, []byte("3")); err != nil {
				return "", err
			}
			continue
		}
		return string(msg), nil
	}
}

// expect reads the next packet and checks that it starts with prefix.
func (s *session) expect(ctx context.Context, prefix string) (string, error) {
	p, err := s.next(ctx)
	if err != nil {
		return "", fmt.Errorf("waiting for %q: %w", prefix, err)
	}
	if !strings.HasPrefix(p, prefix) {
		return "", fmt.Errorf("got packet %.80q, want one starting %q", p, prefix)
	}
	return p[len(prefix):], nil
}

func run(ctx context.Context, url string, deflate, ignorePings bool) (string, error) {
	opts := &client.Options{}
	if deflate {
		opts.Compression = &conn.Compression{}
	}
	c, _, err := client.Dial(ctx, url, opts)
	if err != nil {
		return "", err
	}
	defer c.CloseNow()
	if got := strings.HasPrefix(c.Extensions(), "permessage-deflate"); got != deflate {
		return "", fmt.Errorf("extensions %q, want permessage-deflate %v", c.Extensions(), deflate)
	}
	s := &session{c: c, ignorePings: ignorePings}

	// Engine.IO open: "0" and a JSON handshake.
	open, err := s.expect(ctx, "0")
	if err != nil {
		return "", err
	}
	var hs struct {
		SID          string `json:"sid"`
		PingInterval int    `json:"pingInterval"`
	}
	if err := json.Unmarshal([]byte(open), &hs); err != nil || hs.SID == "" || hs.PingInterval <= 0 {
		return "", fmt.Errorf("Engine.IO open packet %q: %v", open, err)
	}
	// Socket.IO connect to the default namespace: "40", answered "40{sid}".
	if err := c.Write(ctx, conn.Text, []byte("40")); err != nil {
		return "", err
	}
	if _, err := s.expect(ctx, `40{"sid":`); err != nil {
		return "", err
	}
	if _, err := s.expect(ctx, `42["hello","welcome"]`); err != nil {
		return "", err
	}
	// An event with acknowledgement id 1, long enough to be worth
	// compressing.
	text := "hi from Go " + strings.Repeat("0123456789", 60)
	event, _ := json.Marshal([]string{"echo", text})
	if err := c.Write(ctx, conn.Text, append([]byte("421"), event...)); err != nil {
		return "", err
	}
	if _, err := s.expect(ctx, "42"+string(event)); err != nil {
		return "", err
	}
	ack, _ := json.Marshal([]string{"acked:" + text})
	if _, err := s.expect(ctx, "431"+string(ack)); err != nil {
		return "", err
	}
	// Stay for several heartbeats; the server closes a session whose pongs
	// stop.
	stay := time.Duration(5*hs.PingInterval) * time.Millisecond
	sctx, scancel := context.WithTimeout(ctx, stay)
	p, err := s.next(sctx)
	scancel()
	if err == nil {
		return "", fmt.Errorf("unexpected packet %.80q", p)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return "", fmt.Errorf("during heartbeats: %w", err)
	}
	if s.pings < 2 {
		return "", fmt.Errorf("%d heartbeats in %v, want at least 2", s.pings, stay)
	}
	if err := c.Close(1000, "done"); err != nil {
		return "", fmt.Errorf("closing: %w", err)
	}
	return fmt.Sprintf("extensions=%q event+ack ok, %d heartbeats answered", c.Extensions(), s.pings), nil
}

// Command client is the Go side of the interoperability checks: it dials
// an echo server that speaks the protocol of interop/internal/echo (the Go
// one in interop/server, or Node's ws in interop/node/server.js), offers
// permessage-deflate as its flags say, sends the message mix of
// interop/internal/check, verifies every echo byte for byte and the
// negotiation against -expect, and asserts from the server's wire counts
// that compression and context takeover were in effect in each direction
// exactly as negotiated. It prints one RESULT line and exits 1 on any
// failure.
//
//	go run ./interop/client -url ws://127.0.0.1:18100/takeover -expect permessage-deflate
//	go run ./interop/client -url ws://127.0.0.1:18100/takeover -no-client-takeover \
//		-expect 'permessage-deflate; client_no_context_takeover'
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/interop/internal/check"
)

func main() {
	url := flag.String("url", "", "ws:// URL of the echo endpoint")
	off := flag.Bool("off", false, "offer no permessage-deflate")
	noServer := flag.Bool("no-server-takeover", false, "offer server_no_context_takeover")
	noClient := flag.Bool("no-client-takeover", false, "offer client_no_context_takeover")
	serverBits := flag.Int("server-window", 0, "offer server_max_window_bits=N (8-15)")
	clientBits := flag.Int("client-window", 0, "offer client_max_window_bits=N (8-15)")
	level := flag.Int("level", 0, "compression level, 1-9 (0: the library's default)")
	threshold := flag.Int("threshold", -1, "compression threshold in bytes (negative: compress every message; 0: the library's default, which sends short messages uncompressed)")
	wbuf := flag.Int("write-buffer", 1000, "write buffer size, which is the frame size of streamed messages")
	expect := flag.String("expect", "", "the Sec-WebSocket-Extensions the handshake must agree (empty: none)")
	label := flag.String("label", "go-client go-server ?", "the peer, roles and variant for the RESULT line")
	timeout := flag.Duration("timeout", 60*time.Second, "bound on the whole check")
	digest := flag.Bool("mix-digest", false, "print the digest of the message mix and exit")
	flag.Parse()

	if *digest {
		fmt.Println(check.Digest(check.Mix(true)))
		return
	}
	if *url == "" {
		fmt.Fprintln(os.Stderr, "client: -url is required")
		os.Exit(2)
	}
	cfg := check.Config{
		URL:      *url,
		Expect:   *expect,
		Streamed: true,
		Log:      os.Stdout,
		Conn: conn.Options{
			CompressionLevel:     *level,
			CompressionThreshold: *threshold,
			WriteBufferSize:      *wbuf,
		},
	}
	if !*off {
		cfg.Compression = &conn.Compression{
			ServerNoContextTakeover: *noServer,
			ClientNoContextTakeover: *noClient,
			ServerMaxWindowBits:     *serverBits,
			ClientMaxWindowBits:     *clientBits,
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	fmt.Printf("%s: %s\n", *label, *url)
	res, err := check.Run(ctx, cfg)
	fmt.Printf("  negotiated %q (server says %q)\n", res.Negotiated, res.Greeting)
	failures := res.Failures
	if err != nil {
		failures = append(failures, err.Error())
	}
	for _, f := range failures {
		fmt.Printf("  FAIL: %s\n", f)
	}
	verdict := "ok"
	if len(failures) > 0 {
		verdict = "FAIL"
	}
	note := res.Summary()
	if len(failures) > 0 {
		note = failures[0]
	}
	fmt.Printf("RESULT %s %s %s\n", *label, verdict, strings.ReplaceAll(note, "\n", " "))
	if len(failures) > 0 {
		os.Exit(1)
	}
}

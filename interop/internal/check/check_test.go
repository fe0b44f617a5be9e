package check

import (
	"context"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/interop/internal/echo"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{{
		name: "none",
		in:   "",
		want: "",
	}, {
		name: "parameters sorted, spaces and case dropped",
		in:   "Permessage-Deflate;client_max_window_bits=10 ;  Server_No_Context_Takeover",
		want: "permessage-deflate; client_max_window_bits=10; server_no_context_takeover",
	}, {
		name: "quoted value",
		in:   `permessage-deflate; server_max_window_bits="9"`,
		want: "permessage-deflate; server_max_window_bits=9",
	}, {
		name: "two extensions keep their order",
		in:   "x-b; b; a, permessage-deflate",
		want: "x-b; a; b, permessage-deflate",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// mixDigest is Digest(Mix(true)). interop/node/mix.js must make the same
// messages; run.sh compares its digest with this program's. Change both
// and this value together.
const mixDigest = "c0a05c9cb69147be5c6362629702b7c246522055534b4b546aaec597d23bb8b1"

func TestMixDigest(t *testing.T) {
	if got := Digest(Mix(true)); got != mixDigest {
		t.Errorf("Digest(Mix(true)) = %s, want %s: if the mix changed on purpose, change mix.js the same way", got, mixDigest)
	}
}

func TestMixChunks(t *testing.T) {
	for _, s := range Mix(true) {
		for i, m := range s.Msgs {
			if m.Chunks == nil {
				continue
			}
			sum := 0
			for _, n := range m.Chunks {
				sum += n
			}
			if sum != len(m.Data) {
				t.Errorf("%s message %d: chunks add up to %d, want %d", s.Name, i, sum, len(m.Data))
			}
		}
	}
}

// TestRunAgainstEcho runs the check of our client against our echo
// server, as run.sh's baseline does, so that a broken harness shows up in
// go test before it is blamed on a peer.
func TestRunAgainstEcho(t *testing.T) {
	if testing.Short() {
		t.Skip("sends megabytes per case")
	}
	srv := &echo.Server{Logger: log.New(io.Discard, "", 0)}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Listener = srv.Listen(ts.Listener)
	ts.Start()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		ts.Close()
	})
	runAgainst(t, "ws"+strings.TrimPrefix(ts.URL, "http"))
}

// TestRunAgainstEventLoop runs the same against the echo server on
// package eventloop, through each way into its loops.
func TestRunAgainstEventLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("sends megabytes per case")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the event-loop echo server peeks at request lines with Linux system calls")
	}
	if err := echo.CheckKernelCounts(); err != nil {
		t.Logf("the kernel cannot count bytes here, Conn.Stats does: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &echo.EventLoop{Logger: log.New(io.Discard, "", 0)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		<-served
	})
	base := "ws://" + l.Addr().String()
	t.Run("Serve", func(t *testing.T) { runAgainst(t, base) })
	t.Run("ServeHTTP", func(t *testing.T) { runAgainst(t, base+echo.HTTPPrefix) })
}

// runAgainst runs our client's check against the echo server at base.
func runAgainst(t *testing.T, base string) {
	tests := []struct {
		name    string
		path    string
		deflate *conn.Compression
		// defaultThreshold leaves the client's CompressionThreshold at
		// zero; otherwise it is -1, as in the command, so that even the
		// short chat messages are compressed.
		defaultThreshold bool
		want             string
	}{{
		name: "off",
		path: "/off",
		// The client offers; the server declines.
		deflate: &conn.Compression{},
		want:    "",
	}, {
		name:    "takeover",
		path:    "/takeover",
		deflate: &conn.Compression{},
		want:    "permessage-deflate",
	}, {
		name:    "server asks for no takeover, small windows",
		path:    "/no-takeover-window-9",
		deflate: &conn.Compression{},
		want:    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9",
	}, {
		name:    "client asks for no client takeover, window 8",
		path:    "/takeover",
		deflate: &conn.Compression{ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 8},
		want:    "permessage-deflate; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8",
	}, {
		name:             "both with the default threshold: short messages uncompressed between compressed ones",
		path:             "/default-threshold",
		deflate:          &conn.Compression{},
		defaultThreshold: true,
		want:             "permessage-deflate",
	}, {
		name: "client offers nothing",
		path: "/takeover",
		want: "",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			threshold := -1
			if tt.defaultThreshold {
				threshold = 0
			}
			res, err := Run(ctx, Config{
				URL:         base + tt.path,
				Compression: tt.deflate,
				Expect:      tt.want,
				Streamed:    true,
				Conn:        conn.Options{CompressionThreshold: threshold},
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			for _, f := range res.Failures {
				t.Errorf("%s", f)
			}
		})
	}
}

// TestAssertCatchesMissingCompression checks that the wire-size
// assertions fail where they should.
func TestAssertCatchesMissingCompression(t *testing.T) {
	tests := []struct {
		name       string
		negotiated string
		row        Row
		wantFail   bool
	}{{
		name:       "compressible segment uncompressed despite deflate",
		negotiated: "permessage-deflate",
		row:        Row{Segment: "text", Kind: Compressible, Payload: 1000, C2S: 900, S2C: 100},
		wantFail:   true,
	}, {
		name:       "chat without the takeover that was agreed",
		negotiated: "permessage-deflate",
		row:        Row{Segment: "chat", Kind: Chat, Payload: 1000, C2S: 200, S2C: 950},
		wantFail:   true,
	}, {
		name:       "chat with takeover that was turned off",
		negotiated: "permessage-deflate; server_no_context_takeover",
		row:        Row{Segment: "chat", Kind: Chat, Payload: 1000, C2S: 200, S2C: 200},
		wantFail:   true,
	}, {
		name:       "compression without deflate",
		negotiated: "",
		row:        Row{Segment: "text", Kind: Compressible, Payload: 1000, C2S: 1010, S2C: 300},
		wantFail:   true,
	}, {
		name:       "all as agreed",
		negotiated: "permessage-deflate; client_no_context_takeover",
		row:        Row{Segment: "chat", Kind: Chat, Payload: 1000, C2S: 950, S2C: 200},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Result{Negotiated: tt.negotiated, Rows: []Row{tt.row}}
			r.assert()
			if got := len(r.Failures) > 0; got != tt.wantFail {
				t.Errorf("failures %q; want failing %v", r.Failures, tt.wantFail)
			}
		})
	}
}

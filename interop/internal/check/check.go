// Package check runs the interoperability check of this library's client
// against an echo server that speaks the protocol of package
// interop/internal/echo (the Go one, or interop/node/server.js over ws):
// it sends the message mix, verifies every echo byte for byte, and
// asserts from the server's wire counts that compression was in effect
// in each direction exactly when it was negotiated, and that context
// takeover was in effect exactly when it was not turned off.
package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
)

// Thresholds on the wire size of a segment over its payload size, in each
// direction. interop/node/mix.js applies the same ones.
const (
	// A compressible segment shrinks at least this much with any window.
	compressibleMax = 0.5
	// A chat segment shrinks at least this much with context takeover...
	chatTakeoverMax = 0.7
	// ...and less than this without (each message then stands alone).
	chatStandaloneMin = 0.8
	// Incompressible data grows no more than framing and stored blocks need.
	incompressibleMax = 1.02
)

// Config says what to check.
type Config struct {
	URL string
	// Deflate is the permessage-deflate offer; nil offers nothing.
	Compression *conn.Compression
	// Expect is the Sec-WebSocket-Extensions value the handshake must
	// agree, compared after Normalize; "" means none.
	Expect string
	// Conn configures the client's side: compression level and
	// threshold, buffer sizes.
	Conn conn.Options
	// Streamed includes the segment of messages streamed in small writes.
	Streamed bool
	// MessageTimeout bounds each message's round trip.
	MessageTimeout time.Duration
	// Log, if not nil, gets a line per segment.
	Log io.Writer
}

// A Row is the measurement of one segment.
type Row struct {
	Segment  string
	Kind     Kind
	Messages int
	Payload  int64 // bytes, each way
	C2S, S2C int64 // wire bytes, client to server and back
}

// Ratio returns wire over payload bytes.
func ratio(wire, payload int64) float64 {
	if payload == 0 {
		return 0
	}
	return float64(wire) / float64(payload)
}

// A Result is what a check saw.
type Result struct {
	Negotiated string // the client's view: the handshake response's extensions
	Greeting   string // the server's view, from its first message
	Rows       []Row
	Failures   []string // failed assertions; a broken connection is an error instead

	// Short messages may go uncompressed from the client, or from the
	// server, so that the chat segment's wire size says nothing of
	// context takeover in that direction.
	clientShortUncompressed, serverShortUncompressed bool
}

// Run performs the check. It returns an error if the connection could
// not be made or broke, or an echo was wrong; failed assertions on the
// negotiation and the wire sizes are in Result.Failures.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	res := &Result{clientShortUncompressed: cfg.Conn.CompressionThreshold >= 0}
	c, _, err := client.Dial(ctx, cfg.URL, &client.Options{Compression: cfg.Compression, Conn: cfg.Conn})
	if err != nil {
		return res, fmt.Errorf("dial: %w", err)
	}
	defer c.CloseNow()
	res.Negotiated = c.Extensions()
	timeout := cfg.MessageTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}

	g, err := readText(ctx, c, timeout)
	if err != nil {
		return res, fmt.Errorf("reading the greeting: %w", err)
	}
	greeting, ok := strings.CutPrefix(g, "negotiated:")
	if !ok {
		return res, fmt.Errorf("the first message is %.60q, not the negotiated: greeting", g)
	}
	res.Greeting = greeting
	if got, want := Normalize(res.Negotiated), Normalize(cfg.Expect); got != want {
		res.fail("negotiated %q, want %q", got, want)
	}
	if got, want := Normalize(greeting), Normalize(res.Negotiated); got != want {
		res.fail("the server says it agreed %q, the client %q", got, want)
	}

	k := 0 // messages sent, which picks the read path of the echo
	for _, seg := range Mix(cfg.Streamed) {
		before, err := stats(ctx, c, timeout)
		if err != nil {
			return res, fmt.Errorf("%s: %w", seg.Name, err)
		}
		row := Row{Segment: seg.Name, Kind: seg.Kind, Messages: len(seg.Msgs)}
		for i, m := range seg.Msgs {
			if err := roundTrip(ctx, c, m, k%2 == 1, timeout); err != nil {
				return res, fmt.Errorf("%s message %d (%s, %d bytes): %w", seg.Name, i, m.Type, len(m.Data), err)
			}
			row.Payload += int64(len(m.Data))
			k++
		}
		after, err := stats(ctx, c, timeout)
		if err != nil {
			return res, fmt.Errorf("%s: %w", seg.Name, err)
		}
		row.C2S, row.S2C = after.WireIn-before.WireIn, after.WireOut-before.WireOut
		res.serverShortUncompressed = after.ShortUncompressed
		res.Rows = append(res.Rows, row)
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "  %-12s %4d msgs %9d B  c2s %.3f  s2c %.3f\n",
				row.Segment, row.Messages, row.Payload, ratio(row.C2S, row.Payload), ratio(row.S2C, row.Payload))
		}
	}
	res.assert()

	if err := c.Close(conn.CloseNormalClosure, "done"); err != nil {
		return res, fmt.Errorf("close: %w", err)
	}
	return res, nil
}

func (r *Result) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// assert checks the wire sizes against what was negotiated.
func (r *Result) assert() {
	p := params(Normalize(r.Negotiated))
	deflate := p["permessage-deflate"]
	dirs := []struct {
		name     string
		takeover bool
		short    bool // short messages may go uncompressed
		wire     func(Row) int64
	}{
		{"client→server", !p["client_no_context_takeover"], r.clientShortUncompressed, func(r Row) int64 { return r.C2S }},
		{"server→client", !p["server_no_context_takeover"], r.serverShortUncompressed, func(r Row) int64 { return r.S2C }},
	}
	for _, row := range r.Rows {
		for _, d := range dirs {
			x := ratio(d.wire(row), row.Payload)
			switch {
			case row.Kind == Misc:
			case !deflate && x < 1:
				r.fail("%s %s: %.3f of the payload on the wire without compression", row.Segment, d.name, x)
			case !deflate, row.Kind == Chat && d.short:
			case row.Kind == Compressible && x > compressibleMax:
				r.fail("%s %s: %.3f of the payload on the wire, want at most %.2f", row.Segment, d.name, x, compressibleMax)
			case row.Kind == Incompressible && x > incompressibleMax:
				r.fail("%s %s: %.3f of the payload on the wire, want at most %.2f", row.Segment, d.name, x, incompressibleMax)
			case row.Kind == Chat && d.takeover && x > chatTakeoverMax:
				r.fail("%s %s: %.3f of the payload on the wire with context takeover, want at most %.2f", row.Segment, d.name, x, chatTakeoverMax)
			case row.Kind == Chat && !d.takeover && x < chatStandaloneMin:
				r.fail("%s %s: %.3f of the payload on the wire without context takeover, want at least %.2f", row.Segment, d.name, x, chatStandaloneMin)
			}
		}
	}
}

// Summary is a one-line account of the chat and compressible ratios.
func (r *Result) Summary() string {
	var parts []string
	for _, row := range r.Rows {
		if row.Segment == "chat" || row.Segment == "binary-1.1m" {
			parts = append(parts, fmt.Sprintf("%s %.2f/%.2f", row.Segment, ratio(row.C2S, row.Payload), ratio(row.S2C, row.Payload)))
		}
	}
	return strings.Join(parts, " ")
}

// roundTrip sends m, streamed if it has chunks, and checks its echo, read
// whole or, if streamRead, through Conn.Reader in small reads.
func roundTrip(ctx context.Context, c *conn.Conn, m Message, streamRead bool, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if m.Chunks == nil {
		if err := c.Write(ctx, m.Type, m.Data); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	} else {
		w, err := c.Writer(ctx, m.Type)
		if err != nil {
			return fmt.Errorf("writer: %w", err)
		}
		rest := m.Data
		for _, n := range m.Chunks {
			if _, err := w.Write(rest[:n]); err != nil {
				return fmt.Errorf("streamed write: %w", err)
			}
			rest = rest[n:]
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("closing the writer: %w", err)
		}
	}
	var typ conn.MessageType
	var got []byte
	var err error
	if streamRead {
		var rd io.Reader
		typ, rd, err = c.Reader(ctx)
		if err == nil {
			got, err = readInPieces(rd, 777)
		}
	} else {
		typ, got, err = c.Read(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("reading the echo: %w", err)
	}
	if typ != m.Type {
		return fmt.Errorf("echo is %s, sent %s", typ, m.Type)
	}
	return Compare(m.Data, got)
}

// readInPieces reads rd to EOF in reads of at most n bytes.
func readInPieces(rd io.Reader, n int) ([]byte, error) {
	var out []byte
	buf := make([]byte, n)
	for {
		m, err := rd.Read(buf)
		out = append(out, buf[:m]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// Compare reports how got differs from want.
func Compare(want, got []byte) error {
	if bytes.Equal(want, got) {
		return nil
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	return fmt.Errorf("echo differs: %d bytes sent, %d received, first difference at offset %d (sent %x, received %x)",
		len(want), len(got), i, want[i:min(i+16, len(want))], got[i:min(i+16, len(got))])
}

func readText(ctx context.Context, c *conn.Conn, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	typ, b, err := c.Read(ctx, nil)
	if err != nil {
		return "", err
	}
	if typ != conn.Text {
		return "", errors.New("got a binary message, want text")
	}
	return string(b), nil
}

// serverStats is the echo server's answer to "stats?".
type serverStats struct {
	WireIn            int64 `json:"wireIn"`
	WireOut           int64 `json:"wireOut"`
	ShortUncompressed bool  `json:"shortUncompressed"`
}

func stats(ctx context.Context, c *conn.Conn, timeout time.Duration) (serverStats, error) {
	var st serverStats
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.Write(wctx, conn.Text, []byte("stats?")); err != nil {
		return st, fmt.Errorf("asking for stats: %w", err)
	}
	s, err := readText(ctx, c, timeout)
	if err != nil {
		return st, fmt.Errorf("reading stats: %w", err)
	}
	body, ok := strings.CutPrefix(s, "stats:")
	if !ok {
		return st, fmt.Errorf("got %.60q, want the stats: answer", s)
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	if st.WireIn == 0 || st.WireOut == 0 {
		return st, errors.New("the server does not count its wire bytes")
	}
	return st, nil
}

// Normalize returns a Sec-WebSocket-Extensions value in a canonical form
// for comparison: each extension as its name and then its parameters,
// sorted, in lower case and unquoted, joined by "; "; extensions joined
// by ", ". It parses on its own rather than with package handshake, so
// that it checks that package too.
func Normalize(v string) string {
	var exts []string
	for e := range strings.SplitSeq(v, ",") {
		var parts []string
		for p := range strings.SplitSeq(e, ";") {
			name, value, hasValue := strings.Cut(p, "=")
			p = strings.ToLower(strings.TrimSpace(name))
			if hasValue {
				p += "=" + strings.Trim(strings.TrimSpace(value), `"`)
			}
			if p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) == 0 {
			continue
		}
		sort.Strings(parts[1:])
		exts = append(exts, strings.Join(parts, "; "))
	}
	return strings.Join(exts, ", ")
}

// params returns the set of tokens of a normalized value: extension
// names and parameters (with their values).
func params(norm string) map[string]bool {
	m := map[string]bool{}
	for e := range strings.SplitSeq(norm, ", ") {
		for p := range strings.SplitSeq(e, "; ") {
			name, _, _ := strings.Cut(p, "=")
			m[name] = true
		}
	}
	return m
}

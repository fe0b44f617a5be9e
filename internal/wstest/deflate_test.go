package wstest

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestDeflateOffers(t *testing.T) {
	want := map[string]string{
		"12.1.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits",
		"13.1.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits",
		"13.2.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover",
		"13.3.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=9",
		"13.4.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=15",
		"13.5.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9",
		"13.6.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=15",
		"13.7.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9, " +
			"permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover, " +
			"permessage-deflate; client_no_context_takeover; client_max_window_bits",
	}
	got := map[string]string{}
	for _, c := range selectCases(t, "12.1.1,13.*.1") {
		got[c.ID] = c.deflate.header()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("offers (-want +got):\n%s", diff)
	}
	for _, c := range selectCases(t, "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*") {
		if c.deflate != nil {
			t.Errorf("case %s negotiates permessage-deflate", c.ID)
		}
	}
}

// TestDeflateAccept runs each section 13 way of accepting against
// client offers, as the fuzzing server.
func TestDeflateAccept(t *testing.T) {
	const (
		bare      = "permessage-deflate"
		withBits  = "permessage-deflate; client_max_window_bits"
		gorilla   = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
		twoOffers = "permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits=12"
	)
	tests := []struct {
		offers string
		want   map[string]string // first case of each subsection → response, "" for none
	}{{
		offers: bare,
		want: map[string]string{
			"13.1.1": "permessage-deflate",
			"13.2.1": "permessage-deflate; client_no_context_takeover",
			"13.3.1": "", "13.4.1": "", "13.5.1": "", "13.6.1": "",
			"13.7.1": "permessage-deflate; client_no_context_takeover",
		},
	}, {
		offers: withBits,
		want: map[string]string{
			"13.1.1": "permessage-deflate",
			"13.2.1": "permessage-deflate; client_no_context_takeover",
			"13.3.1": "permessage-deflate; client_max_window_bits=9",
			"13.4.1": "permessage-deflate; client_max_window_bits=15",
			"13.5.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits=9",
			"13.6.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits=15",
			"13.7.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits=9",
		},
	}, {
		offers: gorilla,
		want: map[string]string{
			"13.1.1": "permessage-deflate; server_no_context_takeover",
			"13.2.1": "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			"13.3.1": "", "13.4.1": "", "13.5.1": "", "13.6.1": "",
			"13.7.1": "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		},
	}, {
		offers: twoOffers,
		want: map[string]string{
			"13.1.1": "permessage-deflate; server_max_window_bits=10",
			"13.2.1": "permessage-deflate; server_max_window_bits=10; client_no_context_takeover",
			"13.3.1": "permessage-deflate; client_max_window_bits=9",
			"13.4.1": "permessage-deflate; client_max_window_bits=15",
			"13.5.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits=9",
			"13.6.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits=15",
			"13.7.1": "permessage-deflate; client_no_context_takeover; client_max_window_bits=9",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.offers, func(t *testing.T) {
			offers, err := requestOffers(http.Header{"Sec-Websocket-Extensions": {"x-webkit-thing; a=1, " + tt.offers}})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, c := range selectCases(t, "13.*.1") {
				got[c.ID] = ""
				if a := c.deflate.accept(offers); a != nil {
					got[c.ID] = a.String()
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("responses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeflateParams(t *testing.T) {
	tests := []struct {
		name    string
		resp    string
		want    *pmdParams
		wantErr bool
	}{{
		name: "defaults",
		resp: "permessage-deflate",
		want: &pmdParams{serverMaxWindowBits: 15, clientMaxWindowBits: 15},
	}, {
		name: "all, quoted and in capitals",
		resp: `Permessage-Deflate; Server_No_Context_Takeover; client_no_context_takeover; server_max_window_bits="9"; client_max_window_bits=10`,
		want: &pmdParams{serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 10},
	}, {
		name:    "client_max_window_bits without a value",
		resp:    "permessage-deflate; client_max_window_bits",
		wantErr: true,
	}, {
		name:    "window out of range",
		resp:    "permessage-deflate; server_max_window_bits=16",
		wantErr: true,
	}, {
		name:    "flag with a value",
		resp:    "permessage-deflate; server_no_context_takeover=1",
		wantErr: true,
	}, {
		name:    "parameter twice",
		resp:    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
		wantErr: true,
	}, {
		name:    "unknown parameter",
		resp:    "permessage-deflate; mem_level=8",
		wantErr: true,
	}, {
		name:    "two responses",
		resp:    "permessage-deflate, permessage-deflate",
		wantErr: true,
	}, {
		name:    "another extension",
		resp:    "x-webkit-deflate-frame",
		wantErr: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := responseParams(http.Header{"Sec-Websocket-Extensions": {tt.resp}}, true)
			if (err != nil) != tt.wantErr {
				t.Fatalf("responseParams(%q) error %v, want error %v", tt.resp, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(pmdParams{})); diff != "" {
				t.Errorf("responseParams(%q) (-want +got):\n%s", tt.resp, diff)
			}
		})
	}
	if _, err := responseParams(http.Header{"Sec-Websocket-Extensions": {"permessage-deflate"}}, false); err == nil {
		t.Error("a permessage-deflate response to no offer was accepted")
	}
	if p, err := responseParams(http.Header{"Sec-Websocket-Extensions": {" , "}}, false); p != nil || err != nil {
		t.Errorf("an empty extension list gave %v, %v", p, err)
	}
	bad := []string{
		"permessage-deflate; server_max_window_bits",
		"permessage-deflate; client_max_window_bits=7",
		"permessage-deflate; client_no_context_takeover=yes",
		"permessage-deflate; x=1",
	}
	for _, o := range bad {
		if _, err := requestOffers(http.Header{"Sec-Websocket-Extensions": {o}}); !errors.Is(err, errExtension) {
			t.Errorf("offer %q: error %v, want errExtension", o, err)
		}
	}
	if _, err := requestOffers(http.Header{"Sec-Websocket-Extensions": {"permessage-deflate", "permessage-deflate"}}); !errors.Is(err, errTwoExtensionHeaders) {
		t.Errorf("two headers: error %v", err)
	}
}

// TestCodec sends messages through the suite's codec in both roles and
// negotiations and back, and checks that what it sends at a window below
// 15 bits never reaches back further.
func TestCodec(t *testing.T) {
	for _, p := range []pmdParams{
		{serverMaxWindowBits: 15, clientMaxWindowBits: 15},
		{serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15},
		{serverMaxWindowBits: 9, clientMaxWindowBits: 8},
		{serverNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 15},
	} {
		for _, size := range []int{0, 16, 200, 5000, 70000} {
			t.Run(fmt.Sprintf("%+v/%d", p, size), func(t *testing.T) {
				srv, cli := newCodec(p, true), newCodec(p, false)
				from := 0
				for i := 0; i < 20; i++ {
					var msg []byte
					msg, from = corpusJSON.message(from, size)
					if size == 0 {
						msg = nil
					}
					for _, pair := range [][2]*pmdCodec{{srv, cli}, {cli, srv}} {
						z := pair[0].deflate(msg)
						if pair[0].txBits < 15 {
							if _, err := checkDistances(append(z, syncTail...), 1<<pair[0].txBits, 0); err != nil {
								t.Fatalf("message %d: %v", i, err)
							}
						}
						got, err := pair[1].inflate(z)
						if err != nil {
							t.Fatalf("message %d: %v", i, err)
						}
						if !bytes.Equal(got, msg) {
							t.Fatalf("message %d: round trip changed it", i)
						}
					}
				}
			})
		}
	}
}

// TestCheckDistances compares the walker with the standard library: it
// must count the same output, and find the back-references that a
// window of 32 KiB allows but 512 octets do not.
func TestCheckDistances(t *testing.T) {
	data := corpusJSON.data
	if data == nil {
		corpusJSON.load()
		data = corpusJSON.data
	}
	for _, level := range []int{flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		for _, n := range []int{1, 300, 5000, 90000} {
			var buf bytes.Buffer
			w, _ := flate.NewWriter(&buf, level)
			w.Write(data[:n])
			w.Flush()
			w.Write(data[n : 2*n])
			w.Close()
			got, err := checkDistances(buf.Bytes(), 1<<15, 0)
			if err != nil || got != 2*n {
				t.Errorf("level %d, %d octets: walker counted %d, %v", level, 2*n, got, err)
			}
			_, err = checkDistances(buf.Bytes(), 1<<9, 0)
			long := farthest(t, buf.Bytes()) > 1<<9
			if (err != nil) != long {
				t.Errorf("level %d, %d octets: window 512 error %v, farthest distance %d", level, 2*n, err, farthest(t, buf.Bytes()))
			}
		}
	}
	// A reference before the start of the output is too far back even
	// inside the window, unless earlier messages supply the history.
	var buf bytes.Buffer
	w, _ := flate.NewWriterDict(&buf, flate.DefaultCompression, data[:1000])
	w.Write(data[:1000])
	w.Flush()
	if _, err := checkDistances(buf.Bytes(), 1<<15, 0); err == nil {
		t.Error("a reference into a missing history passed")
	}
	if _, err := checkDistances(buf.Bytes(), 1<<15, 1000); err != nil {
		t.Errorf("a reference into the history failed: %v", err)
	}
}

// farthest finds the longest back-reference of a stream the slow way:
// the smallest window the standard library accepts it with.
func farthest(t *testing.T, stream []byte) int {
	t.Helper()
	lo, hi := 0, 1<<15
	for lo < hi {
		mid := (lo + hi) / 2
		if _, err := checkDistances(stream, mid, 1<<20); err == nil {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if _, err := io.ReadAll(flate.NewReader(bytes.NewReader(stream))); err != nil {
		t.Fatal(err)
	}
	return lo
}

func TestCorpora(t *testing.T) {
	for _, c := range []*corpus{corpusJSON, corpusBitmap, corpusVerse, corpusHTML, corpusPDF} {
		c.load()
		if len(c.data) > c.size || len(c.data) < c.size-3 {
			t.Errorf("%s: %d octets, want %d", c.desc, len(c.data), c.size)
		}
		if !c.binary && !utf8.Valid(c.data) {
			t.Errorf("%s: text corpus is not UTF-8", c.desc)
		}
		again := c.gen(&prng{state: uint64(c.size)}, c.size)
		if !bytes.Equal(again, c.data) {
			t.Errorf("%s: not deterministic", c.desc)
		}
		// Wrapping around keeps the message size in units.
		msg, next := c.message(c.units()-10, 30)
		if c.length(msg) != 30 || next != 20 {
			t.Errorf("%s: wrapped message of %d units, next %d", c.desc, c.length(msg), next)
		}
	}
	if corpusHTML.units() == len(corpusHTML.data) {
		t.Error("the HTML corpus has no multi-octet characters, so characters and octets never differ")
	}
}

// deflateCases are the cases of sections 12 and 13 the subject tests
// run: every subsection, but only the rows of 16, 256 and 1024 octets
// and of 8192 octets in 256-octet frames, unless WSTEST_DEFLATE=full
// asks for all 216 (several minutes: about 11 GB through the subject).
func deflateCases(t *testing.T) []Case {
	if os.Getenv("WSTEST_DEFLATE") == "full" {
		return selectCases(t, "12.*,13.*")
	}
	return selectCases(t, "12.*.1,12.*.3,12.*.4,12.*.11,13.*.1,13.*.3,13.*.4,13.*.11")
}

// deflateSubjects are the permessage-deflate defects with the cases they
// must fail, among those deflateCases selects; every other case must be
// OK, or UNIMPLEMENTED where the subject does not negotiate.
var deflateSubjects = []struct {
	name   string
	d      defects
	fails  func(id string) bool
	unimpl bool
}{
	{
		name:  "correct subject",
		fails: func(string) bool { return false },
	},
	{
		name:   "no permessage-deflate",
		d:      defects{noDeflate: true},
		fails:  func(string) bool { return false },
		unimpl: true,
	},
	{
		name:  "RSV1 on uncompressed echoes",
		d:     defects{deflatePlainRSV: true},
		fails: func(string) bool { return true },
	},
	{
		name:  "RSV1 on every frame of an echo",
		d:     defects{deflateRSVEveryFrm: true},
		fails: func(string) bool { return true },
	},
	{
		// The suite never asks for no context takeover in its own
		// direction, so every case sends back-references into earlier
		// messages.
		name:  "inflates each message on its own",
		d:     defects{deflateNoRxContext: true},
		fails: func(string) bool { return true },
	},
	{
		// A window of 9 bits is agreed in 13.3 (with context takeover)
		// and in 13.5 and 13.7 (without). The subject's messages under 128
		// octets refer to nothing, and without context takeover messages
		// of 512 octets or less cannot reach back 513.
		name: "compresses with a 32 KiB window after agreeing to 512 octets",
		d:    defects{deflateWideWindow: true},
		fails: func(id string) bool {
			sub, row := deflateRow(id)
			switch sub {
			case "13.3":
				return deflateRuns[row-1].size >= 128
			case "13.5", "13.7":
				return deflateRuns[row-1].size > 512
			}
			return false
		},
	},
}

// deflateRow splits a case id into its subsection and row.
func deflateRow(id string) (string, int) {
	i := strings.LastIndexByte(id, '.')
	row, _ := strconv.Atoi(id[i+1:])
	return id[:i], row
}

func deflateWant(cs []Case, fails func(string) bool, unimpl bool) map[string]Behavior {
	m := map[string]Behavior{}
	for _, c := range cs {
		switch {
		case fails(c.ID):
			m[c.ID] = failed
		case unimpl:
			m[c.ID] = unimplemented
		default:
			m[c.ID] = OK
		}
	}
	return m
}

func checkDeflateResults(t *testing.T, cs []Case, rs []*Result, fails func(string) bool, unimpl bool) {
	t.Helper()
	if diff := cmp.Diff(deflateWant(cs, fails, unimpl), gotVerdicts(rs)); diff != "" {
		t.Errorf("behavior per case (-want +got):\n%s", diff)
	}
	for _, r := range rs {
		if r.Behavior != failed && r.BehaviorClose != OK {
			t.Errorf("case %s: behaviorClose %s (%s)", r.ID, r.BehaviorClose, r.ResultClose)
		}
		if r.Behavior == OK && (r.TrafficStats == nil || r.TrafficStats.IncomingWebSocketMessages == 0) {
			t.Errorf("case %s: OK without traffic statistics", r.ID)
		}
	}
}

// TestClientJudgesDeflateSubjects runs sections 12 and 13 as the fuzzing
// client against the subject and its permessage-deflate defects.
func TestClientJudgesDeflateSubjects(t *testing.T) {
	for _, tt := range deflateSubjects {
		t.Run(tt.name, func(t *testing.T) {
			cs := deflateCases(t)
			c := &Client{URL: startSubjectServer(t, tt.d), Cases: cs, Parallel: 2}
			rs, err := c.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkDeflateResults(t, cs, rs, tt.fails, tt.unimpl)
		})
	}
}

// TestServerJudgesDeflateClients runs sections 12 and 13 as the fuzzing
// server against the subject as a client, offering
// "permessage-deflate; client_max_window_bits".
func TestServerJudgesDeflateClients(t *testing.T) {
	for _, tt := range deflateSubjects {
		t.Run(tt.name, func(t *testing.T) {
			cs := deflateCases(t)
			s := &Server{Cases: cs}
			runSubjectClient(t, startFuzzingServer(t, s), "subject-client", tt.d)
			checkDeflateResults(t, cs, s.Results()["subject-client"], tt.fails, tt.unimpl)
		})
	}
}

// TestDeflateReports checks that sections 12 and 13 reach the reports in
// Autobahn's shape: index entries, and per-case reports with no expected
// events and, for a pass, the traffic statistics with ratios.
func TestDeflateReports(t *testing.T) {
	dir := t.TempDir()
	cs := selectCases(t, "12.1.1,13.3.1")
	rs, err := (&Client{URL: startSubjectServer(t, defects{}), Agent: "subject", Cases: cs}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteReports(dir, map[string][]*Result{"subject": rs}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "subject_case_13_3_1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var one struct {
		Behavior     Behavior           `json:"behavior"`
		Expected     map[string][]event `json:"expected"`
		TrafficStats map[string]any     `json:"trafficStats"`
	}
	if err := json.Unmarshal(b, &one); err != nil {
		t.Fatal(err)
	}
	if one.Behavior != OK || len(one.Expected) != 0 {
		t.Errorf("13.3.1 report: behavior %s, expected %v", one.Behavior, one.Expected)
	}
	for _, k := range []string{"outgoingOctetsAppLevel", "incomingCompressionRatio", "outgoingWebSocketOverhead", "incomingWebSocketMessages"} {
		if _, ok := one.TrafficStats[k]; !ok {
			t.Errorf("13.3.1 report: trafficStats lacks %s: %v", k, one.TrafficStats)
		}
	}
	if n := one.TrafficStats["incomingWebSocketMessages"]; n != float64(1000) {
		t.Errorf("13.3.1 report: %v incoming messages, want 1000", n)
	}
	md, err := os.ReadFile(filepath.Join(dir, "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"| 12 | 1 | 1 |", "| 13 | 1 | 1 |"} {
		if !strings.Contains(string(md), row) {
			t.Errorf("summary lacks %q:\n%s", row, md)
		}
	}
}

// TestDeflateViolations sends frames that break permessage-deflate's
// framing rules to the suite as the fuzzing server and checks how it
// fails the connection.
func TestDeflateViolations(t *testing.T) {
	tests := []struct {
		name   string
		cases  string // default 12.1.1
		offer  string
		frames func(z *subjectDeflate) [][]byte
		want   string // the suite's close reason, or "" for no close
	}{{
		name:  "compressed ping",
		offer: "permessage-deflate",
		frames: func(*subjectDeflate) [][]byte {
			return [][]byte{encodeFrame(&txFrame{Opcode: opPing, Fin: true, RSV: 4, Data: []byte("x")}, true)}
		},
		want: "received compressed control frame (permessage-deflate)",
	}, {
		name:  "RSV1 on a continuation",
		offer: "permessage-deflate",
		frames: func(z *subjectDeflate) [][]byte {
			p := z.deflate([]byte("Hello, world"))
			return [][]byte{
				encodeFrame(&txFrame{Opcode: opText, RSV: 4, Data: p[:2]}, true),
				encodeFrame(&txFrame{Opcode: opContinuation, Fin: true, RSV: 4, Data: p[2:]}, true),
			}
		},
		want: "continuation frame with the compressed bit set (permessage-deflate)",
	}, {
		name:  "RSV2 with permessage-deflate",
		offer: "permessage-deflate",
		frames: func(z *subjectDeflate) [][]byte {
			return [][]byte{encodeFrame(&txFrame{Opcode: opText, Fin: true, RSV: 2, Data: []byte("x")}, true)}
		},
		want: "RSV != 0 and no extension negotiated",
	}, {
		name:  "RSV1 without permessage-deflate",
		cases: "1.1.1",
		offer: "permessage-deflate",
		frames: func(z *subjectDeflate) [][]byte {
			return [][]byte{encodeFrame(&txFrame{Opcode: opText, Fin: true, RSV: 4, Data: []byte("x")}, true)}
		},
		want: "RSV != 0 and no extension negotiated",
	}, {
		name:  "data that does not inflate",
		offer: "permessage-deflate",
		frames: func(z *subjectDeflate) [][]byte {
			return [][]byte{encodeFrame(&txFrame{Opcode: opBinary, Fin: true, RSV: 4, Data: []byte{0xff, 0xff, 0xff}}, true)}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cases == "" {
				tt.cases = "12.1.1"
			}
			s := &Server{Cases: selectCases(t, tt.cases)}
			base := startFuzzingServer(t, s)
			nc, br, ext, err := subjectDialOffer(base+"/runCase?case=1&agent=a", tt.offer)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			z, _ := subjectResponse(ext, defects{})
			if (z != nil) != (tt.cases == "12.1.1") {
				t.Fatalf("case %s negotiated %q", tt.cases, ext)
			}
			if z == nil {
				z = &subjectDeflate{txBits: 15}
			}
			for _, f := range tt.frames(z) {
				if _, err := nc.Write(f); err != nil {
					t.Fatal(err)
				}
			}
			// Read up to the suite's Close, skipping its first message.
			var reason string
			for {
				f, err := readFrame(br)
				if err != nil {
					break
				}
				if f.opcode == opClose {
					if len(f.payload) >= 2 {
						reason = string(f.payload[2:])
					}
					break
				}
			}
			nc.Close()
			var r *Result
			for deadline := time.Now().Add(5 * time.Second); r == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if rs := s.Results()["a"]; len(rs) > 0 {
					r = rs[0]
				}
			}
			if r == nil {
				t.Fatal("no result")
			}
			if r.Behavior != failed || reason != tt.want {
				t.Errorf("behavior %s, close reason %q; want FAILED, %q", r.Behavior, reason, tt.want)
			}
		})
	}
}

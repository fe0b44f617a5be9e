package wstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestCatalogueCounts(t *testing.T) {
	got := map[string]int{}
	seen := map[string]bool{}
	for _, c := range Catalogue() {
		if seen[c.ID] {
			t.Errorf("duplicate case id %s", c.ID)
		}
		seen[c.ID] = true
		if c.play == nil || c.Limit <= 0 || c.Description == "" {
			t.Errorf("case %s is incomplete", c.ID)
		}
		got[strings.SplitN(c.ID, ".", 2)[0]]++
	}
	// Case counts per section of the real suite, 517 cases in all.
	want := map[string]int{"1": 16, "2": 11, "3": 7, "4": 10, "5": 20, "6": 145, "7": 37, "9": 54, "10": 1, "12": 90, "13": 126}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cases per section (-want +got):\n%s", diff)
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name    string
		include []string
		exclude []string
		want    []string
	}{
		{
			name:    "one case",
			include: []string{"2.1"},
			want:    []string{"2.1"},
		},
		{
			name:    "wildcard with exclusion",
			include: []string{"7.7.*"},
			exclude: []string{"7.7.1*"},
			want:    []string{"7.7.2", "7.7.3", "7.7.4", "7.7.5", "7.7.6", "7.7.7", "7.7.8", "7.7.9"},
		},
		{
			name:    "dot is literal",
			include: []string{"1.1.1", "10.*"},
			want:    []string{"1.1.1", "10.1.1"},
		},
		{
			name:    "nothing included",
			include: nil,
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := Select(Catalogue(), tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Select (-want +got):\n%s", diff)
			}
		})
	}
}

// selectCases is Select for tests.
func selectCases(t *testing.T, patterns string) []Case {
	t.Helper()
	cs, err := Select(Catalogue(), strings.Split(patterns, ","), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 {
		t.Fatalf("no case matches %q", patterns)
	}
	return cs
}

// invalidUTF8Cases lists the section 6 cases whose text is not valid
// UTF-8, judged by the standard library rather than the suite.
func invalidUTF8Cases() []string {
	out := []string{"6.3.1", "6.3.2", "6.4.1", "6.4.2", "6.4.3", "6.4.4"}
	for fi, f := range utf8Families() {
		for si, s := range f.seqs {
			if !utf8.ValidString(s.data) {
				out = append(out, fmt.Sprintf("6.%d.%d", fi+5, si+1))
			}
		}
	}
	return out
}

// wantVerdicts is the expected behavior of every case in cs: OK unless
// listed, INFORMATIONAL for the cases Autobahn always marks so.
func wantVerdicts(cs []Case, failedIDs, nonStrictIDs []string) map[string]Behavior {
	m := map[string]Behavior{}
	for _, c := range cs {
		m[c.ID] = OK
		switch c.ID {
		case "7.1.6", "7.13.1", "7.13.2":
			m[c.ID] = Informational
		}
	}
	for _, id := range failedIDs {
		if _, ok := m[id]; ok {
			m[id] = failed
		}
	}
	for _, id := range nonStrictIDs {
		if _, ok := m[id]; ok {
			m[id] = nonStrict
		}
	}
	return m
}

func gotVerdicts(rs []*Result) map[string]Behavior {
	m := map[string]Behavior{}
	for _, r := range rs {
		m[r.ID] = r.Behavior
	}
	return m
}

func rangeIDs(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// brokenSubjects are the defects with the cases they must fail.
var brokenSubjects = []struct {
	name      string
	d         defects
	cases     string
	failed    []string
	nonStrict []string
}{
	{
		name:   "correct subject",
		cases:  "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*",
		failed: nil,
	},
	{
		name:   "skips UTF-8 validation",
		d:      defects{noUTF8: true},
		cases:  "6.*",
		failed: invalidUTF8Cases(),
	},
	{
		name:      "validates UTF-8 only at the end of a message",
		d:         defects{noFailFast: true},
		cases:     "6.3.*,6.4.*",
		nonStrict: []string{"6.4.1", "6.4.2", "6.4.3", "6.4.4"},
	},
	{
		name:   "accepts RSV bits",
		d:      defects{acceptRSV: true},
		cases:  "3.*",
		failed: rangeIDs("3.", 1, 6),
	},
	{
		name:   "does not answer pings",
		d:      defects{noPong: true},
		cases:  "2.*,5.*",
		failed: []string{"2.1", "2.2", "2.3", "2.4", "2.6", "2.9", "2.10", "2.11", "5.6", "5.7", "5.8", "5.19", "5.20"},
	},
	{
		name:  "answers a Close with a wrong code",
		d:     defects{wrongCloseReply: true},
		cases: "7.*",
		// 7.7.2 sends 1001 itself, so the wrong answer is the echo.
		failed: append(append(rangeIDs("7.1.", 1, 5), "7.3.1", "7.3.3", "7.3.4", "7.3.5", "7.7.1"),
			rangeIDs("7.7.", 3, 13)...),
	},
	{
		name:   "echoes invalid close codes",
		d:      defects{noCloseCheck: true},
		cases:  "7.9.*,7.13.*",
		failed: rangeIDs("7.9.", 1, 9),
	},
}

func TestClientJudgesSubjects(t *testing.T) {
	for _, tt := range brokenSubjects {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := selectCases(t, tt.cases)
			c := &Client{URL: startSubjectServer(t, tt.d), Cases: cs, Parallel: 16}
			rs, err := c.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantVerdicts(cs, tt.failed, tt.nonStrict), gotVerdicts(rs)); diff != "" {
				t.Errorf("behavior per case (-want +got):\n%s", diff)
			}
			for _, r := range rs {
				if r.Behavior != failed && r.BehaviorClose != OK && r.BehaviorClose != Informational {
					t.Errorf("case %s: behaviorClose %s (%s)", r.ID, r.BehaviorClose, r.ResultClose)
				}
			}
		})
	}
}

// TestClientLargeMessages runs section 9 for real (messages up to 16 MiB,
// 1000-message round trips).
func TestClientLargeMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("section 9 moves about 200 MiB")
	}
	cs := selectCases(t, "9.*")
	c := &Client{URL: startSubjectServer(t, defects{}), Cases: cs, Parallel: 2}
	rs, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantVerdicts(cs, nil, nil), gotVerdicts(rs)); diff != "" {
		t.Errorf("behavior per case (-want +got):\n%s", diff)
	}
}

// startFuzzingServer serves s on loopback and returns its ws:// base URL.
func startFuzzingServer(t *testing.T, s *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s}
	go func() { _ = hs.Serve(l) }()
	t.Cleanup(func() { hs.Close() })
	return "ws://" + l.Addr().String()
}

func TestServerJudgesClients(t *testing.T) {
	tests := []struct {
		name   string
		d      defects
		cases  string
		failed []string
	}{
		{
			name:  "correct client",
			cases: "1.*,2.*,3.*,4.*,5.1*,6.1*,6.2*,6.3*,7.*,10.*",
		},
		{
			name:   "client accepts RSV bits",
			d:      defects{acceptRSV: true},
			cases:  "3.*",
			failed: rangeIDs("3.", 1, 6),
		},
		{
			name:   "client skips UTF-8 validation",
			d:      defects{noUTF8: true},
			cases:  "6.3.*,6.8.*,6.9.*",
			failed: []string{"6.3.1", "6.3.2", "6.8.1", "6.8.2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cs := selectCases(t, tt.cases)
			dir := t.TempDir()
			s := &Server{Cases: cs, OutDir: dir}
			runSubjectClient(t, startFuzzingServer(t, s), "subject-client", tt.d)
			rs := s.Results()["subject-client"]
			if diff := cmp.Diff(wantVerdicts(cs, tt.failed, nil), gotVerdicts(rs)); diff != "" {
				t.Errorf("behavior per case (-want +got):\n%s", diff)
			}
			b, err := os.ReadFile(filepath.Join(dir, "index.json"))
			if err != nil {
				t.Fatalf("updateReports wrote no index: %v", err)
			}
			var index map[string]map[string]indexEntry
			if err := json.Unmarshal(b, &index); err != nil {
				t.Fatal(err)
			}
			if got, want := len(index["subject-client"]), len(cs); got != want {
				t.Errorf("index.json holds %d cases, want %d", got, want)
			}
		})
	}
}

func TestServerServiceEndpoints(t *testing.T) {
	cs := selectCases(t, "1.1.1,2.1")
	s := &Server{Cases: cs}
	base := startFuzzingServer(t, s)
	get := func(path string) string {
		t.Helper()
		nc, br, err := subjectDial(base + path)
		if err != nil {
			t.Fatal(err)
		}
		txt, err := readText(nc, br)
		if err != nil {
			t.Fatal(err)
		}
		return txt
	}
	if got := get("/getCaseCount"); got != "2" {
		t.Errorf("getCaseCount = %q, want 2", got)
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(get("/getCaseInfo?case=2")), &info); err != nil {
		t.Fatal(err)
	}
	if info["id"] != "2.1" {
		t.Errorf("getCaseInfo id = %q, want 2.1", info["id"])
	}
	if err := json.Unmarshal([]byte(get("/getCaseInfo?casetuple=1.1.1")), &info); err != nil {
		t.Fatal(err)
	}
	if info["id"] != "1.1.1" {
		t.Errorf("getCaseInfo by casetuple: id = %q, want 1.1.1", info["id"])
	}
	runSubjectClient(t, base, "a", defects{noPong: true})
	var status map[string]string
	if err := json.Unmarshal([]byte(get("/getCaseStatus?case=2&agent=a")), &status); err != nil {
		t.Fatal(err)
	}
	if status["behavior"] != string(failed) {
		t.Errorf("getCaseStatus behavior = %q, want FAILED", status["behavior"])
	}
	resp, err := http.Get(strings.Replace(base, "ws://", "http://", 1) + "/runCase?case=9&agent=a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("runCase with a bad case: status %d, want 400", resp.StatusCode)
	}
}

func TestWriteReports(t *testing.T) {
	dir := t.TempDir()
	cs := selectCases(t, "1.1.1,2.1")
	c := &Client{URL: startSubjectServer(t, defects{noPong: true}), Agent: "My Server/1.0", Cases: cs}
	rs, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteReports(dir, map[string][]*Result{"My Server/1.0": rs}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]map[string]indexEntry
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	e := index["My Server/1.0"]["2.1"]
	if e.Behavior != failed || e.ReportFile != "my_server_1_0_case_2_1.json" {
		t.Errorf("index entry for 2.1 = %+v", e)
	}
	var one map[string]any
	b, err = os.ReadFile(filepath.Join(dir, e.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &one); err != nil {
		t.Fatal(err)
	}
	if one["id"] != "2.1" || one["behavior"] != "FAILED" {
		t.Errorf("case report: id %v behavior %v", one["id"], one["behavior"])
	}
	md, err := os.ReadFile(filepath.Join(dir, "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| 2 | 1 | 0 | 0 | 0 | 1 |") {
		t.Errorf("summary lacks the section 2 row:\n%s", md)
	}
}

func TestHandshakeFailureIsFailed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.NotFoundHandler()}
	go func() { _ = hs.Serve(l) }()
	defer hs.Close()
	c := &Client{URL: "ws://" + l.Addr().String() + "/", Cases: selectCases(t, "1.1.1")}
	rs, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Behavior != failed || rs[0].BehaviorClose != failed {
		t.Fatalf("got %+v, want one FAILED result", rs)
	}
	if !strings.Contains(rs[0].Result, errHandshake.Error()) {
		t.Errorf("result %q does not mention the handshake", rs[0].Result)
	}
}

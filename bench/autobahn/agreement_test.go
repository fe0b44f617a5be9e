package autobahn

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// verdict is one case of a run in testdata/verdicts.json.
type verdict struct {
	Behavior        wstest.Behavior `json:"behavior"`
	BehaviorClose   wstest.Behavior `json:"behaviorClose"`
	RemoteCloseCode *int            `json:"remoteCloseCode"`
}

func loadVerdicts(t *testing.T) map[string]map[string]verdict {
	t.Helper()
	b, err := os.ReadFile("testdata/verdicts.json")
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]map[string]verdict
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A subjectRun pairs a subject built here with a run of the real suite.
type subjectRun struct {
	run        string       // run name in verdicts.json
	server     http.Handler // echo server (fuzzing client role), or
	client     ClientRunner // test client (fuzzing server role)
	failByDrop bool
}

var subjectRuns = []subjectRun{
	{run: "fc-gorilla-all", server: GorillaServer()},
	{run: "gorilla-server-20261123-234430", server: GorillaServer()},
	{run: "go-coder-server-1to11", server: CoderServer()},
	{run: "go-gws-server-1to11", server: GwsServer(false, false)},
	{run: "go-gws-server-utf8on-1to11", server: GwsServer(true, false)},
	{run: "go-gws-server-builtinping-2", server: GwsServer(false, true)},
	{run: "go-gobwas-server-all", server: GobwasServer(true)},
	{run: "go-gobwas-server-bare-all", server: GobwasServer(false)},
	{run: "go-gobwas-server-failbydrop-1to11", server: GobwasServer(true), failByDrop: true},
	{run: "fs-gorilla-all", client: GorillaClient},
	{run: "gorilla-client-20261123-234430", client: GorillaClient},
	{run: "go-coder-client-1to11", client: CoderClient},
	{run: "go-gws-client-1to11", client: GwsClient(false, false)},
	{run: "go-gws-client-utf8on-1to11", client: GwsClient(true, false)},
	{run: "go-gws-client-builtinping-2", client: GwsClient(false, true)},
	// Sections 12 and 13 (permessage-deflate); the *-all runs above hold
	// them too.
	{run: "go-coder-server-12-13", server: CoderServer()},
	{run: "go-gws-server-12-13", server: GwsServer(false, false)},
	{run: "go-gws-server-utf8on-12-13", server: GwsServer(true, false)},
	{run: "go-coder-client-12-13", client: CoderClient},
	{run: "go-gws-client-12-13", client: GwsClient(false, false)},
	{run: "fs-gorilla-relaxed-12-13", client: RelaxedGorillaClient},
}

// deflateFull (WSTEST_DEFLATE=full) compares every case of sections 12
// and 13. By default only the rows of deflateQuick are compared, in every
// subsection: the real suite's verdicts never differ between the rows of
// one subsection, and the full 216 cases move about 11 GB through each
// subject.
var deflateFull = os.Getenv("WSTEST_DEFLATE") == "full"

// deflateQuick are the rows of each 12.x and 13.x subsection compared by
// default: 16, 256 and 1024 octets unfragmented, 8192 in 256-octet frames.
var deflateQuick = []string{"1", "3", "4", "11"}

// compared reports whether case id is compared in this run.
func compared(id string) bool {
	parts := strings.Split(id, ".")
	if deflateFull || (parts[0] != "12" && parts[0] != "13") {
		return true
	}
	return slices.Contains(deflateQuick, parts[len(parts)-1])
}

// knownDifferences explains disagreements that are inherent rather than
// faults of the suite, by run and case id. It is empty: every case of
// every run agrees in behavior, behaviorClose and remoteCloseCode,
// sections 12 and 13 included (in full with WSTEST_DEFLATE=full). The
// cases most exposed to timing are 7.1.6 (always INFORMATIONAL whichever
// order the peer processed the frames in) and the closing of
// coder/websocket's server after a protocol error: about one run in
// three, one of its failing cases of sections 3-5 closes TCP after the
// suite's one second and is judged FAILED BY CLIENT, which is why a case
// that disagrees runs again before it counts; an entry here would say why
// a case differs every time.
var knownDifferences = map[string]map[string]string{}

// runSubject runs the cases of ref against the subject and returns the
// results by case id.
func runSubject(t *testing.T, sr subjectRun, ids []string) map[string]*wstest.Result {
	t.Helper()
	cases, err := wstest.Select(wstest.Catalogue(), ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	var rs []*wstest.Result
	if sr.server != nil {
		hs := &http.Server{Handler: sr.server}
		go func() { _ = hs.Serve(l) }()
		defer hs.Close()
		c := &wstest.Client{URL: "ws://" + l.Addr().String() + "/", Agent: sr.run, Cases: cases, Parallel: 4, FailByDrop: sr.failByDrop}
		rs, err = c.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
	} else {
		s := &wstest.Server{Cases: cases, FailByDrop: sr.failByDrop}
		hs := &http.Server{Handler: s}
		go func() { _ = hs.Serve(l) }()
		defer hs.Close()
		if err := RunClient(ctx, "ws://"+l.Addr().String(), "subject", sr.client); err != nil {
			t.Fatal(err)
		}
		rs = s.Results()["subject"]
	}
	out := map[string]*wstest.Result{}
	for _, r := range rs {
		out[r.ID] = r
	}
	return out
}

// sameVerdict reports whether our result for a case is the real suite's.
func sameVerdict(w verdict, g *wstest.Result) bool {
	return w.Behavior == g.Behavior && w.BehaviorClose == g.BehaviorClose && codeString(w.RemoteCloseCode) == codeString(g.RemoteCloseCode)
}

func codeString(p *int) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// TestAgreementWithAutobahn runs the Go-native suite against every
// subject and compares behavior and behaviorClose per case with the real
// suite's verdict for the same subject.
func TestAgreementWithAutobahn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the catalogue against 21 subjects")
	}
	ref := loadVerdicts(t)
	var summary []string
	for _, sr := range subjectRuns {
		t.Run(sr.run, func(t *testing.T) {
			want := ref[sr.run]
			ids := make([]string, 0, len(want))
			for id := range want {
				if compared(id) {
					ids = append(ids, id)
				}
			}
			sort.Strings(ids)
			got := runSubject(t, sr, ids)
			// A verdict that hangs on timing (how soon a peer library closes
			// TCP, under a loaded machine) may differ once; a case that
			// disagrees is run again, twice at most, and agrees if a run
			// reaches the real verdict. A fault of the suite disagrees every
			// time.
			retried := 0
			for try := 0; try < 2; try++ {
				var again []string
				for _, id := range ids {
					if g := got[id]; g != nil && !sameVerdict(want[id], g) {
						again = append(again, id)
					}
				}
				if len(again) == 0 {
					break
				}
				retried += len(again)
				t.Logf("running %v again", again)
				for id, g := range runSubject(t, sr, again) {
					got[id] = g
				}
			}
			agree, explained, codeDiff := 0, 0, 0
			for _, id := range ids {
				w, g := want[id], got[id]
				if g == nil {
					t.Errorf("case %s: no result", id)
					continue
				}
				if codeString(w.RemoteCloseCode) != codeString(g.RemoteCloseCode) {
					codeDiff++
					t.Errorf("case %s: remoteCloseCode real %s, ours %s", id, codeString(w.RemoteCloseCode), codeString(g.RemoteCloseCode))
				}
				if w.Behavior == g.Behavior && w.BehaviorClose == g.BehaviorClose {
					agree++
					continue
				}
				msg := fmt.Sprintf("case %s: real %s/%s, ours %s/%s (%s; %s)", id, w.Behavior, w.BehaviorClose,
					g.Behavior, g.BehaviorClose, g.Result, g.ResultClose)
				if why, ok := knownDifferences[sr.run][id]; ok {
					explained++
					t.Logf("%s: known: %s", msg, why)
					continue
				}
				t.Error(msg)
			}
			line := fmt.Sprintf("%-36s cases %3d  agree %3d  explained %2d  disagree %2d  remoteCloseCode differs %2d  runs again %2d",
				sr.run, len(ids), agree, explained, len(ids)-agree-explained, codeDiff, retried)
			t.Log(line)
			summary = append(summary, line)
		})
	}
	t.Log("\n" + strings.Join(summary, "\n"))
}

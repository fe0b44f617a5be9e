package wstest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// indexEntry is one case of index.json, as Autobahn writes it.
type indexEntry struct {
	Behavior        Behavior `json:"behavior"`
	BehaviorClose   Behavior `json:"behaviorClose"`
	Duration        int64    `json:"duration"`
	RemoteCloseCode *int     `json:"remoteCloseCode"`
	ReportFile      string   `json:"reportfile"`
}

// reportFileName is Autobahn's name for a case report: the agent reduced
// to lower-case letters and digits, "_case_", and the id with dots as
// underscores.
func reportFileName(agent, id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(agent)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte(' ')
		}
	}
	a := strings.ReplaceAll(strings.TrimSpace(b.String()), " ", "_")
	return a + "_case_" + strings.ReplaceAll(id, ".", "_") + ".json"
}

// WriteReports writes, into dir, index.json (agent → case id → verdict,
// in Autobahn's format), one JSON report per case, and index.md, a
// readable summary.
func WriteReports(dir string, results map[string][]*Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("wstest: %w", err)
	}
	index := map[string]map[string]indexEntry{}
	for agent, rs := range results {
		index[agent] = map[string]indexEntry{}
		for _, r := range rs {
			name := reportFileName(agent, r.ID)
			index[agent][r.ID] = indexEntry{
				Behavior:        r.Behavior,
				BehaviorClose:   r.BehaviorClose,
				Duration:        r.Duration,
				RemoteCloseCode: r.RemoteCloseCode,
				ReportFile:      name,
			}
			b, err := json.MarshalIndent(r, "", "   ")
			if err != nil {
				return fmt.Errorf("wstest: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return fmt.Errorf("wstest: %w", err)
			}
		}
	}
	b, err := json.MarshalIndent(index, "", "   ")
	if err != nil {
		return fmt.Errorf("wstest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		return fmt.Errorf("wstest: %w", err)
	}
	var md strings.Builder
	agents := make([]string, 0, len(results))
	for a := range results {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	md.WriteString("# WebSocket conformance report\n\n")
	for _, a := range agents {
		md.WriteString(Summary(a, results[a]))
		md.WriteString("\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "index.md"), []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("wstest: %w", err)
	}
	return nil
}

// summaryColumns are the verdict columns of the summary table.
var summaryColumns = []Behavior{OK, nonStrict, Informational, unimplemented, failed}

// Summary renders a Markdown summary of one agent's results: counts per
// section and verdict, then every case that did not pass with the
// reason.
func Summary(agent string, rs []*Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n| Section | Cases |", agent)
	for _, c := range summaryColumns {
		fmt.Fprintf(&b, " %s |", c)
	}
	b.WriteString(" Close not OK |\n|---|---|")
	for range summaryColumns {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	type row struct {
		n     int
		by    map[Behavior]int
		close int
	}
	rows := map[string]*row{}
	var order []string
	total := &row{by: map[Behavior]int{}}
	for _, r := range rs {
		sec := strings.SplitN(r.ID, ".", 2)[0]
		rw, ok := rows[sec]
		if !ok {
			rw = &row{by: map[Behavior]int{}}
			rows[sec] = rw
			order = append(order, sec)
		}
		for _, x := range []*row{rw, total} {
			x.n++
			x.by[r.Behavior]++
			if r.BehaviorClose != OK && r.BehaviorClose != Informational {
				x.close++
			}
		}
	}
	sort.Slice(order, func(i, j int) bool { return caseLess(order[i], order[j]) })
	write := func(name string, x *row) {
		fmt.Fprintf(&b, "| %s | %d |", name, x.n)
		for _, c := range summaryColumns {
			fmt.Fprintf(&b, " %d |", x.by[c])
		}
		fmt.Fprintf(&b, " %d |\n", x.close)
	}
	for _, s := range order {
		write(s, rows[s])
	}
	write("all", total)
	var bad []*Result
	for _, r := range rs {
		if !r.Passed() {
			bad = append(bad, r)
		}
	}
	if len(bad) > 0 {
		b.WriteString("\n| Case | Behavior | Close | Result |\n|---|---|---|---|\n")
		for _, r := range bad {
			fmt.Fprintf(&b, "| %s | %s | %s | %s / %s |\n", r.ID, r.Behavior, r.BehaviorClose,
				strings.ReplaceAll(r.Result, "|", "/"), strings.ReplaceAll(r.ResultClose, "|", "/"))
		}
	}
	return b.String()
}

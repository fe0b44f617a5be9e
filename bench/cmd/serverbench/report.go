package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// A report is what a run measured, and where.
type report struct {
	cfg        *config
	start, end time.Time
	loadAvg    string
	commit     string
	subjects   []string // those that ran, in table order
	about      map[string]string
	infos      map[string]map[string]any // what each server said of itself
	skipped    []string
	timed      []*timedTable
	idle       []*idleTable
}

func newReport(cfg *config) *report {
	r := &report{cfg: cfg, start: time.Now(), about: map[string]string{}, infos: map[string]map[string]any{}}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			r.loadAvg = strings.Join(f[:3], " ")
		}
	}
	r.commit = gitCommit()
	return r
}

// gitCommit names the commit of the working directory, and whether
// tracked files differ from it.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown (no git)"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

func (r *report) noteInfo(name string, info map[string]any) {
	if _, ok := r.infos[name]; !ok && info != nil {
		r.infos[name] = info
	}
}

// A timedTable is the measurements of one timedCase.
type timedTable struct {
	tc   timedCase
	rows map[string]*timedRow
}

type timedRow struct {
	ms   []timedMetrics
	errs []error
}

func (t *timedTable) add(name string, m timedMetrics, err error) {
	row := t.rows[name]
	if row == nil {
		row = &timedRow{}
		t.rows[name] = row
	}
	if err != nil {
		row.errs = append(row.errs, err)
		return
	}
	row.ms = append(row.ms, m)
}

// An idleTable is the measurements of the idle workload at one count of
// connections.
type idleTable struct {
	conns int
	rows  map[string]*idleRow
}

type idleRow struct {
	ms   []idleMetrics
	errs []error
}

func (t *idleTable) add(name string, m idleMetrics, err error) {
	row := t.rows[name]
	if row == nil {
		row = &idleRow{}
		t.rows[name] = row
	}
	if err != nil {
		row.errs = append(row.errs, err)
		return
	}
	row.ms = append(row.ms, m)
}

// failures counts the measurements that failed.
func (r *report) failures() int {
	n := 0
	for _, t := range r.timed {
		for _, row := range t.rows {
			n += len(row.errs)
		}
	}
	for _, t := range r.idle {
		for _, row := range t.rows {
			n += len(row.errs)
		}
	}
	return n
}

// median of the values f picks from ms; NaN if there are none.
func median[T any](ms []T, f func(T) float64) float64 {
	var v []float64
	for _, m := range ms {
		if x := f(m); !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func minMax[T any](ms []T, f func(T) float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, m := range ms {
		lo, hi = min(lo, f(m)), max(hi, f(m))
	}
	return lo, hi
}

// markdown renders the report.
func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	cfg := r.cfg
	p("# serverbench: one echo server per process, one raw load client\n\n")
	p("Reproduce with:\n\n```sh\n%s\n```\n\n", commandLine(cfg))
	p("- Date: %s UTC, %s of measuring; commit %s\n", r.start.UTC().Format("2006-01-02 15:04"), r.end.Sub(r.start).Round(time.Second), r.commit)
	p("- Machine: %s, %d logical CPUs, %s/%s; load average %s at the start\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, r.loadAvg)
	p("- Go %s; GOMAXPROCS %d in the load client%s\n", runtime.Version(), runtime.GOMAXPROCS(0), r.goServersProcs())
	if info, ok := r.infos[nodeSubject]; ok {
		p("- node-ws: %v, ws %v, bufferutil %v; the client's frames are unmasked by %v\n", info["runtime"], info["ws"], info["bufferutil"], info["masking"])
	}
	if slices.Contains(r.subjects, uwsSubject) {
		p("- uws: `%s` (%s)\n", cfg.uws, uwsEnv)
	}
	for _, s := range r.skipped {
		p("- Skipped: %s\n", strings.ReplaceAll(s, "\n", " "))
	}
	p("- Method: %d round(s) of pipelined and window1 (warm-up %v, then %v measured), %d of idle (%v after the last connection's echo); "+
		"within a round every table's subjects run in turn, from one further along each round; a fresh server process for each "+
		"measurement; medians over the rounds.\n",
		cfg.rounds, cfg.warmup, cfg.duration, cfg.idleRounds, cfg.idleWait)
	if slices.Contains(r.subjects, cfg.ref) {
		p("- Ratios compare with %s, so that above 1 it is %s that does better: its msg/s ÷ the peer's, the peer's CPU or memory ÷ its own.\n", cfg.ref, cfg.ref)
	}
	p("\n| subject | server |\n|---|---|\n")
	for _, s := range r.subjects {
		p("| %s | %s |\n", s, r.about[s])
	}
	for _, t := range r.timed {
		r.timedMarkdown(&b, t)
	}
	for _, t := range r.idle {
		r.idleMarkdown(&b, t)
	}
	return b.String()
}

func (r *report) goServersProcs() string {
	for _, s := range goSubjects {
		if info, ok := r.infos[s.name]; ok {
			return fmt.Sprintf(" and %v in each Go server", info["gomaxprocs"])
		}
	}
	return ""
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func (r *report) timedMarkdown(b *strings.Builder, t *timedTable) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	latency := t.tc.work == workWindow1
	ref := r.cfg.ref
	p("\n## %s\n\n", t.tc.title())
	p("| subject | msg/s | server CPU µs/msg | (min–max) | client CPU µs/msg |")
	if latency {
		p(" round trip p50 µs | p99 µs |")
	}
	p(" msg/s: %s ÷ peer | CPU: peer ÷ %s |\n|---|", ref, ref)
	cols := 6
	if latency {
		cols += 2
	}
	p("%s\n", strings.Repeat("---:|", cols))
	refRow := t.rows[ref]
	refOK := refRow != nil && len(refRow.errs) == 0 && len(refRow.ms) > 0
	rate := func(m timedMetrics) float64 { return m.rate }
	srv := func(m timedMetrics) float64 { return m.serverUs }
	for _, s := range r.subjects {
		row := t.rows[s]
		if row == nil {
			continue
		}
		if len(row.errs) > 0 {
			p("| %s | **failed** in %d of %d rounds: %s |%s\n", s, len(row.errs), len(row.errs)+len(row.ms),
				cell(row.errs[0].Error()), strings.Repeat(" |", cols-1))
			continue
		}
		lo, hi := minMax(row.ms, srv)
		p("| %s | %s | %s | %s–%s | %s |", s, group(median(row.ms, rate)), us(median(row.ms, srv)), us(lo), us(hi),
			us(median(row.ms, func(m timedMetrics) float64 { return m.clientUs })))
		if latency {
			p(" %s | %s |", us(median(row.ms, func(m timedMetrics) float64 { return m.p50 })),
				us(median(row.ms, func(m timedMetrics) float64 { return m.p99 })))
		}
		if refOK {
			p(" %s | %s |\n", ratio(median(refRow.ms, rate)/median(row.ms, rate)), ratio(median(row.ms, srv)/median(refRow.ms, srv)))
		} else {
			p(" | |\n")
		}
	}
	p("\nserver CPU: utime+stime of the server process over the measured time ÷ messages echoed; (min–max) over the rounds. " +
		"client CPU: the same for the load client, which shares the machine's CPUs with the server.")
	if latency {
		p(" Round trip: from just before the client's write to the end of its read of the echo, all connections pooled.")
	}
	p("\n")
}

func (r *report) idleMarkdown(b *strings.Builder, t *idleTable) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	ref := r.cfg.ref
	p("\n## idle: %d connections\n\n", t.conns)
	p("| subject | RSS KiB/conn | heap+stack KiB/conn | of which stack | goroutines/conn | RSS at start MiB | RSS: peer ÷ %s | heap+stack: peer ÷ %s |\n", ref, ref)
	p("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	refRow := t.rows[ref]
	refOK := refRow != nil && len(refRow.errs) == 0 && len(refRow.ms) > 0
	rss := func(m idleMetrics) float64 { return m.rssPerConn }
	live := func(m idleMetrics) float64 { return m.livePerConn }
	for _, s := range r.subjects {
		row := t.rows[s]
		if row == nil {
			continue
		}
		if len(row.errs) > 0 {
			p("| %s | **failed** in %d of %d rounds: %s | | | | | | |\n", s, len(row.errs), len(row.errs)+len(row.ms), cell(row.errs[0].Error()))
			continue
		}
		p("| %s | %s | %s | %s | %s | %s |", s, kib(median(row.ms, rss)), kib(median(row.ms, live)),
			kib(median(row.ms, func(m idleMetrics) float64 { return m.stackPerConn })),
			num2(median(row.ms, func(m idleMetrics) float64 { return m.goroutinesPerConn })),
			fmt.Sprintf("%.1f", median(row.ms, func(m idleMetrics) float64 { return m.rssBefore })/(1<<20)))
		if refOK {
			p(" %s | %s |\n", ratio(median(row.ms, rss)/median(refRow.ms, rss)), ratio(median(row.ms, live)/median(refRow.ms, live)))
		} else {
			p(" | |\n")
		}
	}
	p("\nPer connection: (value with the connections open − value before them) ÷ %d, the server having opened, used and closed %d "+
		"connections before the first reading. RSS: VmRSS of /proc/PID/status. heap+stack: the runtime's own count after two "+
		"collections, Go's HeapAlloc+StackInuse, Node's heapUsed+external (n/a for uws); of which stack: StackInuse (Go only). "+
		"goroutines: NumGoroutine (Go only).\n",
		t.conns, r.cfg.idleWarmup)
}

// cell makes s fit in a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// group writes a rate with its thousands apart: 123 456.
func group(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ' ')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// us writes microseconds to three significant figures or so.
func us(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func kib(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", v/1024)
}

func num2(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func ratio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Workload names, for -workloads.
const (
	workPipelined = "pipelined"
	workWindow1   = "window1"
	workIdle      = "idle"
)

// A config is what the flags ask for.
type config struct {
	args      []string // as given, for the report
	subjects  []string // names, in table order
	workloads []string
	ref       string // the subject the ratios compare with

	sizes         []msgSize // pipelined
	conns, window int       // pipelined
	window1Conns  []int
	window1Size   msgSize
	idleConns     []int

	rounds, idleRounds int
	warmup, duration   time.Duration
	idleWait           time.Duration
	drain              time.Duration // how long a connection may wait for its last echoes
	dialConcurrency    int
	idleWarmup         int // connections opened and closed before an idle measurement

	nodeDir string // the directory of nodews's package.json
	uws     string // the uWebSockets echo server, from BENCH_UWS_ECHO
	exe     string // the executable whose "serve" mode runs the Go subjects
	out     string
	timeout time.Duration
}

// uwsEnv names the uWebSockets echo server to run as subject uws. It is
// started with the port to listen on as its only argument.
const uwsEnv = "BENCH_UWS_ECHO"

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("serverbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./cmd/serverbench [flags]   (from the bench directory)\n\n")
		fs.PrintDefaults()
	}
	cfg := &config{args: args}
	var subjects, workloads, sizes, w1conns, w1size, idleConns string
	fs.StringVar(&subjects, "subjects", "all", "comma-separated subjects to run, or all: "+strings.Join(allSubjectNames(), ","))
	fs.StringVar(&workloads, "workloads", "pipelined,window1,idle", "comma-separated workloads to run")
	fs.StringVar(&cfg.ref, "ref", "ours-http", "the subject the ratio columns compare with")
	fs.StringVar(&sizes, "sizes", "16B,1KiB,1KiB-text", "pipelined: message sizes (B, KiB, MiB; -text for text messages)")
	fs.IntVar(&cfg.conns, "conns", 64, "pipelined: connections")
	fs.IntVar(&cfg.window, "window", 16, "pipelined: messages in flight per connection")
	fs.StringVar(&w1conns, "window1-conns", "1,64", "window1: comma-separated connection counts")
	fs.StringVar(&w1size, "window1-size", "16B", "window1: message size")
	fs.StringVar(&idleConns, "idle-conns", "10000,19000", "idle: comma-separated connection counts")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds of pipelined and window1, round-robin over the subjects")
	fs.IntVar(&cfg.idleRounds, "idle-rounds", 1, "rounds of idle")
	fs.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond, "pipelined and window1: time before measuring")
	fs.DurationVar(&cfg.duration, "duration", 2*time.Second, "pipelined and window1: time measured")
	fs.DurationVar(&cfg.idleWait, "idle-wait", time.Second, "idle: time between the last connection's echo and reading the memory")
	fs.DurationVar(&cfg.drain, "drain", 5*time.Second, "how long a connection waits for the echoes still in flight at the end")
	fs.IntVar(&cfg.dialConcurrency, "dial-concurrency", 32, "idle: connections being opened at once")
	fs.IntVar(&cfg.idleWarmup, "idle-warmup", 64, "idle: connections opened, used and closed before the memory is first read")
	fs.StringVar(&cfg.nodeDir, "nodews", "nodews", "directory of the node-ws subject (package.json, server.js)")
	fs.StringVar(&cfg.out, "out", "", "also write the report to this file")
	fs.DurationVar(&cfg.timeout, "timeout", 15*time.Minute, "stop, and fail, after this long")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fail := func(format string, a ...any) (*config, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintf(stderr, "serverbench: %v\n", err)
		return nil, err
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	var err error
	if subjects == "all" {
		cfg.subjects = allSubjectNames()
	} else {
		cfg.subjects = splitList(subjects)
		for _, s := range cfg.subjects {
			if !slices.Contains(allSubjectNames(), s) {
				return fail("-subjects: unknown subject %q (known: %s)", s, strings.Join(allSubjectNames(), ","))
			}
		}
	}
	cfg.workloads = splitList(workloads)
	for _, w := range cfg.workloads {
		if w != workPipelined && w != workWindow1 && w != workIdle {
			return fail("-workloads: unknown workload %q", w)
		}
	}
	for _, s := range splitList(sizes) {
		sz, err := parseSize(s)
		if err != nil {
			return fail("-sizes: %v", err)
		}
		cfg.sizes = append(cfg.sizes, sz)
	}
	if cfg.window1Size, err = parseSize(w1size); err != nil {
		return fail("-window1-size: %v", err)
	}
	if cfg.window1Conns, err = parseInts(w1conns); err != nil {
		return fail("-window1-conns: %v", err)
	}
	if cfg.idleConns, err = parseInts(idleConns); err != nil {
		return fail("-idle-conns: %v", err)
	}
	if cfg.conns < 1 || cfg.window < 1 || cfg.rounds < 1 || cfg.idleRounds < 1 || cfg.dialConcurrency < 1 {
		return fail("-conns, -window, -rounds, -idle-rounds and -dial-concurrency must be at least 1")
	}
	if cfg.duration <= 0 {
		return fail("-duration must be positive")
	}
	cfg.uws = os.Getenv(uwsEnv)
	if cfg.exe, err = os.Executable(); err != nil {
		return fail("finding this program to run its serve mode: %v", err)
	}
	return cfg, nil
}

func (c *config) has(workload string) bool { return slices.Contains(c.workloads, workload) }

func splitList(s string) []string {
	var l []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			l = append(l, f)
		}
	}
	return l
}

func parseInts(s string) ([]int, error) {
	var l []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		l = append(l, n)
	}
	return l, nil
}

// A msgSize is the size and type of the messages of a workload.
type msgSize struct {
	bytes int
	text  bool
}

// parseSize reads "16B", "1KiB", "1KiB-text", "1MiB".
func parseSize(s string) (msgSize, error) {
	var m msgSize
	num, text := strings.CutSuffix(s, "-text")
	m.text = text
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n*mult > 16<<20 {
		return m, fmt.Errorf("%q is not a message size from 1B to 16MiB such as 16B, 1KiB or 1KiB-text", s)
	}
	m.bytes = n * mult
	return m, nil
}

// String is the size as parseSize reads it.
func (m msgSize) String() string {
	var s string
	switch {
	case m.bytes%(1<<20) == 0:
		s = fmt.Sprintf("%dMiB", m.bytes>>20)
	case m.bytes%(1<<10) == 0:
		s = fmt.Sprintf("%dKiB", m.bytes>>10)
	default:
		s = fmt.Sprintf("%dB", m.bytes)
	}
	if m.text {
		s += "-text"
	}
	return s
}

// describe is the size for a table's title: "16 B binary".
func (m msgSize) describe() string {
	s := strings.TrimSuffix(m.String(), "-text")
	for _, u := range []string{"MiB", "KiB", "B"} {
		if rest, ok := strings.CutSuffix(s, u); ok {
			s = rest + " " + u
			break
		}
	}
	if m.text {
		return s + " text"
	}
	return s + " binary"
}

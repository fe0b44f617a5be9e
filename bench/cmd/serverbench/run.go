package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A bench is one run of the harness.
type bench struct {
	cfg *config
	log io.Writer
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(b.log, "serverbench: "+format+"\n", a...)
}

// A timedCase is one table of pipelined or window1.
type timedCase struct {
	work   string // workPipelined or workWindow1
	set    *msgSet
	conns  int
	window int
}

func (tc timedCase) title() string {
	if tc.work == workWindow1 {
		return fmt.Sprintf("window1, %s: %d connection%s, one message in flight each", tc.set.size.describe(), tc.conns, plural(tc.conns))
	}
	return fmt.Sprintf("pipelined, %s: %d connection%s × %d messages in flight", tc.set.size.describe(), tc.conns, plural(tc.conns), tc.window)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (b *bench) timedCases() []timedCase {
	var cases []timedCase
	if b.cfg.has(workPipelined) {
		for _, sz := range b.cfg.sizes {
			cases = append(cases, timedCase{work: workPipelined, set: newMsgSet(sz), conns: b.cfg.conns, window: b.cfg.window})
		}
	}
	if b.cfg.has(workWindow1) {
		set := newMsgSet(b.cfg.window1Size)
		for _, n := range b.cfg.window1Conns {
			cases = append(cases, timedCase{work: workWindow1, set: set, conns: n, window: 1})
		}
	}
	return cases
}

// run measures every case of every subject, round after round, the
// subjects in turn within each case, and returns the report. It fails
// only if it cannot go on at all; a failed measurement is in the report.
func (b *bench) run(ctx context.Context) (*report, error) {
	rep := newReport(b.cfg)
	var subjects []subject
	for _, name := range b.cfg.subjects {
		s, err := prepareSubject(ctx, b.cfg, name, b.logf)
		if isSkip(err) {
			b.logf("%s skipped: %v", name, err)
			rep.skipped = append(rep.skipped, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if err != nil {
			return nil, err
		}
		subjects = append(subjects, s)
		rep.subjects = append(rep.subjects, s.name)
		rep.about[s.name] = s.about
	}
	if len(subjects) == 0 {
		return nil, errors.New("no subject to run")
	}
	cases := b.timedCases()
	for _, tc := range cases {
		rep.timed = append(rep.timed, &timedTable{tc: tc, rows: map[string]*timedRow{}})
	}
	for r := range b.cfg.rounds {
		for i, tc := range cases {
			for _, s := range rotate(subjects, r) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				res, err := b.measureTimed(ctx, s, tc, rep)
				rep.timed[i].add(s.name, res, err)
				if err != nil {
					b.logf("round %d, %s, %s: FAILED: %v", r+1, tc.title(), s.name, err)
					continue
				}
				b.logf("round %d, %s, %s: %.0f msg/s, server %.2f µs/msg", r+1, tc.title(), s.name, res.rate, res.serverUs)
			}
		}
	}
	if b.cfg.has(workIdle) {
		for _, n := range b.cfg.idleConns {
			rep.idle = append(rep.idle, &idleTable{conns: n, rows: map[string]*idleRow{}})
		}
		for r := range b.cfg.idleRounds {
			for i, n := range b.cfg.idleConns {
				for _, s := range rotate(subjects, r) {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					res, err := b.measureIdle(ctx, s, n, rep)
					rep.idle[i].add(s.name, res, err)
					if err != nil {
						b.logf("round %d, idle %d, %s: FAILED: %v", r+1, n, s.name, err)
						continue
					}
					b.logf("round %d, idle %d, %s: %.1f KiB RSS/conn", r+1, n, s.name, res.rssPerConn/1024)
				}
			}
		}
	}
	rep.end = time.Now()
	return rep, nil
}

// rotate returns s starting r places further along, so that no subject
// always runs first or last in a round.
func rotate[T any](s []T, r int) []T {
	r %= len(s)
	return append(slices.Clone(s[r:]), s[:r]...)
}

// timedMetrics are one measurement of a timedCase.
type timedMetrics struct {
	rate     float64 // messages per second
	serverUs float64 // server CPU per message, µs
	clientUs float64 // load client CPU per message, µs
	p50, p99 float64 // round trip, µs (window1)
}

// processCPU returns the CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureTimed starts a server, connects tc.conns clients, runs their
// echo loops for the warm-up and the measured time, and stops them once
// every echo in flight is in and checked.
func (b *bench) measureTimed(ctx context.Context, s subject, tc timedCase, rep *report) (timedMetrics, error) {
	var m timedMetrics
	ch, err := s.start(ctx)
	if err != nil {
		return m, err
	}
	defer ch.stop()
	rep.noteInfo(s.name, ch.info)

	bufSize := max(16<<10, min(tc.set.size.bytes+14, 1<<20))
	conns := make([]*wsConn, 0, tc.conns)
	defer func() {
		for _, c := range conns {
			c.closeNow()
		}
	}()
	for i := range tc.conns {
		c, err := dialWS(ctx, ch.addr, bufSize)
		if err != nil {
			return m, fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
	}

	var lc loopControl
	stats := make([]connStats, len(conns))
	errs := make(chan error, len(conns))
	for i, c := range conns {
		go func() { errs <- c.echoLoop(tc.set, tc.window, &lc, &stats[i]) }()
	}
	ended := 0
	// finish stops the loops, gives them b.cfg.drain to read the echoes
	// still in flight, and returns the first error of any.
	finish := func(first error) error {
		lc.stop.Store(true)
		deadline := time.Now().Add(b.cfg.drain)
		for _, c := range conns {
			c.nc.SetDeadline(deadline)
		}
		for ; ended < len(conns); ended++ {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	wait := func(d time.Duration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case err := <-errs: // a loop ended early: an error
			ended++
			if err == nil {
				err = errors.New("an echo loop ended early")
			}
			return err
		case <-ch.done:
			return ch.alive()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	echoed := func() int64 {
		var n int64
		for i := range stats {
			n += stats[i].echoed.Load()
		}
		return n
	}
	if err := wait(b.cfg.warmup); err != nil {
		return m, finish(err)
	}
	n0, cli0, t0 := echoed(), processCPU(), time.Now()
	cpu0, err := ch.cpu()
	if err != nil {
		return m, finish(err)
	}
	lc.record.Store(true)
	if err := wait(b.cfg.duration); err != nil {
		return m, finish(err)
	}
	n1, t1, cli1 := echoed(), time.Now(), processCPU()
	cpu1, err := ch.cpu()
	lc.record.Store(false)
	if err := finish(err); err != nil {
		return m, err
	}
	if err := ch.alive(); err != nil {
		return m, err
	}
	msgs := float64(n1 - n0)
	if msgs == 0 {
		return m, errNoProgress
	}
	m.rate = msgs / t1.Sub(t0).Seconds()
	m.serverUs = float64(cpu1-cpu0) / 1e3 / msgs
	m.clientUs = float64(cli1-cli0) / 1e3 / msgs
	if tc.window == 1 {
		var rtts []time.Duration
		for i := range stats {
			rtts = append(rtts, stats[i].rtts...)
		}
		slices.Sort(rtts)
		m.p50 = quantile(rtts, 0.50)
		m.p99 = quantile(rtts, 0.99)
	}
	return m, nil
}

// errNoProgress reports a measurement in which the server echoed
// nothing, though it echoed every message in the end (else the error
// would say which): on a machine this busy, the numbers mean nothing.
var errNoProgress = errors.New("no message echoed in the measured time, though all were in the end")

// quantile returns the q-quantile of sorted, in µs (nearest rank).
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(q*float64(len(sorted))))
	return float64(sorted[i]) / 1e3
}

// idleMetrics are one measurement of the idle workload, per connection
// (after − before) / n. A metric the server cannot report is NaN.
type idleMetrics struct {
	rssPerConn        float64 // bytes
	livePerConn       float64 // bytes: Go HeapAlloc+StackInuse, Node heapUsed+external
	stackPerConn      float64 // bytes: Go StackInuse
	goroutinesPerConn float64
	rssBefore         float64 // bytes, with the warm-up connections closed
}

var nan = math.NaN()

// idleSettle is how long closed connections get to be gone from the
// server before its memory is read.
const idleSettle = 250 * time.Millisecond

// measureIdle starts a server, opens and closes b.cfg.idleWarmup
// connections, reads its memory, opens n connections that each echo one
// message, waits, and reads its memory again. Then every connection
// echoes once more, to show that none was dropped.
func (b *bench) measureIdle(ctx context.Context, s subject, n int, rep *report) (idleMetrics, error) {
	var m idleMetrics
	ch, err := s.start(ctx)
	if err != nil {
		return m, err
	}
	defer ch.stop()
	rep.noteInfo(s.name, ch.info)
	set := newMsgSet(msgSize{bytes: 16})

	warm, err := b.openIdle(ctx, ch, b.cfg.idleWarmup, set)
	closeAll(warm)
	if err != nil {
		return m, fmt.Errorf("warming up: %w", err)
	}
	time.Sleep(idleSettle)
	mem0, err := ch.mem(ctx)
	if err != nil {
		return m, err
	}
	rss0, err := ch.rss()
	if err != nil {
		return m, err
	}

	conns, err := b.openIdle(ctx, ch, n, set)
	defer closeAll(conns)
	if err != nil {
		return m, err
	}
	select {
	case <-time.After(b.cfg.idleWait):
	case <-ctx.Done():
		return m, ctx.Err()
	}
	mem1, err := ch.mem(ctx)
	if err != nil {
		return m, err
	}
	rss1, err := ch.rss()
	if err != nil {
		return m, err
	}
	if err := b.forEach(ctx, conns, func(i int, c *wsConn) error {
		c.nc.SetDeadline(time.Now().Add(b.cfg.drain))
		return c.echoOnce(set, (i+1)%setLen)
	}); err != nil {
		return m, fmt.Errorf("echoing again after the measurement: %w", err)
	}
	if err := ch.alive(); err != nil {
		return m, err
	}
	per := func(a, b int64) float64 { return float64(b-a) / float64(n) }
	m.rssBefore = float64(rss0)
	m.rssPerConn = per(rss0, rss1)
	m.livePerConn, m.stackPerConn, m.goroutinesPerConn = nan, nan, nan
	if l0, ok := mem0.live(); ok {
		l1, _ := mem1.live()
		m.livePerConn = per(l0, l1)
	}
	if mem0.StackInuse != nil && mem1.StackInuse != nil {
		m.stackPerConn = per(*mem0.StackInuse, *mem1.StackInuse)
	}
	if mem0.NumGoroutine != nil && mem1.NumGoroutine != nil {
		m.goroutinesPerConn = per(*mem0.NumGoroutine, *mem1.NumGoroutine)
	}
	return m, nil
}

// openIdle opens n connections to ch, b.cfg.dialConcurrency at a time,
// each echoing one message of set. It returns those it opened.
func (b *bench) openIdle(ctx context.Context, ch *child, n int, set *msgSet) ([]*wsConn, error) {
	conns := make([]*wsConn, n)
	err := b.forEach(ctx, conns, func(i int, _ *wsConn) error {
		c, err := dialWS(ctx, ch.addr, 1024)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		conns[i] = c
		c.nc.SetDeadline(time.Now().Add(handshakeTimeout))
		if err := c.echoOnce(set, i%setLen); err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		return c.nc.SetDeadline(time.Time{})
	})
	open := slices.DeleteFunc(conns, func(c *wsConn) bool { return c == nil })
	if err == nil {
		err = ch.alive()
	}
	return open, err
}

// forEach calls f for every connection, b.cfg.dialConcurrency at a
// time, and returns the first error; it stops starting calls after one.
func (b *bench) forEach(ctx context.Context, conns []*wsConn, f func(i int, c *wsConn) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(b.cfg.dialConcurrency, len(conns)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) || failed.Load() || ctx.Err() != nil {
					return
				}
				if err := f(i, conns[i]); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func closeAll(conns []*wsConn) {
	for _, c := range conns {
		c.closeNow()
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A childSpec says how to start a server process.
type childSpec struct {
	name string
	path string
	args []string
	dir  string
	// control: the process prints "ready HOST:PORT {json}" and answers
	// "mem" on stdin. Without it the harness gives it a free port as its
	// last argument (portArg) and waits until that port accepts.
	control bool
	portArg bool
}

// A child is a running server process.
type child struct {
	spec  childSpec
	cmd   *exec.Cmd
	pid   int
	addr  string         // HOST:PORT it listens on
	info  map[string]any // what its ready line said of itself
	stdin io.WriteCloser
	lines chan string // its stdout after the ready line, for control answers
	done  chan struct{}
	mu    sync.Mutex // serialises control requests
}

// children are the live children, killed by killChildren.
var children = struct {
	sync.Mutex
	m map[*child]bool
}{m: map[*child]bool{}}

// killChildren kills every child process still running and waits, up
// to a second, until they are gone; it is safe to call at any time, from
// any goroutine.
func killChildren() {
	children.Lock()
	var all []*child
	for c := range children.m {
		c.kill()
		all = append(all, c)
	}
	children.Unlock()
	deadline := time.After(time.Second)
	for _, c := range all {
		select {
		case <-c.done:
		case <-deadline:
			return
		}
	}
}

// childStartTimeout bounds the wait for a child to listen.
const childStartTimeout = 20 * time.Second

// startChild starts spec's process and waits until it listens.
func startChild(ctx context.Context, spec childSpec) (*child, error) {
	args := spec.args
	var port string
	if spec.portArg {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		port = p
		args = append(args[:len(args):len(args)], port)
	}
	cmd := exec.Command(spec.path, args...)
	cmd.Dir = spec.dir
	cmd.Stderr = os.Stderr
	// A process group of its own, killed as one (a wrapper script and
	// its server with it), and SIGKILL if this process dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &child{spec: spec, cmd: cmd, stdin: stdin, lines: make(chan string, 16), done: make(chan struct{})}
	children.Lock()
	if err := cmd.Start(); err != nil {
		children.Unlock()
		return nil, fmt.Errorf("%s: %w", spec.name, err)
	}
	c.pid = cmd.Process.Pid
	children.m[c] = true
	children.Unlock()
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	ready := make(chan string, 1)
	go c.readStdout(stdout, ready)

	tctx, cancel := context.WithTimeout(ctx, childStartTimeout)
	defer cancel()
	if spec.control {
		select {
		case line := <-ready:
			if err := c.parseReady(line); err != nil {
				c.stop()
				return nil, err
			}
			return c, nil
		case <-c.done:
			c.stop()
			return nil, fmt.Errorf("%s: exited before it was ready (%v)", spec.name, cmd.ProcessState)
		case <-tctx.Done():
			c.stop()
			return nil, fmt.Errorf("%s: not ready: %w", spec.name, tctx.Err())
		}
	}
	c.addr = net.JoinHostPort("127.0.0.1", port)
	for {
		nc, err := net.DialTimeout("tcp", c.addr, time.Second)
		if err == nil {
			nc.Close()
			return c, nil
		}
		select {
		case <-c.done:
			c.stop()
			return nil, fmt.Errorf("%s: exited before it listened on %s (%v)", spec.name, port, cmd.ProcessState)
		case <-tctx.Done():
			c.stop()
			return nil, fmt.Errorf("%s: not listening on %s: %w", spec.name, c.addr, tctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readStdout hands the ready line to ready and the lines after it to
// c.lines; without a control protocol it discards what it reads.
func (c *child) readStdout(stdout io.Reader, ready chan<- string) {
	defer close(c.lines)
	sc := bufio.NewScanner(stdout)
	sawReady := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !c.spec.control:
		case !sawReady && strings.HasPrefix(line, "ready "):
			sawReady = true
			ready <- line
		case sawReady && strings.HasPrefix(line, "mem "):
			c.lines <- line
		default:
			fmt.Fprintf(os.Stderr, "%s: %s\n", c.spec.name, line)
		}
	}
}

func (c *child) parseReady(line string) error {
	f := strings.SplitN(strings.TrimPrefix(line, "ready "), " ", 2)
	c.addr = f[0]
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return fmt.Errorf("%s: bad ready line %q", c.spec.name, line)
	}
	if len(f) == 2 {
		if err := json.Unmarshal([]byte(f[1]), &c.info); err != nil {
			return fmt.Errorf("%s: bad ready line %q: %v", c.spec.name, line, err)
		}
	}
	return nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// kill sends SIGKILL to the child's process group.
func (c *child) kill() {
	syscall.Kill(-c.pid, syscall.SIGKILL)
}

// stop ends the child: its stdin closes, which ends our children and
// node-ws cleanly, then its process group is killed, and stop waits
// for it to be gone.
func (c *child) stop() {
	c.stdin.Close()
	if c.spec.control {
		select {
		case <-c.done:
		case <-time.After(500 * time.Millisecond):
		}
	}
	c.kill()
	<-c.done
	children.Lock()
	delete(children.m, c)
	children.Unlock()
}

// A memReport is a server's own account of its memory, as its control
// answer gives it. Fields it does not report are nil.
type memReport struct {
	// Go: runtime.MemStats after two runtime.GC.
	HeapAlloc    *int64 `json:"heapAlloc"`
	StackInuse   *int64 `json:"stackInuse"`
	NumGoroutine *int64 `json:"numGoroutine"`
	// Node: process.memoryUsage() after two global.gc().
	HeapUsed *int64 `json:"heapUsed"`
	External *int64 `json:"external"`
}

// live is the memory the runtime counts as in use: Go's HeapAlloc +
// StackInuse, or Node's heapUsed + external (Buffers among it).
func (m memReport) live() (int64, bool) {
	switch {
	case m.HeapAlloc != nil && m.StackInuse != nil:
		return *m.HeapAlloc + *m.StackInuse, true
	case m.HeapUsed != nil && m.External != nil:
		return *m.HeapUsed + *m.External, true
	}
	return 0, false
}

// mem asks the child for its memory report.
func (c *child) mem(ctx context.Context) (memReport, error) {
	var m memReport
	if !c.spec.control {
		return m, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.stdin, "mem\n"); err != nil {
		return m, fmt.Errorf("%s: asking for memory: %w", c.spec.name, err)
	}
	select {
	case line, ok := <-c.lines:
		if !ok {
			return m, fmt.Errorf("%s: exited (%v)", c.spec.name, c.cmd.ProcessState)
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "mem ")), &m); err != nil {
			return m, fmt.Errorf("%s: bad memory report %q: %v", c.spec.name, line, err)
		}
		return m, nil
	case <-time.After(30 * time.Second):
		return m, fmt.Errorf("%s: no memory report in 30s", c.spec.name)
	case <-ctx.Done():
		return m, ctx.Err()
	}
}

// alive reports an error if the child has exited.
func (c *child) alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s: server exited (%v)", c.spec.name, c.cmd.ProcessState)
	default:
		return nil
	}
}

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ,
// which Linux fixes at 100 on every architecture it reports to user
// space.
const clockTick = 10 * time.Millisecond

// cpu returns the CPU time, user and system, of all the child's threads
// so far, from /proc/PID/stat.
func (c *child) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields are
	// counted from its closing parenthesis, the 3rd field following it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", c.pid, b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected %q", c.pid, b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", c.pid, err)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// rss returns the child's resident set size, VmRSS in /proc/PID/status.
func (c *child) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: %q: %w", c.pid, line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", c.pid)
}

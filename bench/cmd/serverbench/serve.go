package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
)

// A goMem is what a Go subject reports to "mem": its runtime's own
// account, after two collections.
type goMem struct {
	HeapAlloc    uint64 `json:"heapAlloc"`
	StackInuse   uint64 `json:"stackInuse"`
	NumGoroutine int    `json:"numGoroutine"`
}

// serveMain is the child half, "serverbench serve NAME": it runs the Go
// subject NAME on a loopback port until stdin ends, answering "mem"
// lines on stdin. It returns the exit code.
// profileEnv names a directory where each Go subject writes a CPU profile
// of each run, SUBJECT.PID.cpu.pprof.
const profileEnv = "SERVERBENCH_CPUPROFILE"

func serveMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: serverbench serve NAME")
		return 2
	}
	s, ok := findGoSubject(args[0])
	if !ok {
		fmt.Fprintf(os.Stderr, "serverbench serve: unknown subject %q\n", args[0])
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "serverbench serve %s: %v\n", s.name, err)
		return 1
	}
	go func() {
		err := s.serve(ln)
		if !errors.Is(err, net.ErrClosed) {
			fmt.Fprintf(os.Stderr, "serverbench serve %s: %v\n", s.name, err)
			os.Exit(1)
		}
	}()
	if dir := os.Getenv(profileEnv); dir != "" {
		// A CPU profile of the whole life of the server, for finding where
		// its time per message goes.
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s.%d.cpu.pprof", s.name, os.Getpid())))
		if err == nil {
			pprof.StartCPUProfile(f)
			defer func() {
				pprof.StopCPUProfile()
				f.Close()
			}()
		}
	}
	info, _ := json.Marshal(map[string]any{"runtime": runtime.Version(), "gomaxprocs": runtime.GOMAXPROCS(0)})
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "ready %s %s\n", ln.Addr(), info)
	out.Flush()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "mem" {
			continue
		}
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m, _ := json.Marshal(goMem{HeapAlloc: ms.HeapAlloc, StackInuse: ms.StackInuse, NumGoroutine: runtime.NumGoroutine()})
		fmt.Fprintf(out, "mem %s\n", m)
		out.Flush()
	}
	// stdin ended: the parent is done with this server, or gone.
	ln.Close()
	return 0
}

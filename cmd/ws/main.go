package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// The exit statuses; see the package documentation.
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitHandshake = 3
	exitPeerClose = 4
	exitAbnormal  = 5
)

func main() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var code int
	if len(os.Args) > 1 && os.Args[1] == "listen" {
		code = listen(os.Args[2:], os.Stderr, sigs)
	} else {
		code = dial(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, sigs)
	}
	os.Exit(code)
}

// signalStatus is the exit status after sig, as shells report it.
func signalStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

// A listFlag is a flag that may be given many times.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// An autoBool is a boolean flag whose default is decided later when it is
// not given.
type autoBool struct {
	set, value bool
}

func (b *autoBool) IsBoolFlag() bool { return true }

func (b *autoBool) String() string {
	if b == nil || !b.set {
		return "auto"
	}
	return strconv.FormatBool(b.value)
}

func (b *autoBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.value = true, v
	return nil
}

// usageError prints a usage error and returns exitUsage.
func usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "ws: "+format+"\n", args...)
	fmt.Fprintln(stderr, "usage: ws [flags] URL, or ws listen [-echo | -broadcast] [flags] ADDR; ws -h for the flags")
	return exitUsage
}

// A flagError is an error of the flag package, which has printed it.
type flagError struct{ error }

func (e flagError) Unwrap() error { return e.error }

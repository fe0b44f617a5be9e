//go:build !js

package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
)

// timeoutError is a net.Error whose Timeout reports timeout.
type timeoutError struct{ timeout bool }

func (e timeoutError) Error() string   { return "timeout error" }
func (e timeoutError) Timeout() bool   { return e.timeout }
func (e timeoutError) Temporary() bool { return false }

func TestIsTimeout(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"io.EOF", io.EOF, false},
		{"net.ErrClosed", net.ErrClosed, false},
		{"os.ErrDeadlineExceeded", os.ErrDeadlineExceeded, true},
		{"a read's OpError", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{"wrapped", fmt.Errorf("reading: %w", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}), true},
		{"a net.Error that is a timeout", timeoutError{true}, true},
		{"a net.Error that is not", timeoutError{false}, false},
		{"context.DeadlineExceeded", context.DeadlineExceeded, true},
		{"context.Canceled", context.Canceled, false},
		{"joined, one a timeout", errors.Join(io.ErrUnexpectedEOF, fmt.Errorf("x: %w", os.ErrDeadlineExceeded)), true},
		{"joined, none a timeout", errors.Join(io.ErrUnexpectedEOF, net.ErrClosed), false},
		{"wrapping something else", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isTimeout(tt.err); got != tt.want {
				t.Errorf("isTimeout(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	if raceEnabled {
		return
	}
	// Every read of a compressed message ends with an io.EOF that passes
	// through isTimeout.
	other := fmt.Errorf("x: %w", io.ErrUnexpectedEOF)
	if n := testing.AllocsPerRun(100, func() { isTimeout(io.EOF); isTimeout(other) }); n != 0 {
		t.Errorf("isTimeout allocates %v times per call, want 0", n)
	}
}

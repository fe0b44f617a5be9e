//go:build !js

package conn

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/frame"
)

// TestOptionsValidate checks that every field with a range is checked and
// that the error names it.
func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		field string // "" if valid
	}{
		{name: "zero", opts: Options{}},
		{name: "no limits", opts: Options{ReadLimit: -1, MaxFragments: -1, CompressionThreshold: -1}},
		{name: "keepalive with default timeout", opts: Options{KeepaliveInterval: time.Second}},
		{name: "keepalive with equal timeout", opts: Options{KeepaliveInterval: time.Second, KeepaliveTimeout: time.Second}},
		{name: "level 9", opts: Options{CompressionLevel: 9}},
		{name: "negative close timeout", opts: Options{CloseTimeout: -1}, field: "CloseTimeout"},
		{name: "negative read buffer", opts: Options{ReadBufferSize: -1}, field: "ReadBufferSize"},
		{name: "negative write buffer", opts: Options{WriteBufferSize: -4096}, field: "WriteBufferSize"},
		{name: "negative interval", opts: Options{KeepaliveInterval: -time.Second}, field: "KeepaliveInterval"},
		{name: "negative timeout", opts: Options{KeepaliveInterval: time.Second, KeepaliveTimeout: -time.Second}, field: "KeepaliveTimeout"},
		{name: "timeout without interval", opts: Options{KeepaliveTimeout: time.Second}, field: "KeepaliveTimeout"},
		{name: "timeout shorter than interval", opts: Options{KeepaliveInterval: time.Minute, KeepaliveTimeout: time.Second}, field: "KeepaliveTimeout"},
		{name: "negative buffered amount", opts: Options{MaxBufferedAmount: -1}, field: "MaxBufferedAmount"},
		{name: "unknown backpressure", opts: Options{OnBackpressure: 3}, field: "OnBackpressure"},
		{name: "level 10", opts: Options{CompressionLevel: 10}, field: "CompressionLevel"},
		{name: "negative level", opts: Options{CompressionLevel: -1}, field: "CompressionLevel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			// The message is what a user reads to find the mistake, so
			// it is checked here: it must name the field.
			if err == nil || !strings.Contains(err.Error(), "Options."+tt.field+" ") {
				t.Fatalf("Validate() = %v, want an error naming Options.%s", err, tt.field)
			}
			a, b := net.Pipe()
			defer b.Close()
			if c, err := New(a, frame.Server, nil, &tt.opts); c != nil || err == nil {
				t.Errorf("New with invalid options = %v, %v; want nil and an error", c, err)
			}
		})
	}
}

// TestHandshakeCompressionValidate checks that New refuses window sizes
// RFC 7692 does not allow, which would otherwise reach the compressor.
func TestHandshakeCompressionValidate(t *testing.T) {
	for _, p := range []Compression{{ServerMaxWindowBits: 7}, {ClientMaxWindowBits: 16}, {ServerMaxWindowBits: -1}} {
		a, b := net.Pipe()
		if _, err := New(a, frame.Client, &Handshake{Compression: &p}, nil); err == nil || !strings.Contains(err.Error(), "MaxWindowBits") {
			t.Errorf("New with %+v = %v, want an error naming the window", p, err)
		}
		b.Close()
	}
	for _, bits := range []int{0, 8, 9, 15} {
		a, b := net.Pipe()
		c, err := New(a, frame.Client, &Handshake{Compression: &Compression{ServerMaxWindowBits: bits, ClientMaxWindowBits: bits}}, nil)
		if err != nil {
			t.Errorf("New with windows of %d bits: %v", bits, err)
		} else {
			c.CloseNow()
		}
		b.Close()
	}
}

// TestNewRole checks that New refuses a role that is neither.
func TestNewRole(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	if _, err := New(a, frame.Role(2), nil, nil); err == nil {
		t.Error("New with role 2 succeeded")
	}
}

// TestHandshakeReported checks that the Conn reports what the handshake
// agreed, and that compression is on exactly when it was agreed.
func TestHandshakeReported(t *testing.T) {
	h := &Handshake{Subprotocol: "chat", Extensions: "permessage-deflate"}
	c, peer := rawPairHandshake(t, frame.Server, h, &Options{CompressionThreshold: -1})
	if c.Subprotocol() != "chat" || c.Extensions() != "permessage-deflate" {
		t.Errorf("Subprotocol, Extensions = %q, %q", c.Subprotocol(), c.Extensions())
	}
	// No Compression in the Handshake: Extensions is only a report.
	go c.Write(ctx, Text, []byte("plain"))
	if f := peer.mustNext(); f.RSV != 0 || string(f.Payload) != "plain" {
		t.Errorf("frame %+v, want an uncompressed text frame", f)
	}
}

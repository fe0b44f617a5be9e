//go:build js && wasm

package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/jsws"
)

// HTTP2 is not available under GOOS=js: the browser chooses by itself
// whether a WebSocket travels over HTTP/2 (RFC 8441). Dial rejects
// Options.HTTP2.
type HTTP2 struct {
	// Cleartext is the field of the same name elsewhere; it has no effect
	// in the browser.
	Cleartext bool

	_ struct{}
}

// Dial opens a WebSocket to the server at rawURL (ws:// or wss://; no
// fragment) with the browser's WebSocket API, offering
// Options.Subprotocols, and waits until it is open, it failed, ctx ended
// or Options.HandshakeTimeout passed. It returns a nil *http.Response:
// the browser does not show a page the handshake's response.
//
// The browser performs the handshake, so the options it cannot express
// give an error that names the field, before anything is opened: Header,
// Host, Jar, TLSConfig, ProxyTLSConfig, DialContext, Proxy,
// ProxyConnectHeader, MaxHeaderBytes and HTTP2, Compression with any
// parameter set, and Conn's KeepaliveInterval, KeepaliveTimeout,
// WriteTimeout, CompressionLevel and CompressionThreshold. Compression
// may be &conn.Compression{}: browsers offer permessage-deflate on every
// connection, whatever it says, and Conn.Extensions tells what the server
// agreed. The page's origin is the Origin of the handshake, and the
// browser sends the cookies it holds for the server.
//
// A connection that does not open gives an error that cannot say why:
// the browser hides the HTTP status of a refused handshake, and DNS, TCP
// and TLS failures, from the page.
func Dial(ctx context.Context, rawURL string, opts *Options) (*conn.Conn, *http.Response, error) {
	if opts == nil {
		opts = &noOptions
	}
	if err := opts.validate(); err != nil {
		return nil, nil, err
	}
	if err := opts.browserCannot(); err != nil {
		return nil, nil, err
	}
	if _, err := parseURL(rawURL); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.handshakeTimeout())
	defer cancel()
	readLimit := opts.Conn.ReadLimit
	if readLimit == 0 {
		readLimit = conn.DefaultReadLimit
	}
	s, err := jsws.Open(ctx, rawURL, opts.Subprotocols, readLimit)
	if err != nil {
		return nil, nil, fmt.Errorf("client: opening handshake: %w", err)
	}
	c, err := conn.New(s, frame.Client, &conn.Handshake{Subprotocol: s.Protocol(), Extensions: s.Extensions()}, &opts.Conn)
	if err != nil {
		s.Abort()
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	return c, nil, nil
}

// browserCannot reports the first option set that the browser's
// WebSocket API cannot express.
func (o *Options) browserCannot() error {
	var comp conn.Compression
	if o.Compression != nil {
		comp = *o.Compression
	}
	for _, f := range []struct {
		field string
		set   bool
		why   string
	}{
		{"Header", len(o.Header) > 0, "the browser's WebSocket API cannot set request headers (the page's origin is the Origin)"},
		{"Host", o.Host != "", "the browser's WebSocket API cannot set request headers"},
		{"Jar", o.Jar != nil, "the browser sends and keeps cookies itself"},
		{"TLSConfig", o.TLSConfig != nil, "the browser does TLS itself"},
		{"ProxyTLSConfig", o.ProxyTLSConfig != nil, "the browser chooses proxies itself"},
		{"DialContext", o.DialContext != nil, "the browser makes connections itself"},
		{"Proxy", o.Proxy != nil, "the browser chooses proxies itself"},
		{"ProxyConnectHeader", len(o.ProxyConnectHeader) > 0, "the browser chooses proxies itself"},
		{"MaxHeaderBytes", o.MaxHeaderBytes != 0, "the browser reads the handshake response itself"},
		{"HTTP2", o.HTTP2 != nil, "the browser chooses by itself whether a WebSocket travels over HTTP/2"},
		{"Compression", comp != conn.Compression{}, "the browser offers permessage-deflate with parameters of its own"},
		{"Conn.KeepaliveInterval", o.Conn.KeepaliveInterval != 0, "the browser's WebSocket API cannot send pings"},
		{"Conn.KeepaliveTimeout", o.Conn.KeepaliveTimeout != 0, "the browser's WebSocket API cannot send pings"},
		{"Conn.WriteTimeout", o.Conn.WriteTimeout != 0, "the browser's WebSocket API does not tell when a message was written"},
		{"Conn.CompressionLevel", o.Conn.CompressionLevel != 0, "the browser compresses by itself"},
		{"Conn.CompressionThreshold", o.Conn.CompressionThreshold != 0, "the browser compresses by itself"},
	} {
		if f.set {
			return fmt.Errorf("client: Options.%s is not supported under js/wasm: %s: %w", f.field, f.why, errors.ErrUnsupported)
		}
	}
	return nil
}

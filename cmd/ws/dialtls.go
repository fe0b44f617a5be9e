package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/proxy"
)

// For a wss:// URL ws makes the TLS session itself, in the DialContext it
// gives the client package, and has that package dial the ws:// URL of the
// same host and port: the wire under the Conn then carries plaintext,
// which -v can show (see wire). client.Options has no hook for the
// connection above TLS, only DialContext beneath it. Since the TLS session
// starts after a proxy's CONNECT, ws also reaches the proxy itself. It
// does so with and without -v, so that -v shows the connection ws makes
// anyway.

// plainURL prepares the dial of the wss:// URL u as described above: it
// returns the ws:// URL to give the client package and sets the Host
// header to u's host. It also stops the client package from sending the
// ws:// URL to HTTP_PROXY: dialTLS chooses the proxy for the wss:// URL.
func (cfg *clientConfig) plainURL(u *url.URL) string {
	if cfg.opts.Host == "" {
		cfg.opts.Host = u.Host
	}
	cfg.opts.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	port := u.Port()
	if port == "" {
		port = "443"
	}
	plain := *u
	plain.Scheme = "ws"
	plain.Host = net.JoinHostPort(u.Hostname(), port)
	return plain.String()
}

// dialTLS connects to addr, the host and port of the wss:// URL u, through
// the proxy the environment names for u (HTTPS_PROXY, NO_PROXY) if any,
// and performs the TLS handshake with config, whose ServerName defaults to
// u's host name. log, if not nil, gets the proxy's CONNECT exchange.
func dialTLS(ctx context.Context, u *url.URL, addr string, config *tls.Config, log *logger) (net.Conn, error) {
	proxyURL, err := http.ProxyFromEnvironment(&http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: u.Host}})
	if err != nil {
		return nil, fmt.Errorf("choosing a proxy: %w", err)
	}
	var d net.Dialer
	var nc net.Conn
	if proxyURL == nil {
		nc, err = d.DialContext(ctx, "tcp", addr)
	} else {
		nc, err = dialProxy(ctx, &d, proxyURL, addr, log)
	}
	if err != nil {
		return nil, err
	}
	config = config.Clone()
	if config == nil {
		config = &tls.Config{}
	}
	if config.ServerName == "" {
		config.ServerName = u.Hostname()
	}
	tc := tls.Client(nc, config)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// dialProxy opens a tunnel to addr through the proxy at proxyURL: an
// http:// or https:// proxy that takes CONNECT (with Basic credentials
// from the URL's user information), or a SOCKS5 one.
func dialProxy(ctx context.Context, d *net.Dialer, proxyURL *url.URL, addr string, log *logger) (net.Conn, error) {
	name := proxyURL.Redacted()
	switch proxyURL.Scheme {
	case "socks5", "socks5h":
		p, err := proxy.FromURL(proxyURL, d)
		if err != nil {
			return nil, fmt.Errorf("SOCKS5 proxy %s: %w", name, err)
		}
		cd, ok := p.(proxy.ContextDialer)
		if !ok {
			return nil, fmt.Errorf("SOCKS5 proxy %s: no dialer with a context", name)
		}
		nc, err := cd.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("via SOCKS5 proxy %s: %w", name, err)
		}
		return nc, nil
	case "http", "https":
	default:
		return nil, fmt.Errorf("proxy %s: the scheme must be http, https or socks5", name)
	}

	port := proxyURL.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[proxyURL.Scheme]
	}
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(proxyURL.Hostname(), port))
	if err != nil {
		return nil, fmt.Errorf("dialing proxy %s: %w", name, err)
	}
	// The exchange obeys ctx, which bounds the whole handshake.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(err error) (net.Conn, error) {
		nc.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("proxy %s: %w", name, err)
	}
	if proxyURL.Scheme == "https" {
		tc := tls.Client(nc, &tls.Config{ServerName: proxyURL.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(err)
		}
		nc = tc
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if user := proxyURL.User; user != nil {
		pass, _ := user.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user.Username()+":"+pass)))
	}
	if log != nil {
		log.printf("> CONNECT %s HTTP/1.1 (to proxy %s)", addr, name)
	}
	if err := req.Write(nc); err != nil {
		return fail(err)
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail(fmt.Errorf("reading the answer to CONNECT: %w", err))
	}
	if log != nil {
		log.printf("< %s %s", resp.Proto, resp.Status)
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		return fail(fmt.Errorf("CONNECT %s answered with %s", addr, resp.Status))
	case br.Buffered() > 0:
		// The server speaks only after the TLS client hello.
		return fail(errors.New("data arrived before the tunnel was used"))
	}
	return nc, nil
}

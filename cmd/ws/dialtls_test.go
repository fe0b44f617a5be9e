package main

import (
	"net/http"
	"net/url"
	"testing"
)

func TestPlainURL(t *testing.T) {
	tests := []struct {
		name     string
		url      string
		host     string // -H Host, if any
		wantURL  string
		wantHost string
	}{{
		name:     "default port",
		url:      "wss://example.com/a?b=c",
		wantURL:  "ws://example.com:443/a?b=c",
		wantHost: "example.com",
	}, {
		name:     "port and IPv6",
		url:      "wss://[::1]:8443/",
		wantURL:  "ws://[::1]:8443/",
		wantHost: "[::1]:8443",
	}, {
		name:     "-H Host wins",
		url:      "wss://10.0.0.1/",
		host:     "api.example.com",
		wantURL:  "ws://10.0.0.1:443/",
		wantHost: "api.example.com",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &clientConfig{url: tt.url}
			cfg.opts.Host = tt.host
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.plainURL(u); got != tt.wantURL {
				t.Errorf("plainURL(%q) = %q, want %q", tt.url, got, tt.wantURL)
			}
			if cfg.opts.Host != tt.wantHost {
				t.Errorf("Host = %q, want %q", cfg.opts.Host, tt.wantHost)
			}
			if p, err := cfg.opts.Proxy(&http.Request{URL: u}); p != nil || err != nil {
				t.Errorf("the client package would use proxy %v, %v; want none (ws reaches it itself)", p, err)
			}
		})
	}
}

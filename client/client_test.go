package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/server"
)

var ctx = context.Background()

// echoServer serves an echo endpoint that first sends what it saw of the
// request: subprotocol, Host, a header and the cookie.
func echoHandler() http.Handler {
	return &server.Handler{
		Options: &server.Options{Subprotocols: []string{"chat"}, Header: http.Header{"Set-Cookie": {"session=abc"}}},
		Serve: func(c *conn.Conn, r *http.Request) {
			cookie, _ := r.Cookie("session")
			info := c.Subprotocol() + "|" + r.Host + "|" + r.Header.Get("X-Test")
			if cookie != nil {
				info += "|" + cookie.Value
			}
			c.Write(ctx, conn.Text, []byte(info))
			var buf []byte
			for {
				typ, msg, err := c.Read(ctx, buf[:0])
				if err != nil {
					return
				}
				c.Write(ctx, typ, msg)
				buf = msg
			}
		},
	}
}

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

func roundTrip(t *testing.T, c *conn.Conn) {
	t.Helper()
	if err := c.Write(ctx, conn.Binary, []byte("echo me")); err != nil {
		t.Fatal(err)
	}
	if typ, msg, err := c.Read(ctx, nil); err != nil || typ != conn.Binary || string(msg) != "echo me" {
		t.Fatalf("echo = %v %q %v", typ, msg, err)
	}
	c.Close(conn.CloseNormalClosure, "")
}

func TestDial(t *testing.T) {
	s := httptest.NewServer(echoHandler())
	defer s.Close()
	jar, _ := cookiejar.New(nil)
	tests := []struct {
		name     string
		opts     *Options
		wantInfo string
	}{
		{name: "defaults", opts: &Options{Proxy: noProxy}, wantInfo: "|" + s.Listener.Addr().String() + "|"},
		{name: "subprotocol", opts: &Options{Proxy: noProxy, Subprotocols: []string{"mqtt", "chat"}}, wantInfo: "chat|" + s.Listener.Addr().String() + "|"},
		{name: "no matching subprotocol", opts: &Options{Proxy: noProxy, Subprotocols: []string{"mqtt"}}, wantInfo: "|" + s.Listener.Addr().String() + "|"},
		{name: "host and header", opts: &Options{Proxy: noProxy, Host: "example.test", Header: http.Header{"X-Test": {"1"}}}, wantInfo: "|example.test|1"},
		{name: "cookie jar, first visit", opts: &Options{Proxy: noProxy, Jar: jar}, wantInfo: "|" + s.Listener.Addr().String() + "|"},
		{name: "cookie jar, second visit", opts: &Options{Proxy: noProxy, Jar: jar}, wantInfo: "|" + s.Listener.Addr().String() + "||abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, resp, err := Dial(ctx, wsURL(s), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 101 {
				t.Errorf("status %d", resp.StatusCode)
			}
			if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != tt.wantInfo {
				t.Errorf("server saw %q (%v), want %q", msg, err, tt.wantInfo)
			}
			roundTrip(t, c)
		})
	}
}

func TestDialRejects(t *testing.T) {
	// A live server that counts connections: a rejected URL must be
	// refused before anything is dialed.
	var dials atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			nc.Close()
		}
	}()
	addr := ln.Addr().String()
	dialer := func(ctx context.Context, network, a string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	tests := []struct {
		name    string
		url     string
		wantErr string
	}{
		{name: "fragment", url: "ws://" + addr + "/#frag", wantErr: "fragment"},
		{name: "empty fragment", url: "ws://" + addr + "/#", wantErr: "fragment"},
		{name: "http scheme", url: "http://" + addr + "/", wantErr: "scheme"},
		{name: "no host", url: "ws:///path", wantErr: "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Dial(ctx, tt.url, &Options{Proxy: noProxy, DialContext: dialer})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Dial(%q) = %v, want an error about the %s", tt.url, err, tt.wantErr)
			}
		})
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("%d connections were dialed for URLs that must be refused", n)
	}
}

func TestDialContext(t *testing.T) {
	s := httptest.NewServer(echoHandler())
	defer s.Close()
	var dialed []string
	opts := &Options{Proxy: noProxy, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, network+" "+addr)
		var d net.Dialer
		return d.DialContext(ctx, network, s.Listener.Addr().String())
	}}
	// The URL names a host only the custom dialer can reach.
	c, _, err := Dial(ctx, "ws://chat.invalid/room", opts)
	if err != nil {
		t.Fatal(err)
	}
	c.Read(ctx, nil)
	roundTrip(t, c)
	if want := []string{"tcp chat.invalid:80"}; !slices.Equal(dialed, want) {
		t.Errorf("dialed %q, want %q", dialed, want)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, nc); nc.Close() }() // never answers
		}
	}()
	_, _, err = Dial(ctx, "ws://"+ln.Addr().String()+"/", &Options{Proxy: noProxy, HandshakeTimeout: 100 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial = %v, want context.DeadlineExceeded after the handshake timeout", err)
	}
}

func TestHandshakeErrors(t *testing.T) {
	longBody := strings.Repeat("no ", 1000)
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		status   int
		wantBody string
	}{{
		name: "403 with a body",
		handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, longBody, http.StatusForbidden)
		},
		status:   403,
		wantBody: longBody[:1024],
	}, {
		name: "101 with a wrong accept",
		handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Upgrade", "websocket")
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Sec-WebSocket-Accept", "wrong")
			w.WriteHeader(http.StatusSwitchingProtocols)
		},
		status: 101,
	}, {
		name: "extension not offered",
		handler: func(w http.ResponseWriter, r *http.Request) {
			nc, brw, _ := http.NewResponseController(w).Hijack()
			defer nc.Close()
			key := r.Header.Get("Sec-WebSocket-Key")
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + handshake.AcceptKey(key) + "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
			brw.Flush()
		},
		status: 101,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := httptest.NewServer(tt.handler)
			defer s.Close()
			_, resp, err := Dial(ctx, wsURL(s), &Options{Proxy: noProxy})
			var he *HandshakeError
			if !errors.As(err, &he) || resp == nil || resp.StatusCode != tt.status || he.Response != resp {
				t.Fatalf("Dial = %v, %v; want a HandshakeError with status %d", resp, err, tt.status)
			}
			body, _ := io.ReadAll(resp.Body)
			if string(body) != tt.wantBody {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
		})
	}
}

// TestBytesAfterResponse checks that a frame sent in the same write as the
// 101 response is the first message.
func TestBytesAfterResponse(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, brw, _ := http.NewResponseController(w).Hijack()
		defer nc.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + handshake.AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n\x81\x05early")
		brw.Flush()
		time.Sleep(100 * time.Millisecond)
	}))
	defer s.Close()
	c, _, err := Dial(ctx, wsURL(s), &Options{Proxy: noProxy})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, msg, err := c.Read(ctx, nil); err != nil || string(msg) != "early" {
		t.Errorf("first message %q, %v", msg, err)
	}
}

func TestMaskedFrameFromServer(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, brw, _ := http.NewResponseController(w).Hijack()
		defer nc.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + handshake.AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n\x81\x81\x01\x02\x03\x04x")
		brw.Flush()
		io.Copy(io.Discard, nc)
	}))
	defer s.Close()
	c, _, err := Dial(ctx, wsURL(s), &Options{Proxy: noProxy, Conn: conn.Options{CloseTimeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Read(ctx, nil)
	var pe *frame.ProtocolError
	if !errors.As(err, &pe) || pe.Code != conn.CloseProtocolError {
		t.Errorf("Read = %v, want a 1002 protocol error", err)
	}
}

func TestTLS(t *testing.T) {
	s := httptest.NewTLSServer(echoHandler())
	defer s.Close()
	pool := s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c, _, err := Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https"), &Options{Proxy: noProxy, TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	c.Read(ctx, nil)
	roundTrip(t, c)
	if _, _, err := Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https"), &Options{Proxy: noProxy}); err == nil {
		t.Error("Dial trusted an unknown certificate")
	}
}

// connectProxy is an HTTP CONNECT proxy that counts its tunnels and
// requires the given Proxy-Authorization, if any. A CONNECT request with
// an X-Tunnel-To field goes there instead of to its target.
func connectProxy(t *testing.T, auth string, tunnels *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		if auth != "" && r.Header.Get("Proxy-Authorization") != auth {
			http.Error(w, "auth", http.StatusProxyAuthRequired)
			return
		}
		target := r.Host
		if to := r.Header.Get("X-Tunnel-To"); to != "" {
			target = to
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		tunnels.Add(1)
		nc, brw, _ := http.NewResponseController(w).Hijack()
		nc.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { io.Copy(up, brw); up.Close() }()
		io.Copy(nc, up)
		nc.Close()
	})
}

func TestProxies(t *testing.T) {
	s := httptest.NewServer(echoHandler())
	defer s.Close()
	var tunnels atomic.Int32
	httpProxy := httptest.NewServer(connectProxy(t, "Basic dTpw", &tunnels))
	defer httpProxy.Close()
	httpsProxy := httptest.NewTLSServer(connectProxy(t, "", &tunnels))
	defer httpsProxy.Close()
	socks := socks5Proxy(t, &tunnels)
	pool := httpsProxy.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs

	tests := []struct {
		name  string
		proxy string
		tls   *tls.Config // for the proxy
		fail  bool
	}{
		{name: "HTTP CONNECT with basic auth", proxy: "http://u:p@" + httpProxy.Listener.Addr().String()},
		{name: "HTTP CONNECT refused", proxy: "http://" + httpProxy.Listener.Addr().String(), fail: true},
		{name: "HTTPS proxy", proxy: "https://" + httpsProxy.Listener.Addr().String(), tls: &tls.Config{RootCAs: pool}},
		// The roots given for the server are not the proxy's: a proxy
		// signed by them is not trusted.
		{name: "HTTPS proxy not trusted", proxy: "https://" + httpsProxy.Listener.Addr().String(), fail: true},
		{name: "SOCKS5", proxy: "socks5://" + socks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tunnels.Load()
			pu, _ := url.Parse(tt.proxy)
			opts := &Options{Proxy: http.ProxyURL(pu), ProxyTLSConfig: tt.tls, TLSConfig: &tls.Config{RootCAs: pool}}
			c, _, err := Dial(ctx, wsURL(s), opts)
			if tt.fail {
				if err == nil {
					c.CloseNow()
					t.Fatal("Dial succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.Read(ctx, nil)
			roundTrip(t, c)
			if tunnels.Load() != before+1 {
				t.Error("the connection did not go through the proxy")
			}
		})
	}
}

// socks5Proxy serves SOCKS5 without authentication, CONNECT only, and
// returns its address.
func socks5Proxy(t *testing.T, tunnels *atomic.Int32) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				var hello [2]byte
				io.ReadFull(br, hello[:])
				io.ReadFull(br, make([]byte, hello[1]))
				nc.Write([]byte{5, 0})
				var req [4]byte
				io.ReadFull(br, req[:])
				var host string
				switch req[3] {
				case 1:
					var ip [4]byte
					io.ReadFull(br, ip[:])
					host = net.IP(ip[:]).String()
				case 3:
					n, _ := br.ReadByte()
					b := make([]byte, n)
					io.ReadFull(br, b)
					host = string(b)
				default:
					return
				}
				var port [2]byte
				io.ReadFull(br, port[:])
				up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:])))))
				if err != nil {
					nc.Write([]byte{5, 1, 0, 1, 0, 0, 0, 0, 0, 0})
					return
				}
				tunnels.Add(1)
				nc.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
				go func() { io.Copy(up, br); up.Close() }()
				io.Copy(nc, up)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestProxyConnectHeader checks that ProxyConnectHeader reaches the
// proxy: this one tunnels to the echo server only when the header says so.
func TestProxyConnectHeader(t *testing.T) {
	s := httptest.NewServer(echoHandler())
	defer s.Close()
	var tunnels atomic.Int32
	proxy := httptest.NewServer(connectProxy(t, "", &tunnels))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	c, _, err := Dial(ctx, "ws://chat.invalid/", &Options{
		Proxy:              http.ProxyURL(pu),
		ProxyConnectHeader: http.Header{"X-Tunnel-To": {s.Listener.Addr().String()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Read(ctx, nil)
	roundTrip(t, c)
}

// TestProxyFromEnvironment checks that, with no Proxy set, Dial takes its
// proxy from HTTP_PROXY as net/http does. net/http reads the environment
// once per process, so the check runs in a child process.
func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv("WS_TEST_ENV_PROXY_CHILD") == "1" {
		c, _, err := Dial(ctx, "ws://chat.invalid/", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Read(ctx, nil)
		roundTrip(t, c)
		return
	}
	s := httptest.NewServer(echoHandler())
	defer s.Close()
	var tunnels atomic.Int32
	// The proxy sends every tunnel to the echo server: chat.invalid
	// resolves nowhere, so only the proxy can have reached it.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Tunnel-To", s.Listener.Addr().String())
		connectProxy(t, "", &tunnels).ServeHTTP(w, r)
	}))
	defer proxy.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WS_TEST_ENV_PROXY_CHILD=1", "HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "NO_PROXY=", "no_proxy=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if tunnels.Load() != 1 {
		t.Errorf("%d tunnels through the environment's proxy, want 1", tunnels.Load())
	}
}

func TestCancelDuringHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			defer nc.Close()
			io.Copy(io.Discard, nc) // never answers
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, _, err = Dial(cctx, "ws://"+ln.Addr().String()+"/", &Options{Proxy: noProxy})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial = %v, want context.DeadlineExceeded", err)
	}
}

func BenchmarkDial(b *testing.B) {
	s := httptest.NewServer(&server.Handler{Serve: func(c *conn.Conn, r *http.Request) { c.Read(ctx, nil) }})
	defer s.Close()
	u := wsURL(s)
	opts := &Options{Proxy: noProxy}
	b.ReportAllocs()
	for b.Loop() {
		c, _, err := Dial(ctx, u, opts)
		if err != nil {
			b.Fatal(err)
		}
		c.CloseNow()
	}
}

package wstest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// websocketGUID is the fixed string of [RFC 6455, Section 1.3].
//
// [RFC 6455, Section 1.3]: https://www.rfc-editor.org/rfc/rfc6455#section-1.3
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// errHandshake reports that the opening handshake with the peer failed.
var errHandshake = errors.New("wstest: opening handshake failed")

// acceptKey computes Sec-WebSocket-Accept for key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// headerHasToken reports whether a comma separated header holds token,
// compared case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// dial opens a TCP connection to the ws:// URL u and performs a minimal
// client opening handshake, offering extensions (a Sec-WebSocket-Extensions
// value) unless it is empty. It returns the connection, a reader holding
// any bytes that followed the response, the response, and the
// permessage-deflate parameters the server accepted, if any.
func dial(ctx context.Context, u *url.URL, userAgent, extensions string) (net.Conn, *bufio.Reader, *http.Response, *pmdParams, error) {
	if u.Scheme != "ws" && u.Scheme != "http" {
		return nil, nil, nil, nil, fmt.Errorf("%w: unsupported scheme %q", errHandshake, u.Scheme)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var kb [16]byte
	_, _ = rand.Read(kb[:])
	key := base64.StdEncoding.EncodeToString(kb[:])
	path := u.RequestURI()
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, u.Host)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nUser-Agent: %s\r\n", key, userAgent)
	if extensions != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", extensions)
	}
	b.WriteString("\r\n")
	if _, err := nc.Write([]byte(b.String())); err != nil {
		nc.Close()
		return nil, nil, nil, nil, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		nc.Close()
		return nil, nil, nil, nil, fmt.Errorf("%w: %v", errHandshake, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		!headerHasToken(resp.Header, "Upgrade", "websocket") ||
		!headerHasToken(resp.Header, "Connection", "upgrade") ||
		resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key) {
		nc.Close()
		return nil, nil, resp, nil, fmt.Errorf("%w: status %d", errHandshake, resp.StatusCode)
	}
	pmd, err := responseParams(resp.Header, extensions != "")
	if err != nil {
		nc.Close()
		return nil, nil, resp, nil, fmt.Errorf("%w: %v", errHandshake, err)
	}
	_ = nc.SetDeadline(timeZero)
	return nc, br, resp, pmd, nil
}

// checkUpgrade validates a client opening handshake request, an HTTP/1.1
// upgrade or an HTTP/2 extended CONNECT (RFC 8441), and returns the
// Sec-WebSocket-Key (empty for the latter, which has none).
func checkUpgrade(r *http.Request) (string, error) {
	if r.ProtoMajor == 2 {
		// RFC 8441, Section 4: an extended CONNECT with :protocol websocket
		// carries neither Upgrade nor a key.
		if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
			return "", fmt.Errorf("%w: not an extended CONNECT for websocket", errHandshake)
		}
		if r.Header.Get("Sec-WebSocket-Version") != "13" {
			return "", fmt.Errorf("%w: unsupported version", errHandshake)
		}
		return "", nil
	}
	if r.Method != http.MethodGet ||
		!headerHasToken(r.Header, "Upgrade", "websocket") ||
		!headerHasToken(r.Header, "Connection", "upgrade") {
		return "", fmt.Errorf("%w: not a WebSocket upgrade request", errHandshake)
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return "", fmt.Errorf("%w: unsupported version", errHandshake)
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if kb, err := base64.StdEncoding.DecodeString(key); err != nil || len(kb) != 16 {
		return "", fmt.Errorf("%w: bad Sec-WebSocket-Key", errHandshake)
	}
	return key, nil
}

// upgradeResponse is the 101 answer for key, accepting extensions (a
// Sec-WebSocket-Extensions value) unless it is empty.
func upgradeResponse(key, server, extensions string) []byte {
	s := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(key) + "\r\nServer: " + server + "\r\n"
	if extensions != "" {
		s += "Sec-WebSocket-Extensions: " + extensions + "\r\n"
	}
	return []byte(s + "\r\n")
}

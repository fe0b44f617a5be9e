package server

import (
	"bufio"
	"net"
	"net/http"
	"testing"

	"github.com/rfc6455/websocket/conn"
)

// TestUpgradeConnDeflate checks permessage-deflate negotiation on the raw
// path: which offer is taken, what the 101 response says, and that
// nothing acceptable means no extension rather than a failed handshake.
func TestUpgradeConnDeflate(t *testing.T) {
	tests := []struct {
		name   string
		want   *conn.Compression
		offers []string // Sec-WebSocket-Extensions fields of the request
		resp   string   // in the 101 response
	}{
		{name: "browser offer", want: &conn.Compression{}, offers: []string{"permessage-deflate; client_max_window_bits"}, resp: "permessage-deflate"},
		{name: "compression off", offers: []string{"permessage-deflate; client_max_window_bits"}, resp: ""},
		{name: "first offer unacceptable", want: &conn.Compression{}, offers: []string{"permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover"}, resp: "permessage-deflate; client_no_context_takeover"},
		{name: "offers in two fields", want: &conn.Compression{}, offers: []string{"x-unknown", "permessage-deflate; server_max_window_bits=10"}, resp: "permessage-deflate; server_max_window_bits=10"},
		{name: "server limits itself", want: &conn.Compression{ServerMaxWindowBits: 9, ServerNoContextTakeover: true}, offers: []string{"permessage-deflate"}, resp: "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"},
		{name: "nothing acceptable", want: &conn.Compression{}, offers: []string{"permessage-deflate; foo=bar"}, resp: ""},
		{name: "malformed field", want: &conn.Compression{}, offers: []string{"permessage-deflate; =="}, resp: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			errc := make(chan error, 1)
			go func() {
				c, _, err := UpgradeConn(a, &Options{Compression: tt.want})
				if err == nil {
					defer c.CloseNow()
					if c.Extensions() != tt.resp {
						t.Errorf("Conn.Extensions() = %q, want %q", c.Extensions(), tt.resp)
					}
				}
				errc <- err
			}()
			req := "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
			for _, o := range tt.offers {
				req += "Sec-WebSocket-Extensions: " + o + "\r\n"
			}
			go b.Write([]byte(req + "\r\n"))
			resp, err := http.ReadResponse(bufio.NewReader(b), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d, want 101", resp.StatusCode)
			}
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != tt.resp {
				t.Errorf("response extensions %q, want %q", got, tt.resp)
			}
			if err := <-errc; err != nil {
				t.Fatalf("UpgradeConn: %v", err)
			}
		})
	}
}

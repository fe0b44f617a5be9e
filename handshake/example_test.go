package handshake_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rfc6455/websocket/handshake"
)

func ExampleAcceptKey() {
	fmt.Println(handshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

func ExampleRequest_Check() {
	r := handshake.Request{
		Method: "GET", ProtoMajor: 1, ProtoMinor: 1, Host: "example.com",
		Upgrade: "websocket", Connection: "Upgrade",
		Key: "dGhlIHNhbXBsZSBub25jZQ==", KeyCount: 1, Version: "8",
	}
	err := r.Check()
	fmt.Println(err.(*handshake.Error).Status, err)
	// Output: 426 handshake: unsupported Sec-WebSocket-Version; this server speaks 13
}

func ExampleNegotiateDeflate() {
	offers, _ := handshake.ParseExtensions("permessage-deflate; server_max_window_bits=10; client_max_window_bits")
	resp, ok := handshake.NegotiateDeflate(offers, handshake.DeflateParams{ClientMaxWindowBits: 12})
	fmt.Println(ok, handshake.FormatExtensions([]handshake.Extension{resp.Extension()}))
	// Output: true permessage-deflate; server_max_window_bits=10; client_max_window_bits=12
}

func ExampleParseExtensions() {
	exts, err := handshake.ParseExtensions(`permessage-deflate; client_max_window_bits, x-custom; mode="fast"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range exts {
		fmt.Printf("%s %+v\n", e.Name, e.Params)
	}
	// Output:
	// permessage-deflate [{Name:client_max_window_bits Value:}]
	// x-custom [{Name:mode Value:fast}]
}

func ExampleCheckOrigin() {
	patterns := []string{"*.example.com"}
	for _, origin := range []string{"", "https://chat.example.com", "https://evil.test", "https://host.test"} {
		// A request without Origin does not come from a browser page; one
		// from the server's own host is always allowed.
		fmt.Printf("%q: %v\n", origin, handshake.CheckOrigin(origin, "host.test", patterns))
	}
	// Output:
	// "": <nil>
	// "https://chat.example.com": <nil>
	// "https://evil.test": handshake: origin not allowed: https://evil.test is not allowed for host host.test
	// "https://host.test": <nil>
}

func ExampleAppendRequest() {
	u, _ := url.Parse("ws://example.com/chat?room=1")
	req := handshake.AppendRequest(nil, u, "", "dGhlIHNhbXBsZSBub25jZQ==", []string{"chat"}, "permessage-deflate", http.Header{"Origin": {"http://example.com"}})
	fmt.Print(strings.ReplaceAll(string(req), "\r\n", "\n"))
	// Output:
	// GET /chat?room=1 HTTP/1.1
	// Host: example.com
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
	// Sec-WebSocket-Version: 13
	// Sec-WebSocket-Protocol: chat
	// Sec-WebSocket-Extensions: permessage-deflate
	// Origin: http://example.com
}

func ExampleAppendResponse() {
	resp := handshake.AppendResponse(nil, "dGhlIHNhbXBsZSBub25jZQ==", "chat", "", nil)
	fmt.Print(strings.ReplaceAll(string(resp), "\r\n", "\n"))
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: chat
}

func ExampleCheckResponse() {
	key := handshake.NewKey()
	raw := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + handshake.AcceptKey(key) + "\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
	resp, _ := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
	protocol, err := handshake.CheckResponse(resp, key, []string{"mqtt", "chat"})
	fmt.Printf("%q %v\n", protocol, err)
	_, err = handshake.CheckResponse(resp, handshake.NewKey(), []string{"chat"})
	fmt.Println(err != nil)
	// Output:
	// "chat" <nil>
	// true
}

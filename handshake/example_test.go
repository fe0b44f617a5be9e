package handshake_test

import (
	"fmt"

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

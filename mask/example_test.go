package mask_test

import (
	"fmt"

	"github.com/rfc6455/websocket/mask"
)

func ExampleNewKey() {
	// A client draws a fresh key for every frame it sends.
	k := mask.NewKey()
	payload := []byte("Hello")
	k.Apply(payload, 0)
	// payload is now masked and goes on the wire after the header that
	// carries k. The server unmasks it with the same key.
	k.Apply(payload, 0)
	fmt.Println(string(payload))
	// Output: Hello
}

func ExampleKey_Apply() {
	// The masked "Hello" of RFC 6455, Section 5.7.
	k := mask.Key{0x37, 0xfa, 0x21, 0x3d}
	payload := []byte("Hello")
	k.Apply(payload, 0)
	fmt.Printf("% x\n", payload)

	// Unmasking as the bytes arrive: each call continues at the key
	// position the previous one returned.
	pos := k.Apply(payload[:2], 0)
	pos = k.Apply(payload[2:], pos)
	fmt.Printf("%s, next position %d\n", payload, pos)
	// Output:
	// 7f 9f 4d 51 58
	// Hello, next position 1
}

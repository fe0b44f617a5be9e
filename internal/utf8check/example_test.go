package utf8check_test

import (
	"fmt"

	"github.com/rfc6455/websocket/internal/utf8check"
)

func ExampleValidator() {
	var v utf8check.Validator

	// "€5" arrives in two frames, cut inside the euro sign.
	msg := []byte("€5")
	n, ok := v.Write(msg[:2])
	fmt.Println(n, ok, v.Complete())
	n, ok = v.Write(msg[2:])
	fmt.Println(n, ok, v.Complete())

	// The next message holds a surrogate, which UTF-8 forbids: the
	// validator fails at its second byte, before the rest arrives.
	v.Reset()
	n, ok = v.Write([]byte{'a', 0xED, 0xA0})
	fmt.Println(n, ok)
	// Output:
	// 2 true false
	// 2 true true
	// 2 false
}

func ExampleValid() {
	fmt.Println(utf8check.Valid([]byte("going away")))
	fmt.Println(utf8check.Valid([]byte{0xC0, 0xAF}))
	// Output:
	// true
	// false
}

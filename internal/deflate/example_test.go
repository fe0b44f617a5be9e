package deflate_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/rfc6455/websocket/internal/deflate"
)

// Two messages go through a Compressor and a Decompressor with context
// takeover, as the two ends of a connection would use them: the second
// message refers back to the first, so it is shorter.
func Example_roundTrip() {
	c := deflate.NewCompressor(deflate.DefaultCompression, 15, true)
	d := deflate.NewDecompressor(15, true)
	for _, msg := range []string{"Hello, Hello", "Hello, Hello"} {
		payload := c.Compress(nil, []byte(msg))
		d.Begin(bytes.NewReader(payload))
		out, err := io.ReadAll(d)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q: %d bytes compressed\n", out, len(payload))
	}
	// Output:
	// "Hello, Hello": 11 bytes compressed
	// "Hello, Hello": 4 bytes compressed
}

// The payload of "Hello" is the one in RFC 7692, Section 7.2.3.1: one
// fixed-Huffman block and the start of an empty stored block.
func ExampleCompressor_Compress() {
	c := deflate.NewCompressor(deflate.BestSpeed, 15, false)
	fmt.Printf("% x\n", c.Compress(nil, []byte("Hello")))
	fmt.Printf("% x\n", c.Compress(nil, nil))
	// Output:
	// f2 48 cd c9 c9 07 00
	// 00
}

// A message written in pieces: Append returns what output is complete so
// far, and Finish the rest.
func ExampleCompressor_Append() {
	c := deflate.NewCompressor(deflate.BestSpeed, 15, false)
	var payload []byte
	for _, piece := range []string{`{"type":`, `"message",`, `"text":"hi"}`} {
		payload = c.Append(payload, []byte(piece))
	}
	payload = c.Finish(payload)

	d := deflate.NewDecompressor(15, false)
	d.Begin(bytes.NewReader(payload))
	out, _ := io.ReadAll(d)
	fmt.Printf("%s\n", out)
	// Output:
	// {"type":"message","text":"hi"}
}

package frame_test

import (
	"fmt"

	"github.com/rfc6455/websocket/frame"
)

func ExampleParseHeader() {
	// The masked "Hello" frame of RFC 6455, Section 5.7.
	wire := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	h, n, err := frame.ParseHeader(wire)
	if err != nil {
		panic(err)
	}
	payload := wire[n : n+int(h.Length)]
	h.Key.Apply(payload, 0)
	fmt.Println(h.Opcode, h.Fin, h.Length, string(payload))
	// Output: text true 5 Hello
}

func ExampleAppendHeader() {
	wire := frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpBinary, Length: 256})
	fmt.Printf("% x\n", wire)
	// Output: 82 7e 01 00
}

func ExampleDecoder() {
	// Two frames of RFC 6455, Section 5.7 ("Hel" and "lo"), arriving at a
	// client in awkward pieces.
	pieces := [][]byte{{0x01}, {0x03, 'H', 'e'}, {'l', 0x80, 0x02, 'l'}, {'o'}}
	d := frame.Decoder{Role: frame.Client}
	for _, p := range pieces {
		for {
			ev, chunk, n, err := d.Next(p)
			if err != nil {
				panic(err)
			}
			p = p[n:]
			switch ev {
			case frame.EventHeader:
				h := d.Header()
				fmt.Printf("header: %v fin=%v length=%d\n", h.Opcode, h.Fin, h.Length)
			case frame.EventPayload:
				fmt.Printf("payload: %q\n", chunk)
			case frame.EventEnd:
				fmt.Println("end")
			}
			if ev == frame.EventNeedMore {
				break
			}
		}
	}
	// Output:
	// header: text fin=false length=3
	// payload: "He"
	// payload: "l"
	// end
	// header: continuation fin=true length=2
	// payload: "l"
	// payload: "o"
	// end
}

func ExampleParseClose() {
	code, reason, err := frame.ParseClose([]byte{0x03, 0xE9, 'b', 'y', 'e'})
	fmt.Println(code, reason, err)
	// Output: going away (1001) bye <nil>
}

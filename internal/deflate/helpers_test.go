package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// tail is the end of a sync flush, which permessage-deflate strips from
// each message and the receiver appends again (RFC 7692, Section 7.2).
var tail = []byte{0x00, 0x00, 0xff, 0xff}

// withTail returns payload with the tail appended, in a new slice.
func withTail(payload []byte) []byte {
	return append(append([]byte(nil), payload...), tail...)
}

// lastN returns the last n bytes of b (all of b if it is shorter).
func lastN(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// flateDecode decodes one permessage-deflate payload with compress/flate,
// as the continuation of hist. After the tail it appends an empty stored
// block with BFINAL set, so that a payload cut short is an error.
func flateDecode(hist, payload []byte) ([]byte, error) {
	in := append(withTail(payload), 0x01, 0x00, 0x00, 0xff, 0xff)
	return io.ReadAll(flate.NewReaderDict(bytes.NewReader(in), hist))
}

// flateCompress compresses msgs as one endpoint with compress/flate would:
// each message with a sync flush and the tail stripped. With takeover, the
// writer's dictionary is the last window bytes before each message, so no
// back-reference reaches into history further than window, though within
// a message compress/flate may reach 32 KiB back.
func flateCompress(t testing.TB, level, window int, takeover bool, msgs [][]byte) [][]byte {
	t.Helper()
	var hist []byte
	var out [][]byte
	for _, m := range msgs {
		var buf bytes.Buffer
		var dict []byte
		if takeover {
			dict = lastN(hist, window)
		}
		w, err := flate.NewWriterDict(&buf, level, dict)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m)
		w.Flush()
		b := buf.Bytes()
		if !bytes.HasSuffix(b, tail) {
			t.Fatalf("flate output %x does not end in a sync flush", b)
		}
		out = append(out, b[:len(b)-4])
		if takeover {
			hist = append(hist, m...)
		}
	}
	return out
}

// Test data.

var words = strings.Fields(`the of and to in is was that for on as with by
	at from his her they be this which or had not are but an have were their
	one all when there can been has more if will who no so out up into than
	them some could time these two may first then do any like my now over such
	our man me even most made after also did many before must through back
	years where much your way well down should because each just those people
	websocket message frame compress deflate window history server client`)

// text returns n bytes of English-like text.
func text(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b []byte
	for len(b) < n {
		w := words[int(r.ExpFloat64()*12)%len(words)]
		b = append(b, w...)
		switch r.IntN(12) {
		case 0:
			b = append(b, ".\n"...)
		case 1:
			b = append(b, ", "...)
		default:
			b = append(b, ' ')
		}
	}
	return b[:n]
}

// random returns n incompressible bytes.
func random(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// repetitive returns n bytes of a short pattern repeated.
func repetitive(n int) []byte {
	return bytes.Repeat([]byte("abcabcabd"), n/9+1)[:n]
}

// chatMessages returns n JSON chat messages of about 300 bytes, as a chat
// server sends them, one after the other.
func chatMessages(seed uint64, n int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 3))
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	rooms := []string{"general", "random", "golang", "websocket"}
	msgs := make([][]byte, n)
	for i := range msgs {
		body := text(r.Uint64(), 60+r.IntN(120))
		msgs[i] = fmt.Appendf(nil,
			`{"type":"message","id":%d,"room":%q,"user":{"name":%q,"id":%d,"avatar":"https://cdn.example.com/a/%d.png"},"ts":"2024-05-%02dT%02d:%02d:%02dZ","text":%q,"reactions":[]}`,
			100000+i, rooms[r.IntN(len(rooms))], users[r.IntN(len(users))], r.IntN(9000)+1000,
			r.IntN(9000)+1000, r.IntN(28)+1, r.IntN(24), r.IntN(60), r.IntN(60), body)
	}
	return msgs
}

// compressMessages compresses msgs with one Compressor, each message in
// pieces whose sizes r picks (whole, if r is nil).
func compressMessages(c *Compressor, msgs [][]byte, r *rand.Rand) [][]byte {
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		if r == nil {
			out[i] = c.Compress(nil, m)
			continue
		}
		var dst []byte
		for rest := m; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(1+r.IntN(70000)))
			dst = c.Append(dst, rest[:n])
			rest = rest[n:]
		}
		out[i] = c.Finish(dst)
	}
	return out
}

// checkDecodes decodes payloads as a receiver with window and takeover
// would, with both compress/flate and the test inflater, and checks that
// they give msgs back and that no back-reference is longer than window.
func checkDecodes(t testing.TB, msgs, payloads [][]byte, window int, takeover bool) {
	t.Helper()
	var hist []byte
	for i, p := range payloads {
		var dict []byte
		if takeover {
			dict = lastN(hist, window)
		}
		got, err := flateDecode(dict, p)
		if err != nil {
			t.Fatalf("message %d: compress/flate: %v", i, err)
		}
		if !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d: compress/flate decodes %d bytes %.40q..., want %d bytes %.40q...", i, len(got), got, len(msgs[i]), msgs[i])
		}
		got, st, err := testInflate(dict, withTail(p))
		if err != nil {
			t.Fatalf("message %d: test inflater: %v", i, err)
		}
		if !bytes.Equal(got, msgs[i]) {
			t.Fatalf("message %d: test inflater decodes %d bytes, want %d", i, len(got), len(msgs[i]))
		}
		if st.MaxDist > window {
			t.Fatalf("message %d: back-reference of %d bytes, window is %d", i, st.MaxDist, window)
		}
		if takeover {
			hist = lastN(append(hist, msgs[i]...), window)
		}
	}
}

// testWindows returns the window sizes the round-trip matrices run over:
// all of them, or under -short and the race detector (which makes the
// matrices take minutes, and is there for the pools' sake, not for
// coverage) the smallest, the largest and two between.
func testWindows() []int {
	if testing.Short() || raceEnabled {
		return []int{MinWindowBits, 9, 12, MaxWindowBits}
	}
	var all []int
	for wb := MinWindowBits; wb <= MaxWindowBits; wb++ {
		all = append(all, wb)
	}
	return all
}

// testLevels is testWindows for compression levels: one of each tier.
func testLevels() []int {
	if testing.Short() || raceEnabled {
		return []int{DefaultCompression, BestSpeed, 4, BestCompression}
	}
	return []int{DefaultCompression, 1, 2, 3, 4, 5, 6, 7, 8, 9}
}

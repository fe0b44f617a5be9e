package check

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/rfc6455/websocket/conn"
)

// The message mix. interop/node/mix.js generates the same messages, byte
// for byte, from the same seeds, so every peer is checked with one set of
// messages; interop/run.sh compares the digests of the two. A change here
// needs the same change there.

// A Message is one message of the mix.
type Message struct {
	Type conn.MessageType
	Data []byte
	// Chunks, if not nil, are the sizes of the writes the message is
	// streamed in (through Conn.Writer); they add up to len(Data).
	Chunks []int
}

// A Segment is a run of messages whose wire size is measured as one, in
// each direction, so that compression can be asserted on it.
type Segment struct {
	Name string
	Kind Kind
	Msgs []Message
}

// Kind says what a segment's wire size must show.
type Kind int

const (
	// Misc segments are checked for exact echoes only.
	Misc Kind = iota
	// Chat segments are many short, similar messages: with context
	// takeover they shrink a lot, without it they barely do.
	Chat
	// Compressible segments shrink with any window, even 256 bytes.
	Compressible
	// Incompressible segments must not grow more than framing needs.
	Incompressible
)

// rng is xorshift32: a few lines in any language, so that the JavaScript
// checkers make the same messages.
type rng uint32

func (r *rng) next() uint32 {
	x := uint32(*r)
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	*r = rng(x)
	return x
}

// fill fills b with the generator's output, four bytes per step, little
// endian.
func (r *rng) fill(b []byte) {
	for i := 0; i < len(b); i += 4 {
		v := r.next()
		for j := 0; j < 4 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
}

var (
	rooms   = []string{"general", "random", "dev"}
	users   = []string{"alice", "bob", "carol", "dave", "erin"}
	phrases = []string{
		"hello everyone",
		"has anyone seen the build logs from last night?",
		"lunch at noon?",
		"¿Qué tal? 👋",
		"the deploy finished, all green ✅",
		"Grüße aus Köln",
		"ok",
		"東京は晴れです",
	}
	levels   = []string{"INFO", "INFO", "INFO", "WARN", "DEBUG", "ERROR"}
	paths    = []string{"/api/v1/items", "/api/v1/users", "/static/app.js", "/healthz"}
	statuses = []int{200, 200, 200, 201, 304, 404, 500}
)

// utf8Line has one-, two-, three- and four-byte sequences and a ZWJ
// sequence.
const utf8Line = "Grüße aus Köln — 東京の天気は晴れ — Привет, мир — 🎉🚀👩🏽‍💻 — ½ ∑ ∞ ≠ ok\n"

// chatMessage is message i of the chat segment.
func chatMessage(r *rng, i int) string {
	return `{"type":"chat","seq":` + strconv.Itoa(i) +
		`,"room":"` + rooms[i%len(rooms)] +
		`","user":"` + users[i%len(users)] +
		`","text":"` + phrases[r.next()%uint32(len(phrases))] +
		`","ts":` + strconv.FormatInt(1700000000000+int64(i)*1337, 10) + `}`
}

func pad(n uint32, width int) string {
	s := strconv.FormatUint(uint64(n), 10)
	return strings.Repeat("0", max(0, width-len(s))) + s
}

// logText is n bytes of log lines.
func logText(r *rng, n int) []byte {
	var b []byte
	for i := uint32(0); len(b) < n; i++ {
		v := r.next()
		b = append(b, "2023-11-14T22:13:"+pad(i/1000%60, 2)+"."+pad(i%1000, 3)+"Z "+
			levels[v%6]+" req="+pad(i, 6)+
			" path="+paths[(v>>3)%4]+"/"+strconv.Itoa(int((v>>5)%1000))+
			" status="+strconv.Itoa(statuses[(v>>15)%7])+
			" dur="+strconv.Itoa(int((v>>18)%250))+"ms\n"...)
	}
	return b[:n]
}

// records is n bytes of 32-byte sensor records: little redundancy within
// a record, much between neighbours.
func records(r *rng, n int) []byte {
	b := make([]byte, 0, n+32)
	for seq := uint32(0); len(b) < n; seq++ {
		v := r.next()
		value := 20000 + (v>>8)%64
		b = append(b,
			byte(seq), byte(seq>>8), byte(seq>>16), byte(seq>>24),
			'S', 'E', 'N', 'S',
			byte(v%8), 0, 0, 0,
			byte(value), byte(value>>8), byte(value>>16), byte(value>>24))
		b = append(b, "temperature-c\x00\x00\x00"...)
	}
	return b[:n]
}

func random(r *rng, n int) []byte {
	b := make([]byte, n)
	r.fill(b)
	return b
}

// Mix returns the message mix. Without streamed, the segment of messages
// streamed in many small writes is left out (a browser cannot send
// fragments).
func Mix(streamed bool) []Segment {
	var segs []Segment

	chat := Segment{Name: "chat", Kind: Chat}
	r := rng(1)
	for i := range 300 {
		chat.Msgs = append(chat.Msgs, Message{Type: conn.Text, Data: []byte(chatMessage(&r, i))})
	}
	segs = append(segs, chat)

	segs = append(segs, Segment{Name: "empty", Msgs: []Message{
		{Type: conn.Text, Data: []byte{}},
		{Type: conn.Binary, Data: []byte{}},
	}})

	segs = append(segs, Segment{Name: "utf8", Msgs: []Message{
		{Type: conn.Text, Data: []byte("é")},
		{Type: conn.Text, Data: []byte("€")},
		{Type: conn.Text, Data: []byte("😀")},
		{Type: conn.Text, Data: []byte(strings.Repeat(utf8Line, 40))},
	}})

	// The big messages go twice, so that the echo servers, which answer
	// messages alternately whole and streamed, send each both ways.
	r = rng(2)
	text := logText(&r, 150<<10)
	segs = append(segs, Segment{Name: "text-150k", Kind: Compressible, Msgs: []Message{
		{Type: conn.Text, Data: text},
		{Type: conn.Text, Data: text},
	}})

	r = rng(3)
	bin := records(&r, 1<<20+100000)
	segs = append(segs, Segment{Name: "binary-1.1m", Kind: Compressible, Msgs: []Message{
		{Type: conn.Binary, Data: bin},
		{Type: conn.Binary, Data: bin},
	}})

	r = rng(4)
	rnd := Segment{Name: "random", Kind: Incompressible}
	// Lengths at the edges of the 7-bit, 16-bit and 64-bit length forms.
	for _, n := range []int{1, 125, 126, 127, 65535, 65536, 65537, 300 << 10} {
		rnd.Msgs = append(rnd.Msgs, Message{Type: conn.Binary, Data: random(&r, n)})
	}
	rnd.Msgs = append(rnd.Msgs, rnd.Msgs[len(rnd.Msgs)-1])
	segs = append(segs, rnd)

	if streamed {
		// Seven-byte writes split the multibyte sequences across frames.
		long := []byte(strings.Repeat(utf8Line, 64<<10/len(utf8Line)+1))
		var sevens []int
		for left := len(long); left > 0; left -= 7 {
			sevens = append(sevens, min(7, left))
		}
		r = rng(5)
		data := records(&r, 512<<10)
		var sizes []int
		for left := len(data); left > 0; {
			n := min(left, int(1+r.next()%3000))
			sizes = append(sizes, n)
			left -= n
		}
		segs = append(segs, Segment{Name: "streamed", Kind: Compressible, Msgs: []Message{
			{Type: conn.Text, Data: long, Chunks: sevens},
			{Type: conn.Binary, Data: data, Chunks: sizes},
		}})
	}
	return segs
}

// Digest is the SHA-256, in hex, of the mix: for each message in order,
// the line "segment:type:length:chunk,sizes\n" and then the payload.
func Digest(segs []Segment) string {
	h := sha256.New()
	for _, s := range segs {
		for _, m := range s.Msgs {
			typ := "binary"
			if m.Type == conn.Text {
				typ = "text"
			}
			chunks := make([]string, len(m.Chunks))
			for i, n := range m.Chunks {
				chunks[i] = strconv.Itoa(n)
			}
			fmt.Fprintf(h, "%s:%s:%d:%s\n", s.Name, typ, len(m.Data), strings.Join(chunks, ","))
			h.Write(m.Data)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

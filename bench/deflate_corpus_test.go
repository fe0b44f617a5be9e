package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
)

// A deflateWorkload is a set of distinct messages that a benchmark sends
// in turn. Each set is larger than a 32 KiB window, so that with context
// takeover no message finds an exact copy of itself in the history.
type deflateWorkload struct {
	name string
	msgs [][]byte
}

// deflateWorkloads returns the workloads, built once from fixed seeds:
//   - chat: 2048 chat events of 200 to 400 bytes of JSON, with the same
//     keys and varying values;
//   - json16k: 64 JSON arrays of chat events, 16 KiB each;
//   - text1m: 3 texts of 1 MiB each, words of a made-up language drawn
//     from a Zipf distribution, which compress about as English does.
var deflateWorkloads = sync.OnceValue(func() []deflateWorkload {
	rng := rand.New(rand.NewPCG(1, 2))
	chat := make([][]byte, 2048)
	for i := range chat {
		chat[i] = chatEvent(rng, int64(i))
	}
	j16 := make([][]byte, 64)
	for i := range j16 {
		j16[i] = chatHistory(rng, 16<<10, int64(i)*1000)
	}
	t1m := make([][]byte, 3)
	words := madeUpWords(rand.New(rand.NewPCG(3, 4)), 5000)
	for i := range t1m {
		t1m[i] = prose(rng, words, 1<<20)
	}
	return []deflateWorkload{
		{name: "chat", msgs: chat},
		{name: "json16k", msgs: j16},
		{name: "text1m", msgs: t1m},
	}
})

// chatWords are the words of chat messages.
var chatWords = strings.Fields(`
	the a to and of in is it you that for on with this be are have not at
	was but so just can we my what all if do me about out up like get now
	when there one time will good how new know see think more really ok
	yes no thanks lol today tomorrow meeting deploy build release server
	client bug fix review merge branch test tests failing green red ship
	please check looks great nice done later lunch coffee call sync doc
	draft link issue ticket sprint standup weekend monday friday again
	`)

var (
	chatRooms   = []string{"general", "random", "engineering", "release-train", "support", "design"}
	chatNames   = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}
	chatEmoji   = []string{"thumbsup", "tada", "eyes", "heart", "rocket", "laughing"}
	chatClients = []string{"web", "ios", "android", "desktop"}
)

type chatUser struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Avatar string `json:"avatar"`
}

type chatReaction struct {
	Emoji string `json:"emoji"`
	Count int    `json:"count"`
}

type chatMessage struct {
	Type      string         `json:"type"`
	ID        int64          `json:"id"`
	Room      string         `json:"room"`
	User      chatUser       `json:"user"`
	Text      string         `json:"text"`
	Sent      string         `json:"sent"`
	Client    string         `json:"client"`
	Edited    bool           `json:"edited"`
	Reactions []chatReaction `json:"reactions"`
}

// chatEvent returns one chat event of 200 to 400 bytes of JSON.
func chatEvent(rng *rand.Rand, id int64) []byte {
	for {
		uid := rng.IntN(100000)
		m := chatMessage{
			Type: "message",
			ID:   1_700_000_000_000 + id*37 + rng.Int64N(37),
			Room: chatRooms[rng.IntN(len(chatRooms))],
			User: chatUser{
				ID:     uid,
				Name:   chatNames[rng.IntN(len(chatNames))],
				Avatar: fmt.Sprintf("https://cdn.example.com/avatars/%d.png", uid),
			},
			Sent: fmt.Sprintf("2025-%02d-%02dT%02d:%02d:%02d.%03dZ",
				1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1000)),
			Client: chatClients[rng.IntN(len(chatClients))],
			Edited: rng.IntN(10) == 0,
		}
		var text []string
		for range 3 + rng.IntN(30) {
			text = append(text, chatWords[rng.IntN(len(chatWords))])
		}
		m.Text = strings.Join(text, " ")
		for range rng.IntN(3) {
			m.Reactions = append(m.Reactions, chatReaction{
				Emoji: chatEmoji[rng.IntN(len(chatEmoji))],
				Count: 1 + rng.IntN(20),
			})
		}
		b, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		if len(b) >= 200 && len(b) <= 400 {
			return b
		}
	}
}

// chatHistory returns a JSON array of chat events of exactly size bytes,
// padded with trailing white space.
func chatHistory(rng *rand.Rand, size int, firstID int64) []byte {
	b := []byte{'['}
	for id := firstID; ; id++ {
		ev := chatEvent(rng, id)
		if len(b)+len(ev)+2 > size {
			break
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, ev...)
	}
	b = append(b, ']')
	return append(b, bytes.Repeat([]byte{'\n'}, size-len(b))...)
}

// madeUpWords returns n distinct words of one to four syllables.
func madeUpWords(rng *rand.Rand, n int) []string {
	onsets := strings.Fields("b c d f g h j k l m n p r s t v w z br cr dr fl gr pl st tr sh ch th")
	vowels := strings.Fields("a e i o u ai ea ou io")
	codas := []string{"", "", "", "n", "r", "s", "t", "l", "m", "nd", "st"}
	seen := make(map[string]bool, n)
	words := make([]string, 0, n)
	for len(words) < n {
		var w strings.Builder
		for range 1 + rng.IntN(4) {
			w.WriteString(onsets[rng.IntN(len(onsets))])
			w.WriteString(vowels[rng.IntN(len(vowels))])
		}
		w.WriteString(codas[rng.IntN(len(codas))])
		if s := w.String(); !seen[s] {
			seen[s] = true
			words = append(words, s)
		}
	}
	return words
}

// prose returns exactly size bytes of sentences and paragraphs of words
// drawn from a Zipf distribution over words.
func prose(rng *rand.Rand, words []string, size int) []byte {
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(words)-1))
	b := make([]byte, 0, size+64)
	for len(b) < size {
		for i, n := 0, 4+rng.IntN(16); i < n; i++ {
			w := words[zipf.Uint64()]
			if i == 0 {
				b = append(b, w[0]-'a'+'A')
				w = w[1:]
			}
			b = append(b, w...)
			switch {
			case i == n-1:
				b = append(b, ". "...)
			case rng.IntN(8) == 0:
				b = append(b, ", "...)
			default:
				b = append(b, ' ')
			}
		}
		if rng.IntN(6) == 0 {
			b = append(b, "\n\n"...)
		}
	}
	return b[:size]
}

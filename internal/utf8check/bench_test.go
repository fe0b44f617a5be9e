package utf8check

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// benchText repeats unit until it is n bytes long, cutting only on a
// character boundary, so the result is valid UTF-8 of about n bytes.
func benchText(unit string, n int) []byte {
	var b []byte
	for len(b) < n {
		for _, r := range unit {
			if len(b)+utf8.RuneLen(r) > n {
				return b
			}
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

var benchInputs = []struct {
	name string
	text []byte
}{{
	name: "ASCII-1KiB",
	text: benchText("The quick brown fox jumps over the lazy dog; 0123456789, {\"json\": true}.\n", 1<<10),
}, {
	name: "ASCII-64KiB",
	text: benchText("The quick brown fox jumps over the lazy dog; 0123456789, {\"json\": true}.\n", 64<<10),
}, {
	// Mostly ASCII with a rare non-ASCII character, as in typical JSON.
	name: "JSON-64KiB",
	text: benchText(`{"id":12345,"user":"José Müller","text":"see https://example.com/path?q=1","tags":["a","b"],"ok":true},`+"\n", 64<<10),
}, {
	name: "Latin-64KiB",
	text: benchText("Größere Übungen à la française: déjà vu, naïveté, señor, smørrebrød, Łódź, coração. ", 64<<10),
}, {
	name: "LatinCJK-64KiB",
	text: benchText("Le café est prêt. 東京の天気は晴れです。Ünïcödé test, 你好世界，这是一个测试。Ελληνικά κείμενα. 한국어 문장입니다. ", 64<<10),
}, {
	name: "CJK-64KiB",
	text: benchText("東京の天気は晴れです。你好世界，这是一个测试。한국어 문장입니다。漢字仮名交じり文を検証する。", 64<<10),
}, {
	name: "Emoji-64KiB",
	text: benchText("😀😃😄😁😆🥹🤣😂🙂🙃🫠😉😊😇🥰😍🤩 ok 🚀🌍🎉🔥💯👍🏽👩‍💻🧪", 64<<10),
}}

func BenchmarkValid(b *testing.B) {
	for _, in := range benchInputs {
		if !utf8.Valid(in.text) || !bytes.Equal(in.text, in.text[:len(in.text):len(in.text)]) {
			b.Fatalf("%s: bad benchmark input", in.name)
		}
		b.Run(in.name+"/Validator", func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			b.ReportAllocs()
			var v Validator
			for b.Loop() {
				v.Reset()
				if _, ok := v.Write(in.text); !ok || !v.Complete() {
					b.Fatal("rejected valid input")
				}
			}
		})
		b.Run(in.name+"/utf8.Valid", func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			b.ReportAllocs()
			for b.Loop() {
				if !utf8.Valid(in.text) {
					b.Fatal("rejected valid input")
				}
			}
		})
	}
}

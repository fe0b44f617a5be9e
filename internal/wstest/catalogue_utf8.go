package wstest

import (
	"fmt"
	"strings"
)

// utf8Family is one family of UTF-8 test sequences (section 6.5 onwards),
// after Markus Kuhn's UTF-8 decoder stress test, in Autobahn's order.
type utf8Family struct {
	name string
	seqs []utf8Seq
}

type utf8Seq struct {
	valid bool
	data  string
}

// kosme is the Greek word "kosme", valid UTF-8 with 2- and 3-octet
// sequences; its prefixes end inside code points.
const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

func utf8Families() []utf8Family {
	v := func(s string) utf8Seq { return utf8Seq{true, s} }
	x := func(s string) utf8Seq { return utf8Seq{false, s} }
	var fams []utf8Family
	add := func(name string, seqs ...utf8Seq) { fams = append(fams, utf8Family{name, seqs}) }

	add("Some valid UTF-8 sequences",
		v("hello\x24world"), v("hello\xc2\xa2world"), v("hello\xe2\x82\xacworld"), v("hello\xf0\xa4\xad\xa2world"), v(kosme))
	var prefixes []utf8Seq
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, utf8Seq{validUTF8([]byte(kosme[:i])), kosme[:i]})
	}
	add("All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes...)
	add("First possible sequence of a certain length", v("\x00"), v("\xc2\x80"), v("\xe0\xa0\x80"), v("\xf0\x90\x80\x80"))
	add("First possible sequence length 5/6 (invalid codepoints)", x("\xf8\x88\x80\x80\x80"), x("\xfc\x84\x80\x80\x80\x80"))
	add("Last possible sequence of a certain length", v("\x7f"), v("\xdf\xbf"), v("\xef\xbf\xbf"), v("\xf4\x8f\xbf\xbf"))
	add("Last possible sequence length 4/5/6 (invalid codepoints)", x("\xf7\xbf\xbf\xbf"), x("\xfb\xbf\xbf\xbf\xbf"), x("\xfd\xbf\xbf\xbf\xbf\xbf"))
	add("Other boundary conditions", v("\xed\x9f\xbf"), v("\xee\x80\x80"), v("\xef\xbf\xbd"), v("\xf4\x8f\xbf\xbf"), x("\xf4\x90\x80\x80"))
	var allCont strings.Builder
	for c := 0x80; c < 0xbf; c++ {
		allCont.WriteByte(byte(c))
	}
	add("Unexpected continuation bytes", x("\x80"), x("\xbf"), x("\x80\xbf"), x("\x80\xbf\x80"), x("\x80\xbf\x80\xbf"),
		x("\x80\xbf\x80\xbf\x80"), x("\x80\xbf\x80\xbf\x80\xbf"), x(allCont.String()))
	var lonely []utf8Seq
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var b strings.Builder
		for c := r[0]; c < r[1]; c++ {
			b.WriteByte(byte(c))
			b.WriteByte(0x20)
		}
		lonely = append(lonely, x(b.String()))
	}
	add("Lonely start characters", lonely...)
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	var ms []utf8Seq
	for _, m := range missing {
		ms = append(ms, x(m))
	}
	add("Sequences with last continuation byte missing", ms...)
	add("Concatenation of incomplete sequences", x(strings.Join(missing, "")))
	add("Impossible bytes", x("\xfe"), x("\xff"), x("\xfe\xfe\xff\xff"))
	add("Examples of an overlong ASCII character", x("\xc0\xaf"), x("\xe0\x80\xaf"), x("\xf0\x80\x80\xaf"), x("\xf8\x80\x80\x80\xaf"), x("\xfc\x80\x80\x80\x80\xaf"))
	add("Maximum overlong sequences", x("\xc1\xbf"), x("\xe0\x9f\xbf"), x("\xf0\x8f\xbf\xbf"), x("\xf8\x87\xbf\xbf\xbf"), x("\xfc\x83\xbf\xbf\xbf\xbf"))
	add("Overlong representation of the NUL character", x("\xc0\x80"), x("\xe0\x80\x80"), x("\xf0\x80\x80\x80"), x("\xf8\x80\x80\x80\x80"), x("\xfc\x80\x80\x80\x80\x80"))
	add("Single UTF-16 surrogates", x("\xed\xa0\x80"), x("\xed\xad\xbf"), x("\xed\xae\x80"), x("\xed\xaf\xbf"), x("\xed\xb0\x80"), x("\xed\xbe\x80"), x("\xed\xbf\xbf"))
	add("Paired UTF-16 surrogates",
		x("\xed\xa0\x80\xed\xb0\x80"), x("\xed\xa0\x80\xed\xbf\xbf"), x("\xed\xad\xbf\xed\xb0\x80"), x("\xed\xad\xbf\xed\xbf\xbf"),
		x("\xed\xae\x80\xed\xb0\x80"), x("\xed\xae\x80\xed\xbf\xbf"), x("\xed\xaf\xbf\xed\xb0\x80"), x("\xed\xaf\xbf\xed\xbf\xbf"))
	nonChars := []utf8Seq{v("\xef\xbf\xbe"), v("\xef\xbf\xbf")}
	for _, z1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, z2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if z1 == 0xf4 && z2 != 0x8f {
				continue // beyond U+10FFFF
			}
			for _, z3 := range []byte{0xbe, 0xbf} {
				zz := string([]byte{z1, z2, 0xbf, z3})
				if zz == "\xf0\x8f\xbf\xbe" || zz == "\xf0\x8f\xbf\xbf" {
					continue // overlong
				}
				nonChars = append(nonChars, v(zz))
			}
		}
	}
	add("Non-character code points (valid UTF-8)", nonChars...)
	add("Unicode specials (i.e. replacement char)", v("\xef\xbf\xb9"), v("\xef\xbf\xba"), v("\xef\xbf\xbb"), v("\xef\xbf\xbc"), v("\xef\xbf\xbd"), v("\xef\xbf\xbe"), v("\xef\xbf\xbf"))
	return fams
}

func section6() []Case {
	echo := func(id, desc string, play func(s *session)) Case {
		return Case{ID: id, Description: desc, Limit: shortLimit, Expectation: "The message is echo'ed back to us. Clean close with normal code.", play: play}
	}
	textFrames := func(s *session, parts ...string) {
		for i, p := range parts {
			op := byte(opContinuation)
			if i == 0 {
				op = opText
			}
			s.sendFrame(txFrame{Opcode: op, Fin: i == len(parts)-1, Data: []byte(p)})
		}
	}
	valid := func(s *session, p string) {
		s.expect(OK, msgEvent(p, false))
		closeNormal(s)
	}
	invalid := func(s *session) {
		s.expect(OK)
		s.expClose = expectedClose{ClosedByMe: false, CloseCode: []int{closeInvalidPayload}, ClosedByWrongEndpointIsFatal: true}
	}
	const greeting = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!"
	const bad631 = kosme + "\xed\xa0\x80" + "edited"
	out := []Case{
		echo("6.1.1", "Send text message of length 0.", func(s *session) { valid(s, ""); textFrames(s, ""); s.closeAfter(sec) }),
		echo("6.1.2", "Send fragmented text message, 3 fragments each of length 0.", func(s *session) { valid(s, ""); textFrames(s, "", "", ""); s.closeAfter(sec) }),
		echo("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.", func(s *session) {
			valid(s, "middle frame payload")
			textFrames(s, "", "middle frame payload", "")
			s.closeAfter(sec)
		}),
		echo("6.2.1", "Send a valid UTF-8 text message in one fragment.", func(s *session) {
			valid(s, greeting)
			s.sendMessage([]byte(greeting), false, 0)
			s.closeAfter(sec)
		}),
		echo("6.2.2", "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.", func(s *session) {
			valid(s, greeting)
			textFrames(s, "Hello-\u00b5@\u00df\u00f6\u00e4", "\u00fc\u00e0\u00e1-UTF-8!!")
			s.closeAfter(sec)
		}),
		echo("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.", func(s *session) {
			valid(s, greeting)
			s.sendMessage([]byte(greeting), false, 1)
			s.closeAfter(sec)
		}),
		echo("6.2.4", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.", func(s *session) {
			valid(s, kosme)
			s.sendMessage([]byte(kosme), false, 1)
			s.closeAfter(sec)
		}),
		{ID: "6.3.1", Description: "Send invalid UTF-8 text message unfragmented.", Limit: shortLimit,
			Expectation: "The connection is failed immediately, since the payload is not valid UTF-8.",
			play:        func(s *session) { invalid(s); s.sendMessage([]byte(bad631), false, 0); s.killAfter(sec) }},
		{ID: "6.3.2", Description: "Send invalid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.", Limit: shortLimit,
			Expectation: "The connection is failed immediately, since the payload is not valid UTF-8.",
			play:        func(s *session) { invalid(s); s.sendMessage([]byte(bad631), false, 1); s.killAfter(sec) }},
	}
	// 6.4.x: fail-fast. The invalid octet arrives after a pause; a peer
	// that fails right then is OK, one that waits for the end is NON-STRICT.
	const bad641 = kosme + "\xf4\x90\x80\x80" + "edited"
	failFast := func(id, desc string, parts [3]string, oneFrame bool) Case {
		return Case{
			ID: id, Description: desc, Limit: shortLimit,
			Expectation: "The connection is failed immediately, when the invalid octet arrives (fail-fast), not only at the end of the message.",
			play: func(s *session) {
				s.expect(OK, timeoutEvent("A"))
				s.expect(nonStrict, timeoutEvent("A"), timeoutEvent("B"))
				s.expClose = expectedClose{ClosedByMe: false, CloseCode: []int{closeInvalidPayload}, ClosedByWrongEndpointIsFatal: true}
				send := func(i int) {
					if oneFrame {
						s.frameData([]byte(parts[i]))
						return
					}
					op := byte(opContinuation)
					if i == 0 {
						op = opText
					}
					s.sendFrame(txFrame{Opcode: op, Fin: i == 2, Data: []byte(parts[i])})
				}
				if oneFrame {
					s.beginFrame(opText, len(bad641))
				}
				send(0)
				s.continueLater(sec, func() {
					if s.state != stateOpen {
						return
					}
					s.received = append(s.received, timeoutEvent("A"))
					send(1)
					s.continueLater(sec, func() {
						if s.state != stateOpen {
							return
						}
						s.received = append(s.received, timeoutEvent("B"))
						send(2)
						s.killAfter(sec)
					})
				})
			},
		}
	}
	out = append(out,
		failFast("6.4.1", "Send invalid UTF-8 text message in 3 fragments (frames): a valid first frame, then after a pause the frame holding the invalid code point (U+110000 form), then after a pause the rest.",
			[3]string{kosme, "\xf4\x90\x80\x80", "edited"}, false),
		failFast("6.4.2", "Same as 6.4.1, but the 2nd frame holds only the octet making the payload invalid.",
			[3]string{bad641[:12], bad641[12:13], bad641[13:]}, false),
		failFast("6.4.3", "Same as 6.4.1, but the message is sent as 3 chops of one frame.",
			[3]string{kosme, "\xf4\x90\x80\x80", "edited"}, true),
		failFast("6.4.4", "Same as 6.4.2, but the message is sent as 3 chops of one frame.",
			[3]string{bad641[:12], bad641[12:13], bad641[13:]}, true),
	)
	for fi, fam := range utf8Families() {
		for si, sq := range fam.seqs {
			sq := sq
			c := Case{
				ID:    fmt.Sprintf("6.%d.%d", fi+5, si+1),
				Limit: shortLimit,
			}
			if sq.valid {
				c.Description = fmt.Sprintf("%s: send a text message with payload which is valid UTF-8 in one fragment. Payload: 0x%x", fam.name, sq.data)
				c.Expectation = "The message is echo'ed back to us."
			} else {
				c.Description = fmt.Sprintf("%s: send a text message with payload which is not valid UTF-8 in one fragment. Payload: 0x%x", fam.name, sq.data)
				c.Expectation = "The connection is failed immediately, since the payload is not valid UTF-8."
			}
			c.play = func(s *session) {
				if sq.valid {
					valid(s, sq.data)
				} else {
					invalid(s)
				}
				s.sendMessage([]byte(sq.data), false, 0)
				s.killAfter(sec / 2)
			}
			out = append(out, c)
		}
	}
	return out
}

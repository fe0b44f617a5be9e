package wstest

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// A corpus is the data a section 12 or 13 case cuts its messages from.
//
// Autobahn uses five files shipped with it (a JSON report, a 512x512
// grey bitmap, Goethe's Faust I, an HTML report and a PDF). The suite
// does not carry them; it generates stand-ins of the same kind, size and
// text-or-binary type, deterministically, so that every run sends the
// same messages. What the cases check (that the peer inflates, echoes
// and deflates correctly) does not depend on the exact octets.
type corpus struct {
	desc   string
	binary bool // sent as binary messages; text corpora are valid UTF-8
	size   int  // octets, as the file Autobahn uses
	gen    func(r *prng, size int) []byte

	once sync.Once
	data []byte
	offs []int // text: the octet offset of every character, and len(data)
}

// corpora, in the order of the section 12 subsections (12.1-12.5).
var (
	corpusJSON   = &corpus{desc: "Large JSON data file", size: 194056, gen: genJSON}
	corpusBitmap = &corpus{desc: "Picture, bitmap 512x512 grey", binary: true, size: 263222, gen: genBitmap}
	corpusVerse  = &corpus{desc: "Human readable text, German verse drama", binary: true, size: 222218, gen: genVerse}
	corpusHTML   = &corpus{desc: "Large HTML file", size: 263647, gen: genHTML}
	corpusPDF    = &corpus{desc: "A larger PDF", binary: true, size: 1042328, gen: genPDF}
)

func (c *corpus) load() {
	c.once.Do(func() {
		c.data = c.gen(&prng{state: uint64(c.size)}, c.size)
		if !c.binary {
			c.offs = make([]int, 0, len(c.data)+1)
			for i := range string(c.data) {
				c.offs = append(c.offs, i)
			}
			c.offs = append(c.offs, len(c.data))
		}
	})
}

// units is the length of the corpus in the units messages are cut in:
// characters for text (Autobahn slices the decoded string), octets for
// binary.
func (c *corpus) units() int {
	c.load()
	if c.binary {
		return len(c.data)
	}
	return len(c.offs) - 1
}

// offset is the octet offset of unit i.
func (c *corpus) offset(i int) int {
	if c.binary {
		return i
	}
	return c.offs[i]
}

// message cuts n units starting at unit from, wrapping around at the end
// as Autobahn does, and returns the message and where the next starts.
func (c *corpus) message(from, n int) ([]byte, int) {
	total := c.units()
	to := (from + n) % total
	if to > from {
		return c.data[c.offset(from):c.offset(to)], to
	}
	out := make([]byte, 0, c.offset(total)-c.offset(from)+c.offset(to))
	out = append(out, c.data[c.offset(from):]...)
	return append(out, c.data[:c.offset(to)]...), to
}

// length is a received message's length in the corpus's units.
func (c *corpus) length(msg []byte) int {
	if c.binary {
		return len(msg)
	}
	return utf8.RuneCount(msg)
}

// prng is splitmix64: small, fast and the same on every platform.
type prng struct{ state uint64 }

func (p *prng) next() uint64 {
	p.state += 0x9e3779b97f4a7c15
	z := p.state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (p *prng) intn(n int) int { return int(p.next() % uint64(n)) }

func (p *prng) pick(xs []string) string { return xs[p.intn(len(xs))] }

// cut trims generated text to size octets, backing off to a character
// boundary.
func cut(s string, size int) []byte {
	if len(s) <= size {
		return []byte(s)
	}
	for size > 0 && !utf8.RuneStart(s[size]) {
		size--
	}
	return []byte(s[:size])
}

var (
	reportAgents    = []string{"AutobahnPython/0.6.0", "AutobahnServer/0.6.0", "Chrome/28.0.1500", "Firefox/22.0", "IE/10.0", "Jetty/9.0.4", "Netty/4.0", "ws/0.4.27", "websockets/1.0", "Tornado/3.1"}
	reportBehaviors = []string{"OK", "OK", "OK", "OK", "OK", "OK", "NON-STRICT", "INFORMATIONAL", "FAILED", "UNIMPLEMENTED"}
)

// reportCaseIDs lists case ids shaped like the catalogue's.
func reportCaseIDs() []string {
	var ids []string
	for sec, subs := range []int{0, 2, 11, 7, 2, 20, 23, 13, 0, 8, 1} {
		for sub := 1; sub <= subs; sub++ {
			for k := 1; k <= 1+(sec*sub)%9; k++ {
				ids = append(ids, fmt.Sprintf("%d.%d.%d", sec, sub, k))
			}
		}
	}
	return ids
}

// genJSON writes an Autobahn-style index.json: agents, case ids and
// verdicts. Plain ASCII, very repetitive (compresses to a few percent).
func genJSON(r *prng, size int) []byte {
	var b strings.Builder
	b.WriteString("{\n")
	ids := reportCaseIDs()
	for round := 0; b.Len() < size; round++ {
		for ai, agent := range reportAgents {
			if ai > 0 || round > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, "   \"%s-%d\": {\n", agent, round)
			for i, id := range ids {
				if i > 0 {
					b.WriteString(",\n")
				}
				code := "1000"
				if r.intn(7) == 0 {
					code = "null"
				}
				fmt.Fprintf(&b, "      \"%s\": {\n         \"behavior\": \"%s\",\n         \"behaviorClose\": \"OK\",\n", id, r.pick(reportBehaviors))
				fmt.Fprintf(&b, "         \"duration\": %d,\n         \"remoteCloseCode\": %s,\n", 1+r.intn(40), code)
				fmt.Fprintf(&b, "         \"reportfile\": \"%s\"\n      }", reportFileName(fmt.Sprintf("%s-%d", agent, round), id))
			}
			b.WriteString("\n   }")
		}
	}
	return cut(b.String(), size)
}

// genBitmap writes a Windows bitmap of 512x512 8-bit grey pixels: a
// smooth picture with noise, so it compresses poorly, like a photograph.
func genBitmap(r *prng, size int) []byte {
	const w, h, palette = 512, 512, 256 * 4
	const offset = 14 + 40 + palette
	b := make([]byte, 0, size)
	b = append(b, 'B', 'M')
	b = binary.LittleEndian.AppendUint32(b, uint32(offset+w*h))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, offset)
	b = binary.LittleEndian.AppendUint32(b, 40)
	b = binary.LittleEndian.AppendUint32(b, w)
	b = binary.LittleEndian.AppendUint32(b, h)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 8)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, w*h)
	b = binary.LittleEndian.AppendUint32(b, 2835)
	b = binary.LittleEndian.AppendUint32(b, 2835)
	b = binary.LittleEndian.AppendUint32(b, 256)
	b = binary.LittleEndian.AppendUint32(b, 256)
	for i := 0; i < 256; i++ {
		b = append(b, byte(i), byte(i), byte(i), 0)
	}
	// tri is a triangle wave of the given period, -64..64.
	tri := func(t, period int) int {
		t %= period
		if t > period/2 {
			t = period - t
		}
		return t*128/(period/2) - 64
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := x-300, y-200
			v := 128 + tri(x, 74)*tri(y, 46)/64 + tri(x+2*y, 142)/2 + tri((dx*dx+dy*dy)/97, 58)/3
			v += r.intn(25) - 12
			b = append(b, byte(min(255, max(0, v))))
		}
	}
	for len(b) < size {
		b = append(b, 0)
	}
	return b[:size]
}

var (
	verseSpeakers = []string{"FAUST", "MEPHISTOPHELES", "WAGNER", "MARGARETE", "MARTHE", "CHOR DER ENGEL", "SCHÜLER", "DIREKTOR", "DICHTER", "LUSTIGE PERSON"}
	verseWords    = strings.Fields("und der die das ich nicht ist mit sich mir mein dein ein eine zu auf im den so wie was wenn doch nur noch " +
		"Herz Geist Welt Natur Himmel Erde Nacht Tag Licht Leben Liebe Seele Zeit Kraft Wissen Buch Traum Glück Schmerz " +
		"schön süß müde heiß groß klein hold fröhlich göttlich ewig tief hoch still leise wunderbar " +
		"möchte könnte müssen dürfen wählen fühlen blühen grüßen träumen schweben wandeln streben " +
		"Mädchen Blümlein König Größe Hölle Tür Brüder Gefühl Gemüt Flügel Würde Fülle Täuschung Übermut Gespräch")
	versePunct = []string{",", ",", "", "", ";", ".", "!", "?", ":", " –"}
)

// genVerse writes a verse drama in German: speakers, stanzas, umlauts
// and ß. Autobahn sends its Faust as binary messages, so it is binary
// here too, though valid UTF-8.
func genVerse(r *prng, size int) []byte {
	var b strings.Builder
	b.WriteString("Faust. Eine Tragödie.\r\n\r\nZueignung.\r\n\r\n")
	for scene := 1; b.Len() < size; scene++ {
		fmt.Fprintf(&b, "\r\n\r\n%d. Szene\r\n\r\n", scene)
		for speech := 0; speech < 12 && b.Len() < size; speech++ {
			fmt.Fprintf(&b, "%s:\r\n", r.pick(verseSpeakers))
			for line := 0; line < 2+r.intn(9); line++ {
				n := 4 + r.intn(6)
				for i := 0; i < n; i++ {
					w := r.pick(verseWords)
					if i == 0 {
						r0, sz := utf8.DecodeRuneInString(w)
						w = strings.ToUpper(string(r0)) + w[sz:]
					} else {
						b.WriteByte(' ')
					}
					b.WriteString(w)
				}
				b.WriteString(r.pick(versePunct))
				b.WriteString("\r\n")
			}
			b.WriteString("\r\n")
		}
	}
	return cut(b.String(), size)
}

var htmlNames = []string{"Café Müller", "Señor Torres", "Zoë’s relay", "Łódź gateway", "Ærø proxy", "naïve echo", "Ürün sunucu", "Crème brûlée"}

// genHTML writes an Autobahn-style HTML report: a style sheet, then
// tables of case results. Mostly ASCII, with a few non-ASCII names,
// sent as text.
func genHTML(r *prng, size int) []byte {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html>\n   <head>\n      <meta charset=\"utf-8\" />\n      <style lang=\"css\">\n")
	for _, sel := range []string{"body", "p#intro", "p#intro a", ".block", "table", "td.case_ok", "td.case_failed", "td.case_non_strict", "td.case_info", "td.close_ok"} {
		fmt.Fprintf(&b, "%s {\n   background-color: #%06X;\n   color: #%03X;\n   padding: %dpx;\n}\n\n", sel, r.intn(1<<24), r.intn(1<<12), r.intn(12))
	}
	b.WriteString("      </style>\n   </head>\n   <body>\n")
	ids := reportCaseIDs()
	for round := 0; b.Len() < size; round++ {
		agent := reportAgents[round%len(reportAgents)]
		fmt.Fprintf(&b, "      <h2>%s – run %d</h2>\n      <p id=\"intro\">Tested by <a href=\"#\">%s</a>.</p>\n      <table>\n", agent, round, htmlNames[round%len(htmlNames)])
		for _, id := range ids {
			beh := r.pick(reportBehaviors)
			fmt.Fprintf(&b, "         <tr><td class=\"case_%s\"><a href=\"%s\">%s</a></td><td>%s</td><td class=\"close_ok\">%d ms</td></tr>\n",
				strings.ToLower(strings.ReplaceAll(beh, "-", "_")), reportFileName(agent, id), id, beh, 1+r.intn(40))
		}
		b.WriteString("      </table>\n")
	}
	return cut(b.String(), size)
}

// genPDF writes something shaped like a PDF: object dictionaries in text
// between streams of near-random octets (as compressed content streams
// are), so it compresses only a little.
func genPDF(r *prng, size int) []byte {
	b := make([]byte, 0, size+4096)
	b = append(b, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"...)
	for obj := 1; len(b) < size; obj++ {
		n := 512 + r.intn(6000)
		b = fmt.Appendf(b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 %d 0 R >> >> /Length %d /Filter /FlateDecode >>\nstream\n", obj, obj+1, n)
		for i := 0; i < n; i++ {
			v := r.next()
			if v&7 == 0 {
				b = append(b, byte(v>>8)&0x3f) // some skew, as real streams have
			} else {
				b = append(b, byte(v>>16))
			}
		}
		b = append(b, "\nendstream\nendobj\n"...)
	}
	return b[:size]
}

package wstest

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// deflateRun is one row of the message plan that sections 12 and 13
// share: count messages of size units each, one at a time (the next
// once the previous came back), the compressed payload fragmented into
// frames of frag octets (0: not at all), the case given up after wait.
type deflateRun struct {
	size, count int
	wait        time.Duration
	frag        int
}

var deflateRuns = []deflateRun{
	{16, 1000, 60 * sec, 0},
	{64, 1000, 60 * sec, 0},
	{256, 1000, 120 * sec, 0},
	{1024, 1000, 240 * sec, 0},
	{4096, 1000, 480 * sec, 0},
	{8192, 1000, 480 * sec, 0},
	{16384, 1000, 480 * sec, 0},
	{32768, 1000, 480 * sec, 0},
	{65536, 1000, 480 * sec, 0},
	{131072, 1000, 480 * sec, 0},
	{8192, 1000, 480 * sec, 256},
	{16384, 1000, 480 * sec, 256},
	{32768, 1000, 480 * sec, 256},
	{65536, 1000, 480 * sec, 256},
	{131072, 1000, 480 * sec, 256},
	{131072, 1000, 480 * sec, 1024},
	{131072, 1000, 480 * sec, 4096},
	{131072, 1000, 480 * sec, 32768},
}

func (r deflateRun) expectation() string {
	return fmt.Sprintf("Receive echo'ed messages (with payload as sent). Timeout case after %d secs.", int(r.wait/sec))
}

// section12 sends the five corpora with the default offer, accepted as
// offered: 12.1 JSON (text), 12.2 bitmap, 12.3 German verse (binary),
// 12.4 HTML (text), 12.5 PDF.
func section12() []Case {
	neg := &deflateCase{offers: []pmdOffer{suiteOffer(false, 0)}, accept: acceptWith(false, 0)}
	var out []Case
	for j, c := range []*corpus{corpusJSON, corpusBitmap, corpusVerse, corpusHTML, corpusPDF} {
		for i, r := range deflateRuns {
			desc := fmt.Sprintf("Send %d compressed messages each of payload size %d, auto-fragment to %d octets. Use default permessage-deflate offer.",
				r.count, r.size, r.frag)
			out = append(out, deflateEcho(fmt.Sprintf("12.%d.%d", j+1, i+1), desc, c, r, neg))
		}
	}
	return out
}

// section13 sends the JSON corpus under seven negotiations: what the
// suite offers as the fuzzing client, and how it accepts a client's
// offers as the fuzzing server, asking for client_no_context_takeover
// and client_max_window_bits as the client's offer allows.
func section13() []Case {
	type off = struct {
		noContext bool
		bits      int
	}
	subsections := []struct {
		offers []off
		accept func([]pmdOffer) *pmdAccept
	}{
		{[]off{{false, 0}}, acceptWith(false, 0)},
		{[]off{{true, 0}}, acceptWith(true, 0)},
		{[]off{{false, 9}}, acceptWith(false, 9)},
		{[]off{{false, 15}}, acceptWith(false, 15)},
		{[]off{{true, 9}}, acceptWith(true, 9)},
		{[]off{{true, 15}}, acceptWith(true, 15)},
		{[]off{{true, 9}, {true, 0}, {false, 0}}, acceptFallback(acceptWith(true, 9), acceptWith(true, 0), acceptWith(false, 0))},
	}
	var out []Case
	for j, sub := range subsections {
		neg := &deflateCase{accept: sub.accept}
		var pairs []string
		for _, o := range sub.offers {
			neg.offers = append(neg.offers, suiteOffer(o.noContext, o.bits))
			pairs = append(pairs, fmt.Sprintf("(%s, %d)", pyBool(o.noContext), o.bits))
		}
		for i, r := range deflateRuns {
			desc := fmt.Sprintf("Send %d compressed messages each of payload size %d, auto-fragment to %d octets. Use permessage-deflate client offers (requestNoContextTakeover, requestMaxWindowBits): [%s]",
				r.count, r.size, r.frag, strings.Join(pairs, ", "))
			out = append(out, deflateEcho(fmt.Sprintf("13.%d.%d", j+1, i+1), desc, corpusJSON, r, neg))
		}
	}
	return out
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// deflateEcho is the one case shape of sections 12 and 13. Without
// permessage-deflate the case is UNIMPLEMENTED and closes at once.
// Otherwise it sends a message cut from the corpus, waits for the echo,
// checks its type, length and content, and sends the next, count times;
// then it is OK and closes normally. A wrong echo makes it FAILED and
// closes normally too. Autobahn lists no expected events for these
// cases: the verdict is set by the case itself.
func deflateEcho(id, desc string, c *corpus, r deflateRun, neg *deflateCase) Case {
	return Case{
		ID: id, Description: desc, Expectation: r.expectation(),
		Limit:   r.wait + 10*sec,
		deflate: neg,
		play: func(s *session) {
			s.expClose = expectedClose{ClosedByMe: true, CloseCode: []int{closeNormalCode}, RequireClean: true}
			if s.pmd == nil {
				s.behavior = unimplemented
				s.result = "The peer did not negotiate permessage-deflate."
				s.sendClose(closeNormalCode, "")
				return
			}
			s.behavior = failed
			s.result = fmt.Sprintf("Not all %d echoes came back (the case gives up after %d seconds).", r.count, int(r.wait/sec))
			s.closeAfter(r.wait)
			s.autoFragmentSize = r.frag
			next, sent := 0, 0
			var want []byte
			sendOne := func() {
				want, next = c.message(next, r.size)
				if s.state == stateOpen {
					s.sendMessage(want, c.binary, 0)
				}
				sent++
			}
			s.onMessage = func(s *session, data []byte, binary bool) {
				switch {
				case binary != c.binary:
					s.behavior = failed
					s.result = fmt.Sprintf("The echo is of another type than the message sent (binary %v, sent binary %v).", binary, c.binary)
				case c.length(data) != r.size:
					s.behavior = failed
					s.result = fmt.Sprintf("The echo has another length than the message sent (%d, sent %d).", c.length(data), r.size)
				case !bytes.Equal(data, want):
					s.behavior = failed
					s.result = "The echo differs from the message sent."
				case sent < r.count:
					sendOne()
					return
				default:
					s.behavior = OK
					s.result = fmt.Sprintf("All %d echoes came back as sent, in time.", r.count)
					s.snapshotTraffic()
				}
				s.sendClose(closeNormalCode, "")
			}
			sendOne()
		},
	}
}

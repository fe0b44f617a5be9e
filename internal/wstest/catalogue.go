package wstest

import (
	"fmt"
	"strings"
	"time"
)

// Catalogue returns every case of the suite, in Autobahn's order, with
// Autobahn's case ids.
//
// # Extending the catalogue
//
// The catalogue is the concatenation of the section builders listed in
// sections. Each builder returns the cases of one Autobahn section; a case
// is data (id, description, expectation, time limit) plus a play function
// that receives the session, declares the expected events and close
// behaviour (expect, expClose, or onMessage/judge hooks for cases that
// judge by hand) and sends frames through the session's sendFrame,
// sendMessage, sendCloseFrame, killAfter, closeAfter and continueLater,
// the same primitives Autobahn's cases use. The protocol machine and the
// verdict rules live in session.go and are shared by every case, in both
// roles (fuzzing client and fuzzing server).
//
// Sections 12 and 13 (permessage-deflate, catalogue_deflate.go) set the
// case's deflate field: what the suite offers as the fuzzing client and
// how it accepts a client's offers as the fuzzing server. The opening
// handshake (handshake.go, server.go) negotiates only for such cases, and
// the session then deflates what sendMessage sends and inflates what it
// receives (deflate.go); every other case offers and accepts nothing, and
// RSV1 stays a protocol violation there.
func Catalogue() []Case {
	var out []Case
	for _, build := range sections {
		out = append(out, build()...)
	}
	return out
}

// sections lists the section builders in catalogue order.
var sections = []func() []Case{
	section1, section2, section3, section4, section5,
	section6, section7, section9, section10,
	section12, section13,
}

const sec = time.Second

// Case limits: the longest timer of a case plus room for the closing
// handshake timeouts.
const (
	shortLimit = 10 * sec
	longLimit  = 120 * sec
)

func closeNormal(s *session) {
	s.expClose = expectedClose{ClosedByMe: true, CloseCode: []int{closeNormalCode}, RequireClean: true}
}

func peerFails(s *session, code int) {
	s.expClose = expectedClose{ClosedByMe: false, CloseCode: []int{code}, RequireClean: false}
}

func section1() []Case {
	var out []Case
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536, 65536}
	for bin := 0; bin < 2; bin++ {
		for i, n := range sizes {
			n, i, binary := n, i, bin == 1
			fill, op, kind := "*", byte(opText), "text"
			if binary {
				fill, op, kind = "\xfe", opBinary, "binary"
			}
			chop, wait := 0, 1*sec
			if i == 7 {
				chop = 997
			}
			if n > 128 {
				wait = 10 * sec
			}
			desc := fmt.Sprintf("Send %s message with payload of length %d.", kind, n)
			if chop > 0 {
				desc = fmt.Sprintf("Send %s message with payload of length %d. Sent out data in chops of %d octets.", kind, n, chop)
			}
			out = append(out, Case{
				ID:          fmt.Sprintf("1.%d.%d", bin+1, i+1),
				Description: desc,
				Expectation: fmt.Sprintf("Receive echo'ed %s message (with payload as sent). Clean close with normal code.", kind),
				Limit:       wait + 5*sec,
				play: func(s *session) {
					p := strings.Repeat(fill, n)
					s.expect(OK, msgEvent(p, binary))
					closeNormal(s)
					s.sendFrame(txFrame{Opcode: op, Fin: true, Data: []byte(p), Chop: chop})
					s.killAfter(wait)
				},
			})
		}
	}
	return out
}

func section2() []Case {
	pingCase := func(id, desc, payload string, chop int, wait time.Duration) Case {
		return Case{
			ID: id, Description: desc, Limit: shortLimit,
			Expectation: "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.",
			play: func(s *session) {
				s.expect(OK, pongEvent(payload))
				closeNormal(s)
				s.sendFrame(txFrame{Opcode: opPing, Fin: true, Data: []byte(payload), Chop: chop})
				s.closeAfter(wait)
			},
		}
	}
	unsolicited := func(id, payload string) Case {
		return Case{
			ID: id, Description: "Send unsolicited pong. Verify nothing is received. Clean close with normal code.",
			Expectation: "Nothing.", Limit: shortLimit,
			play: func(s *session) {
				closeNormal(s)
				s.expect(OK)
				s.sendFrame(txFrame{Opcode: opPong, Fin: true, Data: []byte(payload)})
				s.sendClose(closeNormalCode, "")
				s.closeAfter(sec)
			},
		}
	}
	tenPings := func(id string, chop int) Case {
		return Case{
			ID: id, Description: "Send 10 Pings with payload.", Limit: shortLimit,
			Expectation: "Pongs for our Pings with all the payloads. Clean close with normal code.",
			play: func(s *session) {
				var ev []event
				for i := 0; i < 10; i++ {
					p := fmt.Sprintf("payload-%d", i)
					ev = append(ev, pongEvent(p))
				}
				s.expect(OK, ev...)
				for i := 0; i < 10; i++ {
					s.sendFrame(txFrame{Opcode: opPing, Fin: true, Data: []byte(fmt.Sprintf("payload-%d", i)), Chop: chop})
				}
				closeNormal(s)
				s.closeAfter(3 * sec)
			},
		}
	}
	return []Case{
		pingCase("2.1", "Send ping without payload.", "", 0, sec),
		pingCase("2.2", "Send ping with small text payload.", "Hello, world!", 0, sec),
		pingCase("2.3", "Send ping with small binary (non UTF-8) payload.", "\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 0, sec),
		pingCase("2.4", "Send ping with binary payload of 125 octets.", strings.Repeat("\xfe", 125), 0, sec),
		{
			ID: "2.5", Description: "Send ping with binary payload of 126 octets.", Limit: shortLimit,
			Expectation: "Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets.",
			play: func(s *session) {
				s.expect(OK)
				peerFails(s, closeProtocolError)
				s.sendFrame(txFrame{Opcode: opPing, Fin: true, Data: []byte(strings.Repeat("\xfe", 126))})
				s.killAfter(sec)
			},
		},
		pingCase("2.6", "Send ping with binary payload of 125 octets, send in octet-wise chops.", strings.Repeat("\xfe", 125), 1, 2*sec),
		unsolicited("2.7", ""),
		unsolicited("2.8", "unsolicited pong payload"),
		{
			ID: "2.9", Description: "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.",
			Expectation: "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. Clean close with normal code.",
			Limit:       shortLimit,
			play: func(s *session) {
				s.expect(OK, pongEvent("ping payload"))
				closeNormal(s)
				s.sendFrame(txFrame{Opcode: opPong, Fin: true, Data: []byte("unsolicited pong payload")})
				s.sendFrame(txFrame{Opcode: opPing, Fin: true, Data: []byte("ping payload")})
				s.closeAfter(sec)
			},
		},
		tenPings("2.10", 0),
		tenPings("2.11", 1),
	}
}

// badThenPing is the shape of 3.2-3.4 and 4.1.3-4.2.5: a valid text
// message, the offending frame, then a ping. The peer must echo the first
// message (OK) or may have failed before it (NON-STRICT), and must fail
// the connection without answering the ping.
func badThenPing(id, desc string, bad txFrame, chop int, sync bool) Case {
	return Case{
		ID: id, Description: desc, Limit: shortLimit,
		Expectation: "Echo for first message is received, but then connection is failed immediately, since the second frame is invalid. The ping is not answered.",
		play: func(s *session) {
			p := "Hello, world!"
			s.expect(OK, msgEvent(p, false))
			s.expect(nonStrict)
			peerFails(s, closeProtocolError)
			bad.Chop, bad.Sync, bad.Fin = chop, sync, true
			s.sendFrame(txFrame{Opcode: opText, Fin: true, Data: []byte(p), Chop: chop, Sync: sync})
			s.sendFrame(bad)
			s.sendFrame(txFrame{Opcode: opPing, Fin: true, Chop: chop, Sync: sync})
			s.killAfter(sec)
		},
	}
}

// mustFail is a case whose frames the peer must reject with code.
func mustFail(id, desc string, code int, frames ...txFrame) Case {
	return Case{
		ID: id, Description: desc, Limit: shortLimit,
		Expectation: fmt.Sprintf("The connection is failed immediately (%d).", code),
		play: func(s *session) {
			s.expect(OK)
			peerFails(s, code)
			for _, f := range frames {
				s.sendFrame(f)
			}
			s.killAfter(sec)
		},
	}
}

func section3() []Case {
	hello := []byte("Hello, world!")
	return []Case{
		mustFail("3.1", "Send small text message with RSV = 1.", closeProtocolError,
			txFrame{Opcode: opText, Fin: true, RSV: 1, Data: hello}),
		badThenPing("3.2", "Send small text message, then send again with RSV = 2, then send Ping.",
			txFrame{Opcode: opText, RSV: 2, Data: hello}, 0, false),
		badThenPing("3.3", "Send small text message, then send again with RSV = 3, then send Ping. Octets are sent in frame-wise chops.",
			txFrame{Opcode: opText, RSV: 3, Data: hello}, 0, true),
		badThenPing("3.4", "Send small text message, then send again with RSV = 4, then send Ping. Octets are sent in octet-wise chops.",
			txFrame{Opcode: opText, RSV: 4, Data: hello}, 1, false),
		mustFail("3.5", "Send small binary message with RSV = 5.", closeProtocolError,
			txFrame{Opcode: opBinary, Fin: true, RSV: 5, Data: []byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")}),
		mustFail("3.6", "Send Ping with RSV = 6.", closeProtocolError,
			txFrame{Opcode: opPing, Fin: true, RSV: 6, Data: hello}),
		mustFail("3.7", "Send Close with RSV = 7.", closeProtocolError,
			txFrame{Opcode: opClose, Fin: true, RSV: 7}),
	}
}

func section4() []Case {
	hello := []byte("Hello, world!")
	rp := []byte("reserved opcode payload")
	return []Case{
		mustFail("4.1.1", "Send frame with reserved non-control Opcode = 3.", closeProtocolError, txFrame{Opcode: 3, Fin: true}),
		mustFail("4.1.2", "Send frame with reserved non-control Opcode = 4 and non-empty payload.", closeProtocolError, txFrame{Opcode: 4, Fin: true, Data: rp}),
		badThenPing("4.1.3", "Send small text message, then send frame with reserved non-control Opcode = 5, then send Ping.", txFrame{Opcode: 5}, 0, false),
		badThenPing("4.1.4", "Send small text message, then send frame with reserved non-control Opcode = 6 and non-empty payload, then send Ping.", txFrame{Opcode: 6, Data: hello}, 0, false),
		badThenPing("4.1.5", "Send small text message, then send frame with reserved non-control Opcode = 7 and non-empty payload, then send Ping.", txFrame{Opcode: 7, Data: hello}, 1, false),
		mustFail("4.2.1", "Send frame with reserved control Opcode = 11.", closeProtocolError, txFrame{Opcode: 11, Fin: true}),
		mustFail("4.2.2", "Send frame with reserved control Opcode = 12 and non-empty payload.", closeProtocolError, txFrame{Opcode: 12, Fin: true, Data: rp}),
		badThenPing("4.2.3", "Send small text message, then send frame with reserved control Opcode = 13, then send Ping.", txFrame{Opcode: 13}, 0, false),
		badThenPing("4.2.4", "Send small text message, then send frame with reserved control Opcode = 14 and non-empty payload, then send Ping.", txFrame{Opcode: 14, Data: hello}, 0, false),
		badThenPing("4.2.5", "Send small text message, then send frame with reserved control Opcode = 15 and non-empty payload, then send Ping.", txFrame{Opcode: 15, Data: hello}, 1, false),
	}
}

func section5() []Case {
	f := func(op byte, fin bool, p string) txFrame { return txFrame{Opcode: op, Fin: fin, Data: []byte(p)} }
	withMode := func(fs []txFrame, chop int, sync bool) []txFrame {
		out := make([]txFrame, len(fs))
		for i, x := range fs {
			x.Chop, x.Sync = chop, sync
			out[i] = x
		}
		return out
	}
	fragmented := func(id, desc string, chop int, sync bool) Case {
		return Case{
			ID: id, Description: desc, Limit: shortLimit,
			Expectation: "Message is processed and echo'ed back to us. Clean close with normal code.",
			play: func(s *session) {
				s.expect(OK, msgEvent("fragment1fragment2", false))
				closeNormal(s)
				for _, x := range withMode([]txFrame{f(opText, false, "fragment1"), f(opContinuation, true, "fragment2")}, chop, sync) {
					s.sendFrame(x)
				}
				s.closeAfter(sec)
			},
		}
	}
	withPing := func(id, desc string, chop int, sync bool) Case {
		return Case{
			ID: id, Description: desc, Limit: shortLimit,
			Expectation: "A pong is received, then the message is echo'ed back to us. Clean close with normal code.",
			play: func(s *session) {
				s.expect(OK, pongEvent("ping payload"), msgEvent("fragment1fragment2", false))
				closeNormal(s)
				for _, x := range withMode([]txFrame{f(opText, false, "fragment1"), f(opPing, true, "ping payload"), f(opContinuation, true, "fragment2")}, chop, sync) {
					s.sendFrame(x)
				}
				s.closeAfter(sec)
			},
		}
	}
	contFirst := func(id, desc string, fin bool, chop int, sync bool) Case {
		return mustFail(id, desc, closeProtocolError,
			withMode([]txFrame{f(opContinuation, fin, "non-continuation payload"), f(opText, true, "Hello, world!")}, chop, sync)...)
	}
	twice := func(fs ...txFrame) []txFrame { return append(append([]txFrame{}, fs...), fs...) }
	longFragmented := func(id string, sync bool) Case {
		frags := []string{"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"}
		pings := []string{"pongme 1!", "pongme 2!"}
		return Case{
			ID: id, Limit: shortLimit,
			Description: "Send text Message fragmented into 5 fragments, with one Ping after the first 2 fragments and another before the last; wait 1s after the first ping.",
			Expectation: "The peer pongs both Pings and echoes the fragmented message.",
			play: func(s *session) {
				s.expect(OK, pongEvent(pings[0]), pongEvent(pings[1]), msgEvent(strings.Join(frags, ""), false))
				closeNormal(s)
				s.sendFrame(txFrame{Opcode: opText, Data: []byte(frags[0]), Sync: sync})
				s.sendFrame(txFrame{Opcode: opContinuation, Data: []byte(frags[1]), Sync: sync})
				s.sendFrame(txFrame{Opcode: opPing, Fin: true, Data: []byte(pings[0]), Sync: sync})
				s.continueLater(sec, func() {
					s.sendFrame(txFrame{Opcode: opContinuation, Data: []byte(frags[2]), Sync: sync})
					s.sendFrame(txFrame{Opcode: opContinuation, Data: []byte(frags[3]), Sync: sync})
					s.sendFrame(txFrame{Opcode: opPing, Fin: true, Data: []byte(pings[1]), Sync: sync})
					s.sendFrame(txFrame{Opcode: opContinuation, Fin: true, Data: []byte(frags[4]), Sync: sync})
					s.closeAfter(sec)
				})
			},
		}
	}
	return []Case{
		mustFail("5.1", "Send Ping fragmented into 2 fragments.", closeProtocolError, f(opPing, false, "fragment1"), f(opContinuation, true, "fragment2")),
		mustFail("5.2", "Send Pong fragmented into 2 fragments.", closeProtocolError, f(opPong, false, "fragment1"), f(opContinuation, true, "fragment2")),
		fragmented("5.3", "Send text Message fragmented into 2 fragments.", 0, false),
		fragmented("5.4", "Send text Message fragmented into 2 fragments, octets are sent in frame-wise chops.", 0, true),
		fragmented("5.5", "Send text Message fragmented into 2 fragments, octets are sent in octet-wise chops.", 1, false),
		withPing("5.6", "Send text Message fragmented into 2 fragments, one ping with payload in-between.", 0, false),
		withPing("5.7", "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets are sent in frame-wise chops.", 0, true),
		withPing("5.8", "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets are sent in octet-wise chops.", 1, false),
		contFirst("5.9", "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue.", true, 0, false),
		contFirst("5.10", "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in per-frame chops.", true, 0, true),
		contFirst("5.11", "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in octet-wise chops.", true, 1, false),
		contFirst("5.12", "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue.", false, 0, false),
		contFirst("5.13", "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in per-frame chops.", false, 0, true),
		contFirst("5.14", "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in octet-wise chops.", false, 1, false),
		{
			ID: "5.15", Limit: shortLimit,
			Description: "Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message.",
			Expectation: "The connection is failed immediately, since there is no message to continue.",
			play: func(s *session) {
				s.expect(OK, msgEvent("fragment1fragment2", false))
				s.expect(nonStrict)
				peerFails(s, closeProtocolError)
				s.sendFrame(f(opText, false, "fragment1"))
				s.sendFrame(f(opContinuation, true, "fragment2"))
				s.sendFrame(f(opContinuation, false, "fragment3"))
				s.sendFrame(f(opText, true, "fragment4"))
				s.killAfter(sec)
			},
		},
		mustFail("5.16", "Repeated 2x: Continuation Frame with FIN = false (where there is nothing to continue), then text Message fragmented into 2 fragments.", closeProtocolError,
			twice(f(opContinuation, false, "fragment1"), f(opText, false, "fragment2"), f(opContinuation, true, "fragment3"))...),
		mustFail("5.17", "Repeated 2x: Continuation Frame with FIN = true (where there is nothing to continue), then text Message fragmented into 2 fragments.", closeProtocolError,
			twice(f(opContinuation, true, "fragment1"), f(opText, false, "fragment2"), f(opContinuation, true, "fragment3"))...),
		mustFail("5.18", "Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.", closeProtocolError,
			f(opText, false, "fragment1"), f(opText, true, "fragment2")),
		longFragmented("5.19", false),
		longFragmented("5.20", true),
	}
}

package wstest

import (
	"fmt"
	"strings"
	"time"
)

// wrongCodeFails is the extra rule of section 7: a wrong close code fails
// the case, not only its close judgement.
func wrongCodeFails(s *session) {
	if s.behaviorClose == wrongCode {
		s.behavior = failed
		s.result = s.resultClose
	}
}

// informational marks a case whose outcome the spec leaves open (7.13.x).
func informational(s *session) {
	s.result = "Actual events are undefined by the spec."
	s.behavior = Informational
	s.behaviorClose = Informational
}

// informational716 is 7.1.6's variant, which says which order it saw.
func informational716(s *session) {
	switch s.behavior {
	case OK:
		s.result = "Text message was processed before close."
	case nonStrict:
		s.result = "Close was processed before text message could be returned."
	}
	s.behavior = Informational
	s.behaviorClose = Informational
}

func section7() []Case {
	closeCase := func(id, desc, expect string, play func(s *session)) Case {
		return Case{ID: id, Description: desc, Expectation: expect, Limit: shortLimit, play: func(s *session) {
			s.judge = wrongCodeFails
			play(s)
		}}
	}
	cleanClose := "Clean close with normal code."
	out := []Case{
		closeCase("7.1.1", "Send a message followed by a close frame", "Echoed message followed by clean close with normal code.", func(s *session) {
			s.expect(OK, msgEvent("Hello World!", false))
			closeNormal(s)
			s.sendFrame(txFrame{Opcode: opText, Fin: true, Data: []byte("Hello World!")})
			s.killAfter(sec)
		}),
		closeCase("7.1.2", "Send two close frames", cleanClose, func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			closeNormal(s)
			s.sendClose(closeNormalCode, "")
			s.sendFrame(txFrame{Opcode: opClose, Fin: true})
			s.killAfter(sec)
		}),
		closeCase("7.1.3", "Send a ping after close message", cleanClose, func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			closeNormal(s)
			s.sendClose(closeNormalCode, "")
			s.sendFrame(txFrame{Opcode: opPing, Fin: true})
			s.killAfter(sec)
		}),
		closeCase("7.1.4", "Send text message after sending a close frame", cleanClose, func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			closeNormal(s)
			s.sendClose(closeNormalCode, "")
			s.sendFrame(txFrame{Opcode: opText, Fin: true, Data: []byte("Hello World!")})
			s.killAfter(sec)
		}),
		closeCase("7.1.5", "Send message fragment1 followed by close then fragment", cleanClose, func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			closeNormal(s)
			s.sendFrame(txFrame{Opcode: opText, Data: []byte("fragment1")})
			s.sendClose(closeNormalCode, "")
			s.sendFrame(txFrame{Opcode: opContinuation, Fin: true, Data: []byte("fragment2")})
			s.killAfter(sec)
		}),
		{
			ID: "7.1.6", Limit: shortLimit,
			Description: "Send 256K message followed by close then a ping",
			Expectation: "Case outcome depends on implementation defined close behavior. Message and close frame are sent back to back. If the close frame is processed before the text message write is complete (as can happen in asynchronous processing models) the close frame is processed first and the text message may not be received or may only be partially recieved.",
			play: func(s *session) {
				s.suppressClose = true
				s.judge = informational716
				s.expect(OK, msgEvent("Hello World!", false))
				s.expect(nonStrict)
				closeNormal(s)
				s.sendFrame(txFrame{Opcode: opText, Fin: true, Data: []byte("BAsd7&jh23"), Len: 256 << 10})
				s.sendFrame(txFrame{Opcode: opText, Fin: true, Data: []byte("Hello World!")})
				s.sendClose(closeNormalCode, "")
				s.sendFrame(txFrame{Opcode: opPing, Fin: true})
				s.killAfter(sec)
			},
		},
		closeCase("7.3.1", "Send a close frame with payload length 0 (no close code, no close reason)", cleanClose, func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			closeNormal(s)
			s.sendCloseFrame(noCode, nil, false)
			s.killAfter(sec)
		}),
		closeCase("7.3.2", "Send a close frame with payload length 1", "Clean close with protocol error or drop TCP.", func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			s.expClose = expectedClose{ClosedByMe: true, CloseCode: []int{closeProtocolError}}
			s.sendCloseFrame(noCode, []byte("a"), false)
			s.killAfter(sec)
		}),
		closeCase("7.3.3", "Send a close frame with payload length 2 (regular close with a code)", cleanClose, func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			closeNormal(s)
			s.sendClose(closeNormalCode, "")
			s.killAfter(sec)
		}),
		closeCase("7.3.4", "Send a close frame with close code and close reason", cleanClose, func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			closeNormal(s)
			s.sendClose(closeNormalCode, "Hello World!")
			s.killAfter(sec)
		}),
		closeCase("7.3.5", "Send a close frame with close code and close reason of maximum length (123)", cleanClose, func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			closeNormal(s)
			s.sendClose(closeNormalCode, strings.Repeat("*", 123))
			s.killAfter(sec)
		}),
		closeCase("7.3.6", "Send a close frame with close code and close reason which is too long (124) - total frame payload 126 octets", "Clean close with protocol error code or dropped TCP connection.", func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			s.expClose = expectedClose{ClosedByMe: true, CloseCode: []int{closeProtocolError}}
			s.sendCloseFrame(closeNormalCode, []byte(strings.Repeat("*", 124)), false)
			s.killAfter(sec)
		}),
		closeCase("7.5.1", "Send a close frame with invalid UTF8 payload", "Clean close with protocol error or invalid utf8 code or dropped TCP.", func(s *session) {
			s.suppressClose = true
			s.expect(OK)
			s.expClose = expectedClose{ClosedByMe: true, CloseCode: []int{closeProtocolError, closeInvalidPayload}}
			s.sendCloseFrame(closeNormalCode, []byte(kosme+"\xed\xa0\x80edited"), false)
			s.killAfter(sec)
		}),
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		code := code
		out = append(out, closeCase(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("Send close with valid close code %d", code),
			fmt.Sprintf("Clean close with normal or echoed code (%d).", code), func(s *session) {
				s.expect(OK)
				s.expClose = expectedClose{ClosedByMe: true, CloseCode: []int{closeNormalCode, code}, RequireClean: true}
				s.sendCloseFrame(code, nil, false)
				s.killAfter(sec)
			}))
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		code := code
		out = append(out, closeCase(fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("Send close with invalid close code %d", code),
			"Clean close with protocol error code or drop TCP.", func(s *session) {
				s.expect(OK)
				s.expClose = expectedClose{ClosedByMe: true, CloseCode: []int{closeProtocolError}}
				s.sendCloseFrame(code, nil, false)
				s.killAfter(sec)
			}))
	}
	for i, code := range []int{5000, 65535} {
		code := code
		out = append(out, Case{
			ID: fmt.Sprintf("7.13.%d", i+1), Limit: shortLimit,
			Description: fmt.Sprintf("Send close with close code %d", code),
			Expectation: "Actual events are undefined by the spec.",
			play: func(s *session) {
				s.suppressClose = true
				s.judge = informational
				s.expect(OK)
				s.expClose = expectedClose{ClosedByMe: true, CloseCode: []int{closeNormalCode, code, closeProtocolError}}
				s.sendCloseFrame(code, nil, false)
				s.killAfter(sec)
			},
		})
	}
	return out
}

// bigMessage builds a section 9 case: send one message (as the session's
// send function decides) and judge by the echo's type and length.
func bigMessage(id, desc string, binary bool, n int, wait time.Duration, send func(s *session)) Case {
	kind := "text"
	if binary {
		kind = "binary"
	}
	return Case{
		ID: id, Description: desc, Limit: wait + 10*sec,
		Expectation: fmt.Sprintf("Receive echo'ed %s message (with payload as sent).", kind),
		play: func(s *session) {
			s.behavior = failed
			closeNormal(s)
			s.result = fmt.Sprintf("Did not receive message within %d seconds.", int(wait/sec))
			s.onMessage = func(s *session, data []byte, bin bool) {
				switch {
				case bin != binary:
					s.result = fmt.Sprintf("Expected %s message with payload, but got the other type.", kind)
				case len(data) != n:
					s.result = fmt.Sprintf("Expected %s message with payload of length %d, but got %d.", kind, n, len(data))
				default:
					s.behavior = OK
					s.result = fmt.Sprintf("Received %s message of length %d.", kind, len(data))
				}
				s.sendClose(closeNormalCode, "")
			}
			send(s)
			s.closeAfter(wait)
		},
	}
}

func section9() []Case {
	const (
		ki = 1 << 10
		mi = 1 << 20
	)
	var out []Case
	sizes := []int{64 * ki, 256 * ki, 1 * mi, 4 * mi, 8 * mi, 16 * mi}
	waitsText := []time.Duration{10, 10, 100, 100, 100, 100}
	waitsBin := []time.Duration{10, 10, 10, 10, 100, 100}
	for i, n := range sizes {
		n := n
		out = append(out, bigMessage(fmt.Sprintf("9.1.%d", i+1), fmt.Sprintf("Send text message message with payload of length %d.", n), false, n, waitsText[i]*sec,
			func(s *session) { s.sendFrame(txFrame{Opcode: opText, Fin: true, Data: []byte("BAsd7&jh23"), Len: n}) }))
	}
	for i, n := range sizes {
		n := n
		out = append(out, bigMessage(fmt.Sprintf("9.2.%d", i+1), fmt.Sprintf("Send binary message message with payload of length %d.", n), true, n, waitsBin[i]*sec,
			func(s *session) {
				s.sendFrame(txFrame{Opcode: opBinary, Fin: true, Data: []byte("\x00\xfe\x23\xfa\xf0"), Len: n})
			}))
	}
	frags := []int{64, 256, 1 * ki, 4 * ki, 16 * ki, 64 * ki, 256 * ki, 1 * mi, 4 * mi}
	for b, binary := range []bool{false, true} {
		fill, kind := "*", "text"
		if binary {
			fill, kind = "\xfe", "binary"
		}
		for i, fs := range frags {
			fs, binary, fill := fs, binary, fill
			out = append(out, bigMessage(fmt.Sprintf("9.%d.%d", b+3, i+1),
				fmt.Sprintf("Send fragmented %s message message with message payload of length 4M. Sent out in fragments of %d.", kind, fs), binary, 4*mi, 100*sec,
				func(s *session) { s.sendMessage([]byte(strings.Repeat(fill, 4*mi)), binary, fs) }))
		}
	}
	chops := []int{64, 128, 256, 512, 1024, 2048}
	for i, chop := range chops {
		chop := chop
		out = append(out, bigMessage(fmt.Sprintf("9.5.%d", i+1), fmt.Sprintf("Send text message message with payload of length 1M. Sent out data in chops of %d octets.", chop), false, mi, 1000*sec,
			func(s *session) {
				s.sendFrame(txFrame{Opcode: opText, Fin: true, Data: []byte("BAsd7&jh23"), Len: mi, Chop: chop})
			}))
	}
	for i, chop := range chops {
		chop := chop
		out = append(out, bigMessage(fmt.Sprintf("9.6.%d", i+1), fmt.Sprintf("Send binary message message with payload of length 1M. Sent out data in chops of %d octets.", chop), true, mi, 1000*sec,
			func(s *session) {
				s.sendFrame(txFrame{Opcode: opBinary, Fin: true, Data: []byte("\x00\xfe\x23\xfa\xf0"), Len: mi, Chop: chop})
			}))
	}
	rtt := []struct {
		size  int
		count int
		wait  time.Duration
	}{{0, 1000, 60}, {16, 1000, 60}, {64, 1000, 60}, {256, 1000, 120}, {1024, 1000, 240}, {4096, 1000, 480}}
	for b, binary := range []bool{false, true} {
		for i, t := range rtt {
			t, binary := t, binary
			kind, op, fill := "text", byte(opText), "*"
			if binary {
				kind, op, fill = "binary", opBinary, "\xfe"
			}
			out = append(out, Case{
				ID:          fmt.Sprintf("9.%d.%d", b+7, i+1),
				Description: fmt.Sprintf("Send %d %s messages of payload size %d to measure implementation/network RTT (round trip time) / latency.", t.count, kind, t.size),
				Expectation: "Receive echo'ed messages (with payload as sent). Timeout case after 60 secs.",
				Limit:       t.wait*sec + 10*sec,
				play: func(s *session) {
					s.behavior = failed
					closeNormal(s)
					s.result = fmt.Sprintf("Case did not finish within %d seconds.", int(t.wait))
					count := 0
					sendOne := func() {
						s.sendFrame(txFrame{Opcode: op, Fin: true, Data: []byte(strings.Repeat(fill, t.size))})
						count++
					}
					s.onMessage = func(s *session, data []byte, bin bool) {
						switch {
						case bin != binary || len(data) != t.size:
							s.behavior = failed
							s.result = fmt.Sprintf("Echo'ed message type or length differs from what I sent (got binary = %v, payload length = %d).", bin, len(data))
							s.sendClose(closeNormalCode, "")
						case count < t.count:
							sendOne()
						default:
							s.behavior = OK
							s.result = "Ok, received all echo'ed messages in time."
							s.sendClose(closeNormalCode, "")
						}
					}
					s.closeAfter(t.wait * sec)
					sendOne()
				},
			})
		}
	}
	return out
}

func section10() []Case {
	const n, frag = 65536, 1300
	return []Case{{
		ID:          "10.1.1",
		Description: "Send text message with payload of length 65536 auto-fragmented with autoFragmentSize = 1300.",
		Expectation: "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). Clean close with normal code.",
		Limit:       20 * sec,
		play: func(s *session) {
			p := strings.Repeat("*", n)
			s.autoFragmentSize = frag
			s.expect(OK, msgEvent(p, false))
			closeNormal(s)
			s.sendMessage([]byte(p), false, 0)
			s.killAfter(10 * sec)
			s.judge = func(s *session) {
				wantCont, wantText := n/frag, 0
				if n%frag > 0 {
					wantText = 1
				}
				if s.txFrameStats[opContinuation] != wantCont || s.txFrameStats[opText] != wantText {
					s.behavior = failed
					s.result = fmt.Sprintf("Frames transmitted {0: %d, 1: %d} does not match what we expected {0: %d, 1: %d}.",
						s.txFrameStats[opContinuation], s.txFrameStats[opText], wantCont, wantText)
				}
			}
		},
	}}
}

package wstest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"
)

var timeZero time.Time

// Protocol states of a session, as the Autobahn protocol machine has them.
type sessionState int

const (
	stateOpen sessionState = iota
	stateClosing
	stateClosed
)

// noCode, passed as a close code, leaves the status code out of a Close
// frame (the body is then empty, or holds only the reason bytes).
const noCode = -1

// timeouts of the Autobahn protocol machine, in its defaults.
const (
	closeHandshakeTimeout       = time.Second
	serverConnectionDropTimeout = time.Second
	dropFlushTimeout            = 2 * time.Second
)

// expectation is one entry of a case's expected outcomes.
type expectation struct {
	behavior Behavior
	events   []event
}

// expectedClose is how a case expects the connection to end.
type expectedClose struct {
	ClosedByMe                   bool  `json:"closedByMe"`
	CloseCode                    []int `json:"closeCode"`
	RequireClean                 bool  `json:"requireClean"`
	ClosedByWrongEndpointIsFatal bool  `json:"closedByWrongEndpointIsFatal,omitempty"`
}

// session is one connection running one case. It mirrors the state
// machine of the Autobahn protocol (with failByDrop off unless asked),
// so that closedByMe, failedByMe, droppedByMe, wasClean and
// remoteCloseCode come out as the real suite would record them.
//
// All protocol and case logic runs on one goroutine (loop), fed by the
// reader goroutine and by timers, like Twisted's reactor; writes go
// through a writer goroutine so the loop never blocks on the peer.
type session struct {
	isServer   bool
	failByDrop bool
	nc         net.Conn
	br         *bufio.Reader
	c          *Case

	// event loop
	qmu   sync.Mutex
	queue []func()
	wake  chan struct{}
	done  bool
	lost  bool

	// writer
	wmu     sync.Mutex
	wq      []wjob
	wwake   chan struct{}
	wclosed bool

	// protocol state
	state                          sessionState
	closedByMe, failedByMe         bool
	droppedByMe, wasClean          bool
	wasNotCleanReason              string
	wasCloseHandshakeTimeout       bool
	wasServerConnectionDropTimeout bool
	localCloseCode                 *int
	localCloseReason               []byte
	remoteCloseCode                *int
	remoteCloseReason              *string
	closeHSTimer, dropTimer        *time.Timer
	autoFragmentSize               int
	txFrameStats                   map[int]int
	rxFrameStats                   map[int]int

	// incoming message assembly
	insideMessage bool
	msgBinary     bool
	msgValidate   bool
	msgData       []byte
	utf8          utf8Validator

	// permessage-deflate, when the opening handshake negotiated it
	pmd           *pmdCodec
	msgCompressed bool // the message in progress had RSV1 on its first frame
	traffic       trafficStats

	// raw streamed frame (BeginFrame / FrameData)
	streamKey []byte
	streamPos int

	// case state, as Autobahn's Case object holds it
	expected      []expectation
	expClose      expectedClose
	received      []event
	behavior      Behavior
	behaviorClose Behavior
	result        string
	resultClose   string
	suppressClose bool
	onMessage     func(s *session, data []byte, binary bool)
	judge         func(s *session)
	vars          map[string]int
	trafficStats  *trafficStats // the snapshot a case reports, or nil
}

type wjob struct {
	data  []byte
	own   bool // write on its own, not coalesced
	close bool // close the connection after everything before it
}

func newSession(nc net.Conn, br *bufio.Reader, isServer bool, c *Case) *session {
	return &session{
		isServer:      isServer,
		nc:            nc,
		br:            br,
		c:             c,
		wake:          make(chan struct{}, 1),
		wwake:         make(chan struct{}, 1),
		txFrameStats:  map[int]int{},
		rxFrameStats:  map[int]int{},
		behavior:      failed,
		behaviorClose: failed,
		result:        "Actual events differ from any expected.",
		resultClose:   "TCP connection was dropped without close handshake",
		vars:          map[string]int{},
	}
}

// post schedules fn on the loop goroutine.
func (s *session) post(fn func()) {
	s.qmu.Lock()
	if s.done {
		s.qmu.Unlock()
		return
	}
	s.queue = append(s.queue, fn)
	s.qmu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// after runs fn on the loop after d.
func (s *session) after(d time.Duration, fn func()) *time.Timer {
	return time.AfterFunc(d, func() { s.post(fn) })
}

// run plays the case to the end of the connection, bounded by limit.
func (s *session) run(limit time.Duration) {
	if limit <= 0 {
		limit = 30 * time.Second
	}
	go s.writer()
	go s.reader()
	guard := s.after(limit, func() {
		if s.state != stateClosed {
			s.wasClean = false
			s.wasNotCleanReason = "case did not finish within the suite's time limit"
			s.drop()
		}
	})
	defer guard.Stop()
	s.post(func() { s.c.play(s) })
	for {
		<-s.wake
		for {
			s.qmu.Lock()
			if len(s.queue) == 0 {
				s.qmu.Unlock()
				break
			}
			fn := s.queue[0]
			s.queue = s.queue[1:]
			s.qmu.Unlock()
			fn()
			if s.lost {
				s.qmu.Lock()
				s.done = true
				s.queue = nil
				s.qmu.Unlock()
				s.stopTimers()
				s.closeWriter()
				return
			}
		}
	}
}

func (s *session) stopTimers() {
	if s.closeHSTimer != nil {
		s.closeHSTimer.Stop()
	}
	if s.dropTimer != nil {
		s.dropTimer.Stop()
	}
}

func (s *session) reader() {
	for {
		f, err := readFrame(s.br)
		if err != nil {
			s.post(func() { s.connectionLost(err) })
			return
		}
		s.post(func() { s.onFrame(f) })
	}
}

// writer performs queued writes; consecutive ordinary frames are
// coalesced into one Write as a socket buffer would.
func (s *session) writer() {
	for {
		<-s.wwake
		for {
			s.wmu.Lock()
			if len(s.wq) == 0 {
				closed := s.wclosed
				s.wmu.Unlock()
				if closed {
					return
				}
				break
			}
			j := s.wq[0]
			n := 1
			if !j.own && !j.close {
				var buf []byte
				buf = append(buf, j.data...)
				for n < len(s.wq) && !s.wq[n].own && !s.wq[n].close {
					buf = append(buf, s.wq[n].data...)
					n++
				}
				j.data = buf
			}
			s.wq = s.wq[n:]
			s.wmu.Unlock()
			if j.close {
				s.nc.Close()
				continue
			}
			if _, err := s.nc.Write(j.data); err != nil {
				s.wmu.Lock()
				s.wq = nil
				s.wmu.Unlock()
			}
		}
	}
}

func (s *session) enqueue(j wjob) {
	s.wmu.Lock()
	if !s.wclosed {
		s.wq = append(s.wq, j)
	}
	s.wmu.Unlock()
	select {
	case s.wwake <- struct{}{}:
	default:
	}
}

func (s *session) closeWriter() {
	s.enqueue(wjob{close: true})
	s.wmu.Lock()
	s.wclosed = true
	s.wmu.Unlock()
	select {
	case s.wwake <- struct{}{}:
	default:
	}
}

// sendRaw queues bytes; chop splits them into separate writes.
func (s *session) sendRaw(b []byte, chop int, own bool) {
	if chop > 0 {
		for len(b) > 0 {
			n := min(chop, len(b))
			s.enqueue(wjob{data: b[:n], own: true})
			b = b[n:]
		}
		return
	}
	s.enqueue(wjob{data: b, own: own})
}

// sendFrame writes f (masked when the suite is the client), whatever the
// protocol state, as Autobahn's sendFrame does.
func (s *session) sendFrame(f txFrame) {
	if s.state == stateClosed {
		return
	}
	s.txFrameStats[int(f.Opcode)]++
	s.sendRaw(encodeFrame(&f, !s.isServer), f.Chop, f.Sync)
}

// sendMessage sends a complete message, fragmented into frames of
// fragmentSize (or the auto-fragment size) when it is longer.
func (s *session) sendMessage(data []byte, binary bool, fragmentSize int) {
	op := byte(opText)
	if binary {
		op = opBinary
	}
	if fragmentSize <= 0 {
		fragmentSize = s.autoFragmentSize
	}
	// With permessage-deflate the whole message is compressed first and
	// the compressed payload is fragmented, RSV1 on the first frame only
	// ([RFC 7692, Section 6]).
	//
	// [RFC 7692, Section 6]: https://www.rfc-editor.org/rfc/rfc7692#section-6
	payload, rsv := data, byte(0)
	if s.pmd != nil {
		payload, rsv = s.pmd.deflate(data), 4
	}
	t := &s.traffic
	t.OutgoingWebSocketMessages++
	t.OutgoingOctetsAppLevel += len(data)
	t.OutgoingOctetsWebSocketLevel += len(payload)
	if fragmentSize <= 0 || len(payload) <= fragmentSize {
		t.OutgoingWebSocketFrames++
		t.OutgoingOctetsWireLevel += wireLen(len(payload), !s.isServer)
		s.sendFrame(txFrame{Opcode: op, Fin: true, RSV: rsv, Data: payload})
		return
	}
	for i := 0; i < len(payload); i += fragmentSize {
		j := min(i+fragmentSize, len(payload))
		o, r := byte(opContinuation), byte(0)
		if i == 0 {
			o, r = op, rsv
		}
		t.OutgoingWebSocketFrames++
		t.OutgoingOctetsWireLevel += wireLen(j-i, !s.isServer)
		s.sendFrame(txFrame{Opcode: o, Fin: j == len(payload), RSV: r, Data: payload[i:j]})
	}
}

// wireLen is the size on the wire of a frame with an n-octet payload.
func wireLen(n int, masked bool) int {
	h := 2
	switch {
	case n >= 1<<16:
		h += 8
	case n >= 126:
		h += 2
	}
	if masked {
		h += 4
	}
	return h + n
}

// beginFrame writes the header of a single-frame text message of length
// n whose payload follows in pieces with frameData.
func (s *session) beginFrame(opcode byte, n int) {
	if s.state == stateClosed {
		return
	}
	s.txFrameStats[int(opcode)]++
	if !s.isServer {
		s.streamKey = newMaskKey()
	} else {
		s.streamKey = nil
	}
	s.streamPos = 0
	s.sendRaw(appendHeader(nil, opcode, true, 0, n, s.streamKey), 0, true)
}

func (s *session) frameData(b []byte) {
	if s.state == stateClosed {
		return
	}
	out := append([]byte(nil), b...)
	if s.streamKey != nil {
		s.streamPos = maskBytes(s.streamKey, s.streamPos, out)
	}
	s.sendRaw(out, 0, true)
}

// sendCloseFrame sends a Close frame and moves to the closing state; it
// does nothing unless the connection is open.
func (s *session) sendCloseFrame(code int, reason []byte, isReply bool) {
	if s.state != stateOpen {
		return
	}
	var payload []byte
	if code != noCode {
		payload = binary.BigEndian.AppendUint16(payload, uint16(code))
		c := code
		s.localCloseCode = &c
	}
	payload = append(payload, reason...)
	s.sendFrame(txFrame{Opcode: opClose, Fin: true, Data: payload})
	s.state = stateClosing
	s.closedByMe = !isReply
	s.localCloseReason = reason
	if s.closedByMe {
		s.closeHSTimer = s.after(closeHandshakeTimeout, func() {
			if s.state != stateClosed {
				s.wasClean = false
				s.wasNotCleanReason = "peer did not finish the closing handshake in time"
				s.wasCloseHandshakeTimeout = true
				s.drop()
			}
		})
	}
}

// sendClose is the application-level close: code and optional reason.
func (s *session) sendClose(code int, reason string) {
	var r []byte
	if reason != "" {
		r = []byte(reason)
		if len(r) > 123 {
			r = r[:123]
		}
	}
	s.sendCloseFrame(code, r, false)
}

// drop closes the TCP connection after flushing what is queued.
func (s *session) drop() {
	if s.state == stateClosed {
		return
	}
	s.droppedByMe = true
	s.state = stateClosed
	_ = s.nc.SetWriteDeadline(time.Now().Add(dropFlushTimeout))
	s.enqueue(wjob{close: true})
}

// fail fails the connection: a Close frame with code, or a drop when
// failByDrop is set or the closing handshake is already under way.
func (s *session) fail(code int, reason string) {
	if s.state == stateClosed {
		return
	}
	s.failedByMe = true
	if s.failByDrop {
		s.wasClean = false
		s.wasNotCleanReason = "I failed the WebSocket connection by dropping the TCP connection"
		s.drop()
		return
	}
	if s.state != stateClosing {
		r := []byte(reason)
		if len(r) > 123 {
			r = r[:123]
		}
		s.sendCloseFrame(code, r, false)
	} else {
		s.drop()
	}
}

// violation fails with 1002 and reports whether processing must stop.
func (s *session) violation(reason string) bool {
	s.fail(closeProtocolError, reason)
	return s.failByDrop
}

func (s *session) invalidPayload(reason string) bool {
	s.fail(closeInvalidPayload, reason)
	return s.failByDrop
}

// onFrame applies Autobahn's checks and processing to one received frame.
func (s *session) onFrame(f *rxFrame) {
	if s.state == stateClosed {
		return
	}
	// RSV1 is permessage-deflate's "compressed" bit once it is negotiated;
	// any other RSV bit, or RSV1 without it, is a violation.
	if f.rsv != 0 && !(s.pmd != nil && f.rsv == 4) && s.violation("RSV != 0 and no extension negotiated") {
		return
	}
	if s.isServer && !f.masked && s.violation("unmasked client-to-server frame") {
		return
	}
	if !s.isServer && f.masked && s.violation("masked server-to-client frame") {
		return
	}
	control := f.opcode > 7
	if control {
		if !f.fin && s.violation("fragmented control frame") {
			return
		}
		if f.len1 > 125 && s.violation("control frame with payload length > 125 octets") {
			return
		}
		if f.opcode != opClose && f.opcode != opPing && f.opcode != opPong && s.violation("control frame using reserved opcode") {
			return
		}
		if f.opcode == opClose && f.len1 == 1 && s.violation("received close control frame with payload len 1") {
			return
		}
		if s.pmd != nil && f.rsv == 4 && s.violation("received compressed control frame (permessage-deflate)") {
			return
		}
	} else {
		if f.opcode > 2 && s.violation("data frame using reserved opcode") {
			return
		}
		if !s.insideMessage && f.opcode == opContinuation && s.violation("continuation frame outside fragmented message") {
			return
		}
		if s.insideMessage && f.opcode != opContinuation && s.violation("non-continuation frame inside fragmented message") {
			return
		}
		// "An endpoint MUST NOT set the "Per-Message Compressed" bit of
		// control frames and non-first fragments of a data message. An
		// endpoint receiving such a frame MUST _Fail the WebSocket
		// Connection_." ([RFC 7692, Section 6]; the check for control
		// frames is above.)
		//
		// [RFC 7692, Section 6]: https://www.rfc-editor.org/rfc/rfc7692#section-6
		if s.pmd != nil && f.rsv == 4 && s.insideMessage && s.violation("continuation frame with the compressed bit set (permessage-deflate)") {
			return
		}
	}
	if (f.len1 == 126 && f.length < 126 || f.len1 == 127 && f.length < 65536) && s.violation("invalid data frame length (not using minimal length encoding)") {
		return
	}
	if f.len1 == 127 && f.length>>63 != 0 && s.violation("invalid data frame length (>2^63)") {
		return
	}
	if s.state == stateClosed {
		return
	}
	s.rxFrameStats[int(f.opcode)]++
	if control {
		s.processControl(f)
		return
	}
	if !s.insideMessage {
		s.insideMessage = true
		s.msgBinary = f.opcode == opBinary
		s.msgValidate = f.opcode == opText
		s.msgCompressed = s.pmd != nil && f.rsv == 4
		s.msgData = nil
		s.utf8.reset()
	}
	s.traffic.IncomingWebSocketFrames++
	s.traffic.IncomingOctetsWebSocketLevel += len(f.payload)
	s.traffic.IncomingOctetsWireLevel += wireLen(len(f.payload), f.masked)
	if s.msgCompressed {
		s.onCompressedFrame(f)
		return
	}
	s.traffic.IncomingOctetsAppLevel += len(f.payload)
	complete := true
	if s.msgValidate {
		var ok bool
		ok, complete = s.utf8.validate(f.payload)
		if !ok && s.invalidPayload("encountered invalid UTF-8 while processing text message") {
			return
		}
	}
	if !s.failedByMe {
		s.msgData = append(s.msgData, f.payload...)
	}
	if f.fin {
		if s.msgValidate && !complete && s.invalidPayload("UTF-8 text message payload ended within Unicode code point") {
			return
		}
		s.insideMessage = false
		s.traffic.IncomingWebSocketMessages++
		data := s.msgData
		s.msgData = nil
		if !s.failedByMe && s.state != stateClosed {
			s.deliverMessage(data, s.msgBinary)
		}
	}
}

// onCompressedFrame collects the frames of a compressed message and
// inflates it when the last one arrives; the text is then validated
// whole. (Autobahn inflates and validates frame by frame; a peer whose
// text or compressed data is bad gets the same verdict either way, as
// the message is never delivered.)
func (s *session) onCompressedFrame(f *rxFrame) {
	s.msgData = append(s.msgData, f.payload...)
	if !f.fin {
		return
	}
	s.insideMessage = false
	s.traffic.IncomingWebSocketMessages++
	raw := s.msgData
	s.msgData = nil
	data, err := s.pmd.inflate(raw)
	if err != nil {
		s.abort(err.Error())
		return
	}
	s.traffic.IncomingOctetsAppLevel += len(data)
	if s.msgValidate && !validUTF8(data) && s.invalidPayload("encountered invalid UTF-8 while processing text message") {
		return
	}
	if !s.failedByMe && s.state != stateClosed {
		s.deliverMessage(data, s.msgBinary)
	}
}

// abort ends the connection at once, without a Close frame: what
// happens to Autobahn when inflating the peer's data raises an error
// (Twisted drops the connection; nothing marks it as failed or dropped
// by the suite).
func (s *session) abort(reason string) {
	if s.state == stateClosed {
		return
	}
	s.wasClean = false
	s.wasNotCleanReason = "the suite dropped the TCP connection: " + reason
	s.nc.Close()
	s.connectionLost(errAborted)
}

var errAborted = errors.New("wstest: connection aborted")

func (s *session) processControl(f *rxFrame) {
	switch f.opcode {
	case opClose:
		code := noCode
		var reason []byte
		if len(f.payload) > 1 {
			code = int(binary.BigEndian.Uint16(f.payload))
			if len(f.payload) > 2 {
				reason = f.payload[2:]
			}
		}
		s.onCloseFrame(code, reason)
	case opPing:
		if s.state == stateOpen {
			s.sendFrame(txFrame{Opcode: opPong, Fin: true, Data: f.payload})
		}
	case opPong:
		s.received = append(s.received, event{Kind: "pong", Data: f.payload})
		s.finishWhenDone()
	}
}

// validCloseCode reports whether a received close code is allowed.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

func (s *session) onCloseFrame(code int, reason []byte) {
	s.remoteCloseCode = nil
	if code != noCode {
		c := code
		s.remoteCloseCode = &c
		if !validCloseCode(code) && s.violation("invalid close code") {
			return
		}
	}
	if reason != nil {
		var v utf8Validator
		if ok, _ := v.validate(reason); !ok {
			if s.invalidPayload("invalid close reason (non-UTF-8 payload)") {
				return
			}
		} else {
			r := string(reason)
			s.remoteCloseReason = &r
		}
	}
	switch s.state {
	case stateClosing:
		if s.closeHSTimer != nil {
			s.closeHSTimer.Stop()
			s.closeHSTimer = nil
		}
		s.wasClean = true
		if s.isServer {
			s.drop()
		} else {
			s.dropTimer = s.after(serverConnectionDropTimeout, func() {
				if s.state != stateClosed {
					s.wasClean = false
					s.wasNotCleanReason = "server did not drop TCP connection in time"
					s.wasServerConnectionDropTimeout = true
					s.drop()
				}
			})
		}
	case stateOpen:
		s.wasClean = true
		s.sendCloseFrame(closeNormalCode, nil, true)
		if s.isServer {
			s.drop()
		}
	case stateClosed:
		s.wasClean = false
	}
}

func (s *session) connectionLost(err error) {
	if s.lost {
		return
	}
	if s.state != stateClosed {
		s.state = stateClosed
		if !s.wasClean && !s.droppedByMe && s.wasNotCleanReason == "" {
			s.wasNotCleanReason = "peer dropped the TCP connection without previous WebSocket closing handshake"
			if errors.Is(err, errFrameTooBig) {
				s.wasNotCleanReason = err.Error()
			}
		}
	}
	s.lost = true
	s.judgeCase()
}

// deliverMessage hands a complete message to the case.
func (s *session) deliverMessage(data []byte, binary bool) {
	if s.onMessage != nil {
		s.onMessage(s, data, binary)
		return
	}
	s.received = append(s.received, event{Kind: "message", Data: data, Binary: binary})
	s.finishWhenDone()
}

// snapshotTraffic keeps the traffic statistics so far for the report.
func (s *session) snapshotTraffic() {
	t := s.traffic
	s.trafficStats = &t
}

// finishWhenDone starts the closing handshake once the received events
// equal every expected outcome, as Autobahn's Case does.
func (s *session) finishWhenDone() {
	for _, e := range s.expected {
		if !eventsEqual(s.received, e.events) {
			return
		}
	}
	if s.expClose.ClosedByMe && !s.suppressClose && len(s.expClose.CloseCode) > 0 {
		s.sendClose(s.expClose.CloseCode[0], "")
	}
}

// killAfter fails the connection (Close 1001) after d unless it is closed.
func (s *session) killAfter(d time.Duration) {
	s.after(d, func() {
		if s.state != stateClosed {
			s.fail(closeGoingAway, "Going Away")
		}
	})
}

// closeAfter starts the closing handshake (empty Close) after d.
func (s *session) closeAfter(d time.Duration) {
	s.after(d, func() {
		if s.state != stateClosed {
			s.sendClose(noCode, "")
		}
	})
}

// continueLater runs fn after d unless the connection is closed.
func (s *session) continueLater(d time.Duration, fn func()) {
	s.after(d, func() {
		if s.state != stateClosed {
			fn()
		}
	})
}

func (s *session) expect(b Behavior, events ...event) {
	s.expected = append(s.expected, expectation{behavior: b, events: events})
}

// judgeCase applies Autobahn's verdict rules when the connection is gone.
func (s *session) judgeCase() {
	for _, e := range s.expected {
		if eventsEqual(s.received, e.events) {
			s.behavior = e.behavior
			s.result = "Actual events match at least one expected."
			break
		}
	}
	ec := s.expClose
	switch {
	case ec.ClosedByMe != s.closedByMe:
		s.behaviorClose = failed
		s.resultClose = "The connection was failed by the wrong endpoint"
	case ec.RequireClean && !s.wasClean:
		s.behaviorClose = unclean
		s.resultClose = "The spec requires the connection to be failed cleanly here"
	case s.remoteCloseCode != nil && !containsInt(ec.CloseCode, *s.remoteCloseCode):
		s.behaviorClose = wrongCode
		s.resultClose = "The close code should have been one of the expected codes or empty"
	case !s.isServer && s.droppedByMe:
		s.behaviorClose = failedByClient
		s.resultClose = "It is preferred that the server close the TCP connection"
	default:
		s.behaviorClose = OK
		s.resultClose = "Connection was properly closed"
	}
	if ec.ClosedByWrongEndpointIsFatal && ec.ClosedByMe != s.closedByMe {
		s.behavior = failed
	}
	if s.judge != nil {
		s.judge(s)
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/rfc6455/websocket/frame"
)

// A logger writes whole lines to w, one at a time, for goroutines that
// report concurrently.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// A wire is the connection beneath ws's conn.Conn with -v: TCP for ws://,
// the TLS session for wss:// (ws does TLS itself, see dialTLS). It logs
// what crosses it: the HTTP heads of the opening handshake (and of a
// proxy's CONNECT) as they are, then one line per WebSocket frame,
// decoded by package frame from a copy of the bytes. It changes nothing
// of what crosses it.
type wire struct {
	net.Conn
	out, in *tapSide

	wmu sync.Mutex // held across each Write and its logging
}

// newWire wraps nc, logging to log.
func newWire(nc net.Conn, log *logger) *wire {
	return &wire{
		Conn: nc,
		// What we send arrives at a server, and the reverse.
		out: &tapSide{log: log, prefix: ">", dec: frame.Decoder{Role: frame.Server, RSV: 0x70}},
		in:  &tapSide{log: log, prefix: "<", dec: frame.Decoder{Role: frame.Client, RSV: 0x70}},
	}
}

func (w *wire) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	w.in.feed(p[:n])
	return n, err
}

func (w *wire) Write(p []byte) (int, error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	// Logged before it is written, so that -v shows the frames in the
	// order of the wire: the server's answer may arrive before Write
	// returns.
	w.out.feed(p)
	return w.Conn.Write(p)
}

// tapSide follows one direction of a tapped connection.
type tapSide struct {
	mu     sync.Mutex
	log    *logger
	prefix string

	state   int // inHead, inFrames or stopped
	head    []byte
	dec     frame.Decoder
	scratch []byte
	op      frame.Opcode
	ctrl    []byte // payload of the current control frame
}

const (
	inHead = iota
	inFrames
	stopped
)

// printf logs a line.
func (s *tapSide) printf(format string, args ...any) {
	s.log.printf(format, args...)
}

func (s *tapSide) feed(p []byte) {
	if len(p) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		switch s.state {
		case stopped:
			return
		case inHead:
			p = s.feedHead(p)
		case inFrames:
			s.feedFrames(p)
			return
		}
	}
}

// feedHead gathers an HTTP head, prints it when complete and returns the
// bytes after it.
func (s *tapSide) feedHead(p []byte) []byte {
	before := len(s.head)
	s.head = append(s.head, p...)
	end := bytes.Index(s.head, []byte("\r\n\r\n"))
	if end < 0 {
		// The client package bounds the response head it reads, and the
		// request head is ours.
		return nil
	}
	head := string(s.head[:end])
	rest := p[end+4-before:]
	s.head = s.head[:0]
	for _, line := range strings.Split(head, "\r\n") {
		s.printf("%s %s", s.prefix, line)
	}
	s.printf("%s", s.prefix)
	first, _, _ := strings.Cut(head, "\r\n")
	switch {
	case strings.HasPrefix(first, "CONNECT "):
		// A request to a proxy: the WebSocket request follows.
	case strings.HasPrefix(first, "HTTP/"):
		status := strings.Fields(first)
		switch {
		case len(status) > 1 && status[1] == "101":
			s.state = inFrames
		case len(status) > 1 && status[1] == "200":
			// A proxy's answer to CONNECT: the server's response follows.
		default:
			s.state = stopped // a refusal; its body is not frames
		}
	default:
		s.state = inFrames
	}
	return rest
}

// feedFrames decodes frames from a copy of p (the decoder unmasks in
// place) and prints one line per frame.
func (s *tapSide) feedFrames(p []byte) {
	s.scratch = append(s.scratch[:0], p...)
	b := s.scratch
	for {
		ev, chunk, n, err := s.dec.Next(b)
		b = b[n:]
		if err != nil && ev != frame.EventHeader {
			s.printf("%s unframeable bytes: %v", s.prefix, err)
			s.state = stopped
			return
		}
		switch ev {
		case frame.EventNeedMore:
			return
		case frame.EventHeader:
			h := s.dec.Header()
			s.op = h.Opcode
			s.ctrl = s.ctrl[:0]
			if err != nil {
				s.printf("%s invalid frame: %v", s.prefix, err)
			}
			if !h.Opcode.IsControl() || h.Length == 0 {
				s.printFrame(h, nil)
			}
		case frame.EventPayload:
			if s.op.IsControl() {
				s.ctrl = append(s.ctrl, chunk...)
			}
		case frame.EventEnd:
			if s.op.IsControl() && len(s.ctrl) > 0 {
				s.printFrame(s.dec.Header(), s.ctrl)
			}
		}
	}
}

// printFrame prints a frame header, and for a control frame its payload:
// the code and reason of a Close frame, the bytes of a ping or pong.
func (s *tapSide) printFrame(h frame.Header, payload []byte) {
	line := fmt.Sprintf("%s frame %s fin=%d rsv1=%d len=%d", s.prefix, opName(h.Opcode), b2i(h.Fin), b2i(h.RSV&frame.RSV1 != 0), h.Length)
	if other := h.RSV &^ frame.RSV1; other != 0 {
		line += fmt.Sprintf(" rsv=%#x", h.RSV)
	}
	switch h.Opcode {
	case frame.OpClose:
		code, reason, err := frame.ParseClose(payload)
		if err != nil {
			line += fmt.Sprintf(" (malformed: %v)", err)
		} else {
			line += fmt.Sprintf(" code=%d reason=%s", code, strconv.Quote(reason))
		}
	case frame.OpPing, frame.OpPong:
		if len(payload) > 0 {
			line += fmt.Sprintf(" payload=%x", payload)
		}
	}
	s.printf("%s", line)
}

// opName names an opcode in one word.
func opName(op frame.Opcode) string {
	switch op {
	case frame.OpContinuation:
		return "continuation"
	case frame.OpText:
		return "text"
	case frame.OpBinary:
		return "binary"
	case frame.OpClose:
		return "close"
	case frame.OpPing:
		return "ping"
	case frame.OpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode-%#x", byte(op))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

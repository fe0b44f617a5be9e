package main

// The load client: a WebSocket client of its own, the same for every
// server, doing as little as a correct client can. It writes frames
// built and masked before the run, reads the echoes through a bufio
// buffer without copying them, and compares each with the message sent.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/bench/internal/echo"
)

// Opcodes, from RFC 6455, Section 5.2.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// setLen is the number of different messages of a msgSet.
const setLen = 16

// A msgSet is the messages of a workload, all different so that an echo
// of the wrong one is caught, and their frames as the client sends
// them, built once: masked, each with a key of its own, and laid out
// twice over, so that any run of up to setLen consecutive frames,
// wrapping around, is one slice of wire.
type msgSet struct {
	size msgSize
	msgs [][]byte
	wire []byte
	off  []int // the frame of msgs[i%setLen] starts at wire[off[i]], for i ≤ 2*setLen
}

func newMsgSet(size msgSize) *msgSet {
	rng := rand.New(rand.NewPCG(6455, uint64(size.bytes)))
	s := &msgSet{size: size}
	for range setLen {
		s.msgs = append(s.msgs, echo.Message(rng, size.bytes, size.text))
	}
	op := byte(opBinary)
	if size.text {
		op = opText
	}
	for range 2 {
		for _, m := range s.msgs {
			s.off = append(s.off, len(s.wire))
			s.wire = appendFrame(s.wire, op, m, rng.Uint32())
		}
	}
	s.off = append(s.off, len(s.wire))
	return s
}

// frames returns the frames of messages i to i+k-1 (wrapping around),
// for i < setLen and k ≤ setLen.
func (s *msgSet) frames(i, k int) []byte { return s.wire[s.off[i]:s.off[i+k]] }

// appendFrame appends a final frame of p, masked with key, to dst.
func appendFrame(dst []byte, op byte, p []byte, key uint32) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(p); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n < 1<<16:
		dst = append(dst, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], key)
	dst = append(dst, k[:]...)
	for i, b := range p {
		dst = append(dst, b^k[i&3])
	}
	return dst
}

// A wsConn is a client connection.
type wsConn struct {
	nc *net.TCPConn
	br *bufio.Reader
}

// handshakeTimeout bounds a dial and opening handshake.
const handshakeTimeout = 10 * time.Second

// wsGUID is the GUID of RFC 6455, Section 1.3.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// errHandshake reports a response that is not a WebSocket upgrade
// without extensions.
var errHandshake = errors.New("bad opening handshake response")

// dialWS connects to the echo server at addr with a read buffer of
// bufSize bytes, offering no extension and no subprotocol.
func dialWS(ctx context.Context, addr string, bufSize int) (*wsConn, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &wsConn{nc: nc.(*net.TCPConn), br: bufio.NewReaderSize(nc, bufSize)}
	if err := c.handshake(ctx, addr); err != nil {
		c.closeNow()
		return nil, err
	}
	return c, nil
}

func (c *wsConn) handshake(ctx context.Context, addr string) error {
	deadline, _ := ctx.Deadline()
	c.nc.SetDeadline(deadline)
	var key [16]byte
	binary.LittleEndian.PutUint64(key[:], rand.Uint64())
	binary.LittleEndian.PutUint64(key[8:], rand.Uint64())
	k := base64.StdEncoding.EncodeToString(key[:])
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + k + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.nc.Write([]byte(req)); err != nil {
		return err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return err
	}
	sum := sha1.Sum([]byte(k + wsGUID))
	h := resp.Header
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return fmt.Errorf("%w: %s", errHandshake, resp.Status)
	case !strings.EqualFold(h.Get("Upgrade"), "websocket") || !hasToken(h.Values("Connection"), "upgrade"):
		return fmt.Errorf("%w: Upgrade %q, Connection %q", errHandshake, h.Get("Upgrade"), h.Get("Connection"))
	case h.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]):
		return fmt.Errorf("%w: Sec-WebSocket-Accept %q", errHandshake, h.Get("Sec-WebSocket-Accept"))
	case h.Get("Sec-WebSocket-Extensions") != "" || h.Get("Sec-WebSocket-Protocol") != "":
		return fmt.Errorf("%w: extensions %q and subprotocol %q, none offered", errHandshake,
			h.Get("Sec-WebSocket-Extensions"), h.Get("Sec-WebSocket-Protocol"))
	}
	return c.nc.SetDeadline(time.Time{})
}

// hasToken reports whether a comma-separated header holds token.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// closeNow closes the connection with a reset, so that neither end
// keeps it in TIME_WAIT: the idle workload opens tens of thousands of
// connections per subject, all from one loopback address.
func (c *wsConn) closeNow() {
	c.nc.SetLinger(0)
	c.nc.Close()
}

// errMismatch reports an echo that differs from the message sent.
var errMismatch = errors.New("echo differs from the message sent")

// readEcho reads the next message, which must be want, of type text or
// binary as text says. It answers pings, and fails on a Close frame.
// The payload is compared in the read buffer, not copied out of it.
func (c *wsConn) readEcho(want []byte, text bool) error {
	wantOp := byte(opBinary)
	if text {
		wantOp = opText
	}
	got := 0
	first := true
	for {
		op, fin, n, err := c.readHeader()
		if err != nil {
			return err
		}
		if op >= opClose {
			if err := c.control(op, fin, n); err != nil {
				return err
			}
			continue
		}
		switch {
		case first && op != wantOp:
			return fmt.Errorf("%w: opcode %d, want %d", errMismatch, op, wantOp)
		case !first && op != opContinuation:
			return fmt.Errorf("opcode %d inside a fragmented message", op)
		}
		first = false
		if n > int64(len(want)-got) {
			return fmt.Errorf("%w: %d bytes or more, want %d", errMismatch, int64(got)+n, len(want))
		}
		for rem := int(n); rem > 0; {
			k := min(rem, c.br.Size())
			p, err := c.br.Peek(k)
			if err != nil {
				return err
			}
			if !bytes.Equal(p, want[got:got+k]) {
				return fmt.Errorf("%w: bytes %d to %d are %.32q, want %.32q", errMismatch, got, got+k, p, want[got:got+k])
			}
			c.br.Discard(k)
			got += k
			rem -= k
		}
		if fin {
			if got != len(want) {
				return fmt.Errorf("%w: %d bytes, want %d", errMismatch, got, len(want))
			}
			return nil
		}
	}
}

// readHeader reads a frame header from the server, which must not mask
// or set RSV bits (no extension was agreed).
func (c *wsConn) readHeader() (op byte, fin bool, n int64, err error) {
	h, err := c.br.Peek(2)
	if err != nil {
		return 0, false, 0, err
	}
	b0, b1 := h[0], h[1]
	switch {
	case b0&0x70 != 0:
		return 0, false, 0, fmt.Errorf("RSV bits set (%#02x) with no extension agreed", b0)
	case b1&0x80 != 0:
		return 0, false, 0, errors.New("a masked frame from the server")
	}
	hl, n := 2, int64(b1&0x7f)
	switch n {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	if hl > 2 {
		if h, err = c.br.Peek(hl); err != nil {
			return 0, false, 0, err
		}
		if hl == 4 {
			n = int64(binary.BigEndian.Uint16(h[2:]))
		} else if u := binary.BigEndian.Uint64(h[2:]); u < 1<<62 {
			n = int64(u)
		} else {
			return 0, false, 0, fmt.Errorf("frame length %d", u)
		}
	}
	c.br.Discard(hl)
	return b0 & 0x0f, b0&0x80 != 0, n, nil
}

// control handles a control frame from the server whose header has been
// read: a ping is answered, a pong ignored, a Close is an error.
func (c *wsConn) control(op byte, fin bool, n int64) error {
	if !fin || n > 125 {
		return fmt.Errorf("control frame %d with FIN %v and %d bytes", op, fin, n)
	}
	p, err := c.br.Peek(int(n))
	if err != nil {
		return err
	}
	p = bytes.Clone(p)
	c.br.Discard(int(n))
	switch op {
	case opPing:
		_, err := c.nc.Write(appendFrame(nil, opPong, p, rand.Uint32()))
		return err
	case opPong:
		return nil
	case opClose:
		code := 0
		if len(p) >= 2 {
			code = int(binary.BigEndian.Uint16(p))
		}
		return fmt.Errorf("the server sent a Close frame, code %d", code)
	}
	return fmt.Errorf("unknown opcode %d", op)
}

// frameBuffered reports whether a whole frame is in the read buffer, so
// that reading it will not wait for the network.
func (c *wsConn) frameBuffered() bool {
	b := c.br.Buffered()
	if b < 2 {
		return false
	}
	h, _ := c.br.Peek(2)
	hl, n := 2, int(h[1]&0x7f)
	switch n {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	if b < hl {
		return false
	}
	if hl > 2 {
		h, _ = c.br.Peek(hl)
		if hl == 4 {
			n = int(binary.BigEndian.Uint16(h[2:]))
		} else {
			n = int(min(binary.BigEndian.Uint64(h[2:]), 1<<40))
		}
	}
	return b-hl >= n
}

// echoOnce sends message i of set and checks its echo.
func (c *wsConn) echoOnce(set *msgSet, i int) error {
	if _, err := c.nc.Write(set.frames(i, 1)); err != nil {
		return err
	}
	return c.readEcho(set.msgs[i], set.size.text)
}

// A loopControl steers the echo loops of a measurement.
type loopControl struct {
	record atomic.Bool // record round-trip times
	stop   atomic.Bool // send no more; return once every echo is in
}

// connStats is what one echo loop counts.
type connStats struct {
	echoed atomic.Int64    // echoes received and checked
	rtts   []time.Duration // while lc.record, with a window of 1
	_      [64]byte        // against false sharing between loops
}

// echoLoop keeps window messages in flight, cycling through set: it
// sends as many as it has read echoes of, in one Write once no whole
// frame is left in its read buffer. Once lc.stop is set it sends no more
// and returns when the echoes of all it sent are in. With a window of 1
// it records round-trip times while lc.record is set: from just before
// the Write to the end of the echo.
func (c *wsConn) echoLoop(set *msgSet, window int, lc *loopControl, st *connStats) error {
	timed := window == 1
	var t0 time.Time
	next, expect, inflight, owed := 0, 0, 0, window
	stopping := false
	for count := 0; ; count++ {
		if owed > 0 && !stopping && !c.frameBuffered() {
			if timed {
				t0 = time.Now()
			}
			for owed > 0 {
				k := min(owed, setLen)
				if _, err := c.nc.Write(set.frames(next, k)); err != nil {
					return fmt.Errorf("writing: %w", err)
				}
				next = (next + k) % setLen
				inflight += k
				owed -= k
			}
		}
		if inflight == 0 {
			return nil
		}
		if err := c.readEcho(set.msgs[expect], set.size.text); err != nil {
			return fmt.Errorf("echo %d (%d in flight): %w", count, inflight, err)
		}
		if timed && lc.record.Load() {
			st.rtts = append(st.rtts, time.Since(t0))
		}
		expect = (expect + 1) % setLen
		inflight--
		st.echoed.Add(1)
		if lc.stop.Load() {
			stopping = true
		} else {
			owed++
		}
	}
}

package frame

// An Event is what a call to [Decoder.Next] produced.
type Event uint8

// The events of a [Decoder]. Each frame gives one EventHeader, then zero
// or more EventPayload, then one EventEnd.
const (
	// EventNeedMore: every byte given was consumed and more are needed.
	EventNeedMore Event = iota
	// EventHeader: a frame header is complete; [Decoder.Header] returns it.
	EventHeader
	// EventPayload: payload bytes of the current frame, unmasked.
	EventPayload
	// EventEnd: the current frame's payload is complete.
	EventEnd
)

// A Decoder splits a byte stream into frames. It is a push decoder: the
// caller passes whatever bytes have arrived, in pieces of any size, and the
// decoder reports frame headers and payload chunks as they become
// available. It never allocates, copies at most the 13 bytes of a header
// split across pieces, and unmasks payload in place. A Decoder that returns
// [EventNeedMore] has kept everything it needs, so reading can stop there (a
// timeout, a cancelled context, an event loop going back to epoll) and
// resume later with the next bytes.
//
// The zero value decodes frames arriving at a [Server] with no reserved
// bits allowed. A Decoder is not safe for concurrent use.
type Decoder struct {
	// Role is the role of the endpoint the frames arrive at, for
	// [Header.Check].
	Role Role
	// RSV holds the reserved bits the negotiated extensions define, for
	// [Header.Check].
	RSV byte

	hdr       Header
	inFrame   bool // hdr is current; remaining payload bytes follow
	remaining int64
	maskPos   int
	partial   [MaxHeaderLen]byte
	npartial  int
}

// Next consumes bytes from the start of p and reports what they completed.
// It returns the number of bytes consumed, n, and:
//
//   - [EventNeedMore] with n == len(p): p ended inside a header (the
//     decoder kept the partial header) or p was empty.
//   - [EventHeader]: a header was completed and passed [Header.Check];
//     see [Decoder.Header].
//   - [EventPayload]: chunk holds the next payload bytes of the current
//     frame, unmasked in place; chunk aliases p[:n].
//   - [EventEnd]: the current frame is complete; n is 0.
//
// An error is a *[ProtocolError]. When [Header.Check] rejects a header,
// Next returns [EventHeader] with the error and has consumed the header, so
// a caller that has failed the connection may go on calling Next to skip
// frames while it waits for the peer's Close frame. When the header itself
// is malformed (a 64-bit length with the top bit set), n is 0 and every
// later call returns the same error: nothing after it can be framed.
func (d *Decoder) Next(p []byte) (ev Event, chunk []byte, n int, err error) {
	if d.inFrame {
		if d.remaining == 0 {
			d.inFrame = false
			return EventEnd, nil, 0, nil
		}
		if len(p) == 0 {
			return EventNeedMore, nil, 0, nil
		}
		chunk = p
		if int64(len(chunk)) > d.remaining {
			chunk = chunk[:d.remaining]
		}
		if d.hdr.Masked {
			d.maskPos = d.hdr.Key.Apply(chunk, d.maskPos)
		}
		d.remaining -= int64(len(chunk))
		return EventPayload, chunk, len(chunk), nil
	}
	if d.npartial == 0 {
		h, hn, err := ParseHeader(p)
		if err == nil {
			return d.start(h, hn)
		}
		if hn <= len(p) {
			return EventNeedMore, nil, 0, err
		}
		// Keep the partial header.
		d.npartial = copy(d.partial[:], p)
		return EventNeedMore, nil, len(p), nil
	}
	// Complete a header that began in an earlier piece.
	had := d.npartial
	d.npartial += copy(d.partial[had:], p)
	h, hn, err := ParseHeader(d.partial[:d.npartial])
	if err != nil {
		if hn <= d.npartial {
			return EventNeedMore, nil, 0, err
		}
		return EventNeedMore, nil, d.npartial - had, nil
	}
	d.npartial = 0
	return d.start(h, hn-had)
}

func (d *Decoder) start(h Header, n int) (Event, []byte, int, error) {
	d.hdr = h
	d.inFrame = true
	d.remaining = h.Length
	d.maskPos = 0
	return EventHeader, nil, n, h.Check(d.Role, d.RSV)
}

// Header returns the header of the current frame: the one the last
// [EventHeader] reported.
func (d *Decoder) Header() Header { return d.hdr }

// Remaining returns how many payload bytes of the current frame have yet
// to arrive.
func (d *Decoder) Remaining() int64 { return d.remaining }

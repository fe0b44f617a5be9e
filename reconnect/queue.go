package reconnect

import "github.com/rfc6455/websocket/conn"

// A message is a queued message: a copy of what a Write was given.
type message struct {
	typ conn.MessageType
	p   []byte
}

// A queue holds the messages written while no connection is open, oldest
// first, within a bound in messages and one in bytes (each if positive).
type queue struct {
	msgs     []message
	bytes    int64
	maxMsgs  int
	maxBytes int64
	policy   QueuePolicy
}

func (q *queue) enabled() bool { return q.maxMsgs > 0 || q.maxBytes > 0 }

// fits reports whether the queue has room for one more message of n bytes
// besides what it holds.
func (q *queue) fits(n int64) bool {
	return (q.maxMsgs <= 0 || len(q.msgs) < q.maxMsgs) && (q.maxBytes <= 0 || q.bytes+n <= q.maxBytes)
}

// push queues a copy of p, or returns ErrQueueFull, following the policy.
// A message larger than the byte bound never fits.
func (q *queue) push(typ conn.MessageType, p []byte) error {
	n := int64(len(p))
	if q.maxBytes > 0 && n > q.maxBytes {
		return ErrQueueFull
	}
	if !q.fits(n) {
		if q.policy != DropOldest {
			return ErrQueueFull
		}
		for !q.fits(n) {
			q.pop()
		}
	}
	q.msgs = append(q.msgs, message{typ: typ, p: append([]byte(nil), p...)})
	q.bytes += n
	return nil
}

// pop removes and returns the oldest message.
func (q *queue) pop() (message, bool) {
	if len(q.msgs) == 0 {
		return message{}, false
	}
	m := q.msgs[0]
	q.msgs[0] = message{}
	q.msgs = q.msgs[1:]
	q.bytes -= int64(len(m.p))
	if len(q.msgs) == 0 {
		q.msgs = nil
	}
	return m, true
}

// clear drops every queued message.
func (q *queue) clear() {
	q.msgs = nil
	q.bytes = 0
}

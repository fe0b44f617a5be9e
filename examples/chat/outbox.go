package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/rfc6455/websocket/conn"
)

// A Policy says what happens to a member whose outgoing queue is full, that
// is, to a client that reads more slowly than the room talks.
type Policy int

const (
	// DropOldest discards the oldest message still queued for the client
	// to make room for the new one. The client stays connected and is told
	// how many messages it missed by an event {"type":"dropped","count":n}
	// sent before the next message it gets.
	DropOldest Policy = iota

	// Disconnect removes the client from its room at once (its leave is
	// announced) and closes its connection with close code 1008 (policy
	// violation, RFC 6455, Section 7.4.1) and a reason that says why. The
	// messages still queued for it are discarded; it receives the Close
	// frame after the message being written, if any.
	//
	// [RFC 6455, Section 7.4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
	Disconnect
)

var policyNames = [...]string{DropOldest: "drop-oldest", Disconnect: "disconnect"}

// String returns the policy's name as the -policy flag spells it.
func (p Policy) String() string {
	if p < 0 || int(p) >= len(policyNames) {
		return fmt.Sprintf("Policy(%d)", int(p))
	}
	return policyNames[p]
}

// Set parses a policy name for the flag package.
func (p *Policy) Set(s string) error {
	for i, name := range policyNames {
		if s == name {
			*p = Policy(i)
			return nil
		}
	}
	return fmt.Errorf("chat: unknown policy %q: want drop-oldest or disconnect", s)
}

// kickReason is the reason of the Close frame sent under the Disconnect
// policy.
const kickReason = "outgoing queue full: this client reads too slowly"

// An outbox is the bounded queue of messages waiting to be written to one
// client. Producers (the room's deliveries) never block on it; one writer
// goroutine drains it.
type outbox struct {
	max    int
	policy Policy

	mu      sync.Mutex
	items   []*conn.PreparedMessage // oldest first, len(items) <= max
	dropped int                     // messages discarded since the writer last took one
	closed  bool
	ready   chan struct{} // has a value when items or closed changed
}

func newOutbox(max int, policy Policy) *outbox {
	return &outbox{max: max, policy: policy, ready: make(chan struct{}, 1)}
}

// push queues pm. It reports false if the queue is full under the
// Disconnect policy (or closed): the client must then be dropped.
func (o *outbox) push(pm *conn.PreparedMessage) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	if len(o.items) >= o.max {
		if o.policy == Disconnect {
			return false
		}
		o.items[0] = nil
		o.items = o.items[1:]
		o.dropped++
	}
	o.items = append(o.items, pm)
	o.signal()
	return true
}

func (o *outbox) signal() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

// close makes pop return false from now on; queued messages are discarded.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.items = nil
	o.signal()
	o.mu.Unlock()
}

// pop waits for the next message and returns it with the number of
// messages dropped before it. It returns ok false once the outbox is
// closed or ctx ends.
func (o *outbox) pop(ctx context.Context) (pm *conn.PreparedMessage, dropped int, ok bool) {
	for {
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			return nil, 0, false
		}
		if len(o.items) > 0 {
			pm = o.items[0]
			o.items[0] = nil
			o.items = o.items[1:]
			dropped, o.dropped = o.dropped, 0
			o.mu.Unlock()
			return pm, dropped, true
		}
		o.mu.Unlock()
		select {
		case <-o.ready:
		case <-ctx.Done():
			return nil, 0, false
		}
	}
}

package main

import (
	"context"
	"sync"
	"time"
)

// An event is what the server sends to clients, one JSON object per text
// message, and what nodes exchange through the bus. Type is one of:
//
//	welcome  first event of a connection: the client's own ID and Name
//	message  a chat message: sender ID and Name, the sender's Seq (1, 2, ...
//	         for each connection), Text and Time; History is set for the
//	         messages sent before the client joined
//	join     a member joined the room (ID, Name)
//	leave    a member left the room (ID, Name)
//	dropped  Count messages were discarded because the client read too
//	         slowly (the drop-oldest policy)
//
// Clients send {"text": "..."} to say something.
type event struct {
	Type    string    `json:"type"`
	Room    string    `json:"room,omitempty"`
	ID      string    `json:"id,omitempty"`
	Name    string    `json:"name,omitempty"`
	Seq     uint64    `json:"seq,omitempty"`
	Text    string    `json:"text,omitempty"`
	Time    time.Time `json:"time,omitzero"`
	History bool      `json:"history,omitempty"`
	Count   int       `json:"count,omitempty"`
}

// A bus carries the events of rooms between the nodes of a chat: memBus
// within one process, natsBus between processes.
type bus interface {
	// publish sends ev to every subscriber of room, on every node. A
	// message (Type "message") is stored for the history before publish
	// returns; presence events are not stored.
	publish(ctx context.Context, room string, ev *event) error

	// subscribe calls deliver with every event of room: first the stored
	// messages, with History set, then every event published from then on,
	// each exactly once. Messages come in the order they were stored, so
	// each sender's in the order it sent them; deliver may be called for a
	// presence event concurrently with a message. deliver must not
	// block or publish. stop ends the subscription: no deliver call
	// starts once it has returned, though one for a presence event may
	// still be finishing.
	subscribe(room string, deliver func(*event)) (stop func(), err error)
}

// memBus is the bus of a chat that runs alone, in memory: it keeps the last
// messages of every room it has seen for as long as the process runs.
type memBus struct {
	history int

	mu    sync.Mutex
	rooms map[string]*memRoom
}

type memRoom struct {
	log  []event // the last history messages or more, oldest first
	subs map[*memSub]struct{}
}

type memSub struct{ deliver func(*event) }

func newMemBus(history int) *memBus {
	return &memBus{history: history, rooms: make(map[string]*memRoom)}
}

func (b *memBus) room(name string) *memRoom {
	r := b.rooms[name]
	if r == nil {
		r = &memRoom{subs: make(map[*memSub]struct{})}
		b.rooms[name] = r
	}
	return r
}

func (b *memBus) publish(_ context.Context, room string, ev *event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.room(room)
	if ev.Type == "message" {
		r.log = append(r.log, *ev)
		if len(r.log) >= 2*b.history { // trimmed in O(1) per message
			r.log = append(r.log[:0], r.log[len(r.log)-b.history:]...)
		}
	}
	for s := range r.subs {
		e := *ev
		s.deliver(&e)
	}
	return nil
}

func (b *memBus) subscribe(room string, deliver func(*event)) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.room(room)
	for _, ev := range r.log[max(0, len(r.log)-b.history):] {
		ev.History = true
		deliver(&ev)
	}
	s := &memSub{deliver: deliver}
	r.subs[s] = struct{}{}
	return func() {
		b.mu.Lock()
		delete(r.subs, s)
		b.mu.Unlock()
	}, nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The NATS names the chat uses. Messages of room R go to the subject
// chat.room.R, which the JetStream stream "CHAT" stores (the last -history
// per room); presence events go to chat.presence.R, which nothing stores.
const (
	streamName      = "CHAT"
	roomSubject     = "chat.room."
	presenceSubject = "chat.presence."
)

// natsBus is the bus of a chat whose nodes share a NATS server with
// JetStream. A node delivers to its clients only what comes back from NATS,
// its own clients' messages included, never straight from the sender: so
// every node delivers the same messages in the same order, each once.
type natsBus struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
}

// opTimeout bounds each request a node makes to NATS.
const opTimeout = 5 * time.Second

// newNATSBus creates or updates the stream that keeps the last history
// messages of each room, and returns a bus over nc. The caller keeps
// ownership of nc and closes it after the hub using the bus.
func newNATSBus(ctx context.Context, nc *nats.Conn, history int) (*natsBus, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("chat: jetstream: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              streamName,
		Description:       "the last messages of every chat room",
		Subjects:          []string{roomSubject + ">"},
		MaxMsgsPerSubject: int64(history),
		Storage:           jetstream.FileStorage,
		Discard:           jetstream.DiscardOld,
	})
	if err != nil {
		return nil, fmt.Errorf("chat: creating JetStream stream %s: %w", streamName, err)
	}
	return &natsBus{nc: nc, js: js, stream: s}, nil
}

func (b *natsBus) publish(ctx context.Context, room string, ev *event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if ev.Type != "message" {
		return b.nc.Publish(presenceSubject+room, data)
	}
	// Waiting for the stream's acknowledgement keeps one sender's messages
	// in the order it sent them, and means a message is stored (and will be
	// in the history) before the sender's next one is read.
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := b.js.Publish(ctx, roomSubject+room, data, jetstream.WithExpectStream(streamName)); err != nil {
		return fmt.Errorf("chat: publishing to %s: %w", roomSubject+room, err)
	}
	return nil
}

func (b *natsBus) subscribe(room string, deliver func(*event)) (stop func(), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	subject := roomSubject + room

	// Messages stored up to now are the history. Those stored later, even
	// before the consumer below starts, are live.
	var last uint64
	switch m, err := b.stream.GetLastMsgForSubject(ctx, subject); {
	case err == nil:
		last = m.Sequence
	case !errors.Is(err, jetstream.ErrMsgNotFound):
		return nil, fmt.Errorf("chat: reading the history of %s: %w", subject, err)
	}

	// Presence first. The flush waits until the server has registered
	// the subscription, so that the joining member hears every join
	// published from now on, on any node.
	psub, err := b.nc.Subscribe(presenceSubject+room, func(m *nats.Msg) {
		var ev event
		if json.Unmarshal(m.Data, &ev) == nil {
			deliver(&ev)
		}
	})
	if err == nil {
		if err = b.nc.FlushWithContext(ctx); err != nil {
			psub.Unsubscribe()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("chat: subscribing to %s: %w", presenceSubject+room, err)
	}

	// An ordered consumer delivers the stream's messages on subject in
	// stream order, each once: it recreates itself from the last sequence
	// it delivered if a message goes missing or the connection drops.
	cons, err := b.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		psub.Unsubscribe()
		return nil, fmt.Errorf("chat: consuming %s: %w", subject, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		var ev event
		if json.Unmarshal(m.Data(), &ev) != nil {
			return
		}
		ev.History = md.Sequence.Stream <= last
		deliver(&ev)
	})
	if err != nil {
		psub.Unsubscribe()
		return nil, fmt.Errorf("chat: consuming %s: %w", subject, err)
	}
	return func() {
		psub.Unsubscribe()
		cc.Stop()
		<-cc.Closed()
	}, nil
}

package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
	"github.com/rfc6455/websocket/wsjson"
)

//go:embed index.html
var page []byte

// options configure a hub.
type options struct {
	// History is how many messages of each room are kept and sent to a
	// client when it joins.
	History int

	// Queue is how many messages may wait for one client beyond the
	// history sent on join; Policy says what happens when one more comes.
	Queue  int
	Policy Policy

	// Logf, if not nil, logs connections and failures.
	Logf func(format string, args ...any)
}

// connOptions are the WebSocket options of the chat's connections.
// Compression leaves out the server's context takeover so that a broadcast
// PreparedMessage is compressed once for all the clients rather than once
// per client (RFC 7692, Section 7.1.1); a write that waits longer than
// WriteTimeout on a client that stopped reading closes that connection.
//
// [RFC 7692, Section 7.1.1]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.1
var connOptions = &server.Options{
	Compression: &conn.Compression{ServerNoContextTakeover: true},
	Conn: conn.Options{
		ReadLimit:         16 << 10,
		KeepaliveInterval: 30 * time.Second,
		WriteTimeout:      10 * time.Second,
	},
}

// Limits on what clients send.
const (
	maxText = 4000 // bytes of a message's text
	maxName = 32   // bytes of a name
)

// validRoom matches what a room may be called: a single NATS subject
// token.
var validRoom = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// A hub is one node of the chat: it serves the page at / and the WebSocket
// of room R at /ws/R (?name=N names the client), and exchanges the rooms'
// events with the other nodes through its bus.
type hub struct {
	opts options
	bus  bus
	ws   *server.Handler
	mux  *http.ServeMux

	mu    sync.Mutex
	rooms map[string]*room // rooms with a member on this node
}

// A room is a room with members on this node.
type room struct {
	name string

	// ready is closed once the bus subscription is made, or has failed
	// with err; stop ends it.
	ready chan struct{}
	err   error
	stop  func()

	mu      sync.Mutex
	members map[*member]struct{}
	history []event // the last opts.History messages or more, oldest first
}

// A member is one client's connection.
type member struct {
	id, name string
	c        *conn.Conn
	out      *outbox
	seq      uint64 // messages sent; only the reading goroutine uses it

	kickOnce  sync.Once
	leaveOnce sync.Once
	wg        sync.WaitGroup // the writer and the kicker
}

func newHub(b bus, opts options) (*hub, error) {
	if opts.History < 1 {
		return nil, fmt.Errorf("chat: history is %d; it must be at least 1", opts.History)
	}
	if opts.Queue < 1 {
		return nil, fmt.Errorf("chat: queue is %d; it must be at least 1", opts.Queue)
	}
	if opts.Policy.String() != policyNames[DropOldest] && opts.Policy.String() != policyNames[Disconnect] {
		return nil, fmt.Errorf("chat: unknown policy %v", opts.Policy)
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	h := &hub{opts: opts, bus: b, rooms: make(map[string]*room)}
	h.ws = &server.Handler{
		Options: connOptions,
		Serve:   h.serve,
		OnUpgradeError: func(r *http.Request, err error) {
			opts.Logf("chat: %s %s: %v", r.RemoteAddr, r.URL.Path, err)
		},
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	h.mux.HandleFunc("/ws/{room}", func(w http.ResponseWriter, r *http.Request) {
		if !validRoom.MatchString(r.PathValue("room")) {
			http.Error(w, "chat: a room name is 1 to 64 letters, digits, '-' or '_'", http.StatusBadRequest)
			return
		}
		if name := r.URL.Query().Get("name"); len(name) > maxName || !utf8.ValidString(name) {
			http.Error(w, fmt.Sprintf("chat: a name is at most %d bytes of UTF-8", maxName), http.StatusBadRequest)
			return
		}
		h.ws.ServeHTTP(w, r)
	})
	return h, nil
}

// ServeHTTP serves the page and the rooms' WebSockets.
func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Shutdown closes every connection with 1001 (going away) and waits for
// them to end, or for ctx. The bus outlives the hub: close it afterwards.
func (h *hub) Shutdown(ctx context.Context) error { return h.ws.Shutdown(ctx) }

// serve runs one client: it joins the room, starts the writer, and reads
// the client's messages until the connection ends.
func (h *hub) serve(c *conn.Conn, r *http.Request) {
	m := &member{
		id:   newID(),
		name: r.URL.Query().Get("name"),
		c:    c,
		out:  newOutbox(h.opts.Queue+h.opts.History, h.opts.Policy),
	}
	if m.name == "" {
		m.name = "anon-" + m.id[:4]
	}
	roomName := r.PathValue("room")
	h.opts.Logf("chat: %s joins %s as %s (%s), extensions %q", c.RemoteAddr(), roomName, m.name, m.id, c.Extensions())

	// The writer and a kicker end before serve returns: the outbox is
	// closed, the writer's context cancelled, and the kicker's waits are
	// bounded by the Conn's CloseTimeout.
	ctx, cancel := context.WithCancel(context.Background())
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		h.write(ctx, m)
	}()
	defer func() {
		m.out.close()
		cancel()
		m.wg.Wait()
	}()

	rm, err := h.join(m, roomName)
	if err != nil {
		h.opts.Logf("chat: %s: %v", m.id, err)
		c.Close(conn.CloseInternalServerErr, "cannot join the room")
		return
	}
	if err := h.bus.publish(ctx, roomName, &event{Type: "join", Room: roomName, ID: m.id, Name: m.name}); err != nil {
		h.opts.Logf("chat: %s: announcing join: %v", m.id, err)
	}
	err = h.read(ctx, m, roomName)
	h.opts.Logf("chat: %s leaves %s: %v", m.id, roomName, err)
	h.leave(m, rm)
	h.announceLeave(m, roomName)
}

// read publishes the client's messages until the connection ends.
func (h *hub) read(ctx context.Context, m *member, roomName string) error {
	for {
		var in struct {
			Text string `json:"text"`
		}
		if err := wsjson.Read(ctx, m.c, &in); err != nil {
			// wsjson.Read leaves the connection open when the message
			// was binary or not the JSON expected.
			if m.c.State() == conn.Open {
				m.c.Close(conn.CloseUnsupportedData, `send JSON text messages such as {"text":"hi"}`)
			}
			return err
		}
		if in.Text == "" {
			continue
		}
		if len(in.Text) > maxText {
			m.c.Close(conn.CloseMessageTooBig, fmt.Sprintf("a message's text is at most %d bytes", maxText))
			return fmt.Errorf("chat: text of %d bytes", len(in.Text))
		}
		m.seq++
		ev := &event{Type: "message", Room: roomName, ID: m.id, Name: m.name, Seq: m.seq, Text: in.Text, Time: time.Now().UTC()}
		if err := h.bus.publish(ctx, roomName, ev); err != nil {
			m.c.Close(conn.CloseInternalServerErr, "the message could not be delivered")
			return err
		}
	}
}

// write sends what the member's outbox holds until it is closed or a write
// fails.
func (h *hub) write(ctx context.Context, m *member) {
	for {
		pm, dropped, ok := m.out.pop(ctx)
		if !ok {
			return
		}
		var err error
		if dropped > 0 {
			err = wsjson.Write(ctx, m.c, &event{Type: "dropped", Count: dropped})
		}
		if err == nil {
			err = m.c.WritePrepared(ctx, pm)
		}
		if err != nil {
			// A failed write has closed the connection, or a closing
			// handshake is under way, which aborting would cut short (the
			// peer might then miss the Close frame). Should the connection
			// still be open, end it, so that the reader ends too.
			if m.c.State() == conn.Open {
				m.c.CloseNow()
			}
			return
		}
	}
}

// join adds m to the room, queueing the welcome and the room's history for
// it, and subscribes the node to the room if m is its first member here.
// The subscription is made without holding the hub's lock, so that joining
// one room never waits for NATS to answer about another.
func (h *hub) join(m *member, name string) (*room, error) {
	welcome, err := prepare(&event{Type: "welcome", Room: name, ID: m.id, Name: m.name})
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	r := h.rooms[name]
	first := r == nil
	if first {
		r = &room{name: name, ready: make(chan struct{}), members: make(map[*member]struct{})}
		h.rooms[name] = r
	}
	// A later member gets the history this node has seen, then what comes
	// next; the first gets both from the subscription. Either way the
	// snapshot and the membership change together, under r.mu, so nothing
	// is missed or repeated.
	r.mu.Lock()
	m.out.push(welcome)
	for _, ev := range r.history[max(0, len(r.history)-h.opts.History):] {
		ev.History = true
		pm, err := prepare(&ev)
		if err == nil {
			m.out.push(pm)
		}
	}
	r.members[m] = struct{}{}
	r.mu.Unlock()
	h.mu.Unlock()

	if first {
		r.stop, r.err = h.bus.subscribe(name, func(ev *event) { h.deliver(r, ev) })
		if r.err != nil {
			h.mu.Lock()
			if h.rooms[name] == r {
				delete(h.rooms, name)
			}
			h.mu.Unlock()
		}
		close(r.ready)
	}
	<-r.ready
	if r.err != nil {
		return nil, r.err
	}
	return r, nil
}

// leave removes m from r, and unsubscribes from the room if no member is
// left on this node.
func (h *hub) leave(m *member, r *room) {
	h.mu.Lock()
	r.mu.Lock()
	delete(r.members, m)
	empty := len(r.members) == 0
	r.mu.Unlock()
	last := empty && h.rooms[r.name] == r
	if last {
		delete(h.rooms, r.name)
	}
	h.mu.Unlock()
	if last {
		<-r.ready // a member that joined has seen it closed
		if r.err == nil {
			r.stop()
		}
	}
}

// deliver hands an event from the bus to every member of r on this node.
// It never blocks on a client: a full outbox drops a message or the client.
func (h *hub) deliver(r *room, ev *event) {
	pm, err := prepare(ev)
	if err != nil {
		h.opts.Logf("chat: %v", err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Type == "message" {
		// Kept up to twice as long as needed, so that trimming costs O(1)
		// per message.
		r.history = append(r.history, *ev)
		if len(r.history) >= 2*h.opts.History {
			r.history = append(r.history[:0], r.history[len(r.history)-h.opts.History:]...)
		}
	}
	for m := range r.members {
		if !m.out.push(pm) {
			delete(r.members, m)
			h.kick(m, r.name)
		}
	}
}

// kick drops a member whose outbox overflowed under the Disconnect policy:
// it announces the leave and closes the connection with 1008, in a
// goroutine of the member's, since the Close frame waits behind the frame
// being written to the slow client.
func (h *hub) kick(m *member, roomName string) {
	m.kickOnce.Do(func() {
		m.out.close()
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			h.opts.Logf("chat: %s: %s", m.id, kickReason)
			h.announceLeave(m, roomName)
			m.c.Close(conn.ClosePolicyViolation, kickReason)
		}()
	})
}

// announceLeave publishes m's leave, once.
func (h *hub) announceLeave(m *member, roomName string) {
	m.leaveOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := h.bus.publish(ctx, roomName, &event{Type: "leave", Room: roomName, ID: m.id, Name: m.name}); err != nil {
			h.opts.Logf("chat: %s: announcing leave: %v", m.id, err)
		}
	})
}

// prepare encodes ev as a message ready for every connection.
func prepare(ev *event) (*conn.PreparedMessage, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("chat: encoding %s event: %w", ev.Type, err)
	}
	return conn.NewPreparedMessage(conn.Text, data)
}

// newID returns a random member ID, unique across nodes in practice.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

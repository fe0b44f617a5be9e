package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"errors"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/wsjson"
)

// wait bounds every wait of a test for something that should happen.
const wait = 10 * time.Second

// startNATS starts an in-process NATS server with JetStream on a random
// loopback port, storing in a directory of the test's, and returns its URL.
func startNATS(t testing.TB) string {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(wait) {
		t.Fatal("NATS server not ready")
	}
	return ns.ClientURL()
}

// A node is one chat process of a test: a hub on a loopback port.
type node struct {
	hub *hub
	srv *httptest.Server
	nc  *nats.Conn // nil for a memory bus
}

// startNode starts a node over NATS at natsURL, or over mem if natsURL is "".
// listen, if not nil, wraps the node's listener.
func startNode(t testing.TB, natsURL string, mem *memBus, opts options, listen func(net.Listener) net.Listener) *node {
	t.Helper()
	n := &node{}
	var b bus = mem
	if natsURL != "" {
		nc, err := nats.Connect(natsURL)
		if err != nil {
			t.Fatal(err)
		}
		n.nc = nc
		if b, err = newNATSBus(context.Background(), nc, opts.History); err != nil {
			nc.Close()
			t.Fatal(err)
		}
	}
	if _, ok := t.(*testing.T); ok {
		opts.Logf = t.Logf
	}
	h, err := newHub(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	n.hub = h
	n.srv = httptest.NewUnstartedServer(h)
	if listen != nil {
		n.srv.Listener = listen(n.srv.Listener)
	}
	n.srv.Start()
	t.Cleanup(n.stop)
	return n
}

// stop shuts the node down as main does, and checks that none of its
// goroutines is left. It may be called more than once.
func (n *node) stop() {
	if n.hub == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	n.hub.Shutdown(ctx)
	n.srv.Close()
	if n.nc != nil {
		n.nc.Close()
	}
	n.hub = nil
}

// ourGoroutines returns the stacks of the goroutines running the hub's
// code.
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var ours []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		for _, fn := range []string{"chat.(*hub)", "chat.(*outbox)", "chat.(*natsBus)", "chat.(*memBus)"} {
			if strings.Contains(g, fn) {
				ours = append(ours, g)
				break
			}
		}
	}
	return ours
}

// checkNoGoroutines fails the test if goroutines of the hub are still
// running once every node of the test has stopped.
func checkNoGoroutines(t testing.TB) {
	t.Cleanup(func() {
		deadline := time.Now().Add(wait)
		for {
			left := ourGoroutines()
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutines left after the nodes stopped:\n%s", len(left), strings.Join(left, "\n\n"))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// A member is a test's client: a goroutine reads its events into a channel.
type tclient struct {
	t       testing.TB
	name    string
	c       *conn.Conn
	id      string     // from the welcome
	events  chan event // every event after the welcome, closed when reading fails
	readErr error      // why reading ended, once events is closed
	start   chan struct{}
}

// dial connects a client named name to room on n and waits for its
// welcome. If paused, the client reads nothing more until resume.
func dial(t testing.TB, n *node, room, name string, paused bool, dialer func(ctx context.Context, network, addr string) (net.Conn, error)) *tclient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	u := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/ws/" + room + "?name=" + name
	c, _, err := client.Dial(ctx, u, &client.Options{DialContext: dialer})
	if err != nil {
		t.Fatalf("dialing %s: %v", u, err)
	}
	var w event
	if err := wsjson.Read(ctx, c, &w); err != nil {
		t.Fatalf("%s: reading welcome: %v", name, err)
	}
	if w.Type != "welcome" || w.Name != name || w.Room != room || w.ID == "" {
		t.Fatalf("%s: first event %+v, want a welcome to %s in %s", name, w, name, room)
	}
	cl := &tclient{t: t, name: name, c: c, id: w.ID, events: make(chan event, 100000), start: make(chan struct{})}
	if !paused {
		close(cl.start)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(cl.events)
		<-cl.start
		for {
			var ev event
			if err := wsjson.Read(context.Background(), c, &ev); err != nil {
				cl.readErr = err
				return
			}
			cl.events <- ev
		}
	}()
	t.Cleanup(func() {
		cl.resume()
		c.CloseNow()
		<-done
	})
	return cl
}

func (cl *tclient) resume() {
	select {
	case <-cl.start:
	default:
		close(cl.start)
	}
}

func (cl *tclient) send(text string) {
	cl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := wsjson.Write(ctx, cl.c, map[string]string{"text": text}); err != nil {
		cl.t.Fatalf("%s: sending %q: %v", cl.name, text, err)
	}
}

// until returns the client's events up to and including the first for
// which stop is true.
func (cl *tclient) until(stop func(event) bool) []event {
	cl.t.Helper()
	var got []event
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-cl.events:
			if !ok {
				cl.t.Fatalf("%s: connection ended (%v) after %d events, waiting for more", cl.name, cl.readErr, len(got))
			}
			got = append(got, ev)
			if stop(ev) {
				return got
			}
		case <-timeout:
			cl.t.Fatalf("%s: waited %v; got %d events, the last %+v", cl.name, wait, len(got), last(got))
		}
	}
}

func last(evs []event) event {
	if len(evs) == 0 {
		return event{}
	}
	return evs[len(evs)-1]
}

func isText(text string) func(event) bool {
	return func(ev event) bool { return ev.Type == "message" && ev.Text == text }
}

// messages returns the messages among evs, by sender ID.
func messages(evs []event) map[string][]event {
	m := make(map[string][]event)
	for _, ev := range evs {
		if ev.Type == "message" {
			m[ev.ID] = append(m[ev.ID], ev)
		}
	}
	return m
}

// checkSent checks that msgs are exactly the n messages sender sent, each
// once and in order, with their History flag as wanted.
func checkSent(t *testing.T, who string, msgs []event, sender *tclient, n int, history bool) {
	t.Helper()
	if len(msgs) != n {
		t.Errorf("%s got %d messages from %s, want %d", who, len(msgs), sender.name, n)
	}
	for i, ev := range msgs {
		want := fmt.Sprintf("%s %d", sender.name, i+1)
		if ev.Text != want || ev.Seq != uint64(i+1) || ev.Name != sender.name || ev.History != history {
			t.Errorf("%s: message %d from %s is %q seq %d history %v, want %q seq %d history %v",
				who, i+1, sender.name, ev.Text, ev.Seq, ev.History, want, i+1, history)
			return
		}
	}
}

// setups are the two ways nodes share a chat: one NATS server, or one
// memory bus in the same process.
var setups = []struct {
	name  string
	nodes func(t testing.TB, opts options) (a, b *node)
}{{
	name: "nats",
	nodes: func(t testing.TB, opts options) (a, b *node) {
		u := startNATS(t)
		return startNode(t, u, nil, opts, nil), startNode(t, u, nil, opts, nil)
	},
}, {
	name: "memory",
	nodes: func(t testing.TB, opts options) (a, b *node) {
		mem := newMemBus(opts.History)
		return startNode(t, "", mem, opts, nil), startNode(t, "", mem, opts, nil)
	},
}}

// TestRoom has members on two nodes talk at once: every member gets every
// message once, each sender's in order, sees who joined, and a member who
// joins later gets the history.
func TestRoom(t *testing.T) {
	for _, setup := range setups {
		t.Run(setup.name, func(t *testing.T) {
			checkNoGoroutines(t)
			const perSender = 40
			a, b := setup.nodes(t, options{History: 1000, Queue: 1000})

			// Each member sees its own join first, then the joins of
			// those after it, and nothing else meanwhile.
			var members []*tclient
			for _, j := range []struct {
				n    *node
				name string
			}{{a, "a1"}, {a, "a2"}, {b, "b1"}, {b, "b2"}} {
				m := dial(t, j.n, "lobby", j.name, false, nil)
				members = append(members, m)
				for _, e := range members {
					evs := e.until(func(ev event) bool { return ev.Type == "join" })
					if len(evs) != 1 || evs[0].ID != m.id || evs[0].Name != m.name || evs[0].Room != "lobby" {
						t.Errorf("%s saw %+v, want only the join of %s (%s)", e.name, evs, m.name, m.id)
					}
				}
			}
			a1, a2, b1, b2 := members[0], members[1], members[2], members[3]
			senders := []*tclient{a1, b1, b2}
			other := dial(t, b, "other", "o1", false, nil) // in another room: sees none of it

			var wg sync.WaitGroup
			for _, s := range senders {
				wg.Go(func() {
					for i := 1; i <= perSender; i++ {
						s.send(fmt.Sprintf("%s %d", s.name, i))
					}
				})
			}
			wg.Wait()
			// Once every sender has its own last message back, every
			// message is stored; "done" comes after them all.
			before := make(map[*tclient][]event)
			for _, s := range senders {
				before[s] = s.until(isText(fmt.Sprintf("%s %d", s.name, perSender)))
			}
			a2.send("done")
			for _, m := range members {
				got := messages(append(before[m], m.until(isText("done"))...))
				for _, s := range senders {
					checkSent(t, m.name, got[s.id], s, perSender, false)
				}
			}

			// Late joiners, on a node where the room is active, get the
			// history, then what is said next.
			for _, n := range []*node{a, b} {
				late := dial(t, n, "lobby", "late", false, nil)
				evs := late.until(isText("done"))
				got := messages(evs)
				for _, s := range senders {
					checkSent(t, "late", got[s.id], s, perSender, true)
				}
				after := "after " + n.srv.URL
				a2.send(after)
				if ev := last(late.until(isText(after))); ev.History {
					t.Errorf("late joiner got %+v as history, want it live", ev)
				}
				late.c.Close(conn.CloseNormalClosure, "")
				if ev := last(a1.until(func(ev event) bool { return ev.Type == "leave" })); ev.ID != late.id {
					t.Errorf("a1 saw %+v, want the late joiner %s leave", ev, late.id)
				}
			}

			other.send("elsewhere")
			if evs := other.until(isText("elsewhere")); len(messages(evs)[other.id]) != len(evs)-1 {
				t.Errorf("a member of another room got %+v", evs)
			}
		})
	}
}

// smallBuffers makes the kernel hold little of what a node writes to the
// first client it accepts, so that this client, when it stops reading,
// fills its outbox quickly.
type smallBuffers struct {
	net.Listener
	once  sync.Once
	first chan *net.TCPConn
}

func (l *smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		l.once.Do(func() {
			tc.SetWriteBuffer(4096)
			l.first <- tc
		})
	}
	return c, err
}

// dialSmall returns a dial function that gives the connection it makes a
// small receive buffer, for the same reason, and sends it on dialed.
func dialSmall(dialed chan<- *net.TCPConn) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := new(net.Dialer).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
			dialed <- tc
		}
		return c, err
	}
}

// randomText returns n letters that do not compress much.
func randomText(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(rand.IntN(26))
	}
	return string(b)
}

// TestSlowClient has a member stop reading while another sends far more
// than its outbox and the kernel's buffers hold: the member is dropped or
// skips messages, as the policy says, and the others get everything.
func TestSlowClient(t *testing.T) {
	const sent = 150
	for _, policy := range []Policy{DropOldest, Disconnect} {
		for _, setup := range []string{"nats", "memory"} {
			t.Run(policy.String()+"/"+setup, func(t *testing.T) {
				checkNoGoroutines(t)
				var natsURL string
				var mem *memBus
				if setup == "nats" {
					natsURL = startNATS(t)
				} else {
					mem = newMemBus(1)
				}
				accepted, dialed := make(chan *net.TCPConn, 1), make(chan *net.TCPConn, 1)
				n := startNode(t, natsURL, mem, options{History: 1, Queue: 8, Policy: policy}, func(l net.Listener) net.Listener {
					return &smallBuffers{Listener: l, first: accepted}
				})
				slow := dial(t, n, "r", "slow", true, dialSmall(dialed))
				// Large buffers again once the outbox has filled, so that
				// the slow member catches up quickly.
				bigBuffers := func() {
					(<-accepted).SetWriteBuffer(1 << 20)
					(<-dialed).SetReadBuffer(1 << 20)
				}
				fast := dial(t, n, "r", "fast", false, nil)
				sender := dial(t, n, "r", "sender", false, nil)
				// In step with the members who read, whose outboxes never
				// fill.
				pad := randomText(3000)
				var got []event
				for i := 1; i <= sent; i++ {
					sender.send(fmt.Sprintf("sender %d", i) + "\n" + pad)
					isSent := func(ev event) bool { return ev.Type == "message" && ev.Seq == uint64(i) }
					got = append(got, fast.until(isSent)...)
					sender.until(isSent)
				}
				if policy == Disconnect {
					// The slow member's leave is announced at once.
					if !slices.ContainsFunc(got, func(ev event) bool { return ev.Type == "leave" && ev.ID == slow.id }) {
						got = append(got, fast.until(func(ev event) bool { return ev.Type == "leave" })...)
						if ev := last(got); ev.ID != slow.id {
							t.Errorf("fast saw %+v, want the slow member %s leave", ev, slow.id)
						}
					}
				}
				for i, ev := range messages(got)[sender.id] {
					if want := fmt.Sprintf("sender %d\n", i+1); !strings.HasPrefix(ev.Text, want) || ev.Seq != uint64(i+1) {
						t.Fatalf("fast got message %d %q, want %q", ev.Seq, ev.Text[:min(len(ev.Text), 12)], want)
					}
				}

				bigBuffers()
				slow.resume()
				var msgs, dropped int
				lastSeq := uint64(0)
				for {
					ev, ok := <-slow.events
					if !ok {
						break
					}
					switch ev.Type {
					case "dropped":
						dropped += ev.Count
					case "message":
						msgs++
						if ev.Seq <= lastSeq {
							t.Fatalf("slow got message %d after %d", ev.Seq, lastSeq)
						}
						// Every gap was announced.
						if gap := int(ev.Seq - lastSeq - 1); gap > dropped {
							t.Errorf("slow got message %d after %d with %d drops announced", ev.Seq, lastSeq, dropped)
						}
						lastSeq = ev.Seq
					}
					if policy == DropOldest && ev.Seq == sent {
						break
					}
				}
				switch policy {
				case DropOldest:
					// Still a member: it hears what is said next.
					if lastSeq != sent || msgs == sent || dropped < sent-msgs {
						t.Errorf("slow got %d messages up to %d with %d drops announced, want the last (%d) and gaps announced", msgs, lastSeq, dropped, sent)
					}
					sender.send("still there?")
					slow.until(isText("still there?"))
				case Disconnect:
					var ce *conn.CloseError
					if !errors.As(slow.readErr, &ce) || ce.Code != conn.ClosePolicyViolation || ce.Reason != kickReason {
						t.Errorf("slow's connection ended with %v, want a close with 1008 %q", slow.readErr, kickReason)
					}
					if msgs >= sent || dropped != 0 {
						t.Errorf("slow got %d messages and %d drops announced before being closed, want fewer than %d, none dropped", msgs, dropped, sent)
					}
				}
				// The others were not held up: the fast member hears on.
				sender.send("bye")
				fast.until(isText("bye"))
			})
		}
	}
}

// TestNodeRestart stops one of two nodes: its members are told it is going
// away, the room goes on through the other node, and a member who joins the
// restarted node gets the whole history, what was said while it was down
// included.
func TestNodeRestart(t *testing.T) {
	checkNoGoroutines(t)
	natsURL := startNATS(t)
	opts := options{History: 100, Queue: 100}
	a := startNode(t, natsURL, nil, opts, nil)
	b := startNode(t, natsURL, nil, opts, nil)
	a1 := dial(t, a, "r", "a1", false, nil)
	b1 := dial(t, b, "r", "b1", false, nil)
	a1.until(func(ev event) bool { return ev.Type == "join" && ev.ID == b1.id })
	for i := 1; i <= 5; i++ {
		a1.send(fmt.Sprintf("a1 %d", i))
	}
	b1.until(isText("a1 5"))

	b.stop()
	for range b1.events {
	}
	var ce *conn.CloseError
	if !errors.As(b1.readErr, &ce) || ce.Code != conn.CloseGoingAway {
		t.Errorf("b1 got %v when its node stopped, want a close with 1001", b1.readErr)
	}
	for i := 6; i <= 10; i++ {
		a1.send(fmt.Sprintf("a1 %d", i))
	}
	before := a1.until(isText("a1 10"))

	b = startNode(t, natsURL, nil, opts, nil)
	b2 := dial(t, b, "r", "b2", false, nil)
	if ev := last(a1.until(func(ev event) bool { return ev.Type == "join" })); ev.ID != b2.id {
		t.Errorf("a1 saw %+v, want b2 join", ev)
	}
	checkSent(t, "b2", messages(b2.until(isText("a1 10")))[a1.id], a1, 10, true)
	a1.send("a1 11")
	if ev := last(b2.until(func(ev event) bool { return ev.Type == "message" })); ev.Text != "a1 11" || ev.History {
		t.Errorf("b2 got %+v, want a1 11 live", ev)
	}
	checkSent(t, "a1", messages(append(before, a1.until(isText("a1 11"))...))[a1.id], a1, 11, false)
}

// gatedBus is a memory bus whose subscriptions to one room wait for gate,
// like a NATS server slow to answer.
type gatedBus struct {
	*memBus
	room string
	gate chan struct{}
}

func (b *gatedBus) subscribe(room string, deliver func(*event)) (func(), error) {
	if room == b.room {
		<-b.gate
	}
	return b.memBus.subscribe(room, deliver)
}

// TestJoinWhileSubscribing checks that a room whose subscription is slow
// holds up neither the other rooms nor those joining it meanwhile, who get
// everything once it is made.
func TestJoinWhileSubscribing(t *testing.T) {
	checkNoGoroutines(t)
	b := &gatedBus{memBus: newMemBus(10), room: "slow", gate: make(chan struct{})}
	b.publish(context.Background(), "slow", &event{Type: "message", Room: "slow", Name: "earlier", Seq: 1, Text: "before"})
	h, err := newHub(b, options{History: 10, Queue: 10, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{hub: h, srv: httptest.NewServer(h)}
	t.Cleanup(n.stop)

	s1 := dial(t, n, "slow", "s1", false, nil) // its join waits for the gate
	other := dial(t, n, "other", "o1", false, nil)
	other.send("not held up")
	other.until(isText("not held up"))
	s2 := dial(t, n, "slow", "s2", false, nil)

	close(b.gate)
	s1.send("after")
	for _, m := range []*tclient{s1, s2} {
		evs := m.until(isText("after"))
		msgs := messages(evs)[""]
		if len(msgs) != 1 || msgs[0].Text != "before" || !msgs[0].History {
			t.Errorf("%s got %+v, want the history once, then its messages", m.name, evs)
		}
	}
}

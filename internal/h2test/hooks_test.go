package h2test

import (
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

// closeLog records the calls of conn.Options.OnOpen and OnClose of one
// end.
type closeLog struct {
	mu     sync.Mutex
	opened int
	codes  []conn.CloseCode
	closed chan struct{}
}

func (l *closeLog) options() conn.Options {
	l.closed = make(chan struct{}, 10)
	return conn.Options{
		OnOpen: func(*conn.Conn) {
			l.mu.Lock()
			l.opened++
			l.mu.Unlock()
		},
		OnClose: func(_ *conn.Conn, code conn.CloseCode, _ error) {
			l.mu.Lock()
			l.codes = append(l.codes, code)
			l.mu.Unlock()
			l.closed <- struct{}{}
		},
	}
}

func (l *closeLog) check(t *testing.T, end string, code conn.CloseCode) {
	t.Helper()
	select {
	case <-l.closed:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: OnClose not called within 10 s", end)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opened != 1 || len(l.codes) != 1 || l.codes[0] != code {
		t.Errorf("%s: OnOpen called %d times, OnClose with %v; want once each, with %v", end, l.opened, l.codes, code)
	}
}

// TestHooks checks that the OnOpen and OnClose hooks of server.Options
// and client.Options apply to the Conns over HTTP/2 streams, and that the
// counters see the messages.
func TestHooks(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			var serverLog, clientLog closeLog
			s := newSubject(t, mode.tls, &server.Options{Conn: serverLog.options()})
			c := s.dial(t, func(o *client.Options) { o.Conn = clientLog.options() })
			echo(t, c, conn.Text, []byte("hello"))
			if err := c.Write(ctx, conn.Text, []byte("close 4002")); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Read(ctx, nil); err == nil {
				t.Fatal("Read after asking the server to close succeeded")
			}
			serverLog.check(t, "server", 4002)
			clientLog.check(t, "client", 4002)
			if st := c.Stats(); st.MessagesWritten != 2 || st.MessagesRead != 1 || st.BytesRead != 5 {
				t.Errorf("client Stats() = %+v, want 2 messages written, 1 of 5 bytes read", st)
			}
		})
	}
}

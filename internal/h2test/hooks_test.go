package h2test

import (
	"testing"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/internal/hooktest"
	"github.com/rfc6455/websocket/server"
)

// TestHooks checks that the OnOpen and OnClose hooks of server.Options
// and client.Options apply to the Conns over HTTP/2 streams, and that the
// counters see the messages.
func TestHooks(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			var serverLog, clientLog hooktest.Log
			s := newSubject(t, mode.tls, &server.Options{Conn: serverLog.Options(nil)})
			c := s.dial(t, func(o *client.Options) { o.Conn = clientLog.Options(nil) })
			echo(t, c, conn.Text, []byte("hello"))
			if err := c.Write(ctx, conn.Text, []byte("close 4002")); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Read(ctx, nil); err == nil {
				t.Fatal("Read after asking the server to close succeeded")
			}
			serverLog.Wait(t, "server", 4002, 10*time.Second)
			clientLog.Wait(t, "client", 4002, 10*time.Second)
			if st := c.Stats(); st.MessagesWritten != 2 || st.MessagesRead != 1 || st.BytesRead != 5 {
				t.Errorf("client Stats() = %+v, want 2 messages written, 1 of 5 bytes read", st)
			}
		})
	}
}

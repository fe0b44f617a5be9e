package client

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rfc6455/websocket/conn"
)

// TestHooks checks that the OnOpen and OnClose hooks of Options.Conn apply
// to the Conn that Dial returns: OnOpen once before Dial returns, OnClose
// once with the code of the client's Close frame, after the server has
// closed the TCP connection.
func TestHooks(t *testing.T) {
	s := httptest.NewServer(echoHandler())
	defer s.Close()
	type closeCall struct {
		c    *conn.Conn
		code conn.CloseCode
	}
	var opened []*conn.Conn
	closed := make(chan closeCall, 10)
	opts := &Options{Proxy: noProxy, Conn: conn.Options{
		OnOpen:  func(c *conn.Conn) { opened = append(opened, c) },
		OnClose: func(c *conn.Conn, code conn.CloseCode, err error) { closed <- closeCall{c, code} },
	}}
	c, _, err := Dial(ctx, wsURL(s), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(opened) != 1 || opened[0] != c {
		t.Fatalf("OnOpen called for %d Conns, want once for the Conn Dial returned", len(opened))
	}
	c.Read(ctx, nil) // what the server saw
	roundTrip(t, c)  // ends with Close(1000)
	select {
	case got := <-closed:
		if got.c != c || got.code != conn.CloseNormalClosure {
			t.Errorf("OnClose called with code %v, want %v for the Conn Dial returned", got.code, conn.CloseNormalClosure)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose not called within 10 s")
	}
	c.CloseNow()
	select {
	case got := <-closed:
		t.Errorf("OnClose called again, with %v", got.code)
	case <-time.After(10 * time.Millisecond):
	}
}

package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/wsjson"
)

// TestRequests checks the answers to requests that are not a join.
func TestRequests(t *testing.T) {
	checkNoGoroutines(t)
	n := startNode(t, "", newMemBus(10), options{History: 10, Queue: 10}, nil)
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantBody   string
	}{{
		name:       "page",
		path:       "/",
		wantStatus: http.StatusOK,
		wantBody:   "<title>chat</title>",
	}, {
		name:       "unknown path",
		path:       "/nothing",
		wantStatus: http.StatusNotFound,
	}, {
		name:       "room that is not a NATS token",
		path:       "/ws/a.b",
		wantStatus: http.StatusBadRequest,
		wantBody:   "room name",
	}, {
		name:       "room too long",
		path:       "/ws/" + strings.Repeat("r", 65),
		wantStatus: http.StatusBadRequest,
		wantBody:   "room name",
	}, {
		name:       "name too long",
		path:       "/ws/lobby?name=" + strings.Repeat("n", maxName+1),
		wantStatus: http.StatusBadRequest,
		wantBody:   "name is at most",
	}, {
		name:       "no upgrade",
		path:       "/ws/lobby",
		wantStatus: http.StatusBadRequest,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(n.srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d with %q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestBadMessages checks that a client sending what the chat does not
// understand is closed with the right code, and that the others in the
// room carry on.
func TestBadMessages(t *testing.T) {
	checkNoGoroutines(t)
	n := startNode(t, "", newMemBus(10), options{History: 10, Queue: 10}, nil)
	witness := dial(t, n, "r", "witness", false, nil)
	tests := []struct {
		name     string
		typ      conn.MessageType
		msg      string
		wantCode conn.CloseCode
	}{{
		name:     "binary",
		typ:      conn.Binary,
		msg:      `{"text":"hi"}`,
		wantCode: conn.CloseUnsupportedData,
	}, {
		name:     "not JSON",
		typ:      conn.Text,
		msg:      "hi",
		wantCode: conn.CloseUnsupportedData,
	}, {
		name:     "text not a string",
		typ:      conn.Text,
		msg:      `{"text":42}`,
		wantCode: conn.CloseUnsupportedData,
	}, {
		name:     "text too long",
		typ:      conn.Text,
		msg:      `{"text":"` + strings.Repeat("x", maxText+1) + `"}`,
		wantCode: conn.CloseMessageTooBig,
	}, {
		name:     "message over the read limit",
		typ:      conn.Text,
		msg:      `{"text":"` + strings.Repeat("x", 16<<10) + `"}`,
		wantCode: conn.CloseMessageTooBig,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			c, _, err := client.Dial(ctx, "ws"+strings.TrimPrefix(n.srv.URL, "http")+"/ws/r?name=bad", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if err := c.Write(ctx, tt.typ, []byte(tt.msg)); err != nil {
				t.Fatal(err)
			}
			var ce *conn.CloseError
			for {
				var ev event
				if err = wsjson.Read(ctx, c, &ev); err != nil {
					break
				}
				if ev.Type == "message" {
					t.Errorf("got %+v: the bad message was published", ev)
				}
			}
			if !errors.As(err, &ce) || ce.Code != tt.wantCode {
				t.Errorf("connection ended with %v, want close code %d", err, tt.wantCode)
			}
			witness.until(func(ev event) bool { return ev.Type == "leave" })
		})
	}
	witness.send("still here")
	if evs := witness.until(isText("still here")); len(messages(evs)) != 1 {
		t.Errorf("witness got %+v, want only its own message", evs)
	}
}

// TestCompression has members with and without permessage-deflate hear the
// same long message, which the node prepares once for all of them.
func TestCompression(t *testing.T) {
	checkNoGoroutines(t)
	n := startNode(t, "", newMemBus(10), options{History: 10, Queue: 10}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	url := "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/ws/r?name=z"
	zc, _, err := client.Dial(ctx, url, &client.Options{Compression: &conn.Compression{}})
	if err != nil {
		t.Fatal(err)
	}
	defer zc.CloseNow()
	if got, want := zc.Extensions(), "permessage-deflate; server_no_context_takeover"; got != want {
		t.Errorf("Extensions() = %q, want %q", got, want)
	}
	plain := dial(t, n, "r", "plain", false, nil)
	text := strings.Repeat("the same words again and again, ", 100)
	plain.send(text)
	if ev := last(plain.until(func(ev event) bool { return ev.Type == "message" })); ev.Text != text {
		t.Errorf("plain got %.40q..., want %.40q...", ev.Text, text)
	}
	for {
		var ev event
		if err := wsjson.Read(ctx, zc, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == "message" {
			if ev.Text != text {
				t.Errorf("compressing member got %.40q..., want %.40q...", ev.Text, text)
			}
			break
		}
	}
}

func TestPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    Policy
		wantErr bool
	}{
		{in: "drop-oldest", want: DropOldest},
		{in: "disconnect", want: Disconnect},
		{in: "drop", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		var p Policy
		err := p.Set(tt.in)
		if (err != nil) != tt.wantErr || p != tt.want {
			t.Errorf("Set(%q) = %v, %v; want %v, error %v", tt.in, p, err, tt.want, tt.wantErr)
		}
		if err == nil && p.String() != tt.in {
			t.Errorf("Set(%q) then String() = %q", tt.in, p.String())
		}
	}
}

func TestNewHubOptions(t *testing.T) {
	tests := []struct {
		name string
		opts options
	}{
		{name: "no history", opts: options{History: 0, Queue: 1}},
		{name: "no queue", opts: options{History: 1, Queue: 0}},
		{name: "unknown policy", opts: options{History: 1, Queue: 1, Policy: 7}},
	}
	for _, tt := range tests {
		if _, err := newHub(newMemBus(1), tt.opts); err == nil {
			t.Errorf("%s: newHub(%+v) succeeded, want an error", tt.name, tt.opts)
		}
	}
}

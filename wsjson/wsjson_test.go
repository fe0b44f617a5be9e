package wsjson

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

var ctx = context.Background()

func pair(t *testing.T) (client, server *conn.Conn) {
	a, b := net.Pipe()
	var err error
	if client, err = conn.New(a, frame.Client, nil, nil); err != nil {
		t.Fatal(err)
	}
	if server, err = conn.New(b, frame.Server, nil, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow(); server.CloseNow() })
	return client, server
}

type chat struct {
	Type string   `json:"type"`
	Text string   `json:"text"`
	Tags []string `json:"tags,omitempty"`
}

func TestRoundTrip(t *testing.T) {
	client, server := pair(t)
	tests := []chat{
		{Type: "chat", Text: "hello <b>&</b>"},
		{Type: "chat", Text: "κόσμε", Tags: []string{"a", "b"}},
	}
	go func() {
		for _, v := range tests {
			Write(ctx, client, v)
		}
	}()
	for _, want := range tests {
		var got chat
		if err := Read(ctx, server, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestWireForm(t *testing.T) {
	client, server := pair(t)
	go Write(ctx, client, chat{Type: "t", Text: "<&>"})
	typ, msg, err := server.Read(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"t","text":"<&>"}`; typ != conn.Text || string(msg) != want {
		t.Errorf("wire = %v %q, want text %q", typ, msg, want)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  conn.MessageType
		msg  string
		want func(error) bool
	}{{
		name: "binary message",
		typ:  conn.Binary,
		msg:  `{}`,
		want: func(err error) bool { return err != nil },
	}, {
		name: "not JSON",
		typ:  conn.Text,
		msg:  `{"type":`,
		want: func(err error) bool { var se *json.SyntaxError; return errors.As(err, &se) },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := pair(t)
			go client.Write(ctx, tt.typ, []byte(tt.msg))
			var v chat
			if err := Read(ctx, server, &v); !tt.want(err) {
				t.Fatalf("Read = %v", err)
			}
			// The connection is still usable.
			go Write(ctx, client, chat{Type: "next"})
			if err := Read(ctx, server, &v); err != nil || v.Type != "next" {
				t.Errorf("next Read = %+v, %v", v, err)
			}
		})
	}
}

func TestWriteUnsupported(t *testing.T) {
	client, _ := pair(t)
	if err := Write(ctx, client, make(chan int)); err == nil {
		t.Error("Write(chan) succeeded")
	}
}

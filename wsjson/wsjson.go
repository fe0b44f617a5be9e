// Package wsjson sends and receives JSON values over a conn.Conn, one
// value per text message, which is how most WebSocket applications talk.
package wsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/rfc6455/websocket/conn"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Read reads the next message and decodes its JSON into v. A binary
// message is an error, and so is a message that is not valid JSON
// (matchable as *json.SyntaxError); neither closes the connection, so the
// caller decides whether to close it (with 1003 or 1007, for example).
func Read(ctx context.Context, c *conn.Conn, v any) error {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	typ, msg, err := c.Read(ctx, buf.Bytes()[:0])
	if err != nil {
		return err
	}
	if cap(msg) <= 1<<20 {
		*buf = *bytes.NewBuffer(msg[:0]) // keep the grown buffer for the next call
	}
	if typ != conn.Text {
		return fmt.Errorf("wsjson: got a %v message, want text", typ)
	}
	if err := json.Unmarshal(msg, v); err != nil {
		return fmt.Errorf("wsjson: decoding message: %w", err)
	}
	return nil
}

// Write encodes v as JSON and sends it as one text message.
func Write(ctx context.Context, c *conn.Conn, v any) error {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("wsjson: encoding value: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return c.Write(ctx, conn.Text, b)
}

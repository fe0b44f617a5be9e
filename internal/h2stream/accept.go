package h2stream

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// Accept answers an extended CONNECT request ([RFC 8441]) that a handler
// has decided to accept: it writes 200 with the fields already in
// w.Header(), flushes it, and returns the stream as a Conn. The handler
// must not return while the Conn is in use: its return ends the stream.
//
// http.Server's ReadTimeout and WriteTimeout apply to each stream and end
// it when they pass; Accept clears them, since a WebSocket lives longer
// than a request. Closing the Conn does not end the stream by itself.
//
// [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
func Accept(w http.ResponseWriter, r *http.Request) (*Conn, error) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("answering the extended CONNECT: %w", err)
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	stream := Stream{
		Write: func(p []byte) (int, error) {
			n, err := w.Write(p)
			if err == nil {
				err = rc.Flush()
			}
			return n, err
		},
		// A write deadline of net/http resets the stream when it passes.
		Abort: func() { rc.SetWriteDeadline(time.Now()) },
		End:   func() {},
	}
	return New(r.Body, stream, local, Addr(r.RemoteAddr)), nil
}

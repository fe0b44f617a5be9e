package server

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/handshake"
	"github.com/rfc6455/websocket/internal/h2stream"
)

// upgradeStream accepts a WebSocket over an HTTP/2 stream, opened with
// the extended CONNECT of [RFC 8441]: it answers 200, with no
// Sec-WebSocket-Accept (Section 5), and runs a Conn over the request body
// and the response. The handler must not return while the Conn is in use:
// its return ends the stream.
//
// [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
func upgradeStream(w http.ResponseWriter, r *http.Request, req *handshake.Request, agreed conn.Handshake, opts *Options) (*conn.Conn, error) {
	rc := http.NewResponseController(w)
	// http.Server's ReadTimeout and WriteTimeout apply to each stream, and
	// end it when they pass: a WebSocket lives longer than a request.
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	for name, values := range opts.Header {
		h[name] = values
	}
	if agreed.Subprotocol != "" {
		h.Set("Sec-WebSocket-Protocol", agreed.Subprotocol)
	}
	if agreed.Extensions != "" {
		h.Set("Sec-WebSocket-Extensions", agreed.Extensions)
	}
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("server: answering the extended CONNECT: %w", err)
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	stream := h2stream.Stream{
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
	nc := h2stream.New(r.Body, stream, local, h2stream.Addr(r.RemoteAddr))
	c, err := conn.New(nc, frame.Server, &agreed, &opts.Conn)
	if err != nil {
		// Unreachable: the options and the agreement were checked.
		nc.Close()
		return nil, err
	}
	return c, nil
}

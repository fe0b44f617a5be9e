package server

import (
	"fmt"
	"net/http"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
	"github.com/rfc6455/websocket/internal/h2stream"
)

// upgradeStream accepts a WebSocket over an HTTP/2 stream, opened with
// the extended CONNECT of [RFC 8441]: it answers 200, with no
// Sec-WebSocket-Accept (Section 5), and runs a Conn over the request body
// and the response. The handler must not return while the Conn is in use:
// its return ends the stream.
//
// [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
func upgradeStream(w http.ResponseWriter, r *http.Request, agreed *conn.Handshake, opts *Options) (*conn.Conn, error) {
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
	nc, err := h2stream.Accept(w, r)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	c, err := conn.New(nc, frame.Server, agreed, &opts.Conn)
	if err != nil {
		// Unreachable: the options and the agreement were checked.
		nc.Close()
		return nil, err
	}
	return c, nil
}

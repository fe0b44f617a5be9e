package bench

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/rfc6455/websocket/bench/internal/echo"
)

// This file measures idle uncompressed connections with the method of
// BenchmarkDeflateIdle (deflate_idle_test.go), its child process
// included: echoSubjects are adapted to deflateSubjects in the mode
// uncompressed, whose handshakes must agree on no extension.

// idleEchoSubjects are echoSubjects as deflateSubjects, for measureIdle
// and TestDeflateIdlePeer.
func idleEchoSubjects() []deflateSubject {
	var ds []deflateSubject
	for _, s := range echoSubjects {
		ds = append(ds, s.asDeflateSubject())
	}
	return ds
}

// asDeflateSubject is s sending text messages, supporting only the mode
// uncompressed.
func (s echoSubject) asDeflateSubject() deflateSubject {
	return deflateSubject{
		name:     s.name,
		supports: func(m deflateMode) bool { return m.off },
		serve:    func(_ deflateMode, e *echo.Server) http.Handler { return s.serve(e) },
		dial: func(ctx context.Context, wsURL string, _ deflateMode, r receiver) (deflateClient, string, error) {
			c, ext, err := s.dial(ctx, wsURL, echoReceiver{
				onMessage:  func(_ bool, p []byte) { r.onMessage(p) },
				onEnd:      r.onEnd,
				keepBuffer: r.keepBuffer,
			})
			if err != nil {
				return nil, "", err
			}
			return textEchoClient{c}, ext, nil
		},
	}
}

type textEchoClient struct{ c echoClient }

func (c textEchoClient) Write(ctx context.Context, p []byte) error { return c.c.Write(ctx, true, p) }
func (c textEchoClient) Close()                                    { c.c.Close() }

// BenchmarkIdle measures the memory of idle uncompressed connections,
// once each has echoed the five messages of BenchmarkDeflateIdle
// (33 KiB of text), with BenchmarkDeflateIdle's metrics. Every end has
// the one goroutine that reads, which gws needs (ReadLoop) and the
// others' blocking APIs too; gobwas with an epoll loop of the
// application's own could do without it (stack-B/conn is that
// goroutine's share). Run it with -benchtime=1x.
func BenchmarkIdle(b *testing.B) {
	deflateWorkloads()
	for _, s := range idleEchoSubjects() {
		for _, side := range []string{sidePair, sideServer, sideClient} {
			b.Run(fmt.Sprintf("lib=%s/side=%s", s.name, side), func(b *testing.B) {
				benchIdle(b, s, uncompressed, side)
			})
		}
	}
}

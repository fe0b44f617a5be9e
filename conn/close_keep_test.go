//go:build !js

package conn

import (
	"fmt"
	"slices"
	"testing"
)

// TestCloseRacingReader is the usual program shape: one goroutine loops on
// Read while another calls Close. The peer sends its messages, then
// answers Close; every message it sent before its Close frame must reach
// the reader, in order, whether the reader was inside Read or between two
// Reads when Close began.
func TestCloseRacingReader(t *testing.T) {
	const rounds, messages = 200, 8
	for round := range rounds {
		client, server := connPair(t, nil, nil)
		want := make([]string, messages)
		for i := range want {
			want[i] = fmt.Sprintf("message %d of round %d", i, round)
		}
		peerDone := make(chan error, 1)
		go func() {
			for _, m := range want {
				if err := server.Write(ctx, Text, []byte(m)); err != nil {
					peerDone <- err
					return
				}
			}
			// Reading answers the client's Close frame, after the messages.
			for {
				if _, _, err := server.Read(ctx, nil); err != nil {
					peerDone <- nil
					return
				}
			}
		}()
		read := make(chan []string, 1)
		go func() {
			var got []string
			var buf []byte
			for {
				_, msg, err := client.Read(ctx, buf[:0])
				if err != nil {
					read <- got
					return
				}
				got = append(got, string(msg))
				buf = msg
			}
		}()
		if err := client.Close(CloseNormalClosure, ""); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
		if err := <-peerDone; err != nil {
			t.Fatalf("round %d: peer: %v", round, err)
		}
		if got := <-read; !slices.Equal(got, want) {
			t.Fatalf("round %d: reader got %d messages %q, want all %d", round, len(got), got, len(want))
		}
		client.CloseNow()
		server.CloseNow()
	}
}

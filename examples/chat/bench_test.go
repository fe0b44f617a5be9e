package main

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkBroadcast measures a room of 50 members, 25 on each of two
// nodes, hearing one sender: each op is one message said and delivered to
// every member. It reports the messages per second the room carries and the
// deliveries per second the two nodes make together.
func BenchmarkBroadcast(b *testing.B) {
	const members = 50
	for _, setup := range setups {
		b.Run(setup.name, func(b *testing.B) {
			nodeA, nodeB := setup.nodes(b, options{History: 50, Queue: 1 << 16, Policy: Disconnect})
			var all []*tclient
			for i := range members {
				n := nodeA
				if i%2 == 1 {
					n = nodeB
				}
				all = append(all, dial(b, n, "bench", fmt.Sprintf("m%d", i), false, nil))
			}
			sender := all[0]
			text := strings.Repeat("a chat message of a usual length. ", 3)
			b.ResetTimer()
			for range b.N {
				sender.send(text)
			}
			// Every member's events arrive meanwhile, into its buffer.
			for _, m := range all {
				m.until(func(ev event) bool { return ev.Type == "message" && ev.Seq == uint64(b.N) })
			}
			b.StopTimer()
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/s, "msgs/s")
			b.ReportMetric(float64(b.N*members)/s, "deliveries/s")
		})
	}
}

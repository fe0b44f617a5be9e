package hostile

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// minRows is the size the catalogue must keep.
const minRows = 150

// TestCatalogue runs every row against one server, on both upgrade paths,
// and a client, while healthy connections echo through the whole run.
func TestCatalogue(t *testing.T) {
	s := startSubject(t)
	stop := healthy(t, s, 2)
	time.Sleep(50 * time.Millisecond)
	baseline := runtime.NumGoroutine() + 1 // and the subtest's own

	type group struct {
		name string
		rows []serverRow
	}
	groups := []group{
		{"handshake", handshakeRows()},
		{"frames", frameRows()},
		{"compression", deflateRows()},
		{"floods", floodRows()},
		{"resources", resourceRows()},
	}
	var costs []cost
	inputs := 0
	for _, g := range groups {
		for i, r := range g.rows {
			paths := r.paths
			if paths == nil {
				paths = []string{"http", "raw"}
			}
			for _, path := range paths {
				inputs++
				name := g.name + "/" + r.name + "/" + path
				id := fmt.Sprintf("%s-%d-%s", g.name, i, path)
				bound := r.memory
				if bound == 0 {
					bound = smallMemory
				}
				t.Run(name, func(t *testing.T) {
					costs = append(costs, measure(t, name, baseline, bound, func() { s.runServerRow(t, id, path, r) }))
				})
			}
		}
	}
	for _, r := range clientRows() {
		inputs++
		name := "client/" + r.name
		bound := r.memory
		if bound == 0 {
			bound = smallMemory
		}
		t.Run(name, func(t *testing.T) {
			costs = append(costs, measure(t, name, baseline, bound, func() { runClientRow(t, r) }))
		})
	}

	for _, err := range stop() {
		t.Error(err)
	}
	if inputs < minRows {
		t.Errorf("the catalogue has %d inputs, want at least %d", inputs, minRows)
	}
	summarize(t, inputs, costs)
}

// summarize logs, per group, how many rows ran and the most any of them
// allocated and took.
func summarize(t *testing.T, inputs int, costs []cost) {
	type total struct {
		rows      int
		allocated uint64
		took      time.Duration
		worst     string
	}
	totals := map[string]*total{}
	for _, c := range costs {
		g := c.row[:strings.Index(c.row, "/")]
		tt := totals[g]
		if tt == nil {
			tt = &total{}
			totals[g] = tt
		}
		tt.rows++
		if c.allocated > tt.allocated {
			tt.allocated, tt.worst = c.allocated, c.row
		}
		tt.took = max(tt.took, c.took)
	}
	var names []string
	for g := range totals {
		names = append(names, g)
	}
	slices.Sort(names)
	t.Logf("%d inputs", inputs)
	for _, g := range names {
		tt := totals[g]
		t.Logf("%-12s %3d rows, at most %6.2f MiB allocated (%s), at most %v", g, tt.rows, float64(tt.allocated)/(1<<20), tt.worst, tt.took.Round(time.Millisecond))
	}
}

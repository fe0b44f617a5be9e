//go:build !race

package deflate

// raceEnabled reports whether the race detector is on; with it, sync.Pool
// drops items at random, so allocation counts mean nothing.
const raceEnabled = false

//go:build !unix

package bench

import "time"

// processCPU reports that the CPU time of this process is unknown here.
func processCPU() (time.Duration, bool) { return 0, false }

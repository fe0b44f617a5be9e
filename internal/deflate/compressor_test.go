package deflate

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestSmoke(t *testing.T) {
	for _, level := range []int{1, 2, 3, 4, 6, 9} {
		for _, wb := range []int{8, 12, 15} {
			for _, takeover := range []bool{false, true} {
				t.Run(fmt.Sprint(level, wb, takeover), func(t *testing.T) {
					msgs := [][]byte{[]byte("Hello"), []byte("Hello"), nil, text(1, 1000), text(1, 1000), repetitive(70000), random(3, 100000), text(4, 200000)}
					c := NewCompressor(level, wb, takeover)
					payloads := compressMessages(c, msgs, rand.New(rand.NewPCG(1, 1)))
					checkDecodes(t, msgs, payloads, 1<<wb, takeover)
					payloads = compressMessages(NewCompressor(level, wb, takeover), msgs, nil)
					checkDecodes(t, msgs, payloads, 1<<wb, takeover)
				})
			}
		}
	}
}

package mask

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzApply masks random data, placed at a random alignment between guard
// bytes, in up to three chunks split at random points, with every kernel,
// and checks the result against the byte-at-a-time oracle over the whole
// data, and that no guard byte changed.
func FuzzApply(f *testing.F) {
	f.Add([]byte("Hello"), uint32(0x3d21fa37), 0, uint16(2), uint16(5), uint8(0))
	f.Add(bytes.Repeat([]byte{0xaa}, 300), uint32(0xdeadbeef), 3, uint16(17), uint16(150), uint8(13))
	f.Add(make([]byte, 4096), uint32(1), -1, uint16(0), uint16(4095), uint8(63))
	f.Fuzz(func(t *testing.T, data []byte, key uint32, pos int, split1, split2 uint16, align uint8) {
		var k Key
		binary.LittleEndian.PutUint32(k[:], key)
		n := len(data)
		s1, s2 := int(split1)%(n+1), int(split2)%(n+1)
		if s1 > s2 {
			s1, s2 = s2, s1
		}
		want := bytes.Clone(data)
		wantPos := refApply(k, want, pos&3)

		const guard = 64
		buf := make([]byte, guard+64+n+guard)
		for i := range buf {
			buf[i] = byte(i*7 + 1)
		}
		orig := bytes.Clone(buf)
		off := guard + alignedAt(buf[guard:], int(align%64))
		for _, kern := range kernels() {
			restore := kern.use(t)
			copy(buf, orig)
			b := buf[off : off+n : off+n]
			copy(b, data)
			p := k.Apply(b[:s1], pos)
			p = k.Apply(b[s1:s2], p)
			p = k.Apply(b[s2:], p)
			restore()
			if p != wantPos {
				t.Fatalf("%s: position %d, want %d", kern.name, p, wantPos)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("%s: masked in chunks [:%d] [%d:%d] [%d:] =\n%x\nwant\n%x", kern.name, s1, s1, s2, s2, b, want)
			}
			if !bytes.Equal(buf[:off], orig[:off]) || !bytes.Equal(buf[off+n:], orig[off+n:]) {
				t.Fatalf("%s: bytes outside the data changed", kern.name)
			}
		}
	})
}

package mask

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// A kernel is one of the code paths behind Apply.
type kernel struct {
	name string
	use  func(t testing.TB) (restore func())
}

// refApply is the test oracle: the algorithm of RFC 6455, Section 5.3,
// one byte at a time.
func refApply(k Key, b []byte, pos int) int {
	for i := range b {
		b[i] ^= k[(pos+i)%4]
	}
	return (pos + len(b)) % 4
}

// alignedAt returns the index in buf of the first byte whose address is
// congruent to align modulo 64.
func alignedAt(buf []byte, align int) int {
	addr := int(uintptr(unsafe.Pointer(&buf[0])) % 64)
	return (align - addr + 64) % 64
}

// TestApply checks every kernel against the oracle for every length from
// 0 to 300, every key position and every alignment of the slice modulo
// 64, and checks that no byte around the slice changes.
func TestApply(t *testing.T) {
	const (
		maxLen = 300
		guard  = 64
	)
	k := Key{0x37, 0xfa, 0x21, 0x3d}
	rng := rand.New(rand.NewPCG(1, 2))
	orig := make([]byte, guard+64+maxLen+guard)
	for i := range orig {
		orig[i] = byte(rng.Uint32())
	}
	buf := make([]byte, len(orig))
	want := make([]byte, len(orig))
	for _, kern := range kernels() {
		t.Run(kern.name, func(t *testing.T) {
			defer kern.use(t)()
			for align := range 64 {
				off := guard + alignedAt(buf[guard:], align)
				for n := 0; n <= maxLen; n++ {
					for pos := range 4 {
						copy(buf, orig)
						copy(want, orig)
						wantPos := refApply(k, want[off:off+n], pos)
						gotPos := k.Apply(buf[off:off+n:off+n], pos)
						if gotPos != wantPos {
							t.Fatalf("align %d, len %d, pos %d: Apply returned %d, want %d", align, n, pos, gotPos, wantPos)
						}
						if !bytes.Equal(buf[off:off+n], want[off:off+n]) {
							t.Fatalf("align %d, len %d, pos %d: Apply =\n%x\nwant\n%x", align, n, pos, buf[off:off+n], want[off:off+n])
						}
						if !bytes.Equal(buf[:off], orig[:off]) || !bytes.Equal(buf[off+n:], orig[off+n:]) {
							t.Fatalf("align %d, len %d, pos %d: Apply changed bytes outside the slice", align, n, pos)
						}
					}
				}
			}
		})
	}
}

// TestXorWords checks the portable word kernel on its own, since on amd64
// Apply only hands it payloads shorter than the assembly threshold.
func TestXorWords(t *testing.T) {
	k := Key{0x01, 0x80, 0xfe, 0x7f}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 300; n++ {
		for pos := range 4 {
			for off := range 8 {
				orig := make([]byte, off+n+8)
				for i := range orig {
					orig[i] = byte(rng.Uint32())
				}
				want := bytes.Clone(orig)
				refApply(k, want[off:off+n], pos)
				got := bytes.Clone(orig)
				w := uint64(k[pos]) | uint64(k[(pos+1)%4])<<8 | uint64(k[(pos+2)%4])<<16 | uint64(k[(pos+3)%4])<<24
				xorWords(got[off:off+n:off+n], w|w<<32)
				if !bytes.Equal(got, want) {
					t.Fatalf("len %d, pos %d, offset %d: xorWords =\n%x\nwant\n%x", n, pos, off, got, want)
				}
			}
		}
	}
}

// TestApplyChunked masks a payload in chunks of many sizes, each call
// taking the position the previous one returned, and compares the result
// with the payload masked whole.
func TestApplyChunked(t *testing.T) {
	k := Key{0xde, 0xad, 0xbe, 0xef}
	rng := rand.New(rand.NewPCG(5, 6))
	orig := make([]byte, 5000)
	for i := range orig {
		orig[i] = byte(rng.Uint32())
	}
	want := bytes.Clone(orig)
	wantPos := refApply(k, want, 0)
	for _, kern := range kernels() {
		t.Run(kern.name, func(t *testing.T) {
			defer kern.use(t)()
			for _, chunk := range []int{1, 2, 3, 5, 7, 13, 15, 16, 17, 31, 63, 64, 65, 127, 129, 1000, 4999} {
				got := bytes.Clone(orig)
				pos := 0
				for b := got; len(b) > 0; {
					n := min(chunk, len(b))
					pos = k.Apply(b[:n], pos)
					b = b[n:]
				}
				if pos != wantPos || !bytes.Equal(got, want) {
					t.Errorf("chunks of %d: position %d, want %d; payloads equal: %v", chunk, pos, wantPos, bytes.Equal(got, want))
				}
			}
			// Random chunk sizes.
			for range 200 {
				got := bytes.Clone(orig)
				pos := 0
				for b := got; len(b) > 0; {
					n := min(1+rng.IntN(300), len(b))
					pos = k.Apply(b[:n], pos)
					b = b[n:]
				}
				if pos != wantPos || !bytes.Equal(got, want) {
					t.Fatalf("random chunks: position %d, want %d; payloads equal: %v", pos, wantPos, bytes.Equal(got, want))
				}
			}
		})
	}
}

// TestApplyPos checks positions outside 0..3, which Apply takes modulo 4.
func TestApplyPos(t *testing.T) {
	t.Parallel()
	k := Key{1, 2, 3, 4}
	tests := []struct {
		name    string
		pos     int
		n       int
		wantPos int
	}{{
		name:    "negative one is three",
		pos:     -1,
		n:       40,
		wantPos: 3,
	}, {
		name:    "minus four is zero",
		pos:     -4,
		n:       3,
		wantPos: 3,
	}, {
		name:    "five is one",
		pos:     5,
		n:       100,
		wantPos: 1,
	}, {
		name:    "most negative int",
		pos:     math.MinInt,
		n:       17,
		wantPos: 1,
	}, {
		name:    "largest int",
		pos:     math.MaxInt,
		n:       2,
		wantPos: 1,
	}, {
		name:    "empty keeps the position",
		pos:     6,
		n:       0,
		wantPos: 2,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]byte, tt.n)
			want := make([]byte, tt.n)
			refApply(k, want, tt.pos&3)
			if p := k.Apply(got, tt.pos); p != tt.wantPos {
				t.Errorf("Apply(%d bytes, %d) = %d, want %d", tt.n, tt.pos, p, tt.wantPos)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Apply(%d bytes, %d) = %x, want %x", tt.n, tt.pos, got, want)
			}
		})
	}
}

// TestApplyRFC checks the masked "Hello" of RFC 6455, Section 5.7.
func TestApplyRFC(t *testing.T) {
	t.Parallel()
	k := Key{0x37, 0xfa, 0x21, 0x3d}
	b := []byte("Hello")
	if pos := k.Apply(b, 0); pos != 1 {
		t.Errorf("Apply returned position %d, want 1", pos)
	}
	if want := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}; !bytes.Equal(b, want) {
		t.Errorf("masked Hello = %x, want %x", b, want)
	}
}

func TestApplyNil(t *testing.T) {
	t.Parallel()
	if pos := (Key{1, 2, 3, 4}).Apply(nil, 2); pos != 2 {
		t.Errorf("Apply(nil, 2) = %d, want 2", pos)
	}
}

func TestApplyAllocs(t *testing.T) {
	b := make([]byte, 4096)
	k := Key{1, 2, 3, 4}
	if n := testing.AllocsPerRun(100, func() { k.Apply(b, 1) }); n != 0 {
		t.Errorf("Apply allocates %v times per call, want 0", n)
	}
}

// TestNewKey draws many keys from several goroutines at once, far more
// than one batch holds, and checks that they do not repeat. Among 20000
// random 32-bit keys about 0.05 pairs collide on average, so more than 3
// collisions (a chance below 1e-6) means the keys are not random: a batch
// handed out twice, or not refilled.
func TestNewKey(t *testing.T) {
	t.Parallel()
	const (
		goroutines = 4
		perG       = 5000
	)
	keys := make([][]Key, goroutines)
	done := make(chan struct{})
	for g := range goroutines {
		go func() {
			defer func() { done <- struct{}{} }()
			ks := make([]Key, perG)
			for i := range ks {
				ks[i] = NewKey()
			}
			keys[g] = ks
		}()
	}
	for range goroutines {
		<-done
	}
	seen := make(map[Key]int)
	dup := 0
	for _, ks := range keys {
		for _, k := range ks {
			if seen[k] > 0 {
				dup++
			}
			seen[k]++
		}
	}
	if dup > 3 {
		t.Errorf("%d repeated keys among %d, want at most 3", dup, goroutines*perG)
	}
	// Each value of each key byte should turn up about 20000/256 = 78
	// times (standard deviation 9); a byte stuck at one value, such as the
	// zeros of a batch already handed out, would not.
	var counts [4][256]int
	for _, ks := range keys {
		for _, k := range ks {
			for i, c := range k {
				counts[i][c]++
			}
		}
	}
	for i := range counts {
		for v, c := range counts[i] {
			if c < 20 || c > 160 {
				t.Errorf("key byte %d took value %#02x %d times, want about 78", i, v, c)
			}
		}
	}
}

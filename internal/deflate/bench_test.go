package deflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// The benchmarks set bytes to the uncompressed size, so MB/s is input
// consumed (compressing) or output produced (decompressing), and report
// the compressed size as "ratio%" (compressed/uncompressed) and "B/msg".

type benchCodec struct {
	name string
	// newConn returns a function that compresses one message of a
	// connection, appending the payload to dst.
	newConn func() func(dst, msg []byte) []byte
}

// stdlibConn compresses as peers that use compress/flate with context
// takeover do: one flate.Writer for the life of the connection, and a
// sync flush after each message, whose tail is then stripped.
func stdlibConn(level int) func() func(dst, msg []byte) []byte {
	return func() func(dst, msg []byte) []byte {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, level)
		return func(dst, msg []byte) []byte {
			buf.Reset()
			w.Write(msg)
			w.Flush()
			return append(dst, buf.Bytes()[:buf.Len()-4]...)
		}
	}
}

// stdlibMessage compresses each message on its own, with a pooled
// flate.Writer reset for each one: what peers do without takeover.
func stdlibMessage(level int) func() func(dst, msg []byte) []byte {
	return func() func(dst, msg []byte) []byte {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, level)
		return func(dst, msg []byte) []byte {
			buf.Reset()
			w.Reset(&buf)
			w.Write(msg)
			w.Flush()
			return append(dst, buf.Bytes()[:buf.Len()-4]...)
		}
	}
}

func oursConn(level int, takeover bool) func() func(dst, msg []byte) []byte {
	return func() func(dst, msg []byte) []byte {
		c := NewCompressor(level, 15, takeover)
		return c.Compress
	}
}

// runCompress compresses msgs round-robin over conns connections, one
// message per op.
func runCompress(b *testing.B, newConn func() func(dst, msg []byte) []byte, conns int, msgs [][]byte) {
	cs := make([]func(dst, msg []byte) []byte, conns)
	for i := range cs {
		cs[i] = newConn()
	}
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	b.SetBytes(int64(total / len(msgs)))
	b.ReportAllocs()
	dst := make([]byte, 0, 2<<20)
	in, out := 0, 0
	i := 0
	for b.Loop() {
		m := msgs[i%len(msgs)]
		dst = cs[i%conns](dst[:0], m)
		in += len(m)
		out += len(dst)
		i++
	}
	b.ReportMetric(100*float64(out)/float64(in), "ratio%")
	b.ReportMetric(float64(out)/float64(i), "B/msg")
}

func BenchmarkCompressChat(b *testing.B) {
	msgs := chatMessages(1, 1000)
	for _, bc := range []benchCodec{
		{"deflate-L1", oursConn(1, true)},
		{"deflate-L2", oursConn(2, true)},
		{"deflate-L6", oursConn(6, true)},
		{"flate-BestSpeed", stdlibConn(flate.BestSpeed)},
		{"flate-Default", stdlibConn(flate.DefaultCompression)},
	} {
		b.Run(bc.name, func(b *testing.B) { runCompress(b, bc.newConn, 1, msgs) })
	}
	// With 64 connections taking turns, the pooled encoder never comes
	// back to the Compressor that used it last, so every message enters
	// its history into the hash tables anew.
	for _, bc := range []benchCodec{
		{"deflate-L1-64conns", oursConn(1, true)},
		{"deflate-L2-64conns", oursConn(2, true)},
		{"flate-BestSpeed-64conns", stdlibConn(flate.BestSpeed)},
	} {
		b.Run(bc.name, func(b *testing.B) { runCompress(b, bc.newConn, 64, msgs) })
	}
	for _, bc := range []benchCodec{
		{"deflate-L1-noTakeover", oursConn(1, false)},
		{"flate-BestSpeed-noTakeover", stdlibMessage(flate.BestSpeed)},
	} {
		b.Run(bc.name, func(b *testing.B) { runCompress(b, bc.newConn, 1, msgs) })
	}
}

func BenchmarkCompressText(b *testing.B) {
	for _, size := range []int{16 << 10, 1 << 20} {
		msgs := [][]byte{text(7, size)}
		for _, bc := range []benchCodec{
			{"deflate-L1", oursConn(1, false)},
			{"deflate-L2", oursConn(2, false)},
			{"deflate-L6", oursConn(6, false)},
			{"deflate-L9", oursConn(9, false)},
			{"flate-BestSpeed", stdlibMessage(flate.BestSpeed)},
			{"flate-Default", stdlibMessage(flate.DefaultCompression)},
			{"flate-Best", stdlibMessage(flate.BestCompression)},
		} {
			b.Run(fmt.Sprintf("%dKiB/%s", size>>10, bc.name), func(b *testing.B) { runCompress(b, bc.newConn, 1, msgs) })
		}
	}
}

func BenchmarkCompressRandom(b *testing.B) {
	msgs := [][]byte{random(7, 64<<10)}
	for _, bc := range []benchCodec{
		{"deflate-L1", oursConn(1, false)},
		{"deflate-L2", oursConn(2, false)},
		{"flate-BestSpeed", stdlibMessage(flate.BestSpeed)},
		{"flate-Default", stdlibMessage(flate.DefaultCompression)},
	} {
		b.Run(bc.name, func(b *testing.B) { runCompress(b, bc.newConn, 1, msgs) })
	}
}

// BenchmarkDecompress reads payloads our Compressor made at level 1.
func BenchmarkDecompress(b *testing.B) {
	b.Run("chat", func(b *testing.B) {
		msgs := chatMessages(1, 1000)
		payloads := compressMessages(NewCompressor(1, 15, true), msgs, nil)
		benchDecompress(b, msgs, payloads, true)
	})
	b.Run("text-1MiB", func(b *testing.B) {
		msgs := [][]byte{text(7, 1<<20)}
		payloads := compressMessages(NewCompressor(1, 15, false), msgs, nil)
		benchDecompress(b, msgs, payloads, false)
	})
}

// BenchmarkDecompressFlate reads the same payloads with a bare
// compress/flate reader, reset for each message onto the history, as a
// baseline for the Decompressor's own work.
func BenchmarkDecompressFlate(b *testing.B) {
	b.Run("chat", func(b *testing.B) {
		msgs := chatMessages(1, 1000)
		payloads := compressMessages(NewCompressor(1, 15, true), msgs, nil)
		benchFlate(b, msgs, payloads, true)
	})
	b.Run("text-1MiB", func(b *testing.B) {
		msgs := [][]byte{text(7, 1<<20)}
		payloads := compressMessages(NewCompressor(1, 15, false), msgs, nil)
		benchFlate(b, msgs, payloads, false)
	})
}

func benchFlate(b *testing.B, msgs, payloads [][]byte, takeover bool) {
	total := 0
	for i, p := range payloads {
		payloads[i] = append(withTail(p), 0x01, 0x00, 0x00, 0xff, 0xff)
		total += len(msgs[i])
	}
	b.SetBytes(int64(total / len(msgs)))
	b.ReportAllocs()
	var r bytes.Reader
	fr := flate.NewReader(&r)
	buf := make([]byte, 32<<10)
	hist := make([]byte, 0, 1<<15)
	i := 0
	for b.Loop() {
		k := i % len(msgs)
		if k == 0 {
			hist = hist[:0]
		}
		r.Reset(payloads[k])
		fr.(flate.Resetter).Reset(&r, hist)
		n := 0
		for {
			m, err := fr.Read(buf)
			if takeover {
				// Keep the last 32 KiB, as the Decompressor does.
				if len(hist)+m > cap(hist) {
					keep := max(0, cap(hist)-m)
					hist = append(hist[:0], hist[len(hist)-min(keep, len(hist)):]...)
				}
				hist = append(hist, buf[max(0, m-cap(hist)):m]...)
			}
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if n != len(msgs[k]) {
			b.Fatalf("message %d: %d bytes, want %d", k, n, len(msgs[k]))
		}
		i++
	}
}

func benchDecompress(b *testing.B, msgs, payloads [][]byte, takeover bool) {
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	b.SetBytes(int64(total / len(msgs)))
	b.ReportAllocs()
	d := NewDecompressor(15, takeover)
	var r bytes.Reader
	buf := make([]byte, 32<<10)
	i := 0
	for b.Loop() {
		k := i % len(msgs)
		if k == 0 {
			d.Reset()
		}
		r.Reset(payloads[k])
		d.Begin(&r)
		n := 0
		for {
			m, err := d.Read(buf)
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if n != len(msgs[k]) {
			b.Fatalf("message %d: %d bytes, want %d", k, n, len(msgs[k]))
		}
		i++
	}
}

// BenchmarkIdle reports the heap that one idle Compressor or Decompressor
// holds, after one message, as bytes/idle.
func BenchmarkIdle(b *testing.B) {
	msg := text(1, 40<<10)
	for _, wb := range []int{15, 10} {
		for _, takeover := range []bool{true, false} {
			b.Run(fmt.Sprintf("Compressor/window%d/takeover=%v", wb, takeover), func(b *testing.B) {
				b.ReportMetric(idleBytes(func() any {
					c := NewCompressor(1, wb, takeover)
					c.Compress(nil, msg)
					return c
				}), "bytes/idle")
			})
			payload := NewCompressor(1, wb, false).Compress(nil, msg)
			b.Run(fmt.Sprintf("Decompressor/window%d/takeover=%v", wb, takeover), func(b *testing.B) {
				b.ReportMetric(idleBytes(func() any {
					d := NewDecompressor(wb, takeover)
					d.Begin(bytes.NewReader(payload))
					io.Copy(io.Discard, d)
					return d
				}), "bytes/idle")
			})
		}
	}
}

// idleBytes returns the heap growth per object of keeping 1000 objects
// that make returns.
func idleBytes(newIdle func() any) float64 {
	const n = 1000
	objs := new([n]any)
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range objs {
		objs[i] = newIdle()
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(objs)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
}

package wstest

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// FuzzUTF8Validator checks the incremental validator against the standard
// library, whole and split at every point: a split must never change the
// verdict, and a failure must be reported as soon as the input holds an
// invalid prefix.
func FuzzUTF8Validator(f *testing.F) {
	for _, fam := range utf8Families() {
		for _, s := range fam.seqs {
			f.Add([]byte(s.data))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := utf8.Valid(b)
		if got := validUTF8(b); got != want {
			t.Fatalf("validUTF8(%x) = %v, want %v", b, got, want)
		}
		for i := 0; i <= len(b); i++ {
			var v utf8Validator
			ok1, _ := v.validate(b[:i])
			ok2, complete := v.validate(b[i:])
			if got := ok1 && ok2 && complete; got != want {
				t.Fatalf("split at %d of %x: valid = %v, want %v", i, b, got, want)
			}
		}
	})
}

// FuzzReadFrame feeds arbitrary bytes to the frame reader: it must not
// panic, and a frame it returns must re-encode to the bytes it consumed.
func FuzzReadFrame(f *testing.F) {
	f.Add(encodeFrame(&txFrame{Opcode: opText, Fin: true, Data: []byte("hello")}, true))
	f.Add(encodeFrame(&txFrame{Opcode: opBinary, Data: bytes.Repeat([]byte{1}, 300)}, false))
	f.Add([]byte{0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		fr, err := readFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errFrameTooBig) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if uint64(len(fr.payload)) != fr.length {
			t.Fatalf("payload of %d bytes for declared length %d", len(fr.payload), fr.length)
		}
		consumed := len(b) - r.Len()
		if fr.masked {
			return // the mask key is not kept, so only the length can be checked
		}
		var rsv byte = fr.rsv
		re := appendHeader(nil, fr.opcode, fr.fin, rsv, len(fr.payload), nil)
		re = append(re, fr.payload...)
		if fr.len1 == 126 && fr.length < 126 || fr.len1 == 127 && fr.length < 1<<16 {
			return // non-minimal length encodings re-encode shorter
		}
		if !bytes.Equal(re, b[:consumed]) {
			t.Fatalf("re-encoded %x, consumed %x", re, b[:consumed])
		}
	})
}

package frame

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestCloseCodeIsValid(t *testing.T) {
	for c := 0; c <= 6000; c++ {
		code := CloseCode(c)
		want := (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
		if got := code.IsValid(); got != want {
			t.Errorf("CloseCode(%d).IsValid() = %v, want %v", c, got, want)
		}
	}
}

func TestParseClose(t *testing.T) {
	tests := []struct {
		name       string
		in         []byte
		wantCode   CloseCode
		wantReason string
		wantErr    CloseCode // 0: no error
	}{{
		name:     "empty payload",
		in:       nil,
		wantCode: CloseCode(1005),
	}, {
		name:    "one byte",
		in:      []byte{0x03},
		wantErr: CloseCode(1002),
	}, {
		name:     "1000 without reason",
		in:       []byte{0x03, 0xE8},
		wantCode: CloseCode(1000),
	}, {
		name:       "1001 with reason",
		in:         []byte{0x03, 0xE9, 'b', 'y', 'e'},
		wantCode:   CloseCode(1001),
		wantReason: "bye",
	}, {
		name:       "private code with UTF-8 reason",
		in:         append([]byte{0x0F, 0x9F}, "κόσμε"...),
		wantCode:   3999,
		wantReason: "κόσμε",
	}, {
		name:    "999",
		in:      []byte{0x03, 0xE7},
		wantErr: CloseCode(1002),
	}, {
		name:    "1004",
		in:      []byte{0x03, 0xEC},
		wantErr: CloseCode(1002),
	}, {
		name:    "1005 is never sent",
		in:      []byte{0x03, 0xED},
		wantErr: CloseCode(1002),
	}, {
		name:    "1006 is never sent",
		in:      []byte{0x03, 0xEE},
		wantErr: CloseCode(1002),
	}, {
		name:    "1015 is never sent",
		in:      []byte{0x03, 0xF7},
		wantErr: CloseCode(1002),
	}, {
		name:    "1016",
		in:      []byte{0x03, 0xF8},
		wantErr: CloseCode(1002),
	}, {
		name:    "2999",
		in:      []byte{0x0B, 0xB7},
		wantErr: CloseCode(1002),
	}, {
		name:    "5000",
		in:      []byte{0x13, 0x88},
		wantErr: CloseCode(1002),
	}, {
		name:    "65535",
		in:      []byte{0xFF, 0xFF},
		wantErr: CloseCode(1002),
	}, {
		name:    "invalid UTF-8 reason",
		in:      []byte{0x03, 0xE8, 0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64},
		wantErr: CloseCode(1007),
	}, {
		name:    "reason cut inside a character",
		in:      []byte{0x03, 0xE8, 0xCE},
		wantErr: CloseCode(1007),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClose(tt.in)
			if tt.wantErr != 0 {
				var pe *ProtocolError
				if !errors.As(err, &pe) || pe.Code != tt.wantErr {
					t.Fatalf("ParseClose(%x) error = %v, want a *ProtocolError with code %v", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseClose(%x): %v", tt.in, err)
			}
			if code != tt.wantCode || reason != tt.wantReason {
				t.Errorf("ParseClose(%x) = %v, %q; want %v, %q", tt.in, code, reason, tt.wantCode, tt.wantReason)
			}
		})
	}
}

func TestAppendClose(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	tests := []struct {
		name   string
		code   CloseCode
		reason string
		want   []byte
	}{{
		name: "no status gives an empty payload",
		code: CloseCode(1005),
		want: nil,
	}, {
		name: "code only",
		code: CloseCode(1001),
		want: []byte{0x03, 0xE9},
	}, {
		name:   "code and reason",
		code:   CloseCode(1000),
		reason: "done",
		want:   []byte{0x03, 0xE8, 'd', 'o', 'n', 'e'},
	}, {
		name:   "long reason cut at a character boundary",
		code:   4000,
		reason: long,
		want:   append([]byte{0x0F, 0xA0}, long[:122]...),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendClose(nil, tt.code, tt.reason)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("AppendClose(%v, %q) mismatch (-want +got):\n%s", tt.code, tt.reason, diff)
			}
			if len(got) > MaxControlPayload || !utf8.Valid(got[min(2, len(got)):]) {
				t.Errorf("AppendClose(%v, %q) = %x: too long or not UTF-8", tt.code, tt.reason, got)
			}
		})
	}
}

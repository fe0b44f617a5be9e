package handshake

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseExtensions(t *testing.T) {
	tests := []struct {
		in      string
		want    []Extension
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "permessage-deflate", want: []Extension{{Name: "permessage-deflate"}}},
		{in: "permessage-deflate; client_max_window_bits", want: []Extension{{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}}}}},
		{in: `foo;a=1 ; b="2",, bar ;c`, want: []Extension{{Name: "foo", Params: []Param{{"a", "1"}, {"b", "2"}}}, {Name: "bar", Params: []Param{{Name: "c"}}}}},
		{in: `x; v="a\bc"`, want: []Extension{{Name: "x", Params: []Param{{"v", "abc"}}}}},
		{in: `x; v="a b"`, wantErr: true},
		{in: `x; v=""`, wantErr: true},
		{in: `x; v="abc`, wantErr: true},
		{in: `x; =1`, wantErr: true},
		{in: `x y`, wantErr: true},
		{in: `;x`, wantErr: true},
		{in: `x; v=`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseExtensions(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseExtensions(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseExtensions(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestNegotiateDeflate(t *testing.T) {
	tests := []struct {
		name   string
		offer  string
		want   DeflateParams
		resp   DeflateParams
		wantOK bool
	}{{
		name:   "plain offer",
		offer:  "permessage-deflate",
		wantOK: true,
	}, {
		name:   "Chromium's offer",
		offer:  "permessage-deflate; client_max_window_bits",
		wantOK: true,
	}, {
		name:   "server limits the client's window",
		offer:  "permessage-deflate; client_max_window_bits",
		want:   DeflateParams{ClientMaxWindowBits: 10},
		resp:   DeflateParams{ClientMaxWindowBits: 10},
		wantOK: true,
	}, {
		name:   "client_max_window_bits not offered is never answered",
		offer:  "permessage-deflate",
		want:   DeflateParams{ClientMaxWindowBits: 10},
		wantOK: true,
	}, {
		name:   "server_max_window_bits answered with the offered value",
		offer:  "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
		resp:   DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 9},
		wantOK: true,
	}, {
		name:   "server_max_window_bits answered with a smaller value",
		offer:  "permessage-deflate; server_max_window_bits=12",
		want:   DeflateParams{ServerMaxWindowBits: 10},
		resp:   DeflateParams{ServerMaxWindowBits: 10},
		wantOK: true,
	}, {
		name:   "no-context-takeover both ways",
		offer:  "permessage-deflate; client_no_context_takeover",
		want:   DeflateParams{ServerNoContextTakeover: true},
		resp:   DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true},
		wantOK: true,
	}, {
		name:   "falls back past a bad offer",
		offer:  "permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits=8",
		resp:   DeflateParams{ClientMaxWindowBits: 8},
		wantOK: true,
	}, {
		name:  "duplicate parameter",
		offer: "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
	}, {
		name:  "unknown parameter",
		offer: "permessage-deflate; foo",
	}, {
		name:  "leading zero",
		offer: "permessage-deflate; server_max_window_bits=09",
	}, {
		name:  "window 7",
		offer: "permessage-deflate; client_max_window_bits=7",
	}, {
		name:  "server_max_window_bits needs a value",
		offer: "permessage-deflate; server_max_window_bits",
	}, {
		name:  "other extension only",
		offer: "x-webkit-deflate-frame",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exts, err := ParseExtensions(tt.offer)
			if err != nil {
				t.Fatal(err)
			}
			resp, ok := NegotiateDeflate(exts, tt.want)
			if ok != tt.wantOK {
				t.Fatalf("NegotiateDeflate(%q) ok = %v, want %v", tt.offer, ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.resp, resp); diff != "" {
				t.Errorf("response mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckDeflateResponse(t *testing.T) {
	chromium := DeflateParams{ClientMaxWindowBits: 15}
	tests := []struct {
		name    string
		resp    string
		offer   DeflateParams
		offered bool
		want    DeflateParams
		wantOK  bool
		wantErr bool
	}{
		{name: "declined", resp: "", offer: chromium, offered: true},
		{name: "accepted", resp: "permessage-deflate", offer: chromium, offered: true, wantOK: true},
		{name: "client window set", resp: "permessage-deflate; client_max_window_bits=10", offer: chromium, offered: true, want: DeflateParams{ClientMaxWindowBits: 10}, wantOK: true},
		{name: "client window not offered", resp: "permessage-deflate; client_max_window_bits=10", offered: true, wantErr: true},
		{name: "value-less client window in a response", resp: "permessage-deflate; client_max_window_bits", offer: chromium, offered: true, wantErr: true},
		{name: "client window above offer", resp: "permessage-deflate; client_max_window_bits=12", offer: DeflateParams{ClientMaxWindowBits: 10}, offered: true, wantErr: true},
		{name: "server window above offer", resp: "permessage-deflate; server_max_window_bits=12", offer: DeflateParams{ServerMaxWindowBits: 10}, offered: true, wantErr: true},
		{name: "nothing offered", resp: "permessage-deflate", wantErr: true},
		{name: "unknown extension", resp: "foo", offered: true, wantErr: true},
		{name: "twice", resp: "permessage-deflate, permessage-deflate", offered: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := CheckDeflateResponse(tt.resp, tt.offer, tt.offered)
			if (err != nil) != tt.wantErr || ok != tt.wantOK {
				t.Fatalf("CheckDeflateResponse(%q) = %+v, %v, %v", tt.resp, got, ok, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

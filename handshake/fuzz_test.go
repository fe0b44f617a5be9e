package handshake

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseExtensions checks that parsing never panics and that what it
// accepts formats and parses back to the same value.
func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{"permessage-deflate; client_max_window_bits", `a;b="c", d`, "x; server_max_window_bits=10,, y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		exts, err := ParseExtensions(s)
		if err != nil {
			return
		}
		again, err := ParseExtensions(FormatExtensions(exts))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", FormatExtensions(exts), err)
		}
		if diff := cmp.Diff(exts, again); diff != "" {
			t.Fatalf("round trip of %q mismatch (-want +got):\n%s", s, diff)
		}
	})
}

// FuzzNegotiateDeflate checks that whatever a server answers to an offer
// passes the client's check of that answer against the same offer.
func FuzzNegotiateDeflate(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits", false, false, 0, 0)
	f.Add("permessage-deflate; server_max_window_bits=9, permessage-deflate", true, false, 10, 12)
	f.Fuzz(func(t *testing.T, offer string, snct, cnct bool, sbits, cbits int) {
		exts, err := ParseExtensions(offer)
		if err != nil {
			return
		}
		want := DeflateParams{ServerNoContextTakeover: snct, ClientNoContextTakeover: cnct, ServerMaxWindowBits: 8 + abs(sbits)%8, ClientMaxWindowBits: 8 + abs(cbits)%8}
		resp, ok := NegotiateDeflate(exts, want)
		if !ok {
			return
		}
		// Find the offer the server took, as the client would know it.
		var accepted DeflateParams
		for _, e := range exts {
			if d, err := parseDeflate(e, false); err == nil && strings.EqualFold(e.Name, "permessage-deflate") {
				accepted = d
				break
			}
		}
		got, ok, err := CheckDeflateResponse(FormatExtensions([]Extension{resp.Extension()}), accepted, true)
		if err != nil || !ok {
			t.Fatalf("offer %q: response %+v fails the client's check: %v", offer, resp, err)
		}
		if got != resp {
			t.Fatalf("client read %+v, server meant %+v", got, resp)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// FuzzRequestCheck checks that Check never panics and answers with one of
// the documented statuses.
func FuzzRequestCheck(f *testing.F) {
	f.Add("GET", 1, 1, "h", "websocket", "upgrade", rfcKey, 1, "13")
	f.Fuzz(func(t *testing.T, method string, major, minor int, host, upgrade, connection, key string, keys int, version string) {
		r := Request{Method: method, ProtoMajor: major, ProtoMinor: minor, Host: host, Upgrade: upgrade, Connection: connection, Key: key, KeyCount: keys, Version: version}
		err := r.Check()
		if err == nil {
			return
		}
		he, ok := err.(*Error)
		if !ok {
			t.Fatalf("Check() = %T, want *Error", err)
		}
		switch he.Status {
		case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusUpgradeRequired:
		default:
			t.Fatalf("Check() status %d", he.Status)
		}
	})
}

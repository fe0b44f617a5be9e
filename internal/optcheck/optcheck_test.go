package optcheck

import (
	"strings"
	"testing"
)

func TestChecks(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"window 0", WindowBits("W", 0), false},
		{"window 8", WindowBits("W", 8), false},
		{"window 15", WindowBits("W", 15), false},
		{"window 7", WindowBits("W", 7), true},
		{"window 16", WindowBits("W", 16), true},
		{"window -1", WindowBits("W", -1), true},
		{"size 0", NonNegative("N", 0), false},
		{"size -1", NonNegative("N", int64(-1)), true},
		{"tokens", Tokens("T", []string{"chat.v1", "mqtt", "x-a_b~c"}), false},
		{"empty token", Tokens("T", []string{"chat", ""}), true},
		{"token with space", Tokens("T", []string{"chat v1"}), true},
		{"token with comma", Tokens("T", []string{"a,b"}), true},
		{"token with slash", Tokens("T", []string{"a/b"}), true},
		{"header", Header("H", map[string][]string{"Set-Cookie": {"a=b; Path=/"}, "X-Id": {"1\t2"}}, "Upgrade"), false},
		{"header CRLF", Header("H", map[string][]string{"X-Id": {"1\r\nEvil: yes"}}), true},
		{"header NUL", Header("H", map[string][]string{"X-Id": {"1\x00"}}), true},
		{"header name with colon", Header("H", map[string][]string{"X-Id:": {"1"}}), true},
		{"header name empty", Header("H", map[string][]string{"": {"1"}}), true},
		{"reserved header", Header("H", map[string][]string{"sec-websocket-accept": {"x"}}, "Sec-WebSocket-Accept"), true},
	}
	for _, tt := range tests {
		if (tt.err != nil) != tt.wantErr {
			t.Errorf("%s: error %v, want error: %v", tt.name, tt.err, tt.wantErr)
		}
		// Every field above is named with one capital letter.
		if tt.err != nil && !strings.ContainsAny(tt.err.Error()[:1], "WNTH") {
			t.Errorf("%s: error %q does not start with the field's name", tt.name, tt.err)
		}
	}
}

package wstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A Behavior is a verdict, spelt as the Autobahn reports spell it.
type Behavior string

// Verdicts. Behavior uses OK, nonStrict, Informational, unimplemented and
// failed; BehaviorClose (the judgement of the closing handshake) also uses
// wrongCode, unclean and failedByClient. Callers need only OK and
// Informational; [Result.Passed] sorts the rest.
const (
	OK             Behavior = "OK"
	nonStrict      Behavior = "NON-STRICT"
	Informational  Behavior = "INFORMATIONAL"
	unimplemented  Behavior = "UNIMPLEMENTED"
	failed         Behavior = "FAILED"
	wrongCode      Behavior = "WRONG CODE"
	unclean        Behavior = "UNCLEAN"
	failedByClient Behavior = "FAILED BY CLIENT"
)

// An event is one thing a case observed, an entry of Autobahn's
// "received" (and "expected") lists: a message, a pong, or a timeout
// marker that a case records when a pause passed with the connection
// still open.
type event struct {
	Kind   string // "message", "pong" or "timeout"
	Data   []byte // payload, or the timeout's tag
	Binary bool   // for messages: binary rather than text
}

func msgEvent(data string, binary bool) event {
	return event{Kind: "message", Data: []byte(data), Binary: binary}
}

func pongEvent(data string) event { return event{Kind: "pong", Data: []byte(data)} }

func timeoutEvent(tag string) event { return event{Kind: "timeout", Data: []byte(tag)} }

// MarshalJSON writes the event as Autobahn does: a list of kind, payload
// (text shortened to 64 octets, or hex when it is not UTF-8) and, for
// messages, the binary flag.
func (e event) MarshalJSON() ([]byte, error) {
	v := []any{e.Kind, logData(e.Data)}
	if e.Kind == "message" {
		v = append(v, e.Binary)
	}
	return json.Marshal(v)
}

// logData renders a payload for reports.
func logData(b []byte) string {
	const maxLen = 64
	cut := b
	suffix := ""
	if len(b) > maxLen-4 {
		cut, suffix = b[:min(len(b), maxLen)], " ..."
	}
	if validUTF8(cut) {
		return string(cut) + suffix
	}
	return fmt.Sprintf("0x%x%s", cut, suffix)
}

func eventsEqual(a, b []event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].Binary != b[i].Binary || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

// A Case is one test case of the catalogue.
type Case struct {
	ID          string // Autobahn's case id, e.g. "6.4.1"
	Description string
	Expectation string
	// Limit bounds how long the case may take before the suite drops the
	// connection; it only matters for peers that never close.
	Limit time.Duration
	// play starts the case on an open connection, like Autobahn's onOpen;
	// it sets the expectations and sends the first frames.
	play func(s *session)
	// deflate, if set, makes the opening handshake negotiate
	// permessage-deflate (sections 12 and 13); other cases offer and
	// accept no extension.
	deflate *deflateCase
}

// caseLess orders case ids numerically part by part ("6.10.1" after
// "6.9.2").
func caseLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

// patternRegexp turns an Autobahn case pattern ("*", "6.*", "9.7.*") into
// a regular expression matching whole ids.
func patternRegexp(p string) (*regexp.Regexp, error) {
	q := regexp.QuoteMeta(strings.TrimSpace(p))
	q = strings.ReplaceAll(q, `\*`, ".*")
	return regexp.Compile("^" + q + "$")
}

// Select returns the cases of cat whose id matches one of include and
// none of exclude, in catalogue order, as the "cases" and "exclude-cases"
// settings of an Autobahn spec do. Patterns may use "*" as a wildcard; an
// empty include selects nothing.
func Select(cat []Case, include, exclude []string) ([]Case, error) {
	var inc, exc []*regexp.Regexp
	for _, p := range include {
		re, err := patternRegexp(p)
		if err != nil {
			return nil, fmt.Errorf("wstest: bad case pattern %q: %w", p, err)
		}
		inc = append(inc, re)
	}
	for _, p := range exclude {
		re, err := patternRegexp(p)
		if err != nil {
			return nil, fmt.Errorf("wstest: bad case pattern %q: %w", p, err)
		}
		exc = append(exc, re)
	}
	var out []Case
	for _, c := range cat {
		if anyMatch(inc, c.ID) && !anyMatch(exc, c.ID) {
			out = append(out, c)
		}
	}
	return out, nil
}

func anyMatch(res []*regexp.Regexp, id string) bool {
	for _, re := range res {
		if re.MatchString(id) {
			return true
		}
	}
	return false
}

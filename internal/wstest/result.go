package wstest

import (
	"encoding/json"
	"time"
)

// A Result is the outcome of one case against one agent, with the fields
// of Autobahn's per-case JSON report that matter for judging it.
type Result struct {
	ID                             string             `json:"id"`
	Case                           int                `json:"case"` // 1-based position in the selected list
	Description                    string             `json:"description"`
	Expectation                    string             `json:"expectation"`
	Agent                          string             `json:"agent"`
	Started                        string             `json:"started"`
	Duration                       int64              `json:"duration"` // milliseconds
	Behavior                       Behavior           `json:"behavior"`
	BehaviorClose                  Behavior           `json:"behaviorClose"`
	Expected                       map[string][]event `json:"expected"`
	ExpectedClose                  expectedClose      `json:"expectedClose"`
	Received                       []event            `json:"received"`
	Result                         string             `json:"result"`
	ResultClose                    string             `json:"resultClose"`
	ClosedByMe                     bool               `json:"closedByMe"`
	FailedByMe                     bool               `json:"failedByMe"`
	DroppedByMe                    bool               `json:"droppedByMe"`
	WasClean                       bool               `json:"wasClean"`
	WasNotCleanReason              *string            `json:"wasNotCleanReason"`
	WasServerConnectionDropTimeout bool               `json:"wasServerConnectionDropTimeout"`
	WasCloseHandshakeTimeout       bool               `json:"wasCloseHandshakeTimeout"`
	LocalCloseCode                 *int               `json:"localCloseCode"`
	LocalCloseReason               *string            `json:"localCloseReason"`
	RemoteCloseCode                *int               `json:"remoteCloseCode"`
	RemoteCloseReason              *string            `json:"remoteCloseReason"`
	IsServer                       bool               `json:"isServer"`
	TxFrameStats                   map[int]int        `json:"txFrameStats"`
	RxFrameStats                   map[int]int        `json:"rxFrameStats"`
	// TrafficStats is set by the cases of sections 12 and 13 that pass:
	// the data traffic up to the last echo, with compression ratios.
	TrafficStats *trafficStats `json:"trafficStats"`
}

// trafficStats counts the data messages of a connection, as Autobahn's
// case reports do: octets of the messages themselves (app level), of the
// frame payloads as sent, compressed or not (WebSocket level), and of
// the frames on the wire with their headers (wire level).
type trafficStats struct {
	OutgoingOctetsWireLevel      int `json:"outgoingOctetsWireLevel"`
	OutgoingOctetsWebSocketLevel int `json:"outgoingOctetsWebSocketLevel"`
	OutgoingOctetsAppLevel       int `json:"outgoingOctetsAppLevel"`
	OutgoingWebSocketFrames      int `json:"outgoingWebSocketFrames"`
	OutgoingWebSocketMessages    int `json:"outgoingWebSocketMessages"`
	IncomingOctetsWireLevel      int `json:"incomingOctetsWireLevel"`
	IncomingOctetsWebSocketLevel int `json:"incomingOctetsWebSocketLevel"`
	IncomingOctetsAppLevel       int `json:"incomingOctetsAppLevel"`
	IncomingWebSocketFrames      int `json:"incomingWebSocketFrames"`
	IncomingWebSocketMessages    int `json:"incomingWebSocketMessages"`
}

// MarshalJSON adds the ratios Autobahn reports: compression (WebSocket
// level over app level) and overhead (what the wire adds, over the
// WebSocket level), null where there was no traffic.
func (t *trafficStats) MarshalJSON() ([]byte, error) {
	ratio := func(a, b int) *float64 {
		if b == 0 {
			return nil
		}
		r := float64(a) / float64(b)
		return &r
	}
	type plain trafficStats
	return json.Marshal(struct {
		*plain
		OutgoingCompressionRatio  *float64 `json:"outgoingCompressionRatio"`
		OutgoingWebSocketOverhead *float64 `json:"outgoingWebSocketOverhead"`
		IncomingCompressionRatio  *float64 `json:"incomingCompressionRatio"`
		IncomingWebSocketOverhead *float64 `json:"incomingWebSocketOverhead"`
	}{
		(*plain)(t),
		ratio(t.OutgoingOctetsWebSocketLevel, t.OutgoingOctetsAppLevel),
		ratio(t.OutgoingOctetsWireLevel-t.OutgoingOctetsWebSocketLevel, t.OutgoingOctetsWebSocketLevel),
		ratio(t.IncomingOctetsWebSocketLevel, t.IncomingOctetsAppLevel),
		ratio(t.IncomingOctetsWireLevel-t.IncomingOctetsWebSocketLevel, t.IncomingOctetsWebSocketLevel),
	})
}

// Passed reports whether the result counts as a pass: behavior OK,
// NON-STRICT or INFORMATIONAL and a close judgement of OK or
// INFORMATIONAL.
func (r *Result) Passed() bool {
	switch r.Behavior {
	case OK, nonStrict, Informational:
	default:
		return false
	}
	return r.BehaviorClose == OK || r.BehaviorClose == Informational
}

// failedResult is the verdict when the opening handshake never completed.
func failedResult(c Case, agent string, started time.Time, isServer bool, reason string) *Result {
	return &Result{
		ID:            c.ID,
		Description:   c.Description,
		Expectation:   c.Expectation,
		Agent:         agent,
		Started:       started.UTC().Format("2006-01-02T15:04:05.000Z"),
		Behavior:      failed,
		BehaviorClose: failed,
		Expected:      map[string][]event{},
		Result:        reason,
		ResultClose:   "The WebSocket opening handshake was never completed!",
		IsServer:      isServer,
	}
}

// result collects the session's verdict.
func (s *session) resultFor(agent string, started time.Time, dur time.Duration) *Result {
	r := &Result{
		ID:                             s.c.ID,
		Description:                    s.c.Description,
		Expectation:                    s.c.Expectation,
		Agent:                          agent,
		Started:                        started.UTC().Format("2006-01-02T15:04:05.000Z"),
		Duration:                       dur.Milliseconds(),
		Behavior:                       s.behavior,
		BehaviorClose:                  s.behaviorClose,
		Expected:                       map[string][]event{},
		ExpectedClose:                  s.expClose,
		Received:                       s.received,
		Result:                         s.result,
		ResultClose:                    s.resultClose,
		ClosedByMe:                     s.closedByMe,
		FailedByMe:                     s.failedByMe,
		DroppedByMe:                    s.droppedByMe,
		WasClean:                       s.wasClean,
		WasServerConnectionDropTimeout: s.wasServerConnectionDropTimeout,
		WasCloseHandshakeTimeout:       s.wasCloseHandshakeTimeout,
		LocalCloseCode:                 s.localCloseCode,
		RemoteCloseCode:                s.remoteCloseCode,
		RemoteCloseReason:              s.remoteCloseReason,
		IsServer:                       s.isServer,
		TxFrameStats:                   s.txFrameStats,
		RxFrameStats:                   s.rxFrameStats,
		TrafficStats:                   s.trafficStats,
	}
	if r.Received == nil {
		r.Received = []event{}
	}
	for _, e := range s.expected {
		ev := e.events
		if ev == nil {
			ev = []event{}
		}
		r.Expected[string(e.behavior)] = ev
	}
	if s.wasNotCleanReason != "" {
		w := s.wasNotCleanReason
		r.WasNotCleanReason = &w
	}
	if s.localCloseReason != nil {
		l := logData(s.localCloseReason)
		r.LocalCloseReason = &l
	}
	return r
}

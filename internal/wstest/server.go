package wstest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/internal/h2stream"
)

// A Server is the fuzzing server: an http.Handler that tests WebSocket
// clients with the protocol of Autobahn's fuzzingserver, so a client
// written for Autobahn works against it unchanged:
//
//   - /getCaseCount: sends the number of cases as a text message, then closes.
//   - /runCase?case=N&agent=A: plays case N (1-based) from the server side;
//     the client echoes every message it receives. casetuple=ID may name
//     the case by id instead.
//   - /getCaseInfo?case=N: sends {"id": ..., "description": ...}, then closes.
//   - /getCaseStatus?case=N&agent=A: sends {"behavior": ...} once case N
//     has a result for agent A, then closes.
//   - /updateReports?agent=A: writes the reports to OutDir, then closes.
//
// Every endpoint is a WebSocket opening handshake, an HTTP/1.1 upgrade or,
// on a server with HTTP/2's extended CONNECT enabled, an RFC 8441 CONNECT
// stream, over which the cases play the same; anything else gets an HTTP
// error.
type Server struct {
	// Cases is the case list clients see, numbered from 1.
	Cases []Case
	// OutDir, if set, is where /updateReports writes the reports.
	OutDir string
	// FailByDrop is Autobahn's failByDrop option (off by default).
	FailByDrop bool
	// OnResult, if set, is called after each case.
	OnResult func(*Result)

	running   atomic.Int64 // cases being played
	mu        sync.Mutex
	results   map[string]map[string]*Result
	listeners map[[2]string][]chan *Result
}

// Results returns a snapshot of the results so far, by agent, each list
// in case order.
func (s *Server) Results() map[string][]*Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]*Result{}
	for agent, byID := range s.results {
		for _, c := range s.Cases {
			if r, ok := byID[c.ID]; ok {
				out[agent] = append(out[agent], r)
			}
		}
	}
	return out
}

// caseParam reads the case number from "case" (1-based) or, as Autobahn
// also accepts, the case id from "casetuple".
func (s *Server) caseParam(r *http.Request) (int, bool) {
	q := r.URL.Query()
	if id := q.Get("casetuple"); id != "" {
		for i, c := range s.Cases {
			if c.ID == id {
				return i + 1, true
			}
		}
		return 0, false
	}
	n, err := strconv.Atoi(q.Get("case"))
	if err != nil || n < 1 || n > len(s.Cases) {
		return 0, false
	}
	return n, true
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	agent := q.Get("agent")
	n, haveCase := s.caseParam(r)
	switch r.URL.Path {
	case "/getCaseCount":
	case "/runCase", "/getCaseStatus":
		if !haveCase || agent == "" {
			http.Error(w, "wstest: need a valid case and an agent", http.StatusBadRequest)
			return
		}
	case "/getCaseInfo":
		if !haveCase {
			http.Error(w, "wstest: need a valid case", http.StatusBadRequest)
			return
		}
	case "/updateReports":
		if agent == "" {
			http.Error(w, "wstest: need an agent", http.StatusBadRequest)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	key, err := checkUpgrade(r)
	if err != nil {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// Autobahn reads the client's permessage-deflate offers on every
	// connection and refuses the handshake when one is malformed; only a
	// section 12 or 13 case accepts one.
	offers, err := requestOffers(r.Header)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		if r.URL.Path == "/runCase" && !errors.Is(err, errTwoExtensionHeaders) {
			res := failedResult(s.Cases[n-1], agent, time.Now(), true, fmt.Sprintf("%v: %v", errHandshake, err))
			res.Case = n
			s.record(res)
		}
		return
	}
	var accept *pmdAccept
	if r.URL.Path == "/runCase" && s.Cases[n-1].deflate != nil && len(offers) > 0 {
		accept = s.Cases[n-1].deflate.accept(offers)
	}
	var extensions string
	if accept != nil {
		extensions = accept.String()
	}
	nc, br, ok := acceptUpgrade(w, r, key, extensions)
	if !ok {
		return
	}
	// A session's writer may outlive it; over HTTP/2 it must not write
	// once ServeHTTP has returned, and closing the stream's Conn stops it.
	defer nc.Close()
	started := time.Now()
	switch r.URL.Path {
	case "/runCase":
		s.running.Add(1)
		defer s.running.Add(-1)
		cs := s.Cases[n-1]
		ss := newSession(nc, br, true, &cs)
		ss.failByDrop = s.FailByDrop
		if accept != nil {
			ss.pmd = newCodec(accept.params(), true)
		}
		ss.run(cs.Limit)
		res := ss.resultFor(agent, started, time.Since(started))
		res.Case = n
		s.record(res)
	case "/getCaseCount":
		s.reply(nc, br, strconv.Itoa(len(s.Cases)))
	case "/getCaseInfo":
		b, _ := json.Marshal(map[string]string{"id": s.Cases[n-1].ID, "description": s.Cases[n-1].Description})
		s.reply(nc, br, string(b))
	case "/getCaseStatus":
		res := s.wait(agent, s.Cases[n-1].ID)
		b, _ := json.Marshal(map[string]Behavior{"behavior": res.Behavior})
		s.reply(nc, br, string(b))
	case "/updateReports":
		// A client may ask for the reports as soon as it has closed its last case,
		// before the judgement of that case is recorded: wait for it, within bounds.
		for deadline := time.Now().Add(30 * time.Second); s.running.Load() > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if s.OutDir != "" {
			_ = WriteReports(s.OutDir, s.Results())
		}
		s.reply(nc, br, "")
	}
}

// serverName is the Server field of the suite's handshake answers.
const serverName = "AutobahnTestSuite-Go/wstest"

// acceptUpgrade answers a WebSocket handshake that checkUpgrade and the
// extension negotiation accepted, and returns the connection: over
// HTTP/1.1 a 101 on the hijacked connection, over HTTP/2 a 200 on the
// extended CONNECT's stream (RFC 8441), which ends when ServeHTTP
// returns.
func acceptUpgrade(w http.ResponseWriter, r *http.Request, key, extensions string) (net.Conn, *bufio.Reader, bool) {
	if r.ProtoMajor == 2 {
		w.Header().Set("Server", serverName)
		if extensions != "" {
			w.Header().Set("Sec-WebSocket-Extensions", extensions)
		}
		sc, err := h2stream.Accept(w, r)
		if err != nil {
			return nil, nil, false
		}
		return sc, bufio.NewReader(sc), true
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "wstest: connection cannot be hijacked", http.StatusInternalServerError)
		return nil, nil, false
	}
	nc, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, false
	}
	_ = nc.SetDeadline(time.Time{})
	if _, err := nc.Write(upgradeResponse(key, serverName, extensions)); err != nil {
		nc.Close()
		return nil, nil, false
	}
	return nc, rw.Reader, true
}

// reply sends msg (if any) as a text message, then closes the connection
// with a closing handshake.
func (s *Server) reply(nc net.Conn, br *bufio.Reader, msg string) {
	cs := Case{ID: "service", Limit: 5 * time.Second, play: func(ss *session) {
		ss.suppressClose = true
		if msg != "" {
			ss.sendMessage([]byte(msg), false, 0)
		}
		ss.sendClose(noCode, "")
	}}
	ss := newSession(nc, br, true, &cs)
	ss.run(cs.Limit)
}

func (s *Server) record(r *Result) {
	s.mu.Lock()
	if s.results == nil {
		s.results = map[string]map[string]*Result{}
	}
	if s.results[r.Agent] == nil {
		s.results[r.Agent] = map[string]*Result{}
	}
	s.results[r.Agent][r.ID] = r
	k := [2]string{r.Agent, r.ID}
	ls := s.listeners[k]
	delete(s.listeners, k)
	s.mu.Unlock()
	for _, ch := range ls {
		ch <- r
	}
	if s.OnResult != nil {
		s.OnResult(r)
	}
}

func (s *Server) wait(agent, id string) *Result {
	s.mu.Lock()
	if r, ok := s.results[agent][id]; ok {
		s.mu.Unlock()
		return r
	}
	if s.listeners == nil {
		s.listeners = map[[2]string][]chan *Result{}
	}
	ch := make(chan *Result, 1)
	k := [2]string{agent, id}
	s.listeners[k] = append(s.listeners[k], ch)
	s.mu.Unlock()
	return <-ch
}

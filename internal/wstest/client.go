package wstest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// A Client is the fuzzing client: it runs cases against a WebSocket
// server, one fresh connection per case, and judges each like Autobahn's
// fuzzingclient. The zero value runs no cases; set Cases.
type Client struct {
	// URL of the server under test, ws://host:port/path.
	URL string
	// Agent names the server in the reports. If empty, the Server header
	// of the first handshake response is used, else "UnknownServer".
	Agent string
	// Cases to run, in order; see Catalogue and Select.
	Cases []Case
	// Parallel is how many cases run at once; 0 or 1 runs them one after
	// another, as the real suite does.
	Parallel int
	// FailByDrop makes the suite drop the TCP connection instead of
	// closing it with a Close frame when the peer violates the protocol
	// (Autobahn's failByDrop option; off by default, as in wstest).
	FailByDrop bool
	// OnResult, if set, is called after each case (from the goroutine
	// that ran it).
	OnResult func(*Result)

	// Dial, if set, opens the connection of each case in place of the
	// suite's own TCP connection and HTTP/1.1 handshake: it returns a
	// connection whose opening handshake is done, such as a stream of an
	// HTTP/2 connection (RFC 8441), offering extensions (a
	// Sec-WebSocket-Extensions value) unless it is "", and the header of
	// the server's answer. Closing the connection is then what closing
	// TCP is to the verdicts.
	Dial func(ctx context.Context, extensions string) (net.Conn, http.Header, error)
}

// Run runs the cases and returns their results in case order. It returns
// an error only for a bad URL; connection failures are FAILED results.
func (c *Client) Run(ctx context.Context) ([]*Result, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("wstest: bad url: %w", err)
	}
	results := make([]*Result, len(c.Cases))
	par := max(c.Parallel, 1)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	agent := c.Agent
	for i, cs := range c.Cases {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, cs Case) {
			defer wg.Done()
			defer func() { <-sem }()
			r := c.runOne(ctx, u, cs, &mu, &agent)
			r.Case = i + 1
			results[i] = r
			if c.OnResult != nil {
				c.OnResult(r)
			}
		}(i, cs)
	}
	wg.Wait()
	mu.Lock()
	for _, r := range results {
		if r != nil {
			r.Agent = agent
		}
	}
	mu.Unlock()
	var out []*Result
	for _, r := range results {
		if r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func (c *Client) runOne(ctx context.Context, u *url.URL, cs Case, mu *sync.Mutex, agent *string) *Result {
	started := time.Now()
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	var offer string
	if cs.deflate != nil {
		offer = cs.deflate.header()
	}
	var nc net.Conn
	var br *bufio.Reader
	var resp *http.Response
	var pmd *pmdParams
	var err error
	if c.Dial != nil {
		nc, br, resp, pmd, err = c.dialWith(hctx, offer)
	} else {
		nc, br, resp, pmd, err = dial(hctx, u, "AutobahnTestSuite-Go/wstest", offer)
	}
	cancel()
	mu.Lock()
	if *agent == "" && resp != nil {
		*agent = resp.Header.Get("Server")
		if *agent == "" {
			*agent = "UnknownServer"
		}
	}
	a := *agent
	mu.Unlock()
	if err != nil {
		return failedResult(cs, a, started, false, err.Error())
	}
	s := newSession(nc, br, false, &cs)
	s.failByDrop = c.FailByDrop
	if pmd != nil {
		s.pmd = newCodec(*pmd, false)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	s.run(cs.Limit)
	return s.resultFor(a, started, time.Since(started))
}

// dialWith opens a case's connection with c.Dial.
func (c *Client) dialWith(ctx context.Context, offer string) (net.Conn, *bufio.Reader, *http.Response, *pmdParams, error) {
	nc, header, err := c.Dial(ctx, offer)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("%w: %v", errHandshake, err)
	}
	resp := &http.Response{StatusCode: http.StatusOK, Header: header}
	pmd, err := responseParams(header, offer != "")
	if err != nil {
		nc.Close()
		return nil, nil, resp, nil, fmt.Errorf("%w: %v", errHandshake, err)
	}
	return nc, bufio.NewReaderSize(nc, 64<<10), resp, pmd, nil
}

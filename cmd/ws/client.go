package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/frame"
)

// closeTimeout bounds the wait for the server's Close frame.
const closeTimeout = conn.DefaultCloseTimeout

// pingTimeout bounds the wait for the pong of /ping.
const pingTimeout = 10 * time.Second

// clientConfig is what the flags of the client ask for.
type clientConfig struct {
	url      string
	opts     client.Options
	verbose  bool
	base64   bool
	commands bool
	wait     time.Duration
}

// parseClientFlags parses the client's command line. It returns a usage
// error for anything malformed.
func parseClientFlags(args []string, stdin io.Reader, stderr io.Writer) (*clientConfig, error) {
	fs := flag.NewFlagSet("ws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		headers, protocols listFlag
		commands           autoBool
		cfg                clientConfig
	)
	fs.Var(&headers, "H", "add a request header `'Name: value'` (repeatable)")
	fs.Var(&protocols, "s", "offer a subprotocol `proto` (repeatable)")
	origin := fs.String("origin", "", "send an Origin header with this `URL`")
	compress := fs.Bool("compress", false, "offer permessage-deflate compression")
	insecure := fs.Bool("insecure", false, "skip verifying the server's TLS certificate")
	binary := fs.String("binary", "hex", "print binary messages as `hex` or base64")
	fs.Var(&commands, "commands", "read /ping, /close, /binary commands from stdin (default: when stdin is a terminal)")
	fs.Var((*waitFlag)(&cfg.wait), "wait", "after stdin ends, keep reading for this `duration` before closing; forever (or -1): until the server closes")
	fs.BoolVar(&cfg.verbose, "v", false, "print the handshake and every frame to stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ws [flags] URL\n       ws listen [-echo | -broadcast] [flags] ADDR   (ws listen -h for its flags)\n\nflags:")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nexit status: 0 normal closure, 1 error, 2 usage, 3 handshake failed,\n4 server closed with another code than 1000, 5 abnormal end, 130/143 signal")
	}
	if err := fs.Parse(args); err != nil {
		return nil, flagError{err}
	}
	// Flags may follow the URL too.
	if fs.NArg() > 0 {
		cfg.url = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return nil, flagError{err}
		}
	}
	switch {
	case cfg.url == "":
		return nil, errors.New("no URL given")
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q after the URL", fs.Arg(0))
	}
	u, err := url.Parse(cfg.url)
	if err != nil {
		return nil, fmt.Errorf("malformed URL: %v", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("URL %q: the scheme must be ws or wss", cfg.url)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", cfg.url)
	}
	switch *binary {
	case "hex":
	case "base64":
		cfg.base64 = true
	default:
		return nil, fmt.Errorf("-binary %q: want hex or base64", *binary)
	}

	o := &cfg.opts
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("-H %q: want 'Name: value'", h)
		}
		switch key := http.CanonicalHeaderKey(name); {
		case key == "Host":
			o.Host = value
		case key == "Upgrade" || key == "Connection" || strings.HasPrefix(key, "Sec-Websocket-"):
			return nil, fmt.Errorf("-H %q: ws sets %s itself (use -s for subprotocols, -compress for extensions)", h, name)
		default:
			if o.Header == nil {
				o.Header = http.Header{}
			}
			o.Header.Add(key, value)
		}
	}
	if *origin != "" {
		if o.Header == nil {
			o.Header = http.Header{}
		}
		o.Header.Set("Origin", *origin)
	}
	o.Subprotocols = protocols
	if *compress {
		o.Compression = &conn.Compression{}
	}
	if *insecure {
		o.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	o.Conn.CloseTimeout = closeTimeout
	if commands.set {
		cfg.commands = commands.value
	} else {
		cfg.commands = isTerminal(stdin)
	}
	return &cfg, nil
}

// isTerminal reports whether r is a character device, as a terminal is.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// dial runs the client: it returns the exit status.
func dial(args []string, stdin io.Reader, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	cfg, err := parseClientFlags(args, stdin, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var fe flagError
	switch {
	case errors.As(err, &fe):
		return exitUsage // the flag package has printed it, with the usage
	case err != nil:
		return usageError(stderr, "%v", err)
	}
	log := &logger{w: stderr}
	var tapLog *logger
	if cfg.verbose {
		tapLog = log
	}
	// ws makes the TLS session of a wss:// URL itself (see dialTLS), so
	// that with -v the wire under the Conn carries plaintext.
	u, _ := url.Parse(cfg.url) // checked by parseClientFlags
	dialURL, tlsConfig := cfg.url, cfg.opts.TLSConfig
	if u.Scheme == "wss" {
		dialURL = cfg.plainURL(u)
	}
	var d net.Dialer
	cfg.opts.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nc net.Conn
		var err error
		if u.Scheme == "wss" {
			nc, err = dialTLS(ctx, u, addr, tlsConfig, tapLog)
		} else {
			nc, err = d.DialContext(ctx, network, addr)
		}
		if err != nil || !cfg.verbose {
			return nc, err
		}
		return newWire(nc, tapLog), nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type dialed struct {
		c    *conn.Conn
		resp *http.Response
		err  error
	}
	done := make(chan dialed, 1)
	go func() {
		c, resp, err := client.Dial(ctx, dialURL, &cfg.opts)
		done <- dialed{c, resp, err}
	}()
	var dd dialed
	select {
	case dd = <-done:
	case sig := <-sigs:
		cancel()
		if dd = <-done; dd.c != nil {
			dd.c.CloseNow()
		}
		log.printf("ws: interrupted while connecting")
		return signalStatus(sig)
	}
	if dd.err != nil {
		log.printf("ws: %v", dd.err)
		var he *client.HandshakeError
		if errors.As(dd.err, &he) && he.Response != nil {
			// With -v the wire has printed the head.
			printResponse(log, he.Response, !cfg.verbose)
		}
		return exitHandshake
	}
	c := dd.c
	if cfg.verbose {
		log.printf("ws: connected to %s (subprotocol %q, extensions %q)", cfg.url, c.Subprotocol(), c.Extensions())
	}
	return session(c, cfg, stdin, stdout, log, sigs)
}

// printResponse prints the start of a refused handshake's response body,
// after its head if head is set.
func printResponse(log *logger, resp *http.Response, head bool) {
	if head {
		log.printf("< %s %s", resp.Proto, resp.Status)
		var b bytes.Buffer
		resp.Header.Write(&b)
		for _, line := range strings.Split(strings.TrimRight(b.String(), "\r\n"), "\r\n") {
			if line != "" {
				log.printf("< %s", line)
			}
		}
		log.printf("<")
	}
	if resp.Body != nil {
		if p, _ := io.ReadAll(io.LimitReader(resp.Body, 1024)); len(p) > 0 {
			log.printf("< %s", strings.TrimRight(string(p), "\r\n"))
		}
	}
}

// An inputEnd is why reading standard input stopped.
type inputEnd struct {
	code   conn.CloseCode // the code to close with
	reason string
	err    error // reading stdin, or writing a message, failed
	eof    bool  // stdin ended (rather than /close)
}

// session runs an open connection to its end and returns the exit status.
func session(c *conn.Conn, cfg *clientConfig, stdin io.Reader, stdout io.Writer, log *logger, sigs <-chan os.Signal) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The reader prints every message until the connection ends; then
	// readErr says how it ended. It goes on while Close waits for the
	// server's Close frame: what arrives meanwhile is printed, by this
	// Read or, if Close read it, by a later one.
	var readErr error
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		out := bufio.NewWriter(stdout)
		var buf []byte
		for {
			typ, data, err := c.Read(ctx, buf[:0])
			if err != nil {
				readErr = err
				return
			}
			writeMessage(out, typ, data, cfg.base64)
			out.Flush()
			buf = data
		}
	}()

	inputDone := make(chan inputEnd, 1)
	go func() { inputDone <- readInput(ctx, c, cfg, stdin, log) }()

	// closeAndWait closes with code and waits for the reader to end. Close
	// returns once the server has answered, or after closeTimeout
	// (Options.Conn.CloseTimeout) with the connection closed. It reports
	// whether ws sent the first Close frame: Close fails if the Conn has
	// sent one already, answering the server's or failing the connection,
	// and then the reader's error tells the story.
	closeAndWait := func(code conn.CloseCode, reason string) (weClosed bool) {
		if cfg.verbose {
			log.printf("ws: closing with %d %q", code, reason)
		}
		err := c.Close(code, reason)
		<-printed
		return err == nil
	}

	select {
	case <-printed:
		return endStatus(readErr, false, log, cfg.verbose)
	case sig := <-sigs:
		closeAndWait(conn.CloseGoingAway, "")
		return signalStatus(sig)
	case in := <-inputDone:
		status := exitOK
		if in.err != nil {
			log.printf("ws: %v", in.err)
			if !in.eof {
				// Writing failed: the connection is gone; the reader says how.
				c.CloseNow()
				<-printed
				return endStatus(readErr, false, log, cfg.verbose)
			}
			status = exitError
		}
		if in.eof && cfg.wait != 0 {
			var timeout <-chan time.Time
			if cfg.wait > 0 {
				t := time.NewTimer(cfg.wait)
				defer t.Stop()
				timeout = t.C
			}
			select {
			case <-printed:
				return endStatus(readErr, false, log, cfg.verbose)
			case sig := <-sigs:
				closeAndWait(conn.CloseGoingAway, "")
				return signalStatus(sig)
			case <-timeout:
			}
		}
		weClosed := closeAndWait(in.code, in.reason)
		if s := endStatus(readErr, weClosed, log, cfg.verbose); s != exitOK {
			return s
		}
		return status
	}
}

// endStatus reports how the connection ended, given the error that ended
// the reader, and returns the exit status. weClosed says that ws sent a
// Close frame first.
func endStatus(err error, weClosed bool, log *logger, verbose bool) int {
	var ce *conn.CloseError
	var pe *conn.ProtocolError
	switch {
	case errors.As(err, &ce) && ce.Code == conn.CloseAbnormalClosure:
		log.printf("ws: the connection ended without a closing handshake: %v", err)
		return exitAbnormal
	case errors.As(err, &ce) && weClosed:
		if verbose {
			log.printf("ws: closed; the server answered %d %q", ce.Code, ce.Reason)
		}
		return exitOK
	case errors.As(err, &ce) && ce.Code == conn.CloseNormalClosure:
		if verbose {
			log.printf("ws: the server closed with %d %q", ce.Code, ce.Reason)
		}
		return exitOK
	case errors.As(err, &ce):
		log.printf("ws: the server closed with %s, reason %q", ce.Code, ce.Reason)
		return exitPeerClose
	case errors.As(err, &pe):
		log.printf("ws: the connection failed: %v", err)
		return exitAbnormal
	case weClosed && errors.Is(err, net.ErrClosed):
		// Conn.Close gave up waiting for the server's Close frame, or the
		// connection ended before it came: the error does not say which.
		log.printf("ws: the connection ended without a closing handshake: no Close frame came back (the server ended the connection, or did not answer within %v)", closeTimeout)
		return exitAbnormal
	default:
		log.printf("ws: the connection failed: %v", err)
		return exitAbnormal
	}
}

// writeMessage prints one message on a line.
func writeMessage(w *bufio.Writer, typ conn.MessageType, data []byte, b64 bool) {
	switch {
	case typ == conn.Text:
		w.Write(data)
	case b64:
		enc := base64.NewEncoder(base64.StdEncoding, w)
		enc.Write(data)
		enc.Close()
	default:
		hex.NewEncoder(w).Write(data)
	}
	w.WriteByte('\n')
}

// readInput sends the lines of stdin until it ends, a /close command or a
// failed write, and says which.
func readInput(ctx context.Context, c *conn.Conn, cfg *clientConfig, stdin io.Reader, log *logger) inputEnd {
	r := bufio.NewReaderSize(stdin, 64<<10)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			if err == io.EOF {
				return inputEnd{code: conn.CloseNormalClosure, eof: true}
			}
			return inputEnd{code: conn.CloseNormalClosure, eof: true, err: fmt.Errorf("reading standard input: %w", err)}
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if cfg.commands && len(line) > 0 && line[0] == '/' {
			if len(line) > 1 && line[1] == '/' {
				line = line[1:]
			} else {
				end, stop := command(ctx, c, string(line), log)
				if stop {
					return end
				}
				continue
			}
		}
		if !utf8.Valid(line) {
			log.printf("ws: line %d is not valid UTF-8; not sent (text messages must be UTF-8, RFC 6455, Section 5.6)", n)
			continue
		}
		if err := c.Write(ctx, conn.Text, line); err != nil {
			return inputEnd{err: fmt.Errorf("sending line %d: %w", n, err)}
		}
	}
}

// command runs one command line. It reports whether input should stop,
// and why.
func command(ctx context.Context, c *conn.Conn, line string, log *logger) (inputEnd, bool) {
	name, arg, _ := strings.Cut(line, " ")
	switch name {
	case "/ping":
		if len(arg) > frame.MaxControlPayload {
			log.printf("ws: /ping: the payload is %d bytes; a ping carries at most %d", len(arg), frame.MaxControlPayload)
			return inputEnd{}, false
		}
		pctx, cancel := context.WithTimeout(ctx, pingTimeout)
		rtt, err := c.Ping(pctx, []byte(arg))
		cancel()
		if err != nil {
			log.printf("ws: /ping: %v", err)
			return inputEnd{}, false
		}
		log.printf("ws: pong after %v", rtt)
	case "/close":
		code := conn.CloseNormalClosure
		codeArg, reason, _ := strings.Cut(strings.TrimLeft(arg, " "), " ")
		if codeArg != "" {
			n, err := strconv.ParseUint(codeArg, 10, 16)
			if err != nil || !conn.CloseCode(n).IsValid() {
				log.printf("ws: /close: %q is not a close code that may be sent (1000-1003, 1007-1014, 3000-4999)", codeArg)
				return inputEnd{}, false
			}
			code = conn.CloseCode(n)
		}
		if !utf8.ValidString(reason) {
			log.printf("ws: /close: the reason is not valid UTF-8")
			return inputEnd{}, false
		}
		if len(reason) > frame.MaxControlPayload-2 {
			log.printf("ws: /close: the reason is %d bytes; a Close frame holds at most %d", len(reason), frame.MaxControlPayload-2)
			return inputEnd{}, false
		}
		return inputEnd{code: code, reason: reason}, true
	case "/binary":
		data, err := hex.DecodeString(strings.Join(strings.Fields(arg), ""))
		if err != nil {
			log.printf("ws: /binary: %v", err)
			return inputEnd{}, false
		}
		if err := c.Write(ctx, conn.Binary, data); err != nil {
			return inputEnd{err: fmt.Errorf("sending a binary message: %w", err)}, true
		}
	default:
		log.printf("ws: unknown command %s (commands: /ping [payload], /close [code [reason]], /binary HEX; //text sends /text)", name)
	}
	return inputEnd{}, false
}

// A waitFlag is a duration, or "forever" or "-1", which mean a negative
// one: wait until the server closes.
type waitFlag time.Duration

func (w *waitFlag) String() string {
	if w == nil || *w >= 0 {
		return time.Duration(0).String()
	}
	return "forever"
}

func (w *waitFlag) Set(s string) error {
	if s == "forever" || s == "-1" {
		*w = -1
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 2s, or forever")
	}
	*w = waitFlag(d)
	return nil
}

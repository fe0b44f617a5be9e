// Command ws talks WebSocket from a terminal or a shell pipe, as wscat and
// websocat do: it connects to a server, sends each line of its standard
// input as a text message and prints every message that arrives; or, as
// "ws listen", it is a server for the other end.
//
// Usage:
//
//	ws [flags] URL
//	ws listen [-echo | -broadcast] [flags] ADDR
//
// Install it with
//
//	go install github.com/rfc6455/websocket/cmd/ws@latest
//
// # Client
//
// ws dials URL (ws:// or wss://) and performs the opening handshake of
// RFC 6455, Section 4. Then each line of standard input, without its line
// ending (\n or \r\n), is sent as one text message; a line that is not
// valid UTF-8 is reported and not sent. Every message that arrives is
// printed to standard output on a line of its own: a text message as it
// is, a binary one in hexadecimal (or base64 with -binary=base64).
// Diagnostics go to standard error.
//
// Flags may come before or after URL:
//
//	-H 'Name: value'  add a request header field (repeatable); Host sets the
//	                  Host header, the handshake's own fields cannot be set
//	-s proto          offer a subprotocol (repeatable, in order of preference)
//	-origin URL       send an Origin header, as a browser on that page would
//	-compress         offer permessage-deflate (RFC 7692)
//	-insecure         do not verify the server's TLS certificate (self-signed
//	                  servers)
//	-binary hex|base64
//	                  how binary messages are printed (default hex)
//	-commands         read commands from standard input (see Commands);
//	                  on by default when standard input is a terminal,
//	                  -commands=false turns them off there
//	-wait DURATION    after standard input ends, keep printing messages for
//	                  this long before closing (default 0: close at once);
//	                  forever (or -1, or any negative duration): until the
//	                  server closes
//	-v                print the handshake (request and response heads) and
//	                  one line per frame in and out to standard error
//
// Proxies are taken from the environment as net/http takes them:
// HTTPS_PROXY for wss://, HTTP_PROXY for ws://, NO_PROXY exempts hosts,
// localhost and loopback addresses are never proxied, and ALL_PROXY is not
// read. A proxy URL may be http://, https:// or socks5://.
//
// # Ending
//
// When standard input ends (a pipe that is drained, Ctrl-D at a terminal),
// ws waits as -wait says, then closes with 1000 (normal closure) and waits
// for the server's Close frame, at most 5 seconds, printing the messages
// that arrive meanwhile (RFC 6455, Section 7.1.2 lets a server send them
// until it answers); without an answer in time ws ends the connection and
// exits with status 5. A server that closes first ends ws at once.
// Ctrl-C or SIGTERM close with 1001 (going away).
//
// # Commands
//
// With -commands, a line that starts with a slash is a command:
//
//	/ping [payload]          send a ping and print the round-trip time
//	/close [code [reason]]   close with code (default 1000) and reason
//	/binary HEX              send a binary message; spaces are ignored
//	//text                   send the text message "/text"
//
// Every other line is a message, as without -commands.
//
// # Verbose output
//
// With -v over ws://, the handshake is printed as it crossed the wire, a
// proxy's CONNECT included, with ">" before what ws sent and "<" before what
// it received, followed by one line per frame:
//
//	> frame text fin=1 rsv1=0 len=5
//	< frame close fin=1 rsv1=0 len=5 code=1000 reason="bye"
//
// RSV1 marks a compressed message (RFC 7692, Section 6). Over wss:// ws
// makes the TLS session itself (inside the proxy's tunnel, if any) and
// shows what crosses inside it.
//
// # Server
//
// "ws listen ADDR" serves WebSocket connections on ADDR (host:port; port 0
// picks a free one) at every path, and prints "listening on ws://HOST:PORT/"
// to standard error. -echo (the default) sends each message back to its
// sender; -broadcast sends each message to every connected client, the
// sender included. Flags:
//
//	-echo, -broadcast  the mode
//	-s proto           a subprotocol the server speaks (repeatable)
//	-compress          accept permessage-deflate
//	-origin PATTERN    allow browser pages of another origin: a host[:port]
//	                   pattern such as "*.example.com" or "localhost:*"
//	                   (repeatable; "*" allows all)
//	-v                 print connects, disconnects and messages to stderr
//
// Ctrl-C or SIGTERM close every connection with 1001 (going away) and stop.
//
// # Exit status
//
//	0    normal end: the closing handshake completed after ws closed (end
//	     of input, /close, -wait expired), or the server closed with 1000;
//	     for ws listen, a shutdown by signal
//	1    another error: reading standard input, listening on ADDR
//	2    usage error: unknown flag, missing or malformed URL, header or ADDR
//	3    the connection could not be opened: DNS, TCP, TLS, proxy, or a
//	     handshake the server refused or answered wrongly
//	4    the server closed with a code other than 1000; ws prints it
//	5    the connection ended abnormally: without a closing handshake (1006),
//	     or failed for a protocol violation or a timeout
//	130  interrupted by SIGINT (Ctrl-C), after closing with 1001
//	143  terminated by SIGTERM, after closing with 1001
//
// [RFC 6455, Section 4]: https://www.rfc-editor.org/rfc/rfc6455#section-4
// [RFC 7692, Section 6]: https://www.rfc-editor.org/rfc/rfc7692#section-6
package main

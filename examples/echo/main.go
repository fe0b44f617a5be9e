// Command echo is the WebSocket server most people write first: it echoes
// every message with its type, greets clients of /push before echoing, and
// serves at / a page that talks to it with the browser's WebSocket API.
//
//	go run ./examples/echo            # then open http://localhost:8080/
//	go run ./examples/echo -addr :9000
//
// With -tls it serves HTTPS, HTTP/2 included, with a self-signed
// certificate made at start. Browsers then open wss:// WebSockets as
// streams of the page's HTTP/2 connection (RFC 8441), if the process
// allows extended CONNECT, which Go 1.26 does only with a GODEBUG setting:
//
//	GODEBUG=http2xconnect=1 go run ./examples/echo -tls   # then open https://localhost:8443/
//
// The /push greeting says which protocol the request came over.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"errors"
	"flag"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/server"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "", "address to listen on (default localhost:8080, or localhost:8443 with -tls)")
	useTLS := flag.Bool("tls", false, "serve HTTPS and HTTP/2 with a self-signed certificate")
	flag.Parse()
	if *addr == "" {
		*addr = "localhost:8080"
		if *useTLS {
			*addr = "localhost:8443"
		}
	}

	mux, handlers := newMux(log.Default())
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if *useTLS {
		cert, err := selfSigned()
		if err != nil {
			log.Fatal(err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
			log.Print("echo: GODEBUG=http2xconnect=1 is not set, so browsers open WebSockets over HTTP/1.1, not HTTP/2")
		}
	}

	// On Ctrl-C, say goodbye to every WebSocket client (1001 Going Away)
	// before stopping; http.Server.Shutdown does not see hijacked
	// connections.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, h := range handlers {
			h.Shutdown(sctx)
		}
		srv.Shutdown(sctx)
	}()

	var err error
	if *useTLS {
		log.Printf("echo: serving on https://%s/", *addr)
		err = srv.ListenAndServeTLS("", "")
	} else {
		log.Printf("echo: serving on http://%s/", *addr)
		err = srv.ListenAndServe()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// selfSigned returns a certificate for localhost and 127.0.0.1, made now
// and valid for a day, which browsers accept only when told to.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// options are the example's WebSocket options: permessage-deflate, which
// every browser offers, a read limit for what the page sends, keepalive,
// which notices clients that vanish without closing, and a write timeout,
// which drops clients that stop reading.
var options = &server.Options{
	Compression: &conn.Compression{},
	Conn: conn.Options{
		ReadLimit:         1 << 20,
		KeepaliveInterval: 30 * time.Second,
		WriteTimeout:      10 * time.Second, // a client that stops reading is dropped
	},
}

// newMux returns the example's routes and the WebSocket handlers among
// them.
func newMux(logger *log.Logger) (*http.ServeMux, []*server.Handler) {
	refused := func(r *http.Request, err error) {
		logger.Printf("echo: refused %s from %s: %v", r.URL.Path, r.RemoteAddr, err)
	}
	echo := &server.Handler{Options: options, OnUpgradeError: refused, Serve: func(c *conn.Conn, r *http.Request) {
		serve(logger, c, r, "")
	}}
	push := &server.Handler{Options: options, OnUpgradeError: refused, Serve: func(c *conn.Conn, r *http.Request) {
		serve(logger, c, r, "welcome over "+r.Proto+" ("+r.Method+")! every message you send comes back")
	}}
	mux := http.NewServeMux()
	mux.Handle("/ws", echo)
	mux.Handle("/push", push)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	return mux, []*server.Handler{echo, push}
}

// serve greets the client if welcome is set, then echoes every message
// with its type until the connection ends.
func serve(logger *log.Logger, c *conn.Conn, r *http.Request, welcome string) {
	ctx := context.Background()
	logger.Printf("echo: %s connected to %s over %s (extensions %q)", c.RemoteAddr(), r.URL.Path, r.Proto, c.Extensions())
	if welcome != "" {
		if err := c.Write(ctx, conn.Text, []byte(welcome)); err != nil {
			logger.Printf("echo: %s: %v", c.RemoteAddr(), err)
			return
		}
	}
	var buf []byte
	for {
		typ, msg, err := c.Read(ctx, buf[:0])
		if err != nil {
			logger.Printf("echo: %s disconnected: %v", c.RemoteAddr(), err)
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			logger.Printf("echo: %s: %v", c.RemoteAddr(), err)
			return
		}
		buf = msg
	}
}

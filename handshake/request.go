package handshake

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"golang.org/x/net/http/httpguts"
)

var (
	// ErrBadVersion is matched by the *Error for a request whose
	// Sec-WebSocket-Version is not 13.
	ErrBadVersion = errors.New("handshake: unsupported Sec-WebSocket-Version; this server speaks 13")

	// ErrOrigin is matched by the *Error for a request whose Origin is
	// not allowed.
	ErrOrigin = errors.New("handshake: origin not allowed")
)

// An Error is a rejected opening handshake and the HTTP status to answer
// it with.
type Error struct {
	Status int   // http.StatusBadRequest, StatusMethodNotAllowed, StatusForbidden or StatusUpgradeRequired
	Err    error // what was wrong
}

// Error returns the cause's message.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func badRequest(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Err: errors.New("handshake: " + msg)}
}

// A Request holds the parts of a client's opening handshake that
// [RFC 6455, Section 4.2.1] constrains, and gives access to every other
// header field through [Request.Header]. Repeated header fields are joined
// with ", ", as RFC 9110 allows for list-valued fields; a field that
// appears but is empty is "". [ParseRequest] fills one from a raw request
// head, with strings that share its memory, and [FromHTTP] from an
// *http.Request.
//
// [RFC 6455, Section 4.2.1]: https://www.rfc-editor.org/rfc/rfc6455#section-4.2.1
type Request struct {
	Method     string
	Target     string // request-target, such as "/chat?room=1"
	ProtoMajor int
	ProtoMinor int
	Host       string
	Upgrade    string
	Connection string
	Key        string
	KeyCount   int // number of Sec-WebSocket-Key fields
	Version    string
	Origin     string
	Protocol   string // Sec-WebSocket-Protocol
	Extensions string // Sec-WebSocket-Extensions

	// ConnectProtocol is the :protocol pseudo-header of an HTTP/2
	// extended CONNECT ([RFC 8441, Section 4]), "websocket" for a
	// WebSocket, or "" for an HTTP/1.1 request.
	//
	// [RFC 8441, Section 4]: https://www.rfc-editor.org/rfc/rfc8441#section-4
	ConnectProtocol string

	head    string      // the raw head ParseRequest parsed, or ""
	header  http.Header // the header FromHTTP took, or nil
	origins int         // number of Origin fields, when more than one
	body    bool        // the request announces a body
}

// FromHTTP fills a Request from r. The Request refers to r.Header for
// [Request.Header]. Like http.Header.Values, it finds fields under their
// canonical names (see http.CanonicalHeaderKey), which is how net/http
// stores them; it allocates only to join the values of a repeated field.
func FromHTTP(r *http.Request) Request {
	h := r.Header
	// Indexing h with the canonical names, rather than calling h.Values,
	// spares canonicalizing each name again on every request.
	keys := h["Sec-Websocket-Key"]
	origins := h["Origin"]
	req := Request{
		Method:     r.Method,
		Target:     r.RequestURI,
		ProtoMajor: r.ProtoMajor,
		ProtoMinor: r.ProtoMinor,
		Host:       r.Host,
		Upgrade:    joined(h["Upgrade"]),
		Connection: joined(h["Connection"]),
		KeyCount:   len(keys),
		Version:    joined(h["Sec-Websocket-Version"]),
		Protocol:   joined(h["Sec-Websocket-Protocol"]),
		Extensions: joined(h["Sec-Websocket-Extensions"]),
		header:     h,
		origins:    len(origins),
		body:       r.ContentLength > 0 || len(r.TransferEncoding) > 0,
	}
	if len(keys) > 0 {
		req.Key = keys[0]
	}
	if len(origins) > 0 {
		req.Origin = origins[0]
	}
	if r.ProtoMajor == 2 {
		// Only an HTTP/2 request has pseudo-header fields; net/http keeps
		// :protocol among the others, under that name.
		if p := h[":protocol"]; len(p) > 0 {
			req.ConnectProtocol = p[0]
		}
	}
	return req
}

// joined returns the values of a field, joined with ", " when it was
// repeated.
func joined(v []string) string {
	switch len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	}
	return strings.Join(v, ", ")
}

// ParseRequest parses head, an HTTP/1.x request head (the request line,
// the header fields and the empty line that ends them, with CRLF line
// ends), as a server without net/http reads it. The strings of the
// Request share head's memory. A malformed head is a *[Error] with status
// 400. ParseRequest checks the syntax only; see [Request.Check].
func ParseRequest(head string) (Request, error) {
	var req Request
	err := req.parse(head)
	return req, err
}

// parse is ParseRequest, filling in r, which is the zero Request, in
// place rather than through a copy. The error messages are built in
// functions of their own, which keeps the frames of the parser small.
func (r *Request) parse(head string) error {
	line, rest, ok := cutLine(head)
	if !ok {
		return errBareLF()
	}
	if err := r.parseRequestLine(line); err != nil {
		return err
	}
	r.head = head
	hosts := 0
	for {
		name, value, more, err := nextField(&rest)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		var field *string
		switch lookupField(name) {
		case fieldHost:
			hosts++
			field = &r.Host
		case fieldUpgrade:
			field = &r.Upgrade
		case fieldConnection:
			field = &r.Connection
		case fieldKey:
			r.KeyCount++
			field = &r.Key
		case fieldVersion:
			field = &r.Version
		case fieldOrigin:
			r.origins++
			field = &r.Origin
		case fieldProtocol:
			field = &r.Protocol
		case fieldExtensions:
			field = &r.Extensions
		case fieldContentLength:
			if value != "0" {
				r.body = true
			}
			continue
		case fieldTransferEncoding:
			r.body = true
			continue
		default:
			continue
		}
		if *field == "" {
			*field = value
		} else {
			*field += ", " + value
		}
	}
	if hosts > 1 {
		return badRequest("more than one Host header")
	}
	return nil
}

// parseRequestLine parses the request line of an HTTP/1.1 request into r.
func (r *Request) parseRequestLine(line string) error {
	method, line, ok1 := cutByte(line, ' ')
	target, proto, ok2 := cutByte(line, ' ')
	if !ok1 || !ok2 || !httpguts.ValidHeaderFieldName(method) || target == "" || hasCTL(target) {
		return badRequest("malformed request line")
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		return badVersion(proto)
	}
	if major != 1 {
		// HTTP/2 and later do not upgrade this way (RFC 9113 has no Upgrade, RFC 8441 has
		// extended CONNECT); net/http answers such a request line with 505 too.
		return unsupportedVersion(proto)
	}
	r.Method, r.Target, r.ProtoMajor, r.ProtoMinor = method, target, major, minor
	return nil
}

// The header fields ParseRequest looks at.
const (
	fieldOther = iota
	fieldHost
	fieldUpgrade
	fieldConnection
	fieldKey
	fieldVersion
	fieldOrigin
	fieldProtocol
	fieldExtensions
	fieldContentLength
	fieldTransferEncoding
)

// fieldNames are the names of the fields ParseRequest looks at, in lower
// case.
var fieldNames = [...]string{
	fieldHost:             "host",
	fieldUpgrade:          "upgrade",
	fieldConnection:       "connection",
	fieldKey:              "sec-websocket-key",
	fieldVersion:          "sec-websocket-version",
	fieldOrigin:           "origin",
	fieldProtocol:         "sec-websocket-protocol",
	fieldExtensions:       "sec-websocket-extensions",
	fieldContentLength:    "content-length",
	fieldTransferEncoding: "transfer-encoding",
}

// lookupField returns which of the fields ParseRequest looks at name is,
// or fieldOther. Field names are case-insensitive (RFC 9110, Section 5.1),
// and a valid one is ASCII. The length of a name picks the one candidate
// (of two, for 17) it is compared with.
func lookupField(name string) int {
	var f int
	switch len(name) {
	case len("host"):
		f = fieldHost
	case len("origin"):
		f = fieldOrigin
	case len("upgrade"):
		f = fieldUpgrade
	case len("connection"):
		f = fieldConnection
	case len("content-length"):
		f = fieldContentLength
	case len("sec-websocket-key"): // and len("transfer-encoding")
		f = fieldKey
		if name[0]|0x20 == 't' {
			f = fieldTransferEncoding
		}
	case len("sec-websocket-version"):
		f = fieldVersion
	case len("sec-websocket-protocol"):
		f = fieldProtocol
	case len("sec-websocket-extensions"):
		f = fieldExtensions
	default:
		return fieldOther
	}
	if equalFoldLower(name, fieldNames[f]) {
		return f
	}
	return fieldOther
}

// hasCTL reports whether s holds a control character or a space, which a
// request-target may not hold.
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return true
		}
	}
	return false
}

func badVersion(proto string) error {
	return badRequest(fmt.Sprintf("malformed HTTP version %.20q", proto))
}

func unsupportedVersion(proto string) error {
	return &Error{Status: http.StatusHTTPVersionNotSupported, Err: fmt.Errorf("handshake: %s requests cannot be upgraded; only HTTP/1.1 ones", proto)}
}

// nextField cuts the next header field off *rest, the part of a request
// head after the request line. more is false at the empty line that ends
// the fields.
func nextField(rest *string) (name, value string, more bool, err error) {
	line, r, ok := cutLine(*rest)
	if !ok {
		return "", "", false, errBareLF()
	}
	*rest = r
	if line == "" {
		return "", "", false, nil
	}
	if line[0] == ' ' || line[0] == '\t' {
		// RFC 9112, Section 5.2: obs-fold is to be rejected (or replaced) by a server.
		return "", "", false, badRequest("folded header line")
	}
	name, value, ok = cutByte(line, ':')
	if !ok || !httpguts.ValidHeaderFieldName(name) {
		return "", "", false, malformedField(line)
	}
	value = trimOWSBoth(value)
	// RFC 9110, Section 5.5: "Field values containing CR, LF, or NUL characters are
	// invalid and dangerous"; other controls but HTAB are not field-vchar either.
	if !validFieldValue(value) {
		return "", "", false, controlInValue(name)
	}
	return name, value, true, nil
}

// validFieldValue reports whether v may be a field value: no control
// character but HTAB, and no DEL, as httpguts.ValidHeaderFieldValue has
// it. Field values are most of a request head, so it looks at eight bytes
// at a time, and at each of them only in a word that has a byte below
// 0x20 or a DEL.
func validFieldValue(v string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; len(v) >= 8; v = v[8:] {
		w := v[:8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		// A byte of x below 0x20, or (y) of x^0x7f...7f below 1, sets the high bit of
		// its byte in these; a borrow can set more, but only above a byte that does.
		y := x ^ 0x7f*ones
		if ((x-0x20*ones)&^x|(y-ones)&^y)&highs != 0 && !httpguts.ValidHeaderFieldValue(w) {
			return false
		}
	}
	return httpguts.ValidHeaderFieldValue(v)
}

// cutByte is strings.Cut for a separator of one byte, found with
// strings.IndexByte rather than strings.Index's general search.
func cutByte(s string, sep byte) (before, after string, found bool) {
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// cutLine cuts the first line off s, at its CRLF, or at its end if it
// has none. ok is false if an LF that no CR precedes comes first: RFC 9112,
// Section 2.2 lets a server take a bare LF for a line end, and no field
// may hold one, so the head is malformed either way.
func cutLine(s string) (line, rest string, ok bool) {
	i := strings.IndexByte(s, '\n')
	switch {
	case i < 0:
		return s, "", true
	case i == 0 || s[i-1] != '\r':
		return "", "", false
	}
	return s[:i-1], s[i+1:], true
}

func errBareLF() error {
	return badRequest("request line or header field ends with a bare LF, not CRLF")
}

func malformedField(line string) error {
	return badRequest(fmt.Sprintf("malformed header line %.40q", line))
}

func controlInValue(name string) error {
	return badRequest(fmt.Sprintf("header field %s has a control character in its value", name))
}

// Header returns the value of the request's header field name, compared
// case-insensitively, or "" if the request has none: any field, such as
// Cookie, Authorization or one of the application's own, not only those
// the handshake uses. The values of repeated fields are joined with ", ",
// and those of repeated Cookie fields with "; ", as one Cookie field
// would hold them. It allocates only to join.
func (r *Request) Header(name string) string {
	sep := ", "
	if strings.EqualFold(name, "Cookie") {
		sep = "; "
	}
	if r.header != nil {
		if strings.EqualFold(name, "Host") {
			return r.Host
		}
		v := r.header.Values(name)
		if len(v) == 1 {
			return v[0]
		}
		return strings.Join(v, sep)
	}
	_, rest, _ := strings.Cut(r.head, "\r\n")
	var found string
	var b strings.Builder
	for n := 0; ; {
		field, value, more, err := nextField(&rest)
		if err != nil || !more {
			break
		}
		if !strings.EqualFold(field, name) {
			continue
		}
		n++
		switch n {
		case 1:
			found = value
			continue
		case 2:
			b.WriteString(found)
		}
		b.WriteString(sep)
		b.WriteString(value)
	}
	if b.Len() > 0 {
		return b.String()
	}
	return found
}

// Check reports whether r is a valid opening handshake: an HTTP/1.1
// upgrade as RFC 6455, Section 4.2.1 describes it, or an HTTP/2 extended
// CONNECT as [RFC 8441, Section 5] does. Failures are *[Error]s; see the
// package documentation for their statuses. Check does not look at
// Origin; see [CheckOrigin].
//
// [RFC 8441, Section 5]: https://www.rfc-editor.org/rfc/rfc8441#section-5
func (r *Request) Check() error {
	if r.ProtoMajor == 2 {
		return r.checkConnect()
	}
	// "The method of the request MUST be GET, and the HTTP version MUST be at least 1.1."
	if r.Method != http.MethodGet {
		return &Error{Status: http.StatusMethodNotAllowed, Err: errors.New("handshake: method " + r.Method + " is not GET")}
	}
	if r.ProtoMajor < 1 || (r.ProtoMajor == 1 && r.ProtoMinor < 1) {
		return badRequest("HTTP version below 1.1")
	}
	if r.Host == "" {
		return badRequest("missing Host header")
	}
	if r.body {
		// A GET has no content (RFC 9110, Section 9.3.1); one announced here would be
		// read as WebSocket frames, the shape of request smuggling.
		return badRequest("an upgrade request may not have a body (Content-Length or Transfer-Encoding)")
	}
	if r.origins > 1 {
		// RFC 6454, Section 7.3: "The user agent MUST NOT include more than one Origin
		// header field in any HTTP request."
		return badRequest("more than one Origin header")
	}
	// "An |Upgrade| header field containing the value "websocket", treated as an ASCII
	// case-insensitive value."
	if !hasToken(r.Upgrade, "websocket") {
		return badRequest(`Upgrade header does not contain "websocket"`)
	}
	// "A |Connection| header field that includes the token "Upgrade", treated as an ASCII
	// case-insensitive value."
	if !hasToken(r.Connection, "upgrade") {
		return badRequest(`Connection header does not contain "upgrade"`)
	}
	// "The request MUST include a header field with the name |Sec-WebSocket-Version|. The
	// value of this header field MUST be 13." Section 4.4: otherwise answer 426 with the
	// versions the server speaks.
	if r.Version != "13" && strings.TrimSpace(r.Version) != "13" {
		if r.Version == "" {
			return badRequest("missing Sec-WebSocket-Version header")
		}
		return &Error{Status: http.StatusUpgradeRequired, Err: ErrBadVersion}
	}
	switch {
	case r.KeyCount == 0:
		return badRequest("missing Sec-WebSocket-Key header")
	case r.KeyCount > 1:
		return badRequest("more than one Sec-WebSocket-Key header")
	case !validKey(r.Key):
		return badRequest("Sec-WebSocket-Key is not the base64 of 16 bytes")
	}
	return nil
}

// checkConnect is Check for an HTTP/2 request.
func (r *Request) checkConnect() error {
	// RFC 8441, Section 5: "The :method pseudo-header field MUST be set to CONNECT" and
	// "the :protocol pseudo-header field MUST be included ... set to websocket".
	if r.Method != http.MethodConnect {
		return &Error{Status: http.StatusMethodNotAllowed, Err: errors.New("handshake: an HTTP/2 WebSocket request must be an extended CONNECT, not " + r.Method)}
	}
	if !strings.EqualFold(r.ConnectProtocol, "websocket") {
		return badRequest(fmt.Sprintf("extended CONNECT for protocol %.30q, not websocket", r.ConnectProtocol))
	}
	if r.body {
		return badRequest("an extended CONNECT for a WebSocket may not announce a body length")
	}
	if r.origins > 1 {
		return badRequest("more than one Origin header")
	}
	// Section 5: Sec-WebSocket-Version is used as in RFC 6455; Sec-WebSocket-Key and
	// Sec-WebSocket-Accept "are not used", so they are not checked.
	if strings.TrimSpace(r.Version) != "13" {
		if r.Version == "" {
			return badRequest("missing Sec-WebSocket-Version header")
		}
		return &Error{Status: http.StatusUpgradeRequired, Err: ErrBadVersion}
	}
	return nil
}

// hasToken reports whether v, a list of the form of [RFC 9110, Section 5.6.1]
// (elements separated by commas and optional spaces or tabs), has an
// element equal to token, which is in lower case, compared as ASCII
// case-insensitive values, as the Upgrade and Connection fields of an
// opening handshake are. It looks at v in place and allocates nothing.
//
// [RFC 9110, Section 5.6.1]: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.1
func hasToken(v, token string) bool {
	if v == token {
		return true // as browsers send "Upgrade: websocket"
	}
	for v != "" {
		var item string
		item, v, _ = cutByte(v, ',')
		if equalFoldLower(trimOWSBoth(item), token) {
			return true
		}
	}
	return false
}

// trimOWSBoth returns s without the optional whitespace (spaces and tabs)
// at either end.
func trimOWSBoth(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// equalFoldLower reports whether s equals lower, which is in lower case,
// when ASCII letters in s are compared without regard to case. Unlike
// strings.EqualFold, it folds no other characters: a token is ASCII, and
// the Kelvin sign is not a "k".
func equalFoldLower(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// CheckOrigin applies the origin policy of [RFC 6455, Section 10.2] to a
// request with the given Origin and Host headers. A request with no Origin
// comes from a non-browser client and is allowed. Otherwise the origin's
// host[:port] must equal host (ignoring case), or match one of patterns,
// path.Match patterns compared without regard to case, such as
// "*.example.com" (no port), "localhost:*" or "*", which matches every
// origin, with a port or without. A rejection is a *[Error] with status
// 403 matching [ErrOrigin].
//
// [RFC 6455, Section 10.2]: https://www.rfc-editor.org/rfc/rfc6455#section-10.2
func CheckOrigin(origin, host string, patterns []string) error {
	if origin == "" {
		return nil
	}
	originHost, ok := hostOfOrigin(origin)
	if !ok {
		return malformedOrigin(origin)
	}
	if originHost == host || strings.EqualFold(originHost, host) || matchOrigin(originHost, patterns) {
		return nil
	}
	return originNotAllowed(origin, host)
}

// matchOrigin reports whether originHost matches one of patterns.
func matchOrigin(originHost string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(originHost)); ok {
			return true
		}
	}
	return false
}

func malformedOrigin(origin string) error {
	return &Error{Status: http.StatusForbidden, Err: fmt.Errorf("%w: malformed Origin %q", ErrOrigin, origin)}
}

func originNotAllowed(origin, host string) error {
	return &Error{Status: http.StatusForbidden, Err: fmt.Errorf("%w: %s is not allowed for host %s", ErrOrigin, origin, host)}
}

// hostOfOrigin returns the host[:port] of an origin serialized as
// [RFC 6454, Section 6.2] does, scheme "://" host [":" port], tolerating a
// path after it. "null" and anything without a host are malformed.
//
// [RFC 6454, Section 6.2]: https://www.rfc-editor.org/rfc/rfc6454#section-6.2
func hostOfOrigin(origin string) (string, bool) {
	// The scheme ends at the first "://", and none of "/?#@" may come before
	// it; the host ends at a path, query or fragment.
	i := 0
	for {
		j := strings.IndexByte(origin[i:], ':')
		if j < 0 {
			return "", false
		}
		i += j
		if strings.HasPrefix(origin[i:], "://") {
			break
		}
		i++
	}
	if i == 0 {
		return "", false
	}
	for j := 0; j < i; j++ {
		if c := origin[j]; c == '/' || c == '?' || c == '#' || c == '@' {
			return "", false
		}
	}
	rest := origin[i+3:]
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case '/', '?', '#':
			rest = rest[:j]
			return rest, rest != ""
		case '@':
			return "", false // userinfo has no place in a serialized origin
		}
	}
	return rest, rest != ""
}

// SelectSubprotocol returns the first of the server's supported
// subprotocols, in the server's order of preference, that the client
// offered in its Sec-WebSocket-Protocol list, or "" if there is none. No
// match is not an error: the connection goes on with no subprotocol
// ([RFC 6455, Section 4.2.2]).
//
// [RFC 6455, Section 4.2.2]: https://www.rfc-editor.org/rfc/rfc6455#section-4.2.2
func SelectSubprotocol(offered string, supported []string) string {
	for _, s := range supported {
		for v := offered; v != ""; {
			var item string
			item, v, _ = cutByte(v, ',')
			if strings.TrimSpace(item) == s {
				return s
			}
		}
	}
	return ""
}

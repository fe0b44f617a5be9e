// Package optcheck checks the values users give in options, so that no
// option can put an invalid frame or header on the wire. Each error names
// the field, as the caller spells it ("server: Options.Subprotocols[1]").
package optcheck

import (
	"fmt"
	"strings"
)

// WindowBits checks an LZ77 window size of permessage-deflate: 8 to 15,
// or 0 for none given ([RFC 7692, Section 7.1.2]).
//
// [RFC 7692, Section 7.1.2]: https://www.rfc-editor.org/rfc/rfc7692#section-7.1.2
func WindowBits(field string, bits int) error {
	if bits != 0 && (bits < 8 || bits > 15) {
		// RFC 7692, Section 7.1.2.1: "a decimal integer value ... in the range between 8 and 15".
		return fmt.Errorf("%s is %d: it must be 8 to 15, or 0 for 15", field, bits)
	}
	return nil
}

// Windows checks the two window sizes of permessage-deflate parameters,
// named prefix.ServerMaxWindowBits and prefix.ClientMaxWindowBits. Like
// every check here, it allocates only for an error.
func Windows(prefix string, serverBits, clientBits int) error {
	if err := WindowBits("ServerMaxWindowBits", serverBits); err != nil {
		return fmt.Errorf("%s.%w", prefix, err)
	}
	if err := WindowBits("ClientMaxWindowBits", clientBits); err != nil {
		return fmt.Errorf("%s.%w", prefix, err)
	}
	return nil
}

// First returns the first error that is not nil, so that a validation
// can list its checks in the order of the fields.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// NonNegative checks a size or duration whose zero value means a default.
func NonNegative[T ~int | ~int64](field string, v T) error {
	if v < 0 {
		return fmt.Errorf("%s is %v: it may not be negative", field, v)
	}
	return nil
}

// Tokens checks a list of values that must each be an HTTP token
// ([RFC 9110, Section 5.6.2]), as subprotocol names are
// ([RFC 6455, Section 4.1]).
//
// [RFC 9110, Section 5.6.2]: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2
// [RFC 6455, Section 4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-4.1
func Tokens(field string, list []string) error {
	for i, s := range list {
		if !isToken(s) {
			return fmt.Errorf("%s[%d] is %q: it must be a token (letters, digits and !#$%%&'*+-.^_`|~)", field, i, s)
		}
	}
	return nil
}

// Header checks extra header fields: valid names and values
// ([RFC 9110, Section 5]), none of them one of reserved, which the
// handshake sets itself.
//
// [RFC 9110, Section 5]: https://www.rfc-editor.org/rfc/rfc9110#section-5
func Header(field string, h map[string][]string, reserved ...string) error {
	for name, values := range h {
		if !isToken(name) {
			return fmt.Errorf("%s has a field named %q, which is not a valid field name", field, name)
		}
		for _, r := range reserved {
			if strings.EqualFold(name, r) {
				return fmt.Errorf("%s sets %s, which the opening handshake sets itself", field, r)
			}
		}
		for _, v := range values {
			if !isFieldValue(v) {
				return fmt.Errorf("%s field %s has the value %q, with a control character", field, name, v)
			}
		}
	}
	return nil
}

// isToken reports whether s is a token: one or more tchar.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isFieldValue reports whether v may be a field value: no control
// characters but horizontal tab, and no DEL ([RFC 9110, Section 5.5]).
//
// [RFC 9110, Section 5.5]: https://www.rfc-editor.org/rfc/rfc9110#section-5.5
func isFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

package wstest

// utf8Validator checks UTF-8 incrementally, as text frames arrive, and
// fails on the first octet that cannot start or continue a well-formed
// sequence (Unicode Table 3-7), which is what fail-fast detection needs.
type utf8Validator struct {
	need   int  // continuation bytes still expected
	lo, hi byte // allowed range of the next continuation byte
	failed bool
}

func (v *utf8Validator) reset() { *v = utf8Validator{} }

// validate feeds b and reports whether everything so far is a valid
// prefix (ok) and whether it ends on a code point boundary (complete).
func (v *utf8Validator) validate(b []byte) (ok, complete bool) {
	if v.failed {
		return false, false
	}
	for _, c := range b {
		if v.need > 0 {
			if c < v.lo || c > v.hi {
				v.failed = true
				return false, false
			}
			v.need--
			v.lo, v.hi = 0x80, 0xBF
			continue
		}
		switch {
		case c < 0x80:
		case c >= 0xC2 && c <= 0xDF:
			v.need, v.lo, v.hi = 1, 0x80, 0xBF
		case c == 0xE0:
			v.need, v.lo, v.hi = 2, 0xA0, 0xBF
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			v.need, v.lo, v.hi = 2, 0x80, 0xBF
		case c == 0xED:
			v.need, v.lo, v.hi = 2, 0x80, 0x9F
		case c == 0xF0:
			v.need, v.lo, v.hi = 3, 0x90, 0xBF
		case c >= 0xF1 && c <= 0xF3:
			v.need, v.lo, v.hi = 3, 0x80, 0xBF
		case c == 0xF4:
			v.need, v.lo, v.hi = 3, 0x80, 0x8F
		default:
			v.failed = true
			return false, false
		}
	}
	return true, v.need == 0
}

// validUTF8 reports whether b is complete, well-formed UTF-8.
func validUTF8(b []byte) bool {
	var v utf8Validator
	ok, complete := v.validate(b)
	return ok && complete
}

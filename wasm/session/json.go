package session

import (
	"errors"
	"math"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a small JSON reader and writer for the three documents the
// session handles: a JWT payload, the persisted state and a refresh response.
// All three are objects whose interesting members are top-level strings and
// numbers. encoding/json would add about 240 KB (brotli) to the wasm; this
// reader validates the whole document but keeps only those members.

var errJSON = errors.New("invalid JSON")

// jsonValue is a top-level member: a string, a number, or something else
// (object, array, bool, null) that the session only needs to skip.
type jsonValue struct {
	str   string
	num   float64
	isStr bool
	isNum bool
}

// parseObject parses s, which must be one JSON object, and returns its
// top-level string and number members. Later duplicates win, as in
// JSON.parse.
func parseObject(s string) (map[string]jsonValue, error) {
	p := &jsonParser{s: s}
	p.space()
	if !p.eat('{') {
		return nil, errJSON
	}
	out := map[string]jsonValue{}
	p.space()
	if p.eat('}') {
		return out, p.end()
	}
	for {
		p.space()
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if !p.eat(':') {
			return nil, errJSON
		}
		p.space()
		v, err := p.value(0)
		if err != nil {
			return nil, err
		}
		out[key] = v
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return out, p.end()
		}
		return nil, errJSON
	}
}

type jsonParser struct {
	s string
	i int
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonParser) end() error {
	p.space()
	if p.i != len(p.s) {
		return errJSON
	}
	return nil
}

func (p *jsonParser) value(depth int) (jsonValue, error) {
	if depth > maxDepth || p.i >= len(p.s) {
		return jsonValue{}, errJSON
	}
	switch c := p.s[p.i]; {
	case c == '"':
		s, err := p.str()
		return jsonValue{str: s, isStr: true}, err
	case c == '{' || c == '[':
		return jsonValue{}, p.container(depth)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(p.s)-p.i >= len(lit) && p.s[p.i:p.i+len(lit)] == lit {
				p.i += len(lit)
				return jsonValue{}, nil
			}
		}
		return jsonValue{}, errJSON
	}
}

// container skips an object or array, checking its syntax.
func (p *jsonParser) container(depth int) error {
	closer := byte(']')
	isObj := p.s[p.i] == '{'
	if isObj {
		closer = '}'
	}
	p.i++
	p.space()
	if p.eat(closer) {
		return nil
	}
	for {
		p.space()
		if isObj {
			if _, err := p.str(); err != nil {
				return err
			}
			p.space()
			if !p.eat(':') {
				return errJSON
			}
			p.space()
		}
		if _, err := p.value(depth + 1); err != nil {
			return err
		}
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat(closer) {
			return nil
		}
		return errJSON
	}
}

func (p *jsonParser) number() (jsonValue, error) {
	start := p.i
	p.eat('-')
	switch {
	case p.eat('0'):
	case !p.digits():
		return jsonValue{}, errJSON
	}
	if p.eat('.') && !p.digits() {
		return jsonValue{}, errJSON
	}
	if p.eat('e') || p.eat('E') {
		if !p.eat('+') {
			p.eat('-')
		}
		if !p.digits() {
			return jsonValue{}, errJSON
		}
	}
	n, ok := decimal(p.s[start:p.i])
	if !ok {
		// Out of float64's range; JSON.parse would give Infinity.
		return jsonValue{}, errJSON
	}
	return jsonValue{num: n, isNum: true}, nil
}

// decimal converts a number already checked against the JSON grammar. It
// is exact for integers up to 2^53, which is what JWT times and expires_in
// are, and within a few units in the last place otherwise; strconv's
// correctly rounded ParseFloat would cost tens of KB of wasm for precision
// nothing here needs.
func decimal(s string) (float64, bool) {
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	var mant uint64
	exp, digits := 0, 0
	dot := false
	i := 0
	for ; i < len(s) && s[i] != 'e' && s[i] != 'E'; i++ {
		c := s[i]
		switch {
		case c == '.':
			dot = true
		case digits < 19:
			mant = mant*10 + uint64(c-'0')
			if mant != 0 {
				digits++ // leading zeros are not significant
			}
			if dot {
				exp--
			}
		case !dot:
			exp++ // an integer digit beyond what uint64 holds
		}
	}
	if i < len(s) {
		e, eneg := 0, false
		i++
		if s[i] == '+' || s[i] == '-' {
			eneg = s[i] == '-'
			i++
		}
		for ; i < len(s); i++ {
			// Saturate: any exponent this large is ±Inf or 0 anyway.
			e = min(e*10+int(s[i]-'0'), 1_000_000)
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	f := float64(mant)
	if mant != 0 {
		f = scale10(f, exp)
	}
	if math.IsInf(f, 1) {
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}

// scale10 returns f * 10^exp, going through exact powers of ten where it can.
func scale10(f float64, exp int) float64 {
	for exp > 0 {
		step := min(exp, 22) // 1e22 is the largest power of ten a float64 holds exactly
		f *= pow10[step]
		exp -= step
		if math.IsInf(f, 0) {
			return f
		}
	}
	for exp < 0 {
		step := min(-exp, 22)
		f /= pow10[step]
		exp += step
		if f == 0 {
			return 0
		}
	}
	return f
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// digits reads a run of decimal digits and reports whether there was one.
func (p *jsonParser) digits() bool {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// str reads a JSON string starting at the opening quote.
func (p *jsonParser) str() (string, error) {
	if !p.eat('"') {
		return "", errJSON
	}
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := p.s[start:p.i]
			p.i++
			if !utf8.ValidString(s) {
				return "", errJSON
			}
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", errJSON
		}
		p.i++
	}
	b := []byte(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			s := string(b)
			if !utf8.ValidString(s) {
				return "", errJSON
			}
			return s, nil
		case c < 0x20:
			return "", errJSON
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		p.i++ // the backslash
		if p.i >= len(p.s) {
			return "", errJSON
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", errJSON
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate must be followed by \u and a low one;
				// anything else becomes U+FFFD, as JSON.parse keeps lone
				// surrogates and Go strings cannot.
				save := p.i
				if p.eat('\\') && p.eat('u') {
					if r2, ok := p.hex4(); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							b = utf8.AppendRune(b, d)
							continue
						}
					}
				}
				p.i = save
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", errJSON
		}
	}
	return "", errJSON
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// quote returns s as a JSON string literal.
func quote(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(append(b, '"'))
}

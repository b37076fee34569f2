package session

// Small string helpers in place of packages strings and encoding/base64,
// which would add about 7 and 5 KB of brotli to the wasm (strings links
// unicode's tables). They handle bytes: every input here is ASCII where it
// matters (URLs as a URL parser serializes them, JWT segments).

// indexByte returns the index of the first c in s, or -1.
func indexByte(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// lastIndexByte returns the index of the last c in s, or -1.
func lastIndexByte(s string, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// indexAnyByte returns the index of the first byte of s that is in set, or
// -1.
func indexAnyByte(s, set string) int {
	for i := range len(s) {
		if indexByte(set, s[i]) >= 0 {
			return i
		}
	}
	return -1
}

// lowerASCII lower-cases the ASCII letters of s. Hosts reach here as a URL
// parser serializes them (international names in punycode), so ASCII is all
// there is to fold.
func lowerASCII(s string) string {
	for i := range len(s) {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// decodeBase64URL decodes unpadded base64url (RFC 4648 section 5), as
// base64.RawURLEncoding.DecodeString does for the inputs a JWT has: ok is
// false for a byte outside the alphabet or a length that leaves 1 character
// over. Bits below the last whole byte are ignored.
func decodeBase64URL(s string) (out []byte, ok bool) {
	if len(s)%4 == 1 {
		return nil, false
	}
	out = make([]byte, 0, len(s)*3/4)
	var acc uint32
	n := 0
	for i := range len(s) {
		c := s[i]
		var v byte
		switch {
		case 'A' <= c && c <= 'Z':
			v = c - 'A'
		case 'a' <= c && c <= 'z':
			v = c - 'a' + 26
		case '0' <= c && c <= '9':
			v = c - '0' + 52
		case c == '-':
			v = 62
		case c == '_':
			v = 63
		default:
			return nil, false
		}
		acc = acc<<6 | uint32(v)
		if n++; n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	return out, true
}

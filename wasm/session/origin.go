package session

import (
	"strconv"
)

// Origin returns the origin (scheme://host[:port], lower-case, default port
// dropped) of an absolute http or https URL, or "" when rawURL is not one.
// Userinfo is skipped, so "https://api.example@evil.example/" is evil's.
func Origin(rawURL string) string {
	i := indexByte(rawURL, ':')
	if i <= 0 || len(rawURL) < i+3 || rawURL[i+1] != '/' || rawURL[i+2] != '/' {
		return ""
	}
	scheme := lowerASCII(rawURL[:i])
	if scheme != "http" && scheme != "https" {
		return ""
	}
	rest := rawURL[i+3:]
	if j := indexAnyByte(rest, "/?#\\"); j >= 0 {
		rest = rest[:j]
	}
	if j := lastIndexByte(rest, '@'); j >= 0 {
		rest = rest[j+1:]
	}
	host := lowerASCII(rest)
	// The port follows the last ':' that is not inside an IPv6 literal.
	port := ""
	if j := lastIndexByte(host, ':'); j > lastIndexByte(host, ']') {
		host, port = host[:j], host[j+1:]
	}
	if host == "" {
		return ""
	}
	// As the URL Standard does: the port is decimal digits, leading zeros
	// and an empty port are dropped, and so is the scheme's default port.
	n := 0
	for _, c := range []byte(port) {
		if c < '0' || c > '9' {
			return ""
		}
		if n = n*10 + int(c-'0'); n > 65535 {
			return ""
		}
	}
	if port == "" || (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + strconv.Itoa(n)
}

// originSet is the set of origins that may receive the access token.
type originSet map[string]bool

func newOriginSet(origins []string) originSet {
	set := originSet{}
	for _, o := range origins {
		if n := Origin(o); n != "" {
			set[n] = true
		}
	}
	return set
}

func (s originSet) allows(rawURL string) bool {
	o := Origin(rawURL)
	return o != "" && s[o]
}

// CheckOrigins returns an error naming the first entry of origins that is
// not an absolute http or https URL: "127.0.0.1:8080" without its scheme
// would otherwise allow nothing, silently.
func CheckOrigins(origins []string) error {
	for _, o := range origins {
		if Origin(o) == "" {
			return &Error{Code: CodeBadOption, Message: "auth.origins: '" + o + "' is not an http or https origin; write it with its scheme, like 'https://api.example.com'"}
		}
	}
	return nil
}

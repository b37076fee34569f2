package session

import "strings"

// Origin returns the origin (scheme://host[:port], lower-case, default port
// dropped) of an absolute http or https URL, or "" when rawURL is not one.
// Userinfo is skipped, so "https://api.example@evil.example/" is evil's.
func Origin(rawURL string) string {
	i := strings.Index(rawURL, "://")
	if i <= 0 {
		return ""
	}
	scheme := strings.ToLower(rawURL[:i])
	if scheme != "http" && scheme != "https" {
		return ""
	}
	rest := rawURL[i+3:]
	if j := strings.IndexAny(rest, "/?#\\"); j >= 0 {
		rest = rest[:j]
	}
	if j := strings.LastIndexByte(rest, '@'); j >= 0 {
		rest = rest[j+1:]
	}
	host := strings.ToLower(rest)
	if host == "" {
		return ""
	}
	if (scheme == "https" && strings.HasSuffix(host, ":443")) ||
		(scheme == "http" && strings.HasSuffix(host, ":80")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return scheme + "://" + host
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

package session

import (
	"strconv"
	"sync"
)

// DPoP (RFC 9449) binds tokens to a key pair: each request carries, besides
// the token, a proof signed with the private key, made for that request
// alone. This file builds what a proof says and decides about the server's
// nonces; the key and the signature are the bridge's (WebCrypto, with a
// private key no script can read). ES256 signatures from WebCrypto are
// already in the JWS form (r||s), so a proof is the signing input made
// here, a dot and the signature in base64url. Nothing here links crypto:
// the JSON and base64url are written by hand, SHA-256 (for ath) is
// sha256.go.

// DPoPHeader returns the base64url JOSE header of the proofs signed by the
// P-256 key whose public JWK has the coordinates x and y (base64url).
func DPoPHeader(x, y string) string {
	return EncodeBase64URL([]byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":` +
		quote(x) + `,"y":` + quote(y) + `}}`))
}

// DPoP makes the signing inputs of proofs and keeps the nonces servers
// gave, by origin. It is safe for concurrent use.
type DPoP struct {
	clock Clock
	// prefix makes this DPoP's jti values unlike any other's; n numbers
	// them.
	prefix string

	mu     sync.Mutex
	n      uint64
	nonces map[string]string
	// ath is the base64url SHA-256 of athOf, the last access token proved.
	athOf, ath string
}

// maxNonces bounds the remembered nonces: one per origin the instance
// talks to, so a page that fetches from many origins cannot grow it.
const maxNonces = 64

// NewDPoP returns a DPoP whose proofs take their time from clock and
// whose jti values start with prefix, a random string (at least 122 bits
// of randomness, as a random UUID has) that no other DPoP uses.
func NewDPoP(clock Clock, prefix string) *DPoP {
	if clock == nil {
		clock = defaultClock
	}
	return &DPoP{clock: clock, prefix: prefix, nonces: map[string]string{}}
}

// Input returns the signing input (header.claims, both base64url) of the
// proof for one attempt of a request of method to url, made with the key
// whose DPoPHeader is header. token is the access token the request
// carries ("" for none: no ath claim). nonce is the one it carries ("" for
// none). Each call makes a new jti.
func (d *DPoP) Input(header, method, url, token string) (input, nonce string) {
	origin := Origin(url)
	d.mu.Lock()
	d.n++
	jti := d.prefix + "." + strconv.FormatUint(d.n, 36)
	nonce = d.nonces[origin]
	ath := ""
	if token != "" {
		if token != d.athOf {
			d.athOf, d.ath = token, EncodeBase64URL(sum256([]byte(token)))
		}
		ath = d.ath
	}
	d.mu.Unlock()
	claims := `{"jti":` + quote(jti) + `,"htm":` + quote(method) + `,"htu":` + quote(htu(url)) +
		`,"iat":` + strconv.FormatInt(d.clock.Now()/1000, 10)
	if ath != "" {
		claims += `,"ath":` + quote(ath)
	}
	if nonce != "" {
		claims += `,"nonce":` + quote(nonce)
	}
	return header + "." + EncodeBase64URL([]byte(claims+"}")), nonce
}

// Remember keeps nonce, a DPoP-Nonce header of a response from url, for
// the next proofs to url's origin. It reports whether that changed the
// nonce the origin's proofs carry.
func (d *DPoP) Remember(url, nonce string) bool {
	origin := Origin(url)
	if nonce == "" || origin == "" || !nonceSyntax(nonce) {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.nonces[origin] == nonce {
		return false
	}
	if _, ok := d.nonces[origin]; !ok && len(d.nonces) >= maxNonces {
		d.nonces = map[string]string{}
	}
	d.nonces[origin] = nonce
	return true
}

// Forget drops the remembered nonces (the session ended).
func (d *DPoP) Forget() {
	d.mu.Lock()
	d.nonces = map[string]string{}
	d.athOf, d.ath = "", ""
	d.mu.Unlock()
}

// Challenged reports whether a response from url is a nonce challenge
// that one more attempt, with a new proof, can answer, and remembers its
// DPoP-Nonce header (nonce) either way. It needs a nonce unlike the one the
// attempt carried (used), and either a 401 whose WWW-Authenticate (www)
// holds a DPoP challenge with error="use_dpop_nonce" (a resource, RFC 9449
// section 9), or a 400 whose body is {"error":"use_dpop_nonce"} (an
// authorization server's endpoint, section 8: a login sent through the
// instance). A browser hides WWW-Authenticate of a cross-origin response
// unless the server exposes it; then (unreadable) a 401 that brings a new
// nonce counts as the challenge.
func (d *DPoP) Challenged(url string, status int, www, nonce, used string, unreadable bool, body string) bool {
	d.Remember(url, nonce)
	if nonce == "" || nonce == used {
		return false
	}
	switch status {
	case 401:
		return unreadable || NonceChallenge(www)
	case 400:
		return refreshNonceError(status, body)
	}
	return false
}

// NonceChallenge reports whether the WWW-Authenticate header value h holds
// a DPoP challenge whose error is use_dpop_nonce (RFC 9449 section 9).
// Challenges are read as RFC 9110 section 11.6.1 writes them: a scheme,
// then a token68 or comma-separated name=value parameters whose values
// may be quoted strings; several challenges may share the header.
func NonceChallenge(h string) bool {
	scheme := ""
	i := 0
	for i < len(h) {
		c := h[i]
		if c == ' ' || c == '\t' || c == ',' {
			i++
			continue
		}
		start := i
		for i < len(h) && isTokenChar(h[i]) {
			i++
		}
		if i == start {
			return false // not a token: give up on the rest
		}
		name := h[start:i]
		j := i
		for j < len(h) && (h[j] == ' ' || h[j] == '\t') {
			j++
		}
		if j == len(h) || h[j] != '=' {
			scheme = name // a new challenge (or a token68 after its scheme)
			continue
		}
		// name=value, a parameter of the current challenge (or the
		// padding of a token68: its value is empty).
		i = j + 1
		for i < len(h) && (h[i] == ' ' || h[i] == '\t') {
			i++
		}
		var value string
		if i < len(h) && h[i] == '"' {
			var b []byte
			for i++; i < len(h) && h[i] != '"'; i++ {
				if h[i] == '\\' && i+1 < len(h) {
					i++
				}
				b = append(b, h[i])
			}
			i++ // the closing quote
			value = string(b)
		} else {
			start := i
			for i < len(h) && isTokenChar(h[i]) {
				i++
			}
			value = h[start:i]
			for i < len(h) && h[i] == '=' { // token68 padding
				i++
			}
		}
		if lowerASCII(scheme) == "dpop" && lowerASCII(name) == "error" && value == "use_dpop_nonce" {
			return true
		}
	}
	return false
}

// isTokenChar reports whether c may appear in an RFC 9110 token (or a
// token68, whose other characters are covered too but for '/').
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return indexByte("!#$%&'*+-.^_`|~/", c) >= 0
}

// nonceSyntax reports whether a DPoP-Nonce value is well formed: RFC 9449
// section 8.1 allows only visible ASCII ("1*NQCHAR"), and a proof must
// never carry anything else a server put there.
func nonceSyntax(s string) bool {
	if len(s) > 1024 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// refreshNonceError reports whether a refresh endpoint's answer is the
// nonce challenge of RFC 9449 section 8: 400 {"error":"use_dpop_nonce"}.
func refreshNonceError(status int, body string) bool {
	if status != 400 {
		return false
	}
	m, err := parseObject(body)
	return err == nil && m["error"].isStr && m["error"].str == "use_dpop_nonce"
}

// htu is the proof's htu claim for url: the URL without its query and
// fragment (RFC 9449 section 4.2).
func htu(url string) string {
	if i := indexAnyByte(url, "?#"); i >= 0 {
		return url[:i]
	}
	return url
}

// EncodeBase64URL encodes b in base64url without padding (RFC 7515), as
// base64.RawURLEncoding does.
func EncodeBase64URL(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := make([]byte, 0, (len(b)*8+5)/6)
	for i := 0; i < len(b); i += 3 {
		var v uint32
		n := min(3, len(b)-i)
		for k := range n {
			v |= uint32(b[i+k]) << (16 - 8*k)
		}
		for k := range n + 1 {
			out = append(out, alphabet[v>>(18-6*k)&0x3f])
		}
	}
	return string(out)
}

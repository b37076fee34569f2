package session

import (
	"errors"
	"math"
)

// Tokens is the session's token pair and what is known about the access
// token's lifetime. Times are in milliseconds (this package does not import
// time: see Clock).
type Tokens struct {
	Access  string
	Refresh string
	// Expiry is when the access token expires on this machine's clock, in
	// Unix milliseconds; 0 when unknown (an opaque token without
	// expires_in).
	Expiry int64
	// Lifetime is the access token's total validity in milliseconds (JWT
	// exp-iat, or expires_in); 0 when unknown. It bounds how early a
	// refresh may start, so a token shorter than the leeway is not
	// refreshed on every request.
	Lifetime int64
}

// Valid reports whether there is an access token or a way to get one.
func (t Tokens) Valid() bool { return t.Access != "" || t.Refresh != "" }

// claims are the registered JWT claims the session uses.
type claims struct {
	exp, iat int64
	hasExp   bool
}

var errNotJWT = errors.New("not a JWT")

// readClaims decodes the payload of a compact JWS (header.payload.signature)
// and returns its exp and iat claims. It checks no signature: the token is
// the server's business, the client only needs to know when it runs out.
func readClaims(token string) (claims, error) {
	first := indexByte(token, '.')
	if first < 0 {
		return claims{}, errNotJWT
	}
	rest := token[first+1:]
	second := indexByte(rest, '.')
	if second < 0 || indexByte(rest[second+1:], '.') >= 0 {
		return claims{}, errNotJWT
	}
	payload := rest[:second]
	for len(payload) > 0 && payload[len(payload)-1] == '=' {
		payload = payload[:len(payload)-1]
	}
	raw, ok := decodeBase64URL(payload)
	if !ok {
		return claims{}, errNotJWT
	}
	members, err := parseObject(string(raw))
	if err != nil {
		return claims{}, errNotJWT
	}
	var c claims
	if v, ok := members["exp"]; ok && v.isNum && finite(v.num) {
		c.exp, c.hasExp = int64(v.num), true
	}
	if v, ok := members["iat"]; ok && v.isNum && finite(v.num) {
		c.iat = int64(v.num)
	}
	return c, nil
}

func finite(f float64) bool {
	return !math.IsNaN(f) && f > -1e15 && f < 1e15
}

// NewTokens describes a token pair received at now (Unix milliseconds).
// The access token's expiry is placed on the local clock, so a browser whose
// clock is off does not refresh too early or too late: now+(exp-iat) for a
// JWT with both claims, else now+expiresIn (seconds, 0 if absent). A JWT
// with exp and neither iat nor expiresIn expires at exp, and its lifetime is
// what was left of it at now.
func NewTokens(access, refresh string, expiresIn float64, now int64) Tokens {
	t := Tokens{Access: access, Refresh: refresh}
	c, err := readClaims(access)
	jwtExp := err == nil && c.hasExp
	if jwtExp {
		if d, ok := c.lifetime(); ok {
			t.Lifetime = d
			t.Expiry = now + d
			return t
		}
	}
	if expiresIn > 0 && finite(expiresIn) {
		t.Lifetime = seconds(expiresIn)
		t.Expiry = now + t.Lifetime
		return t
	}
	if jwtExp {
		t.Expiry = clampSeconds(c.exp) * 1000
		t.Lifetime = min(max(t.Expiry-now, 0), maxLifetime)
	}
	return t
}

// grantTokens describes the tokens of a refresh answer received at now.
// When the server's clock is known (g.ServerTime, from the answer's Date
// header), a JWT is expected to expire when its exp is reached on that
// clock: no later than now+(exp-ServerTime). That holds whatever the local
// clock says and whatever iat says: some servers copy iat from an older
// token, so exp-iat overstates the lifetime.
func grantTokens(g Grant, now int64) Tokens {
	t := NewTokens(g.Access, g.Refresh, g.ExpiresIn, now)
	if g.ServerTime <= 0 {
		return t
	}
	c, err := readClaims(g.Access)
	if err != nil || !c.hasExp {
		return t
	}
	left := min(clampSeconds(c.exp)*1000-g.ServerTime, maxLifetime)
	if left <= 0 {
		return t // expired on arrival by the server's clock: leave it to the 401
	}
	_, hasIat := c.lifetime()
	// Without iat or expires_in, NewTokens placed exp on the local clock,
	// which the server's clock replaces; otherwise the shorter one wins.
	serverRelative := hasIat || (g.ExpiresIn > 0 && finite(g.ExpiresIn))
	if !serverRelative || left < t.Lifetime {
		t.Lifetime, t.Expiry = left, now+left
	}
	return t
}

// capLife returns t with a lifetime no longer than limit (when limit is
// known), its expiry moved earlier by what was cut. A session's tokens are
// never expected to outlive the first one seen: when the server's clock
// cannot be read, that is what catches an iat copied from an older token.
func capLife(t Tokens, limit int64) Tokens {
	if limit > 0 && t.Lifetime > limit {
		t.Expiry -= t.Lifetime - limit
		t.Lifetime = limit
	}
	return t
}

// seconds converts a positive number of seconds to milliseconds, capped at
// maxLifetime.
func seconds(s float64) int64 {
	return int64(min(s, float64(maxSeconds)) * 1000)
}

// clampSeconds limits a Unix time in seconds (a JWT's exp) to what
// milliseconds hold without overflow.
func clampSeconds(s int64) int64 {
	return max(min(s, math.MaxInt64/1000), math.MinInt64/1000)
}

// maxSeconds and maxLifetime are the longest lifetime, in whole seconds and
// in milliseconds, that the session keeps (about 292 years, what a
// time.Duration holds). Longer ones ("never expires" tokens, a hostile
// expires_in) are capped to it instead of overflowing into the past.
const (
	maxSeconds  = math.MaxInt64 / 1_000_000_000
	maxLifetime = maxSeconds * 1000
)

// lifetime returns exp-iat in milliseconds, capped at maxLifetime; ok is
// false when iat is absent or after exp.
func (c claims) lifetime() (ms int64, ok bool) {
	if !c.hasExp || c.iat <= 0 || c.iat > c.exp {
		return 0, false
	}
	return min(c.exp-c.iat, maxSeconds) * 1000, true
}

// refreshAt returns when a request should stop sending the access token and
// refresh first, in Unix milliseconds: leeway before Expiry, but never
// earlier than half-way through the token's life. 0 means never.
func (t Tokens) refreshAt(leeway Duration) int64 {
	if t.Expiry == 0 {
		return 0
	}
	l := leeway.ms()
	if t.Lifetime > 0 {
		l = min(l, t.Lifetime/2)
	}
	return t.Expiry - l
}

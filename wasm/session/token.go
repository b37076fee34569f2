package session

import (
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"time"
)

// Tokens is the session's token pair and what is known about the access
// token's lifetime.
type Tokens struct {
	Access  string
	Refresh string
	// Expiry is when the access token expires on this machine's clock; zero
	// when unknown (an opaque token without expires_in).
	Expiry time.Time
	// Lifetime is the access token's total validity (JWT exp-iat, or
	// expires_in); zero when unknown. It bounds how early a refresh may
	// start, so a token shorter than the leeway is not refreshed on every
	// request.
	Lifetime time.Duration
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
	first := strings.IndexByte(token, '.')
	if first < 0 {
		return claims{}, errNotJWT
	}
	rest := token[first+1:]
	second := strings.IndexByte(rest, '.')
	if second < 0 || strings.IndexByte(rest[second+1:], '.') >= 0 {
		return claims{}, errNotJWT
	}
	payload := strings.TrimRight(rest[:second], "=")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
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

// NewTokens describes a token pair received at now. The access token's
// expiry is placed on the local clock, so a browser whose clock is off does
// not refresh too early or too late: now+(exp-iat) for a JWT with both
// claims, else now+expiresIn (seconds, 0 if absent). A JWT with exp and
// neither iat nor expiresIn expires at exp, and its lifetime is what was
// left of it at now.
func NewTokens(access, refresh string, expiresIn float64, now time.Time) Tokens {
	t := Tokens{Access: access, Refresh: refresh}
	c, err := readClaims(access)
	jwtExp := err == nil && c.hasExp
	if jwtExp {
		if d, ok := c.lifetime(); ok {
			t.Lifetime = d
			t.Expiry = now.Add(d)
			return t
		}
	}
	if expiresIn > 0 && finite(expiresIn) {
		t.Lifetime = seconds(expiresIn)
		t.Expiry = now.Add(t.Lifetime)
		return t
	}
	if jwtExp {
		t.Expiry = time.Unix(c.exp, 0)
		if left := t.Expiry.Sub(now); left > 0 {
			t.Lifetime = left
		}
	}
	return t
}

// grantTokens describes the tokens of a refresh answer received at now.
// When the server's clock is known (g.ServerTime, from the answer's Date
// header), a JWT is expected to expire when its exp is reached on that
// clock: no later than now+(exp-ServerTime). That holds whatever the local
// clock says and whatever iat says: some servers copy iat from an older
// token, so exp-iat overstates the lifetime.
func grantTokens(g Grant, now time.Time) Tokens {
	t := NewTokens(g.Access, g.Refresh, g.ExpiresIn, now)
	if g.ServerTime <= 0 {
		return t
	}
	c, err := readClaims(g.Access)
	if err != nil || !c.hasExp {
		return t
	}
	leftMs := c.exp*1000 - g.ServerTime
	if leftMs <= 0 {
		return t // expired on arrival by the server's clock: leave it to the 401
	}
	left := seconds(float64(leftMs) / 1000)
	_, hasIat := c.lifetime()
	// Without iat or expires_in, NewTokens placed exp on the local clock,
	// which the server's clock replaces; otherwise the shorter one wins.
	serverRelative := hasIat || (g.ExpiresIn > 0 && finite(g.ExpiresIn))
	if !serverRelative || left < t.Lifetime {
		t.Lifetime, t.Expiry = left, now.Add(left)
	}
	return t
}

// capLife returns t with a lifetime no longer than limit (when limit is
// known), its expiry moved earlier by what was cut. A session's tokens are
// never expected to outlive the first one seen: when the server's clock
// cannot be read, that is what catches an iat copied from an older token.
func capLife(t Tokens, limit time.Duration) Tokens {
	if limit > 0 && t.Lifetime > limit {
		t.Expiry = t.Expiry.Add(limit - t.Lifetime)
		t.Lifetime = limit
	}
	return t
}

// seconds converts a positive number of seconds to a Duration, capped at
// maxLifetime.
func seconds(s float64) time.Duration {
	if s >= float64(maxSeconds) {
		return maxLifetime
	}
	return time.Duration(s * float64(time.Second))
}

// maxSeconds and maxLifetime are the longest lifetime, in whole seconds,
// that a time.Duration holds (about 292 years). Longer ones ("never
// expires" tokens, a hostile expires_in) are capped to it instead of
// overflowing into the past.
const (
	maxSeconds  = math.MaxInt64 / int64(time.Second)
	maxLifetime = time.Duration(maxSeconds) * time.Second
)

// lifetime returns exp-iat, capped at maxLifetime; ok is false when iat is
// absent or after exp.
func (c claims) lifetime() (d time.Duration, ok bool) {
	if !c.hasExp || c.iat <= 0 || c.iat > c.exp {
		return 0, false
	}
	if s := c.exp - c.iat; s < maxSeconds {
		return time.Duration(s) * time.Second, true
	}
	return maxLifetime, true
}

// refreshAt returns when a request should stop sending the access token and
// refresh first: leeway before Expiry, but never earlier than half-way
// through the token's life. Zero means never.
func (t Tokens) refreshAt(leeway time.Duration) time.Time {
	if t.Expiry.IsZero() {
		return time.Time{}
	}
	if t.Lifetime > 0 && leeway > t.Lifetime/2 {
		leeway = t.Lifetime / 2
	}
	return t.Expiry.Add(-leeway)
}

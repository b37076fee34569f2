package authserver

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// pruneEvery bounds how often expired refresh tokens and sessions are
// dropped from memory.
const pruneEvery = time.Minute

// family is one login session: every refresh token rotated from the same
// login, and the access tokens issued with them.
type family struct {
	user    string
	revoked bool
	calls   int64     // authorized /api/* calls made with this session's tokens
	expires time.Time // when its last token expires; it is pruned afterwards
	// login is when the session began: the iat of every access token
	// when the server copies iat (SetCopyIssuedAt).
	login time.Time
}

// refreshEntry is what the server knows about one refresh token. The token
// itself is not stored, only its SHA-256.
type refreshEntry struct {
	family  string
	used    bool
	expires time.Time
}

// tokenPair is the answer to a successful login or refresh.
type tokenPair struct {
	access    string
	refresh   string
	expiresIn int64 // whole seconds, at least 1
}

// numericDate is a JWT NumericDate with millisecond precision. It is
// serialised as a (possibly fractional) number of seconds, which RFC 7519
// allows; jwt.NumericDate would truncate to whole seconds, so a 1 s token
// could expire almost at once.
type numericDate struct{ t time.Time }

func newNumericDate(t time.Time) numericDate { return numericDate{t.Truncate(time.Millisecond)} }

// MarshalJSON writes seconds since the epoch with up to three decimals.
func (d numericDate) MarshalJSON() ([]byte, error) {
	ms := d.t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	b := strconv.AppendInt(nil, sec, 10)
	if frac != 0 {
		f := strconv.FormatInt(1000+frac, 10)[1:] // three digits
		b = append(b, '.')
		b = append(b, strings.TrimRight(f, "0")...)
	}
	return b, nil
}

// UnmarshalJSON reads a JSON number of seconds since the epoch.
func (d *numericDate) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
		return errors.New("invalid NumericDate")
	}
	d.t = time.UnixMilli(int64(math.Round(f * 1000)))
	return nil
}

func (d numericDate) jwt() *jwt.NumericDate {
	if d.t.IsZero() {
		return nil
	}
	return &jwt.NumericDate{Time: d.t}
}

// accessClaims are the claims of an access token. Besides the registered
// claims it carries its type, its session (family) id and the revocation
// generation it was issued in.
type accessClaims struct {
	Subject    string      `json:"sub"`
	ExpiresAt  numericDate `json:"exp"`
	IssuedAt   numericDate `json:"iat"`
	ID         string      `json:"jti"`
	Type       string      `json:"typ"`
	Session    string      `json:"sid"`
	Generation uint64      `json:"gen"`
}

var _ jwt.ClaimsValidator = (*accessClaims)(nil)

func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.jwt(), nil }
func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.jwt(), nil }
func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *accessClaims) GetIssuer() (string, error)                   { return "", nil }
func (c *accessClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// Validate checks the claims the jwt package does not know about.
func (c *accessClaims) Validate() error {
	if c.Type != "access" {
		return errors.New("not an access token")
	}
	if c.Subject == "" || c.Session == "" {
		return errors.New("incomplete access token")
	}
	return nil
}

// randomString returns n random bytes, base64url-encoded without padding.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// expiresIn renders a lifetime as whole seconds for expires_in, at least 1
// so that it never reads as "unknown".
func expiresIn(d time.Duration) int64 {
	if s := int64(d / time.Second); s > 0 {
		return s
	}
	return 1
}

// issueLocked issues an access token and a refresh token in family id.
// s.mu must be held.
func (s *Server) issueLocked(id string, fam *family, now time.Time) (tokenPair, error) {
	iat := newNumericDate(now)
	exp := newNumericDate(iat.t.Add(s.accessTTL))
	if fam.login.IsZero() {
		fam.login = now
	}
	if s.copyIat {
		// As djangorestframework-simplejwt did for years: the refreshed
		// access token keeps the iat of the login, so exp-iat overstates
		// its lifetime.
		iat = newNumericDate(fam.login)
	}
	claims := &accessClaims{
		Subject:    fam.user,
		ExpiresAt:  exp,
		IssuedAt:   iat,
		ID:         randomString(16),
		Type:       "access",
		Session:    id,
		Generation: s.generation,
	}
	access, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return tokenPair{}, err
	}
	refresh := randomString(32)
	refreshExp := now.Add(s.refreshTTL)
	s.refreshTokens[hashToken(refresh)] = &refreshEntry{family: id, expires: refreshExp}
	if s.recordIssued {
		s.issued = append(s.issued, Issued{Access: access, Refresh: refresh, Session: id})
	}
	for _, t := range []time.Time{refreshExp, exp.t} {
		if t.After(fam.expires) {
			fam.expires = t
		}
	}
	return tokenPair{access: access, refresh: refresh, expiresIn: expiresIn(s.accessTTL)}, nil
}

// pruneLocked drops expired refresh tokens and sessions, at most once per
// pruneEvery. s.mu must be held.
func (s *Server) pruneLocked(now time.Time) {
	if !s.lastPrune.IsZero() && now.Sub(s.lastPrune) < pruneEvery && !now.Before(s.lastPrune) {
		return
	}
	s.lastPrune = now
	for k, e := range s.refreshTokens {
		if !now.Before(e.expires) {
			delete(s.refreshTokens, k)
		}
	}
	for id, f := range s.families {
		if !now.Before(f.expires) {
			delete(s.families, id)
		}
	}
}

// errInvalidGrant means a refresh token is unknown, expired, used or revoked.
var errInvalidGrant = errors.New("invalid_grant")

// rotateLocked exchanges a refresh token for a new pair in the same
// session. Presenting a token that was already used revokes the session.
// s.mu must be held.
func (s *Server) rotateLocked(token string, now time.Time) (tokenPair, error) {
	e := s.refreshTokens[hashToken(token)]
	if e == nil || !now.Before(e.expires) {
		return tokenPair{}, errInvalidGrant
	}
	fam := s.families[e.family]
	if fam == nil || fam.revoked {
		return tokenPair{}, errInvalidGrant
	}
	if e.used {
		fam.revoked = true
		s.counters.ReuseDetections++
		return tokenPair{}, errInvalidGrant
	}
	e.used = true
	return s.issueLocked(e.family, fam, now)
}

// principal is who an authorized request acts for.
type principal struct {
	user    string
	expires time.Time
	calls   int64 // the session's authorized calls, this one included
}

var errRevoked = errors.New("access token revoked")

// parseAccess verifies an access token's signature and claims, without
// looking at server state.
func (s *Server) parseAccess(token string) (*accessClaims, error) {
	claims := &accessClaims{}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(s.now),
		jwt.WithExpirationRequired(),
	)
	_, err := parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return s.secret, nil })
	if err != nil {
		return nil, err
	}
	return claims, nil
}

// authorize checks an access token completely and, when it is good, counts
// an API call for it.
func (s *Server) authorize(token string) (principal, error) {
	claims, err := s.parseAccess(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		fam := s.families[claims.Session]
		switch {
		case fam == nil || fam.revoked || claims.Generation != s.generation:
			err = errRevoked
		default:
			s.counters.APICalls++
			fam.calls++
			return principal{user: claims.Subject, expires: claims.ExpiresAt.t, calls: fam.calls}, nil
		}
	}
	s.counters.Unauthorized++
	return principal{}, err
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(h string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

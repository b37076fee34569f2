package authserver

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
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
	// jkt is the thumbprint of the DPoP key the session is bound to, ""
	// when it is not (dpop.go).
	jkt string
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
	expiresIn int64  // whole seconds, at least 1
	tokenType string // "DPoP" for DPoP-bound tokens, else "Bearer"
}

// bound reports whether the pair is DPoP-bound.
func (p tokenPair) bound() bool { return p.tokenType == "DPoP" }

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
// claims it carries its type, its session (family) id, the revocation
// generation it was issued in and, when it is DPoP-bound, the thumbprint of
// its key (RFC 9449 section 6.1).
type accessClaims struct {
	Subject    string        `json:"sub"`
	ExpiresAt  numericDate   `json:"exp"`
	IssuedAt   numericDate   `json:"iat"`
	ID         string        `json:"jti"`
	Type       string        `json:"typ"`
	Session    string        `json:"sid"`
	Generation uint64        `json:"gen"`
	Cnf        *confirmation `json:"cnf,omitempty"`
}

// confirmation is the cnf claim of a DPoP-bound token (RFC 7800).
type confirmation struct {
	JKT string `json:"jkt"`
}

// boundKey returns the thumbprint of the key the token is bound to, ""
// when it is not DPoP-bound.
func (c *accessClaims) boundKey() string {
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.JKT
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
	if c.Subject == "" || c.Session == "" || (c.Cnf != nil && c.Cnf.JKT == "") {
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
	tokenType := "Bearer"
	if fam.jkt != "" {
		claims.Cnf = &confirmation{JKT: fam.jkt}
		tokenType = "DPoP"
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
	return tokenPair{access: access, refresh: refresh, expiresIn: expiresIn(s.accessTTL), tokenType: tokenType}, nil
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
//
// proof is the request's DPoP proof as parseProof found it, nil if none.
// A DPoP-bound session needs a proof made with its key; without one the
// request is refused before the token is looked at further, so that a
// stolen token, even an already-used one, can neither be rotated nor set
// off reuse detection and end the real client's session. A session not yet
// bound becomes bound to the key of the first good proof that refreshes it,
// as RFC 9449 section 5 has refresh tokens of public clients bound.
// s.mu must be held.
func (s *Server) rotateLocked(token string, proof *dpopProof, now time.Time) (tokenPair, error) {
	e := s.refreshTokens[hashToken(token)]
	if e == nil || !now.Before(e.expires) {
		return tokenPair{}, errInvalidGrant
	}
	fam := s.families[e.family]
	if fam == nil || fam.revoked {
		return tokenPair{}, errInvalidGrant
	}
	err := s.checkProofLocked(proof, fam.jkt, now)
	s.countProofLocked(proof, err)
	if err != nil {
		return tokenPair{}, err
	}
	if e.used {
		fam.revoked = true
		s.counters.ReuseDetections++
		return tokenPair{}, errInvalidGrant
	}
	e.used = true
	if proof != nil && fam.jkt == "" {
		fam.jkt = proof.jkt
	}
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

// authorize checks the access token of r completely and, when it is good,
// counts an API call for it. A DPoP-bound token must come with the DPoP
// scheme and a proof made with its key for it; a token that is not bound,
// with the Bearer scheme. The error is a *proofError when the answer must
// be a DPoP challenge.
func (s *Server) authorize(r *http.Request) (principal, error) {
	scheme, token := authorization(r.Header.Get("Authorization"))
	claims, err := s.parseAccess(token)
	var proof *dpopProof
	var proofErr error
	if err == nil && scheme == "DPoP" && claims.boundKey() != "" {
		proof, proofErr = s.parseProof(r, token)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		fam := s.families[claims.Session]
		jkt := claims.boundKey()
		switch {
		case fam == nil || fam.revoked || claims.Generation != s.generation:
			err = errRevoked
		case jkt == "" && scheme == "DPoP":
			err = errNotBound
			s.countProofLocked(nil, err)
		case jkt != "" && scheme != "DPoP":
			err = errBearerScheme
			s.countProofLocked(nil, err)
		case jkt != "":
			if proofErr == nil {
				proofErr = s.checkProofLocked(proof, jkt, now)
			}
			s.countProofLocked(proof, proofErr)
			err = proofErr
		}
		if err == nil {
			s.counters.APICalls++
			fam.calls++
			return principal{user: claims.Subject, expires: claims.ExpiresAt.t, calls: fam.calls}, nil
		}
	}
	s.counters.Unauthorized++
	var pe *proofError
	if scheme == "DPoP" && !errors.As(err, &pe) {
		err = errDPoPToken
	}
	return principal{}, err
}

// authorization splits an Authorization header into its scheme, "Bearer"
// or "DPoP" (matched without regard to case), and token; other schemes
// yield "", "".
func authorization(h string) (scheme, token string) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	switch {
	case !ok:
		return "", ""
	case strings.EqualFold(scheme, "Bearer"):
		return "Bearer", token
	case strings.EqualFold(scheme, "DPoP"):
		return "DPoP", token
	}
	return "", ""
}

package authserver

// DPoP (RFC 9449, https://www.rfc-editor.org/rfc/rfc9449): tokens bound to
// a key pair the client holds. Every request carries a fresh proof, a JWT
// signed with the private key and carrying the public key in its header; a
// stolen token is useless without that key.
//
// A login with a valid proof binds its session (refresh token family) to the
// proof's key: its access tokens carry cnf.jkt, the key's RFC 7638
// thumbprint, and a refresh needs a proof made with the same key. A session
// begun without a proof is bound by its first refresh with one. A resource
// request with a bound token needs "Authorization: DPoP <token>" and a proof
// with the same key and the token's hash (ath).
//
// The checks that need no server state (signature, typ, jwk, htm, htu, iat,
// ath) are made by parseProof, without the lock; those that do (the bound
// key, the nonce, jti replay) by checkProofLocked, under s.mu, at the moment
// the request is granted or refused.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// DPoPHeader carries a proof on a request.
	DPoPHeader = "DPoP"
	// DPoPNonceHeader carries the server's current nonce on a response, in
	// nonce mode (Config.DPoPNonce).
	DPoPNonceHeader = "DPoP-Nonce"
	// DPoPAlg is the only signing algorithm accepted for proofs.
	DPoPAlg = "ES256"
)

const (
	dpopMaxAge     = 60 * time.Second // how old a proof's iat may be
	dpopMaxSkew    = 10 * time.Second // how far in the future a proof's iat may be
	dpopMaxLen     = 8 << 10          // longest DPoP header accepted
	dpopMaxJTI     = 256              // longest jti accepted
	dpopMaxSeen    = 1 << 16          // jti values remembered at most
	dpopPruneEvery = 10 * time.Second // how often the replay cache is pruned
	dpopMaxKeys    = 1000             // keys remembered for DPoPKeys at most
)

// proofError is why a DPoP proof, or a request that needed one, was refused.
// Its reason is short and never quotes a proof or a token: it goes into
// error_description and DPoPRejections.
type proofError struct {
	code   string // invalid_dpop_proof, invalid_token or use_dpop_nonce
	reason string
}

func (e *proofError) Error() string {
	if e.reason == "" {
		return "dpop: " + e.code
	}
	return "dpop: " + e.code + ": " + e.reason
}

// invalidProof is a proof refused for reason.
func invalidProof(reason string) *proofError {
	return &proofError{code: "invalid_dpop_proof", reason: reason}
}

var (
	// errUseNonce refuses an otherwise good proof that lacks the current or
	// previous nonce in nonce mode. It is counted as a nonce challenge, not
	// as a rejection. Its reason is the description RFC 9449 section 9
	// shows.
	errUseNonce = &proofError{code: "use_dpop_nonce", reason: "Resource server requires nonce in DPoP proof"}
	// errBearerScheme refuses a DPoP-bound token sent as a bearer token.
	errBearerScheme = &proofError{code: "invalid_token", reason: "bearer scheme"}
	// errNotBound refuses "Authorization: DPoP" with a token that is not
	// DPoP-bound.
	errNotBound = &proofError{code: "invalid_token", reason: "not bound"}
	// errDPoPToken refuses an invalid, expired or revoked token sent with
	// the DPoP scheme. It is not counted as a rejection: the token, not the
	// proof, is bad, and the client should refresh.
	errDPoPToken = &proofError{code: "invalid_token"}
	// errMissingProof refuses a request that needed a proof and had none.
	errMissingProof = invalidProof("missing")
)

// challenge is the WWW-Authenticate value for e (RFC 9449 section 7.1).
func (e *proofError) challenge() string {
	c := `DPoP error="` + e.code + `"`
	if e.reason != "" {
		c += `, error_description="` + e.reason + `"`
	}
	return c + `, algs="` + DPoPAlg + `"`
}

// dpopState is the server's DPoP state, guarded by Server.mu.
type dpopState struct {
	nonceMode    bool // nonce mode now
	nonceDefault bool // nonce mode from Config, restored by /debug/reset
	nonce        string
	prevNonce    string
	seen         map[[32]byte]time.Time // SHA-256 of jkt and jti -> when it may be forgotten
	lastPrune    time.Time
	rejections   map[string]int64 // reason -> count
	keys         []string         // jkt values of accepted proofs, in order first seen
	keySeen      map[string]bool
}

func newDPoPState(nonceMode bool) dpopState {
	d := dpopState{
		nonceDefault: nonceMode,
		seen:         make(map[[32]byte]time.Time),
	}
	d.setNonceMode(nonceMode)
	return d
}

// setNonceMode switches nonce mode, making a nonce when there is none yet.
func (d *dpopState) setNonceMode(on bool) {
	d.nonceMode = on
	if on && d.nonce == "" {
		d.rotate()
	}
}

// rotate makes a new current nonce; the current one becomes the previous.
func (d *dpopState) rotate() {
	d.prevNonce, d.nonce = d.nonce, randomString(18)
}

// resetCounts forgets the rejections and keys counted so far.
func (d *dpopState) resetCounts() {
	d.rejections, d.keys, d.keySeen = nil, nil, nil
}

// SetDPoPNonce switches nonce mode (RFC 9449 sections 8 and 9): when on,
// a proof must carry the current or the previous nonce, which every
// response to a request with a proof announces in the DPoP-Nonce header.
func (s *Server) SetDPoPNonce(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dpop.setNonceMode(on)
}

// RotateDPoPNonce makes a new current nonce. Proofs with the one it replaces
// are still accepted until the next rotation.
func (s *Server) RotateDPoPNonce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dpop.rotate()
}

// DPoPRejections returns how many proofs were refused for each reason since
// the last ResetCounters. Nonce challenges are not included: see
// Counters.DPoPNonceChallenges.
func (s *Server) DPoPRejections() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int64, len(s.dpop.rejections))
	for k, v := range s.dpop.rejections {
		m[k] = v
	}
	return m
}

// DPoPKeys returns the distinct JWK thumbprints (RFC 7638) of the keys of
// accepted proofs since the last ResetCounters, in the order first seen;
// at most the first 1000.
func (s *Server) DPoPKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.dpop.keys...)
}

// dpopNonce returns the nonce to announce in a response, "" when nonce mode
// is off.
func (s *Server) dpopNonce() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dpop.nonceMode {
		return ""
	}
	return s.dpop.nonce
}

// dpopProof is a proof whose signature and claims checked out; what needs
// server state is left to checkProofLocked.
type dpopProof struct {
	jkt   string // RFC 7638 thumbprint of its key
	jti   string
	iat   time.Time
	nonce string
}

// proofClaims are the claims of a DPoP proof (RFC 9449 section 4.2).
type proofClaims struct {
	JTI   string           `json:"jti"`
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	ATH   string           `json:"ath"`
	Nonce string           `json:"nonce"`
}

func (c *proofClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (c *proofClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IAT, nil }
func (c *proofClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *proofClaims) GetIssuer() (string, error)                   { return "", nil }
func (c *proofClaims) GetSubject() (string, error)                  { return "", nil }
func (c *proofClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// parseProof checks the DPoP header of r, if any (nil, nil when there is
// none): its form, signature and key, and that it was made for this request
// (htm, htu), recently (iat) and, when token is not "", for that access
// token (ath).
func (s *Server) parseProof(r *http.Request, token string) (*dpopProof, error) {
	values := r.Header.Values(DPoPHeader)
	switch {
	case len(values) == 0:
		return nil, nil
	case len(values) > 1:
		return nil, invalidProof("multiple")
	case len(values[0]) > dpopMaxLen:
		return nil, invalidProof("malformed")
	}

	var jkt string
	claims := &proofClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{DPoPAlg}), jwt.WithoutClaimsValidation())
	t, err := parser.ParseWithClaims(values[0], claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "dpop+jwt" {
			return nil, invalidProof("typ")
		}
		key, thumbprint, err := parseJWK(t.Header["jwk"])
		if err != nil {
			return nil, err
		}
		jkt = thumbprint
		return key, nil
	})
	if err != nil {
		var pe *proofError
		switch {
		case errors.As(err, &pe):
			return nil, pe
		case errors.Is(err, jwt.ErrTokenMalformed):
			return nil, invalidProof("malformed")
		case t == nil || t.Method == nil || t.Method.Alg() != DPoPAlg:
			return nil, invalidProof("alg")
		default:
			return nil, invalidProof("signature")
		}
	}

	now := s.now()
	switch {
	case claims.JTI == "" || len(claims.JTI) > dpopMaxJTI:
		return nil, invalidProof("jti")
	case claims.HTM != r.Method:
		return nil, invalidProof("htm")
	case !htuMatches(claims.HTU, r):
		return nil, invalidProof("htu")
	case claims.IAT == nil || now.Sub(claims.IAT.Time) > dpopMaxAge || claims.IAT.Time.Sub(now) > dpopMaxSkew:
		return nil, invalidProof("iat")
	case token != "" && claims.ATH != accessTokenHash(token):
		return nil, invalidProof("ath")
	}
	return &dpopProof{jkt: jkt, jti: claims.JTI, iat: claims.IAT.Time, nonce: claims.Nonce}, nil
}

// parseJWK reads a proof's jwk header: a public P-256 key, whose point must
// lie on the curve. It returns the key and its RFC 7638 thumbprint.
func parseJWK(v any) (*ecdsa.PublicKey, string, error) {
	errJWK := invalidProof("jwk")
	jwk, ok := v.(map[string]any)
	if !ok {
		return nil, "", errJWK
	}
	if _, private := jwk["d"]; private {
		return nil, "", errJWK
	}
	kty, _ := jwk["kty"].(string)
	crv, _ := jwk["crv"].(string)
	xs, _ := jwk["x"].(string)
	ys, _ := jwk["y"].(string)
	if kty != "EC" || crv != "P-256" {
		return nil, "", errJWK
	}
	x, errX := base64.RawURLEncoding.DecodeString(xs)
	y, errY := base64.RawURLEncoding.DecodeString(ys)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return nil, "", errJWK
	}
	// ParseUncompressedPublicKey checks that the point is on the curve, as
	// crypto/ecdh's NewPublicKey does.
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, "", errJWK
	}
	return key, jwkThumbprint(x, y), nil
}

// jwkThumbprint is the RFC 7638 thumbprint of a P-256 public key: the
// SHA-256 of its required members, sorted, without white space. The
// coordinates are encoded afresh, so that a key has one thumbprint however
// the client encoded it.
func jwkThumbprint(x, y []byte) string {
	b64 := base64.RawURLEncoding.EncodeToString
	canonical := `{"crv":"P-256","kty":"EC","x":"` + b64(x) + `","y":"` + b64(y) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return b64(sum[:])
}

// accessTokenHash is a proof's ath for token: base64url of its SHA-256.
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// htuMatches reports whether htu names the URL r was sent to, ignoring
// query and fragment (RFC 9449 section 4.3) and comparing the way RFC 3986
// section 6.2.2 and 6.2.3 normalise: scheme and host without regard to
// case, the scheme's default port like no port, an empty path like "/",
// and percent-encoding decoded.
//
// The request's URL is http://, or https:// over TLS, then r.Host and
// r.URL.Path: the server does not trust forwarding headers, so behind a
// proxy that changes the host or terminates TLS proofs do not match.
func htuMatches(htu string, r *http.Request) bool {
	u, err := url.Parse(htu)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return u.Scheme == scheme && // url.Parse lower-cases the scheme
		normalHost(scheme, u.Host) == normalHost(scheme, r.Host) &&
		normalPath(u.Path) == normalPath(r.URL.Path)
}

// normalHost lower-cases host and drops the scheme's default port and the
// brackets of an IPv6 address.
func normalHost(scheme, host string) string {
	host = strings.ToLower(host)
	defaultPort := "80"
	if scheme == "https" {
		defaultPort = "443"
	}
	if h, port, err := net.SplitHostPort(host); err == nil && (port == "" || port == defaultPort) {
		host = h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

func normalPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// checkProofLocked finishes checking a proof p parsed by parseProof (nil if
// the request had none) against the server's state: when jkt is not "",
// the key p must be made with; in nonce mode, its nonce; and that its jti
// is new, which it then records. s.mu must be held.
func (s *Server) checkProofLocked(p *dpopProof, jkt string, now time.Time) error {
	d := &s.dpop
	switch {
	case p == nil && jkt != "":
		return errMissingProof
	case p == nil:
		return nil
	case jkt != "" && p.jkt != jkt:
		return invalidProof("key mismatch")
	case d.nonceMode && (p.nonce == "" || (p.nonce != d.nonce && p.nonce != d.prevNonce)):
		return errUseNonce
	}
	s.pruneSeenLocked(now)
	id := sha256.Sum256([]byte(p.jkt + " " + p.jti))
	if _, replayed := d.seen[id]; replayed {
		return invalidProof("jti replayed")
	}
	if len(d.seen) >= dpopMaxSeen {
		// Refuse rather than forget a jti that may come back.
		return invalidProof("replay cache full")
	}
	// The proof is accepted until its iat is dpopMaxAge old; so long it
	// must be remembered.
	d.seen[id] = p.iat.Add(dpopMaxAge)
	return nil
}

// pruneSeenLocked forgets the jti values of proofs too old to be accepted
// again, every dpopPruneEvery or when the replay cache is full. s.mu must
// be held.
func (s *Server) pruneSeenLocked(now time.Time) {
	d := &s.dpop
	if len(d.seen) < dpopMaxSeen && !d.lastPrune.IsZero() &&
		now.Sub(d.lastPrune) < dpopPruneEvery && !now.Before(d.lastPrune) {
		return
	}
	d.lastPrune = now
	for id, forget := range d.seen {
		if now.After(forget) {
			delete(d.seen, id)
		}
	}
}

// countProofLocked counts the outcome of checking proof p: accepted when err
// is nil, refused otherwise. A request without a proof that needed none (p
// and err nil) counts nothing. s.mu must be held.
func (s *Server) countProofLocked(p *dpopProof, err error) {
	d := &s.dpop
	var pe *proofError
	switch {
	case err == nil && p == nil:
	case err == nil:
		s.counters.DPoPProofs++
		if d.keySeen[p.jkt] {
			return
		}
		if len(d.keys) >= dpopMaxKeys {
			return
		}
		if d.keySeen == nil {
			d.keySeen = make(map[string]bool)
		}
		d.keySeen[p.jkt] = true
		d.keys = append(d.keys, p.jkt)
	case err == errUseNonce:
		s.counters.DPoPNonceChallenges++
	case errors.As(err, &pe):
		s.counters.DPoPRejected++
		if d.rejections == nil {
			d.rejections = make(map[string]int64)
		}
		d.rejections[pe.reason]++
	}
}

// tokenEndpointError answers a login or refresh refused because of its
// proof: 400 with invalid_dpop_proof or use_dpop_nonce (RFC 9449 sections 5
// and 8), and in the latter case the nonce to use.
func (s *Server) tokenEndpointError(w http.ResponseWriter, err *proofError) {
	if err == errUseNonce {
		if n := s.dpopNonce(); n != "" {
			w.Header().Set(DPoPNonceHeader, n)
		}
	}
	writeError(w, http.StatusBadRequest, err.code)
}

// resourceError answers a resource request refused because of its token or
// proof: 401 with a DPoP challenge (RFC 9449 section 7.1), and for
// use_dpop_nonce the nonce to use.
func (s *Server) resourceError(w http.ResponseWriter, err *proofError) {
	if err == errUseNonce {
		if n := s.dpopNonce(); n != "" {
			w.Header().Set(DPoPNonceHeader, n)
		}
	}
	w.Header().Set("WWW-Authenticate", err.challenge())
	writeError(w, http.StatusUnauthorized, err.code)
}

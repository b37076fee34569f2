package authserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testHost is the host of httptest.NewRequest's requests, so the htu of
// the requests do sends.
const testHost = "http://example.com"

// dpopKey is a client's DPoP key pair, as the browser keeps it.
type dpopKey struct {
	priv *ecdsa.PrivateKey
	clk  func() time.Time
}

func newDPoPKey(t *testing.T, clk func() time.Time) *dpopKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return &dpopKey{priv: priv, clk: clk}
}

// xy returns the key's coordinates, base64url-encoded.
func (k *dpopKey) xy(t *testing.T) (x, y string) {
	t.Helper()
	b, err := k.priv.PublicKey.Bytes() // 0x04 || x || y
	require.NoError(t, err)
	require.Len(t, b, 65)
	return base64.RawURLEncoding.EncodeToString(b[1:33]), base64.RawURLEncoding.EncodeToString(b[33:])
}

// thumbprint computes the key's RFC 7638 thumbprint independently of the
// server's code: encoding/json sorts map keys and adds no white space, which
// is the canonical form RFC 7638 section 3 asks for.
func (k *dpopKey) thumbprint(t *testing.T) string {
	t.Helper()
	x, y := k.xy(t)
	canonical, err := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": x, "y": y})
	require.NoError(t, err)
	require.Equal(t, `{"crv":"P-256","kty":"EC","x":"`+x+`","y":"`+y+`"}`, string(canonical))
	sum := sha256.Sum256(canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// proof makes a proof for method and url (the htu); access, when not "",
// adds its ath. Each edit may change the header or claims before signing.
func (k *dpopKey) proof(t *testing.T, method, url, access string, edits ...func(h, c map[string]any)) string {
	t.Helper()
	x, y := k.xy(t)
	c := jwt.MapClaims{
		"jti": randomString(12),
		"htm": method,
		"htu": url,
		"iat": k.clk().Unix(),
	}
	if access != "" {
		c["ath"] = accessTokenHash(access)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["typ"] = "dpop+jwt"
	tok.Header["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": x, "y": y}
	for _, edit := range edits {
		edit(tok.Header, c)
	}
	s, err := tok.SignedString(k.priv)
	require.NoError(t, err)
	return s
}

// withNonce sets a proof's nonce.
func withNonce(n string) func(h, c map[string]any) {
	return func(_, c map[string]any) { c["nonce"] = n }
}

// dpopLogin logs in as demo with a proof made by k and returns the tokens.
func dpopLogin(t *testing.T, s *Server, k *dpopKey, edits ...func(h, c map[string]any)) (access, refresh string) {
	t.Helper()
	rec := do(t, s, http.MethodPost, "/auth/login", `{"username":"demo","password":"demo123"}`,
		"Content-Type", "application/json", "DPoP", k.proof(t, http.MethodPost, testHost+"/auth/login", "", edits...))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	m := jsonBody(t, rec)
	assert.Equal(t, "DPoP", m["token_type"])
	access, _ = m["access"].(string)
	refresh, _ = m["refresh"].(string)
	require.NotEmpty(t, access)
	require.NotEmpty(t, refresh)
	return access, refresh
}

// dpopMe calls /api/me with the DPoP scheme and a proof made by k.
func dpopMe(t *testing.T, s *Server, k *dpopKey, access string, edits ...func(h, c map[string]any)) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, s, http.MethodGet, "/api/me", "",
		"Authorization", "DPoP "+access, "DPoP", k.proof(t, http.MethodGet, testHost+"/api/me", access, edits...))
}

// dpopRefresh refreshes JSON-style with a proof made by k, or none if k is
// nil.
func dpopRefresh(t *testing.T, s *Server, k *dpopKey, refresh string, edits ...func(h, c map[string]any)) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(map[string]string{"refresh": refresh})
	require.NoError(t, err)
	hdr := []string{"Content-Type", "application/json"}
	if k != nil {
		hdr = append(hdr, "DPoP", k.proof(t, http.MethodPost, testHost+"/auth/refresh", "", edits...))
	}
	return do(t, s, http.MethodPost, "/auth/refresh", string(body), hdr...)
}

// TestDPoPRFC9449Example checks the verifier against the example proof of
// RFC 9449 section 4.1, made by another implementation, and its key's
// thumbprint against the jkt of the example in section 6.1.
func TestDPoPRFC9449Example(t *testing.T) {
	const proof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik" +
		"VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5Ij" +
		"oiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU" +
		"2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc" +
		"2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-Fd" +
		"WP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
	s := New(Config{Now: func() time.Time { return time.Unix(1562262616, 0) }})
	r := httptest.NewRequest(http.MethodPost, "https://server.example.com/token", nil)
	r.TLS = &tls.ConnectionState{}
	r.Header.Set("DPoP", proof)
	p, err := s.parseProof(r, "")
	require.NoError(t, err)
	assert.Equal(t, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", p.jkt)
	assert.Equal(t, "-BwC3ESc6acc2lTc", p.jti)

	r.TLS = nil // the proof was made for https
	_, err = s.parseProof(r, "")
	assert.EqualError(t, err, "dpop: invalid_dpop_proof: htu")
}

func TestDPoPLoginBindsTokens(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now})
	k := newDPoPKey(t, clk.Now)
	access, refresh := dpopLogin(t, s, k)
	jkt := k.thumbprint(t)
	assert.Equal(t, map[string]any{"jkt": jkt}, payload(t, access)["cnf"])

	rec := dpopMe(t, s, k, access)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "demo", jsonBody(t, rec)["user"])
	assert.Empty(t, rec.Header().Get("DPoP-Nonce"), "no nonce outside nonce mode")

	rec = dpopRefresh(t, s, k, refresh)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	m := jsonBody(t, rec)
	assert.Equal(t, "DPoP", m["token_type"])
	assert.Equal(t, map[string]any{"jkt": jkt}, payload(t, m["access"].(string))["cnf"], "refreshed tokens stay bound")

	// A form refresh answers the OAuth 2 token_type.
	rec = do(t, s, http.MethodPost, "/auth/refresh", "grant_type=refresh_token&refresh_token="+m["refresh"].(string),
		"Content-Type", "application/x-www-form-urlencoded",
		"DPoP", k.proof(t, http.MethodPost, testHost+"/auth/refresh", ""))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "DPoP", jsonBody(t, rec)["token_type"])

	c := s.Counters()
	assert.EqualValues(t, 4, c.DPoPProofs)
	assert.Zero(t, c.DPoPRejected)
	assert.Equal(t, []string{jkt}, s.DPoPKeys())
	assert.Empty(t, s.DPoPRejections())
}

// TestLoginWithoutDPoPUnchanged checks that logins and refreshes without a
// proof answer what they did before DPoP, and that their tokens have no cnf.
func TestLoginWithoutDPoPUnchanged(t *testing.T) {
	s := New(Config{})
	rec := do(t, s, http.MethodPost, "/auth/login", `{"username":"demo","password":"demo123"}`)
	require.Equal(t, http.StatusOK, rec.Code)
	m := jsonBody(t, rec)
	assert.ElementsMatch(t, []string{"access", "refresh", "expires_in"}, keys(m))
	assert.NotContains(t, payload(t, m["access"].(string)), "cnf")
	rec = refreshJSON(t, s, m["refresh"].(string))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.ElementsMatch(t, []string{"access", "refresh", "expires_in"}, keys(jsonBody(t, rec)))
	assert.Zero(t, s.Counters().DPoPProofs)
}

func TestDPoPManyRequests(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now})
	k := newDPoPKey(t, clk.Now)
	access, _ := dpopLogin(t, s, k)
	const n = 25
	for i := range n {
		rec := dpopMe(t, s, k, access)
		require.Equal(t, http.StatusOK, rec.Code, "request %d: %s", i, rec.Body.String())
		clk.Advance(100 * time.Millisecond)
	}
	c := s.Counters()
	assert.EqualValues(t, n+1, c.DPoPProofs)
	assert.Zero(t, c.DPoPRejected)
	assert.Zero(t, c.Unauthorized)
	assert.EqualValues(t, n, c.APICalls)

	// Two tabs, one key: a second login with the key is the same key.
	dpopLogin(t, s, k)
	assert.Equal(t, []string{k.thumbprint(t)}, s.DPoPKeys())
	other := newDPoPKey(t, clk.Now)
	dpopLogin(t, s, other)
	assert.Equal(t, []string{k.thumbprint(t), other.thumbprint(t)}, s.DPoPKeys(), "in order first seen")
}

func TestDPoPResourceRejections(t *testing.T) {
	clk := newFakeClock()
	k := newDPoPKey(t, clk.Now)
	other := newDPoPKey(t, clk.Now)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	me := testHost + "/api/me"

	tests := []struct {
		name      string
		hdr       func(access, unbound string) []string // headers of the refused request
		code      string
		reason    string
		replayed  bool // hdr is sent twice: accepted, then refused
		noCounter bool // not counted as a rejection
	}{
		{
			name: "tampered signature", code: "invalid_dpop_proof", reason: "signature",
			hdr: func(access, _ string) []string {
				parts := strings.Split(k.proof(t, http.MethodGet, me, access), ".")
				forged := k.proof(t, http.MethodGet, me, access, func(_, c map[string]any) { c["jti"] = "forged" })
				parts[1] = strings.Split(forged, ".")[1] // other claims, old signature
				return []string{"Authorization", "DPoP " + access, "DPoP", strings.Join(parts, ".")}
			},
		},
		{
			name: "replayed jti", code: "invalid_dpop_proof", reason: "jti replayed", replayed: true,
			hdr: func() func(access, _ string) []string {
				var proof string
				return func(access, _ string) []string {
					if proof == "" {
						proof = k.proof(t, http.MethodGet, me, access)
					}
					return []string{"Authorization", "DPoP " + access, "DPoP", proof}
				}
			}(),
		},
		{
			name: "wrong htu", code: "invalid_dpop_proof", reason: "htu",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, testHost+"/api/echo", access)}
			},
		},
		{
			name: "wrong htu host", code: "invalid_dpop_proof", reason: "htu",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, "http://example.org/api/me", access)}
			},
		},
		{
			name: "wrong htm", code: "invalid_dpop_proof", reason: "htm",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodPost, me, access)}
			},
		},
		{
			name: "wrong ath", code: "invalid_dpop_proof", reason: "ath",
			hdr: func(access, unbound string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, unbound)}
			},
		},
		{
			name: "no ath", code: "invalid_dpop_proof", reason: "ath",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, "")}
			},
		},
		{
			name: "other key", code: "invalid_dpop_proof", reason: "key mismatch",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", other.proof(t, http.MethodGet, me, access)}
			},
		},
		{
			name: "iat too old", code: "invalid_dpop_proof", reason: "iat",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, access,
					func(_, c map[string]any) { c["iat"] = clk.Now().Add(-61 * time.Second).Unix() })}
			},
		},
		{
			name: "iat in the future", code: "invalid_dpop_proof", reason: "iat",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, access,
					func(_, c map[string]any) { c["iat"] = clk.Now().Add(11 * time.Second).Unix() })}
			},
		},
		{
			name: "no iat", code: "invalid_dpop_proof", reason: "iat",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, access,
					func(_, c map[string]any) { delete(c, "iat") })}
			},
		},
		{
			name: "no jti", code: "invalid_dpop_proof", reason: "jti",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, access,
					func(_, c map[string]any) { delete(c, "jti") })}
			},
		},
		{
			name: "typ jwt", code: "invalid_dpop_proof", reason: "typ",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, access,
					func(h, _ map[string]any) { h["typ"] = "JWT" })}
			},
		},
		{
			name: "jwk with d", code: "invalid_dpop_proof", reason: "jwk",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, access,
					func(h, _ map[string]any) {
						h["jwk"].(map[string]any)["d"] = base64.RawURLEncoding.EncodeToString(k.priv.D.FillBytes(make([]byte, 32)))
					})}
			},
		},
		{
			name: "jwk off the curve", code: "invalid_dpop_proof", reason: "jwk",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, access,
					func(h, _ map[string]any) {
						jwk := h["jwk"].(map[string]any)
						jwk["y"] = jwk["x"]
					})}
			},
		},
		{
			name: "jwk of P-384", code: "invalid_dpop_proof", reason: "jwk",
			hdr: func(access, _ string) []string {
				b, err := p384.PublicKey.Bytes()
				require.NoError(t, err)
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, access,
					func(h, _ map[string]any) {
						h["jwk"] = map[string]any{"kty": "EC", "crv": "P-384",
							"x": base64.RawURLEncoding.EncodeToString(b[1:49]), "y": base64.RawURLEncoding.EncodeToString(b[49:])}
					})}
			},
		},
		{
			name: "no jwk", code: "invalid_dpop_proof", reason: "jwk",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", k.proof(t, http.MethodGet, me, access,
					func(h, _ map[string]any) { delete(h, "jwk") })}
			},
		},
		{
			name: "alg HS256", code: "invalid_dpop_proof", reason: "alg",
			hdr: func(access, _ string) []string {
				x, y := k.xy(t)
				tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
					"jti": "j", "htm": "GET", "htu": me, "iat": clk.Now().Unix(), "ath": accessTokenHash(access),
				})
				tok.Header["typ"] = "dpop+jwt"
				tok.Header["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": x, "y": y}
				proof, err := tok.SignedString([]byte("secret"))
				require.NoError(t, err)
				return []string{"Authorization", "DPoP " + access, "DPoP", proof}
			},
		},
		{
			name: "malformed", code: "invalid_dpop_proof", reason: "malformed",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access, "DPoP", "not-a-jwt"}
			},
		},
		{
			name: "two proofs", code: "invalid_dpop_proof", reason: "multiple",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access,
					"DPoP", k.proof(t, http.MethodGet, me, access), "DPoP", k.proof(t, http.MethodGet, me, access)}
			},
		},
		{
			name: "missing proof", code: "invalid_dpop_proof", reason: "missing",
			hdr: func(access, _ string) []string { return []string{"Authorization", "DPoP " + access} },
		},
		{
			name: "bound token as Bearer", code: "invalid_token", reason: "bearer scheme",
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "Bearer " + access, "DPoP", k.proof(t, http.MethodGet, me, access)}
			},
		},
		{
			name: "bound token as Bearer without proof", code: "invalid_token", reason: "bearer scheme",
			hdr: func(access, _ string) []string { return []string{"Authorization", "Bearer " + access} },
		},
		{
			name: "unbound token as DPoP", code: "invalid_token", reason: "not bound",
			hdr: func(_, unbound string) []string {
				return []string{"Authorization", "DPoP " + unbound, "DPoP", k.proof(t, http.MethodGet, me, unbound)}
			},
		},
		{
			name: "bad token as DPoP", code: "invalid_token", noCounter: true,
			hdr: func(access, _ string) []string {
				return []string{"Authorization", "DPoP " + access + "x", "DPoP", k.proof(t, http.MethodGet, me, access+"x")}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{Now: clk.Now})
			access, _ := dpopLogin(t, s, k)
			unbound, _ := login(t, s)
			s.ResetCounters()
			if tt.replayed {
				require.Equal(t, http.StatusOK, do(t, s, http.MethodGet, "/api/me", "", tt.hdr(access, unbound)...).Code)
				s.ResetCounters()
			}

			rec := do(t, s, http.MethodGet, "/api/me", "", tt.hdr(access, unbound)...)
			require.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
			assert.Equal(t, tt.code, jsonBody(t, rec)["error"])
			want := `DPoP error="` + tt.code + `", error_description="` + tt.reason + `", algs="ES256"`
			if tt.reason == "" {
				want = `DPoP error="` + tt.code + `", algs="ES256"`
			}
			assert.Equal(t, want, rec.Header().Get("WWW-Authenticate"))
			assert.NotContains(t, rec.Header().Get("WWW-Authenticate"), access)

			c := s.Counters()
			assert.EqualValues(t, 1, c.Unauthorized)
			assert.Zero(t, c.APICalls)
			assert.Zero(t, c.DPoPProofs)
			if tt.noCounter {
				assert.Zero(t, c.DPoPRejected)
				assert.Empty(t, s.DPoPRejections())
			} else {
				assert.EqualValues(t, 1, c.DPoPRejected)
				assert.Equal(t, map[string]int64{tt.reason: 1}, s.DPoPRejections())
			}

			// The session is not harmed: a good request still works.
			require.Equal(t, http.StatusOK, dpopMe(t, s, k, access).Code)
		})
	}
}

// TestBearerUnchangedByDPoP checks that unbound tokens sent as Bearer work
// as before, a DPoP header beside them being ignored.
func TestBearerUnchangedByDPoP(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now, DPoPNonce: true})
	access, _ := login(t, s)
	k := newDPoPKey(t, clk.Now)
	assert.Equal(t, http.StatusOK, me(t, s, access).Code)
	rec := do(t, s, http.MethodGet, "/api/me", "", "Authorization", "Bearer "+access, "DPoP", "garbage")
	assert.Equal(t, http.StatusOK, rec.Code)
	rec = do(t, s, http.MethodGet, "/api/me", "", "Authorization", "Bearer "+access,
		"DPoP", k.proof(t, http.MethodGet, testHost+"/api/me", access))
	assert.Equal(t, http.StatusOK, rec.Code)
	rec = me(t, s, "bad")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
	assert.Empty(t, rec.Header().Get("DPoP-Nonce"), "no proof, no nonce")
	c := s.Counters()
	assert.Zero(t, c.DPoPProofs+c.DPoPRejected+c.DPoPNonceChallenges)
}

func TestDPoPLoginRejections(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now})
	k := newDPoPKey(t, clk.Now)
	for _, tt := range []struct {
		name, proof, reason string
	}{
		{"wrong htu", k.proof(t, http.MethodPost, testHost+"/auth/refresh", ""), "htu"},
		{"typ", k.proof(t, http.MethodPost, testHost+"/auth/login", "", func(h, _ map[string]any) { h["typ"] = "jwt" }), "typ"},
		{"garbage", "x.y.z", "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.ResetCounters()
			rec := do(t, s, http.MethodPost, "/auth/login", `{"username":"demo","password":"demo123"}`, "DPoP", tt.proof)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			assert.Equal(t, map[string]any{"error": "invalid_dpop_proof"}, jsonBody(t, rec))
			assert.Equal(t, map[string]int64{tt.reason: 1}, s.DPoPRejections())
			assert.Zero(t, s.Counters().Logins)
		})
	}
}

func TestDPoPRefreshBound(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now})
	k := newDPoPKey(t, clk.Now)
	thief := newDPoPKey(t, clk.Now)
	_, refresh := dpopLogin(t, s, k)

	for _, tt := range []struct {
		name   string
		key    *dpopKey
		edit   func(h, c map[string]any)
		reason string
	}{
		{"other key", thief, nil, "key mismatch"},
		{"no proof", nil, nil, "missing"},
		{"wrong htu", k, func(_, c map[string]any) { c["htu"] = testHost + "/auth/login" }, "htu"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.ResetCounters()
			var edits []func(h, c map[string]any)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			rec := dpopRefresh(t, s, tt.key, refresh, edits...)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			assert.Equal(t, map[string]any{"error": "invalid_dpop_proof"}, jsonBody(t, rec))
			c := s.Counters()
			assert.EqualValues(t, 1, c.RefreshFailures)
			assert.Zero(t, c.Refreshes)
			assert.Equal(t, map[string]int64{tt.reason: 1}, s.DPoPRejections())
		})
	}

	// The refused attempts did not use the token: its owner refreshes.
	rec := dpopRefresh(t, s, k, refresh)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	m := jsonBody(t, rec)
	newRefresh, access := m["refresh"].(string), m["access"].(string)

	// The thief replays the used token with their key: refused for the key,
	// which sets off no reuse detection, so the session lives on.
	s.ResetCounters()
	rec = dpopRefresh(t, s, thief, refresh)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, "invalid_dpop_proof", jsonBody(t, rec)["error"])
	assert.Zero(t, s.Counters().ReuseDetections)
	require.Equal(t, http.StatusOK, dpopMe(t, s, k, access).Code)
	rec = dpopRefresh(t, s, k, newRefresh)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	access = jsonBody(t, rec)["access"].(string)

	// The key's owner presenting a used token is reuse, as before.
	rec = dpopRefresh(t, s, k, refresh)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "invalid_grant", jsonBody(t, rec)["error"])
	assert.EqualValues(t, 1, s.Counters().ReuseDetections)
	assert.Equal(t, http.StatusUnauthorized, dpopMe(t, s, k, access).Code)
}

// TestDPoPRefreshBindsUnboundSession checks that a session begun without
// DPoP is bound by its first refresh with a proof.
func TestDPoPRefreshBindsUnboundSession(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now})
	k := newDPoPKey(t, clk.Now)
	_, refresh := login(t, s)
	rec := dpopRefresh(t, s, k, refresh)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	m := jsonBody(t, rec)
	assert.Equal(t, "DPoP", m["token_type"])
	assert.Equal(t, map[string]any{"jkt": k.thumbprint(t)}, payload(t, m["access"].(string))["cnf"])
	rec = dpopRefresh(t, s, nil, m["refresh"].(string))
	assert.Equal(t, http.StatusBadRequest, rec.Code, "now the session needs the key")
}

func TestDPoPCookieRefresh(t *testing.T) {
	b := newBrowser(t, Config{}, false)
	k := newDPoPKey(t, time.Now)
	thief := newDPoPKey(t, time.Now)
	url := b.ts.URL + "/auth/"
	a := b.post("/auth/login", `{"username":"demo","password":"demo123","mode":"cookie"}`,
		"DPoP", k.proof(t, http.MethodPost, url+"login", ""))
	require.Equal(t, http.StatusOK, a.status, a.raw)
	assert.Equal(t, "DPoP", a.body["token_type"])
	assert.NotContains(t, a.body, "refresh")
	cookie := b.cookie("/auth/refresh", RefreshCookie)

	hdr := append(b.xsrf(), "DPoP", thief.proof(t, http.MethodPost, url+"refresh", ""))
	a = b.post("/auth/refresh", `{}`, hdr...)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, "invalid_dpop_proof", a.body["error"])
	assert.Empty(t, a.set, "a refused refresh leaves the cookies alone")
	a = b.post("/auth/refresh", `{}`, b.xsrf()...)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, cookie, b.cookie("/auth/refresh", RefreshCookie))

	hdr = append(b.xsrf(), "DPoP", k.proof(t, http.MethodPost, url+"refresh", ""))
	a = b.post("/auth/refresh", `{}`, hdr...)
	require.Equal(t, http.StatusOK, a.status, a.raw)
	assert.Equal(t, "DPoP", a.body["token_type"])
	assert.NotEqual(t, cookie, b.cookie("/auth/refresh", RefreshCookie))
	assert.EqualValues(t, 1, b.s.Counters().CookieRefreshes)
	assert.Equal(t, map[string]int64{"key mismatch": 1, "missing": 1}, b.s.DPoPRejections())
}

func TestDPoPNonce(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now, DPoPNonce: true})
	k := newDPoPKey(t, clk.Now)
	loginBody := `{"username":"demo","password":"demo123"}`
	loginProof := func(edits ...func(h, c map[string]any)) string {
		return k.proof(t, http.MethodPost, testHost+"/auth/login", "", edits...)
	}

	// Login: 400 use_dpop_nonce with the nonce, then the retry succeeds.
	rec := do(t, s, http.MethodPost, "/auth/login", loginBody, "DPoP", loginProof())
	require.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, map[string]any{"error": "use_dpop_nonce"}, jsonBody(t, rec))
	nonce := rec.Header().Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	access, refresh := dpopLogin(t, s, k, withNonce(nonce))

	// Resource: 401 use_dpop_nonce, then 200; every answer has the nonce.
	rec = dpopMe(t, s, k, access)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="ES256"`,
		rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, "use_dpop_nonce", jsonBody(t, rec)["error"])
	assert.Equal(t, nonce, rec.Header().Get("DPoP-Nonce"))
	rec = dpopMe(t, s, k, access, withNonce(nonce))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, nonce, rec.Header().Get("DPoP-Nonce"))

	// Refresh: 400 use_dpop_nonce without using the token, then 200.
	rec = dpopRefresh(t, s, k, refresh)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, map[string]any{"error": "use_dpop_nonce"}, jsonBody(t, rec))
	assert.Equal(t, nonce, rec.Header().Get("DPoP-Nonce"))
	rec = dpopRefresh(t, s, k, refresh, withNonce(nonce))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	c := s.Counters()
	assert.EqualValues(t, 3, c.DPoPNonceChallenges)
	assert.EqualValues(t, 3, c.DPoPProofs)
	assert.Zero(t, c.DPoPRejected, "nonce challenges are not rejections")
	assert.EqualValues(t, 1, c.RefreshFailures)
	assert.EqualValues(t, 1, c.Unauthorized)

	// After a rotation the previous nonce is still good, the one before not;
	// a made-up one never.
	s.RotateDPoPNonce()
	assert.Equal(t, http.StatusOK, dpopMe(t, s, k, access, withNonce(nonce)).Code)
	rec = dpopMe(t, s, k, access, withNonce("made-up"))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	next := rec.Header().Get("DPoP-Nonce")
	require.NotEqual(t, nonce, next)
	s.RotateDPoPNonce()
	assert.Equal(t, http.StatusOK, dpopMe(t, s, k, access, withNonce(next)).Code)
	assert.Equal(t, http.StatusUnauthorized, dpopMe(t, s, k, access, withNonce(nonce)).Code)

	// A proof that is bad for another reason is refused for that reason.
	s.ResetCounters()
	rec = dpopMe(t, s, k, access, func(_, c map[string]any) { c["htm"] = "PUT" })
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_dpop_proof", error_description="htm"`)
	assert.NotEmpty(t, rec.Header().Get("DPoP-Nonce"))

	s.SetDPoPNonce(false)
	rec = dpopMe(t, s, k, access)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Header().Get("DPoP-Nonce"))
}

func TestDebugDPoPNonce(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Debug: true, Now: clk.Now})
	k := newDPoPKey(t, clk.Now)
	publicEcho := func() string {
		rec := do(t, s, http.MethodGet, "/public/echo", "", "DPoP", k.proof(t, http.MethodGet, testHost+"/public/echo", ""))
		require.Equal(t, http.StatusOK, rec.Code)
		return rec.Header().Get("DPoP-Nonce")
	}
	assert.Empty(t, publicEcho())
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/dpop-nonce?on=1", "").Code)
	nonce := publicEcho()
	assert.NotEmpty(t, nonce, "every answer to a request with a proof has the nonce")
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/dpop-nonce?on=1&rotate=1", "").Code)
	assert.NotEqual(t, nonce, publicEcho())
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/dpop-nonce?on=0", "").Code)
	assert.Empty(t, publicEcho())

	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/dpop-nonce?on=true", "").Code)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/reset", "").Code)
	assert.Empty(t, publicEcho(), "reset restores the configured mode")

	for _, tt := range []struct {
		path, want string
	}{
		{"/debug/dpop-nonce", "invalid_on"},
		{"/debug/dpop-nonce?on=maybe", "invalid_on"},
		{"/debug/dpop-nonce?on=1&rotate=2", "invalid_rotate"},
	} {
		rec := do(t, s, http.MethodPost, tt.path, "")
		assert.Equal(t, http.StatusBadRequest, rec.Code, tt.path)
		assert.Equal(t, tt.want, jsonBody(t, rec)["error"], tt.path)
	}
	assert.Equal(t, http.StatusMethodNotAllowed, do(t, s, http.MethodGet, "/debug/dpop-nonce?on=1", "").Code)
	assert.Equal(t, http.StatusNotFound, do(t, New(Config{}), http.MethodPost, "/debug/dpop-nonce?on=1", "").Code)

	// A server started in nonce mode returns to it on reset.
	s = New(Config{Debug: true, Now: clk.Now, DPoPNonce: true})
	s.SetDPoPNonce(false)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/reset", "").Code)
	assert.NotEmpty(t, publicEcho())
}

func TestDPoPCounters(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Debug: true, Now: clk.Now})
	k := newDPoPKey(t, clk.Now)
	access, _ := dpopLogin(t, s, k)
	require.Equal(t, http.StatusUnauthorized, do(t, s, http.MethodGet, "/api/me", "", "Authorization", "DPoP "+access).Code)

	rec := do(t, s, http.MethodGet, "/debug/counters", "")
	assert.JSONEq(t, `{"logins":1,"refreshes":0,"refreshFailures":0,"refreshRequests":0,"reuseDetections":0,
		"unauthorized":1,"logouts":0,"apiCalls":0,"dpopProofs":1,"dpopRejected":1}`, rec.Body.String())

	s.ResetCounters()
	assert.Zero(t, s.Counters())
	assert.Empty(t, s.DPoPRejections())
	assert.Empty(t, s.DPoPKeys())

	dpopMe(t, s, k, access)
	do(t, s, http.MethodGet, "/api/me", "", "Authorization", "DPoP "+access)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/reset", "").Code)
	assert.Zero(t, s.Counters())
	assert.Empty(t, s.DPoPRejections())
	assert.Empty(t, s.DPoPKeys())
}

// TestDPoPReplayCachePruned checks that the replay cache forgets proofs
// once they are too old to be accepted anyway.
func TestDPoPReplayCachePruned(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now, AccessTTL: time.Hour})
	k := newDPoPKey(t, clk.Now)
	access, _ := dpopLogin(t, s, k)
	proof := k.proof(t, http.MethodGet, testHost+"/api/me", access)
	send := func() *httptest.ResponseRecorder {
		return do(t, s, http.MethodGet, "/api/me", "", "Authorization", "DPoP "+access, "DPoP", proof)
	}
	require.Equal(t, http.StatusOK, send().Code)
	clk.Advance(dpopMaxAge)
	assert.Contains(t, send().Header().Get("WWW-Authenticate"), `"jti replayed"`, "still remembered at the edge of the window")
	clk.Advance(time.Second)
	assert.Contains(t, send().Header().Get("WWW-Authenticate"), `"iat"`, "then too old")
	clk.Advance(dpopPruneEvery) // the cache is pruned this often
	require.Equal(t, http.StatusOK, dpopMe(t, s, k, access).Code)
	s.mu.Lock()
	n := len(s.dpop.seen)
	s.mu.Unlock()
	assert.Equal(t, 1, n, "only the last proof is remembered")
}

// TestDPoPConcurrentReplay checks that of one proof sent many times at
// once exactly one is accepted.
func TestDPoPConcurrentReplay(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now})
	k := newDPoPKey(t, clk.Now)
	access, _ := dpopLogin(t, s, k)
	proof := k.proof(t, http.MethodGet, testHost+"/api/me", access)
	const n = 20
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			req.Header.Set("Authorization", "DPoP "+access)
			req.Header.Set("DPoP", proof)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			codes <- rec.Code
		})
	}
	wg.Wait()
	close(codes)
	ok := 0
	for code := range codes {
		if code == http.StatusOK {
			ok++
		}
	}
	assert.Equal(t, 1, ok)
	assert.Equal(t, map[string]int64{"jti replayed": n - 1}, s.DPoPRejections())
}

func TestHTUMatches(t *testing.T) {
	tests := []struct {
		target string // the request's URL
		tls    bool
		htu    string
		want   bool
	}{
		{"http://127.0.0.1:41234/api/me?x=1", false, "http://127.0.0.1:41234/api/me", true},
		{"http://127.0.0.1:41234/api/me", false, "http://127.0.0.1:41234/api/me?x=1#f", true},
		{"http://Example.COM/api/me", false, "HTTP://example.com:80/api/me", true},
		{"http://example.com:80/api/me", false, "http://example.com/api/me", true},
		{"http://example.com/", false, "http://example.com", true},
		{"http://example.com/a%7Eb", false, "http://example.com/a~b", true},
		{"http://[::1]:80/api/me", false, "http://[::1]/api/me", true},
		{"https://example.com/api/me", true, "https://example.com:443/api/me", true},
		{"https://example.com/api/me", true, "http://example.com/api/me", false},
		{"http://example.com/api/me", false, "https://example.com/api/me", false},
		{"http://example.com:8080/api/me", false, "http://example.com/api/me", false},
		{"http://localhost/api/me", false, "http://127.0.0.1/api/me", false},
		{"http://example.com/api/me", false, "http://example.com/api/me/", false},
		{"http://example.com/api/me", false, "/api/me", false},
		{"http://example.com/api/me", false, "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, tt.target, nil)
		if !tt.tls {
			r.TLS = nil
		}
		if got := htuMatches(tt.htu, r); got != tt.want {
			t.Errorf("htuMatches(%q) for %s = %v; want %v", tt.htu, tt.target, got, tt.want)
		}
	}
}

func TestDPoPCORS(t *testing.T) {
	s := New(Config{DPoPNonce: true})
	rec := do(t, s, http.MethodOptions, "/api/me", "",
		"Origin", "http://localhost:5173",
		"Access-Control-Request-Method", "GET",
		"Access-Control-Request-Headers", "authorization,dpop")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "authorization,dpop", rec.Header().Get("Access-Control-Allow-Headers"))

	rec = do(t, s, http.MethodGet, "/public/text", "", "Origin", "http://localhost:5173", "DPoP", "x")
	assert.Contains(t, strings.Split(rec.Header().Get("Access-Control-Expose-Headers"), ", "), "DPoP-Nonce")
	assert.NotEmpty(t, rec.Header().Get("DPoP-Nonce"))
}

func TestEchoReportsDPoP(t *testing.T) {
	s := New(Config{})
	rec := do(t, s, http.MethodGet, "/public/echo", "", "DPoP", "proof-text")
	m := jsonBody(t, rec)
	assert.Equal(t, true, m["dpop"])
	assert.NotContains(t, rec.Body.String(), "proof-text", "the proof is not echoed")
	m = jsonBody(t, do(t, s, http.MethodGet, "/public/echo", ""))
	assert.NotContains(t, m, "dpop")
}

func TestDPoPLogoutWithDPoPScheme(t *testing.T) {
	clk := newFakeClock()
	s := New(Config{Now: clk.Now})
	k := newDPoPKey(t, clk.Now)
	access, refresh := dpopLogin(t, s, k)
	rec := do(t, s, http.MethodPost, "/auth/logout", "", "Authorization", "DPoP "+access)
	require.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, http.StatusUnauthorized, dpopMe(t, s, k, access).Code)
	assert.Equal(t, http.StatusUnauthorized, dpopRefresh(t, s, k, refresh).Code)
}

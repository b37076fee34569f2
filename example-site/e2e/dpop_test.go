//go:build !js

package e2e

// DPoP (API.md, "DPoP: auth.dpop: true"; RFC 9449) in Chromium against the
// demo server's verifier (authserver/dpop.go). The pages record every
// request the instance sends, headers included, with a wrapper installed
// as window.fetch before the module is imported (the module sends with the
// fetch it finds then, the wasm's refresh included); the tests decode the
// recorded proofs in Go, send stolen or altered ones from Go, and read what
// the server accepted and refused (Counters, DPoPRejections, DPoPKeys).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtfetch/jwtfetch/example-site/authserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dpopInstance is the create() config of DPoP against the demo server.
const dpopInstance = `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', dpop: true } }`

// wireJS replaces window.fetch with a wrapper that records every request
// in window.wire: its URL, method, DPoP and Authorization headers, and the
// answer's status, DPoP-Nonce and WWW-Authenticate. It must run before the
// module is imported.
const wireJS = `(() => {
	window.wire = []
	const pageFetch = window.fetch
	window.fetch = function fetch(input, init) {
		const req = input instanceof Request ? input : null
		const headers = new Headers(init?.headers ?? req?.headers)
		const e = {
			url: new URL(req ? req.url : String(input), location.href).href,
			method: String(init?.method ?? req?.method ?? 'GET'),
			dpop: headers.get('dpop'),
			authorization: headers.get('authorization'),
			status: 0,
		}
		wire.push(e)
		const p = pageFetch.call(globalThis, input, init)
		p.then((r) => {
			e.status = r.status
			e.nonce = r.headers.get('dpop-nonce')
			e.www = r.headers.get('www-authenticate')
		}, (err) => { e.error = String(err?.name) })
		return p
	}
	return true
})()`

// wireEntry is one request window.wire recorded.
type wireEntry struct {
	URL           string `json:"url"`
	Method        string `json:"method"`
	DPoP          string `json:"dpop"`
	Authorization string `json:"authorization"`
	Status        int    `json:"status"`
	Nonce         string `json:"nonce"`
	WWW           string `json:"www"`
	Error         string `json:"error"`
}

// openDPoP opens origin's blank page, installs the wire recorder and
// creates window.api from config, counting onExpired calls in
// window.expiredCalls.
func (tb *tab) openDPoP(origin, config string) {
	tb.t.Helper()
	tb.open(origin + "/blank.html")
	tb.eval(wireJS, nil)
	tb.eval(`(async () => {
		window.m = await import('/jsglue/jwtfetch.js')
		window.expiredCalls = 0
		const config = `+config+`
		config.auth = { ...config.auth, onExpired: () => { window.expiredCalls++ } }
		window.api = m.create(config)
		await api.ready
		return true
	})()`, nil)
}

// loginAnswer is the demo server's login answer.
type loginAnswer struct {
	Access    string `json:"access"`
	Refresh   string `json:"refresh"`
	TokenType string `json:"token_type"`
}

// dpopLogin logs in through window.api (skipAuth: the login carries a
// proof, so the session is bound to the page's key) and hands the tokens
// to it.
func (tb *tab) dpopLogin() loginAnswer {
	tb.t.Helper()
	var got loginAnswer
	tb.eval(`api.post('/auth/login', { username: 'demo', password: 'demo123' }, { skipAuth: true })
		.then(r => { api.auth.setTokens({ accessToken: r.data.access, refreshToken: r.data.refresh }); return r.data })`, &got)
	require.Equal(tb.t, "DPoP", got.TokenType, "the login was made with a proof, so its tokens are bound")
	return got
}

// wire returns the requests the wire recorder saw whose URL starts with
// prefix, in order.
func (tb *tab) wire(prefix string) []wireEntry {
	tb.t.Helper()
	var all []wireEntry
	tb.eval(`window.wire`, &all)
	var out []wireEntry
	for _, e := range all {
		if strings.HasPrefix(e.URL, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// resetWire forgets what the wire recorder saw so far.
func (tb *tab) resetWire() {
	tb.t.Helper()
	tb.eval(`(window.wire.length = 0, true)`, nil)
}

// statuses lists the statuses of recorded requests.
func statuses(entries []wireEntry) []int {
	out := make([]int, len(entries))
	for i, e := range entries {
		out[i] = e.Status
	}
	return out
}

// dpopProof is a decoded DPoP proof.
type dpopProof struct {
	Header struct {
		Typ string         `json:"typ"`
		Alg string         `json:"alg"`
		JWK map[string]any `json:"jwk"`
	}
	Claims struct {
		JTI   string  `json:"jti"`
		HTM   string  `json:"htm"`
		HTU   string  `json:"htu"`
		IAT   float64 `json:"iat"`
		ATH   *string `json:"ath"`
		Nonce *string `json:"nonce"`
	}
	Other map[string]any // every claim, to see unexpected ones
}

// b64 is base64url without padding, as JOSE writes it.
var b64 = base64.RawURLEncoding

// decodeProof decodes a proof's header and claims (not its signature: the
// server checks that).
func decodeProof(t *testing.T, proof string) dpopProof {
	t.Helper()
	parts := strings.Split(proof, ".")
	require.Len(t, parts, 3, "a proof is a JWS in compact form: %q", proof)
	var p dpopProof
	for i, dst := range []any{&p.Header, &p.Claims, &p.Other} {
		raw, err := b64.DecodeString(parts[min(i, 1)])
		require.NoError(t, err, "base64url of part %d of %q", min(i, 1), proof)
		require.NoError(t, json.Unmarshal(raw, dst), "JSON of part %d: %s", min(i, 1), raw)
	}
	return p
}

// thumbprint is the RFC 7638 thumbprint of a P-256 public JWK.
func thumbprint(jwk map[string]any) string {
	x, _ := jwk["x"].(string)
	y, _ := jwk["y"].(string)
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return b64.EncodeToString(sum[:])
}

// athOf is a proof's ath for token: base64url of its SHA-256.
func athOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return b64.EncodeToString(sum[:])
}

// accessJKT reads the cnf.jkt claim of a demo access token.
func accessJKT(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := b64.DecodeString(parts[1])
	require.NoError(t, err)
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	require.NoError(t, json.Unmarshal(raw, &c))
	return c.Cnf.JKT
}

// htuOf is what a proof's htu must be for u: u without query and fragment.
func htuOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	require.NoError(t, err)
	p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = "", false, "", ""
	return p.String()
}

// goProof is a proof made in Go with key (a thief's key) for a request of
// method to u carrying token ("" for none), with correct claims.
func goProof(t *testing.T, key *ecdsa.PrivateKey, method, u, token string) string {
	t.Helper()
	pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
	require.NoError(t, err)
	claims := jwt.MapClaims{"jti": rand.Text(), "htm": method, "htu": u, "iat": time.Now().Unix()}
	if token != "" {
		claims["ath"] = athOf(token)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["typ"] = "dpop+jwt"
	tok.Header["jwk"] = map[string]string{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(pub[1:33]), "y": b64.EncodeToString(pub[33:])}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// thiefKey is a P-256 key that is not the browser's.
func thiefKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// dpopSend sends a request from Go with the given Authorization and DPoP
// headers ("" for none) and JSON body ("" for none).
func dpopSend(t *testing.T, method, u, authz, proof, body string) (status int, h http.Header, text string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// checkProof checks a recorded request's proof: form, key (thumbprint
// jkt), htm, htu, iat, and ath for the token it carried (none without a
// token). It returns the proof.
func checkProof(t *testing.T, e wireEntry, jkt string) dpopProof {
	t.Helper()
	require.NotEmpty(t, e.DPoP, "%s %s carries a proof", e.Method, e.URL)
	p := decodeProof(t, e.DPoP)
	what := e.Method + " " + e.URL
	assert.Equal(t, "dpop+jwt", p.Header.Typ, what)
	assert.Equal(t, "ES256", p.Header.Alg, what)
	assert.Equal(t, "EC", p.Header.JWK["kty"], what)
	assert.Equal(t, "P-256", p.Header.JWK["crv"], what)
	assert.NotContains(t, p.Header.JWK, "d", "%s: the proof's JWK holds no private member", what)
	assert.Equal(t, jkt, thumbprint(p.Header.JWK), "%s: signed with the session's key", what)
	assert.NotEmpty(t, p.Claims.JTI, what)
	assert.Equal(t, e.Method, p.Claims.HTM, "%s: htm is the method sent", what)
	assert.Equal(t, htuOf(t, e.URL), p.Claims.HTU, "%s: htu is the URL without query and fragment", what)
	assert.NotContains(t, p.Claims.HTU, "?", what)
	assert.NotContains(t, p.Claims.HTU, "#", what)
	assert.InDelta(t, float64(time.Now().Unix()), p.Claims.IAT, 10, "%s: iat is now", what)
	if token, ok := strings.CutPrefix(e.Authorization, "DPoP "); ok {
		if assert.NotNil(t, p.Claims.ATH, "%s: a proof for a token has ath", what) {
			assert.Equal(t, athOf(token), *p.Claims.ATH, "%s: ath is the SHA-256 of the token sent", what)
		}
	} else {
		assert.Empty(t, e.Authorization, "%s: a token goes with the DPoP scheme", what)
		assert.Nil(t, p.Claims.ATH, "%s: no token, no ath", what)
	}
	return p
}

// TestDPoPProofsOnEveryRequest: every request to the site carries a proof
// of one key, each with its own jti, made for its method and URL (without
// query and fragment) and token; the server accepts them all; skipAuth
// requests carry one without ath; another origin gets neither proof nor
// token.
func TestDPoPProofsOnEveryRequest(t *testing.T) {
	s := newSite(t, time.Minute)
	other := headerEcho(t)
	tb := newTab(t)
	tb.openDPoP(s.URL, dpopInstance)
	login := tb.dpopLogin()

	var got struct {
		Statuses []int
		Public   struct {
			Status        int
			DPoP          bool
			Authorization string
		}
		Other struct {
			Status  int
			Code    string
			Headers map[string]string
		}
	}
	tb.eval(`(async () => {
		const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => api.get('/api/me', { params: { i } }).then(r => r.status)))
		for (let i = 0; i < 9; i++) statuses.push((await api.get('/api/echo?a=1&i=' + i)).status)
		statuses.push((await api.fetch('/api/echo?a=1#f')).status)
		const pub = await api.get('/public/echo?a=1', { skipAuth: true })
		const other = await api.get(`+jsString(other+"/x?a=1")+`)
			.then(r => ({ status: r.status, headers: r.data }), e => ({ code: e.code }))
		return {
			statuses,
			public: { status: pub.status, dpop: pub.data.dpop === true, authorization: pub.data.headers.authorization ?? '' },
			other,
		}
	})()`, &got)
	want := make([]int, 20)
	for i := range want {
		want[i] = 200
	}
	require.Equal(t, want, got.Statuses, "10 concurrent and 10 sequential requests")

	c := s.Counters()
	keys := s.DPoPKeys()
	t.Logf("server: %d proofs accepted, %d refused, %d nonce challenges, keys %d", c.DPoPProofs, c.DPoPRejected, c.DPoPNonceChallenges, len(keys))
	assert.EqualValues(t, 21, c.DPoPProofs, "the login's proof and the 20 requests'")
	assert.Zero(t, c.DPoPRejected, "rejections: %v", s.DPoPRejections())
	assert.Zero(t, c.DPoPNonceChallenges)
	assert.Zero(t, c.Refreshes)
	assert.Zero(t, c.Unauthorized)
	require.Len(t, keys, 1, "one key")
	assert.Equal(t, keys[0], accessJKT(t, login.Access), "the login bound the session to that key")

	sent := tb.wire(s.URL + "/")
	var site []wireEntry
	for _, e := range sent {
		if !strings.HasPrefix(e.URL, s.URL+"/jsglue/") {
			site = append(site, e)
		}
	}
	require.Equal(t, 22, len(site), "the login, 20 requests and the skipAuth one; statuses %v", statuses(site))
	jtis := map[string]string{}
	fragment := false
	for _, e := range site {
		p := checkProof(t, e, keys[0])
		if prev, dup := jtis[p.Claims.JTI]; dup {
			t.Errorf("jti %q of %s %s was used before by %s", p.Claims.JTI, e.Method, e.URL, prev)
		}
		jtis[p.Claims.JTI] = e.URL
		fragment = fragment || strings.HasSuffix(e.URL, "?a=1#f")
		switch path := strings.TrimPrefix(e.URL, s.URL); {
		case strings.HasPrefix(path, "/api/"):
			assert.Equal(t, "DPoP "+login.Access, e.Authorization, path)
		default:
			assert.Empty(t, e.Authorization, "%s carries no token", path)
		}
	}
	assert.Len(t, jtis, 22, "a jti of its own for every proof")
	assert.True(t, fragment, "a request with a query and a fragment was among them")

	assert.Equal(t, 200, got.Public.Status)
	assert.True(t, got.Public.DPoP, "the skipAuth request carried a proof")
	assert.Empty(t, got.Public.Authorization, "and no token")

	require.Empty(t, got.Other.Code, "the request to the other origin succeeds")
	assert.Equal(t, 200, got.Other.Status)
	assert.NotContains(t, got.Other.Headers, "dpop", "no proof to another origin")
	assert.NotContains(t, got.Other.Headers, "authorization", "no token to another origin")
	toOther := tb.wire(other + "/")
	require.Len(t, toOther, 1)
	assert.Empty(t, toOther[0].DPoP)
	assert.Empty(t, toOther[0].Authorization)
	requireNoExceptions(t, tb)
}

// TestDPoPBadProofsRefused: proofs and tokens the browser sent, replayed
// or altered from Go, are refused by the server, each for its reason; the
// browser's session is unharmed.
func TestDPoPBadProofsRefused(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openDPoP(s.URL, dpopInstance)
	a := tb.dpopLogin().Access
	tb.resetWire()
	var st []int
	tb.eval(`Promise.all([api.get('/api/me'), api.post('/api/echo', { n: 1 })]).then(rs => rs.map(r => r.status))`, &st)
	require.Equal(t, []int{200, 200}, st)
	me, echo := tb.wire(s.URL+"/api/me"), tb.wire(s.URL+"/api/echo")
	require.Len(t, me, 1)
	require.Len(t, echo, 1)
	require.Equal(t, "DPoP "+a, me[0].Authorization)
	proofMe, proofEcho := me[0].DPoP, echo[0].DPoP

	var b string
	tb.eval(`api.auth.refresh()`, &b)
	require.NotEqual(t, a, b, "a new access token")

	parts := strings.Split(proofMe, ".")
	sig, err := b64.DecodeString(parts[2])
	require.NoError(t, err)
	sig[len(sig)/2] ^= 0x01
	badSig := parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig)

	s.ResetCounters()
	for _, tt := range []struct {
		name, method, path, authz, proof, code, reason string
	}{
		{"the same proof again", "GET", "/api/me", "DPoP " + a, proofMe, "invalid_dpop_proof", "jti replayed"},
		{"one signature byte changed", "GET", "/api/me", "DPoP " + a, badSig, "invalid_dpop_proof", "signature"},
		{"the proof of /api/me to /api/echo", "GET", "/api/echo", "DPoP " + a, proofMe, "invalid_dpop_proof", "htu"},
		{"the proof of a POST in a PUT", "PUT", "/api/echo", "DPoP " + a, proofEcho, "invalid_dpop_proof", "htm"},
		{"a proof for token A with token B", "GET", "/api/me", "DPoP " + b, proofMe, "invalid_dpop_proof", "ath"},
		{"token B without a proof", "GET", "/api/me", "DPoP " + b, "", "invalid_dpop_proof", "missing"},
		{"token B as a bearer token", "GET", "/api/me", "Bearer " + b, "", "invalid_token", "bearer scheme"},
		{"a proof by another key", "GET", "/api/me", "DPoP " + b, goProof(t, thiefKey(t), "GET", s.URL+"/api/me", b), "invalid_dpop_proof", "key mismatch"},
	} {
		status, h, body := dpopSend(t, tt.method, s.URL+tt.path, tt.authz, tt.proof, "")
		assert.Equal(t, http.StatusUnauthorized, status, "%s: %s", tt.name, body)
		assert.Contains(t, h.Get("WWW-Authenticate"), `DPoP error="`+tt.code+`", error_description="`+tt.reason+`"`, tt.name)
	}
	want := map[string]int64{"jti replayed": 1, "signature": 1, "htu": 1, "htm": 1, "ath": 1, "missing": 1, "bearer scheme": 1, "key mismatch": 1}
	assert.Equal(t, want, s.DPoPRejections(), "each refused for its reason")
	c := s.Counters()
	assert.EqualValues(t, 8, c.DPoPRejected)
	assert.Zero(t, c.DPoPProofs, "no proof accepted")
	assert.Zero(t, c.APICalls, "no request authorized")

	var after int
	tb.eval(`api.get('/api/me').then(r => r.status)`, &after)
	assert.Equal(t, 200, after, "the browser's session goes on")
	assert.EqualValues(t, 0, s.Counters().Refreshes, "without a refresh")
	requireNoExceptions(t, tb)
}

// TestDPoPRefreshBoundToKey: the refresh request carries a proof without
// ath; the refreshed token is bound to the login's key; a stolen refresh
// token is refused with another key's proof or none, and stays good for the
// browser.
func TestDPoPRefreshBoundToKey(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openDPoP(s.URL, dpopInstance)
	login := tb.dpopLogin()
	jkt := accessJKT(t, login.Access)
	require.NotEmpty(t, jkt)
	require.Equal(t, []string{jkt}, s.DPoPKeys())

	tb.resetWire()
	var fresh string
	tb.eval(`api.auth.refresh()`, &fresh)
	refreshes := tb.wire(s.URL + "/auth/refresh")
	require.Len(t, refreshes, 1, "one refresh request")
	r := refreshes[0]
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "POST", r.Method)
	assert.Empty(t, r.Authorization, "the refresh carries no access token")
	p := checkProof(t, r, jkt)
	assert.Nil(t, p.Claims.ATH, "the refresh's proof has no ath")
	assert.NotEqual(t, login.Access, fresh)
	assert.Equal(t, jkt, accessJKT(t, fresh), "the refreshed token is bound to the login's key")

	stolen := tb.stored()
	require.NotNil(t, stolen)
	require.NotEqual(t, login.Refresh, stolen.Refresh, "the refresh token rotated")
	s.ResetCounters()
	body := `{"refresh":"` + stolen.Refresh + `"}`
	for _, proof := range []string{goProof(t, thiefKey(t), "POST", s.URL+"/auth/refresh", ""), ""} {
		status, _, answer := dpopSend(t, "POST", s.URL+"/auth/refresh", "", proof, body)
		assert.Equal(t, http.StatusBadRequest, status, answer)
		assert.JSONEq(t, `{"error":"invalid_dpop_proof"}`, answer)
	}
	assert.Equal(t, map[string]int64{"key mismatch": 1, "missing": 1}, s.DPoPRejections())
	c := s.Counters()
	assert.Zero(t, c.Refreshes, "the thief refreshed nothing")
	assert.Zero(t, c.ReuseDetections, "nor used the token up")

	var next string
	tb.eval(`api.auth.refresh()`, &next)
	assert.NotEqual(t, fresh, next, "the browser still refreshes")
	assert.Equal(t, jkt, accessJKT(t, next))
	var status int
	tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status)
	c = s.Counters()
	assert.EqualValues(t, 1, c.Refreshes)
	assert.Zero(t, c.ReuseDetections)
	assert.EqualValues(t, 2, c.DPoPRejected, "nothing refused but the thief's two")
	requireNoExceptions(t, tb)
}

// nonces returns the nonce claims of recorded proofs ("" for none).
func nonces(t *testing.T, entries []wireEntry) []string {
	t.Helper()
	out := make([]string, len(entries))
	for i, e := range entries {
		if n := decodeProof(t, e.DPoP).Claims.Nonce; n != nil {
			out[i] = *n
		}
	}
	return out
}

// TestDPoPNonceChallenges: in nonce mode the login (400), a resource
// request (401) and the refresh (400) are each answered with exactly one
// more attempt carrying the new nonce; a request challenged for its nonce
// and then refused for its token is refreshed and retried too.
func TestDPoPNonceChallenges(t *testing.T) {
	// revokeAfterChallenge, when set, makes the next nonce challenge of
	// /api/me revoke the access tokens before its answer leaves: the retry
	// with the nonce then meets a revoked token.
	var revokeAfterChallenge atomic.Bool
	var s *site
	s = newSiteFrom(t, authserver.Config{AccessTTL: time.Minute, DPoPNonce: true}, map[string]http.Handler{
		"GET /api/me": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.ServeHTTP(w, r)
			if strings.Contains(w.Header().Get("WWW-Authenticate"), "use_dpop_nonce") && revokeAfterChallenge.CompareAndSwap(true, false) {
				s.RevokeAccessTokens()
			}
		}),
	})
	tb := newTab(t)
	tb.openDPoP(s.URL, dpopInstance)
	tb.dpopLogin()
	logins := tb.wire(s.URL + "/auth/login")
	require.Equal(t, []int{400, 200}, statuses(logins), "the login: a nonce challenge, then one more attempt")
	require.NotEmpty(t, logins[0].Nonce)
	assert.Equal(t, []string{"", logins[0].Nonce}, nonces(t, logins), "the retry carries the nonce the challenge gave")
	c := s.Counters()
	assert.EqualValues(t, 1, c.DPoPNonceChallenges)
	assert.EqualValues(t, 1, c.Logins)

	get := func() int {
		t.Helper()
		var status int
		tb.eval(`api.get('/api/me').then(r => r.status, e => e.response?.status ?? 0)`, &status)
		return status
	}
	// Two rotations: the nonce the page has is neither current nor
	// previous.
	rotate := func() {
		s.RotateDPoPNonce()
		s.RotateDPoPNonce()
		tb.resetWire()
	}

	rotate()
	require.Equal(t, 200, get())
	me := tb.wire(s.URL + "/api/me")
	require.Equal(t, []int{401, 200}, statuses(me), "a resource: a nonce challenge, then one more attempt")
	assert.Contains(t, me[0].WWW, `DPoP error="use_dpop_nonce"`)
	assert.Equal(t, me[0].Nonce, nonces(t, me)[1])
	assert.NotEqual(t, decodeProof(t, me[0].DPoP).Claims.JTI, decodeProof(t, me[1].DPoP).Claims.JTI, "a new proof")
	assert.Empty(t, tb.wire(s.URL+"/auth/refresh"), "a nonce challenge is no reason to refresh")
	assert.EqualValues(t, 2, s.Counters().DPoPNonceChallenges)

	rotate()
	tb.eval(`api.auth.refresh().then(() => true)`, nil)
	refreshes := tb.wire(s.URL + "/auth/refresh")
	require.Equal(t, []int{400, 200}, statuses(refreshes), "the refresh: a nonce challenge, then one more attempt")
	assert.Equal(t, refreshes[0].Nonce, nonces(t, refreshes)[1])
	c = s.Counters()
	assert.EqualValues(t, 3, c.DPoPNonceChallenges)
	assert.EqualValues(t, 1, c.Refreshes)

	// A revoked token and a new nonce at once: the server checks the token
	// first, and its 401 invalid_token brings the current nonce, which the
	// page keeps; so the refresh and the retry carry it and no challenge
	// comes.
	rotate()
	s.RevokeAccessTokens()
	require.Equal(t, 200, get())
	me, refreshes = tb.wire(s.URL+"/api/me"), tb.wire(s.URL+"/auth/refresh")
	t.Logf("revoked token and new nonce: /api/me %v, refresh %v", statuses(me), statuses(refreshes))
	require.Equal(t, []int{401, 200}, statuses(me))
	assert.Contains(t, me[0].WWW, `DPoP error="invalid_token"`)
	assert.Equal(t, []int{200}, statuses(refreshes))
	assert.Equal(t, []string{me[0].Nonce}, nonces(t, refreshes), "the refresh carries the nonce of the 401")
	c = s.Counters()
	assert.EqualValues(t, 3, c.DPoPNonceChallenges)
	assert.EqualValues(t, 2, c.Refreshes)

	// A nonce challenge, then a revoked token: one request makes its
	// nonce retry and still has its refresh-and-retry.
	rotate()
	revokeAfterChallenge.Store(true)
	require.Equal(t, 200, get())
	me, refreshes = tb.wire(s.URL+"/api/me"), tb.wire(s.URL+"/auth/refresh")
	t.Logf("nonce challenge then revoked token: /api/me %v, refresh %v", statuses(me), statuses(refreshes))
	require.Equal(t, []int{401, 401, 200}, statuses(me), "nonce retry, then refresh and retry")
	assert.Contains(t, me[0].WWW, `DPoP error="use_dpop_nonce"`)
	assert.Contains(t, me[1].WWW, `DPoP error="invalid_token"`)
	assert.Equal(t, []int{200}, statuses(refreshes))
	c = s.Counters()
	assert.EqualValues(t, 4, c.DPoPNonceChallenges)
	assert.EqualValues(t, 3, c.Refreshes)
	assert.Zero(t, c.DPoPRejected, "rejections: %v", s.DPoPRejections())
	assert.EqualValues(t, 1, c.RefreshFailures, "the one refresh failure is the refresh's nonce challenge")
	requireNoExceptions(t, tb)
}

// TestDPoPNonceChallengeForever: a server that answers every attempt with
// a new nonce challenge gets a bounded number of attempts, and the request
// settles with its 401.
func TestDPoPNonceChallengeForever(t *testing.T) {
	var attempts, n atomic.Int64
	forever := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Set("Access-Control-Allow-Headers", "Authorization, DPoP, Content-Type, Accept")
		h.Set("Access-Control-Expose-Headers", "DPoP-Nonce, WWW-Authenticate")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		attempts.Add(1)
		h.Set("DPoP-Nonce", fmt.Sprintf("nonce-%d", n.Add(1)))
		h.Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="always", algs="ES256"`)
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"use_dpop_nonce"}`)
	}))
	t.Cleanup(forever.Close)
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openDPoP(s.URL, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', dpop: true, origins: [location.origin, `+jsString(forever.URL)+`] } }`)
	login := tb.dpopLogin()
	s.ResetCounters()
	tb.resetWire()

	var got struct {
		Status, Ms float64
	}
	call := `(async () => {
		const t0 = performance.now()
		const r = await api.fetch(` + jsString(forever.URL+"/x") + `%s)
		return { status: r.status, ms: performance.now() - t0 }
	})()`
	tb.eval(fmt.Sprintf(call, ""), &got)
	sent := tb.wire(forever.URL + "/")
	t.Logf("with a token: %d attempts (%v), %d refreshes, %.0f ms", attempts.Load(), statuses(sent), s.Counters().Refreshes, got.Ms)
	assert.EqualValues(t, 401, got.Status, "the request settles with the 401")
	assert.Less(t, got.Ms, 3000.0)
	// The first attempt is challenged and sent once more with the nonce;
	// that one is challenged too, and as a 401 it uses the request's
	// refresh-and-retry; the third attempt's answer is final.
	assert.EqualValues(t, 3, attempts.Load(), "attempts")
	assert.EqualValues(t, 1, s.Counters().Refreshes, "the 401 after the nonce retry refreshes once")
	require.Len(t, sent, 3)
	assert.Equal(t, []string{"", "nonce-1", "nonce-2"}, nonces(t, sent), "each attempt carries the newest nonce")
	assert.Equal(t, "DPoP "+login.Access, sent[0].Authorization)
	assert.Equal(t, "DPoP "+login.Access, sent[1].Authorization)
	assert.NotEqual(t, "DPoP "+login.Access, sent[2].Authorization, "the last attempt carries the refreshed token")
	refresh := tb.wire(s.URL + "/auth/refresh")
	require.Len(t, refresh, 1)
	assert.Equal(t, []string{""}, nonces(t, refresh), "nonces are kept by origin: none for the site, which gave none")

	attempts.Store(0)
	tb.eval(fmt.Sprintf(call, ", { skipAuth: true }"), &got)
	t.Logf("skipAuth: %d attempts, %.0f ms", attempts.Load(), got.Ms)
	assert.EqualValues(t, 401, got.Status)
	assert.EqualValues(t, 2, attempts.Load(), "skipAuth: the first attempt and its nonce retry")
	assert.EqualValues(t, 1, s.Counters().Refreshes, "no refresh without a token")
	requireNoExceptions(t, tb)
}

// idbDPoPRecordJS resolves with the stored DPoP key record of storage key
// 'jwtfetch' described (its CryptoKeys' properties, whether the private key
// can be exported, the public key's JWK x and y), or null when there is none.
// It never creates the database.
const idbDPoPRecordJS = `(async () => {
	if (!(await indexedDB.databases()).some(d => d.name === 'jwtfetch')) return null
	const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error) })
	const db = await req(indexedDB.open('jwtfetch'))
	let v
	try {
		if (!db.objectStoreNames.contains('sessions')) return null
		v = await req(db.transaction('sessions', 'readonly').objectStore('sessions').get('jwtfetch:dpop'))
	} finally {
		db.close()
	}
	if (v === undefined) return null
	const describe = (k) => k instanceof CryptoKey
		? { cryptoKey: true, type: k.type, extractable: k.extractable, name: k.algorithm.name, curve: k.algorithm.namedCurve, usages: [...k.usages] }
		: { cryptoKey: false }
	const exports = {}
	for (const format of ['jwk', 'pkcs8']) {
		exports[format] = await crypto.subtle.exportKey(format, v.privateKey).then(() => 'exported', e => e.name)
	}
	const jwk = await crypto.subtle.exportKey('jwk', v.publicKey)
	return { fields: Object.keys(v).sort(), private: describe(v.privateKey), public: describe(v.publicKey), exports, x: jwk.x, y: jwk.y }
})()`

// dpopRecord is what idbDPoPRecordJS describes.
type dpopRecord struct {
	Fields          []string
	Private, Public struct {
		CryptoKey   bool
		Type        string
		Extractable bool
		Name, Curve string
		Usages      []string
	}
	Exports map[string]string
	X, Y    string
}

// jkt is the thumbprint of the record's public key.
func (r *dpopRecord) jkt() string { return thumbprint(map[string]any{"x": r.X, "y": r.Y}) }

// storedDPoPKey reads the stored key record, nil when there is none.
func (tb *tab) storedDPoPKey() *dpopRecord {
	tb.t.Helper()
	var r *dpopRecord
	tb.eval(idbDPoPRecordJS, &r)
	return r
}

// scanSecretsJS walks everything a script of the page can read
// (localStorage, sessionStorage, every IndexedDB database and store, with
// JSON strings parsed) and resolves with what it found there, one line per
// CryptoKey and per record, and with what must not be there: a member
// named d (a JWK's private key), a private key that can be exported, or
// bytes (raw key material).
const scanSecretsJS = `(async () => {
	const found = [], bad = []
	const walk = (where, v, depth) => {
		if (depth > 30) return
		if (v instanceof CryptoKey) {
			found.push(where + ': CryptoKey ' + v.type + ' ' + v.algorithm.name + (v.extractable ? ' extractable' : ''))
			if (v.type !== 'public' && v.extractable) bad.push(where + ': a ' + v.type + ' key that can be exported')
			return
		}
		if (typeof v === 'string') {
			let parsed
			try { parsed = JSON.parse(v) } catch { return }
			if (parsed !== null && typeof parsed === 'object') walk(where + ' (JSON)', parsed, depth + 1)
			return
		}
		if (v instanceof ArrayBuffer || ArrayBuffer.isView(v) || v instanceof Blob) {
			bad.push(where + ': bytes')
			return
		}
		if (v === null || typeof v !== 'object') return
		for (const [k, x] of Object.entries(v)) {
			if (k === 'd') bad.push(where + '.d: a private JWK member')
			walk(where + '.' + k, x, depth + 1)
		}
	}
	for (const [name, s] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]]) {
		for (let i = 0; i < s.length; i++) {
			found.push(name + ' ' + s.key(i))
			walk(name + '[' + s.key(i) + ']', s.getItem(s.key(i)), 0)
		}
	}
	const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error) })
	for (const { name } of await indexedDB.databases()) {
		const db = await req(indexedDB.open(name))
		for (const store of db.objectStoreNames) {
			const st = db.transaction(store, 'readonly').objectStore(store)
			const [keys, values] = await Promise.all([req(st.getAllKeys()), req(st.getAll())])
			keys.forEach((k, i) => {
				found.push('indexedDB ' + name + '/' + store + ' ' + String(k))
				walk('indexedDB ' + name + '/' + store + '[' + String(k) + ']', values[i], 0)
			})
		}
		db.close()
	}
	return { found, bad }
})()`

// TestDPoPKeyNotExtractable: the stored private key is a CryptoKey no
// script can export, and no private key material is readable anywhere.
func TestDPoPKeyNotExtractable(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openDPoP(s.URL, dpopInstance)
	tb.dpopLogin()
	var status int
	tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
	require.Equal(t, 200, status)

	r := tb.storedDPoPKey()
	require.NotNil(t, r, "the key is stored in IndexedDB jwtfetch/sessions under jwtfetch:dpop")
	assert.Equal(t, []string{"privateKey", "publicKey"}, r.Fields)
	assert.True(t, r.Private.CryptoKey, "privateKey is a CryptoKey")
	assert.Equal(t, "private", r.Private.Type)
	assert.False(t, r.Private.Extractable, "privateKey.extractable")
	assert.Equal(t, "ECDSA", r.Private.Name)
	assert.Equal(t, "P-256", r.Private.Curve)
	assert.Equal(t, []string{"sign"}, r.Private.Usages)
	assert.True(t, r.Public.CryptoKey)
	assert.Equal(t, "public", r.Public.Type)
	assert.Equal(t, map[string]string{"jwk": "InvalidAccessError", "pkcs8": "InvalidAccessError"}, r.Exports, "exportKey rejects")
	assert.Equal(t, s.DPoPKeys(), []string{r.jkt()}, "the stored key is the one the server saw")

	var scan struct{ Found, Bad []string }
	tb.eval(scanSecretsJS, &scan)
	t.Logf("readable: %q", scan.Found)
	assert.Empty(t, scan.Bad, "private key material readable by scripts")
	assert.Contains(t, scan.Found, "indexedDB jwtfetch/sessions jwtfetch:dpop", "the scan saw the key record")
	assert.Contains(t, scan.Found, "indexedDB jwtfetch/sessions[jwtfetch:dpop].privateKey: CryptoKey private ECDSA", "the scan looked into it")
	requireNoExceptions(t, tb)
}

// TestDPoPBadOption: auth.dpop must be a boolean, and needs WebCrypto.
func TestDPoPBadOption(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	var got []string
	tb.eval(`(async () => {
		const m = await import('/jsglue/jwtfetch.js')
		return ['yes', 1, 'true', {}].map((dpop) => {
			try {
				m.create({ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', dpop } })
				return 'created'
			} catch (e) {
				return e.name + ' ' + e.code
			}
		})
	})()`, &got)
	assert.Equal(t, []string{"JwtFetchError ERR_BAD_OPTION_VALUE", "JwtFetchError ERR_BAD_OPTION_VALUE",
		"JwtFetchError ERR_BAD_OPTION_VALUE", "JwtFetchError ERR_BAD_OPTION_VALUE"}, got, "create() throws")

	noCrypto := newTab(t)
	noCrypto.open(s.URL + "/blank.html")
	var res struct {
		Code, Message string
		Plain         int
	}
	noCrypto.eval(`(async () => {
		Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined, configurable: true })
		const m = await import('/jsglue/jwtfetch.js')
		const res = {}
		try {
			m.create({ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', dpop: true } })
			res.code = 'created'
		} catch (e) {
			res.code = e.code
			res.message = e.message
		}
		const plain = m.create({ baseURL: location.origin, auth: { refreshURL: '/auth/refresh' } })
		res.plain = (await plain.get('/public/echo')).status
		return res
	})()`, &res)
	assert.Equal(t, "ERR_BAD_OPTION_VALUE", res.Code, "create() without WebCrypto")
	assert.Contains(t, res.Message, "https")
	assert.Contains(t, res.Message, "localhost")
	assert.Equal(t, 200, res.Plain, "without dpop the same page works")
}

// TestDPoPMethodAsSent: a proof's htm is the method that goes on the wire:
// fetch sends "patch" as written (it upper-cases only DELETE, GET, HEAD,
// OPTIONS, POST and PUT), and the server, which compares htm with the
// request's method exactly, as RFC 9449 section 4.3 has it (methods are
// case-sensitive, RFC 9110 section 9.1), accepts it.
func TestDPoPMethodAsSent(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openDPoP(s.URL, dpopInstance)
	tb.dpopLogin()
	tb.resetWire()
	var got []struct {
		Status int
		Method string
	}
	tb.eval(`(async () => {
		const out = []
		for (const method of ['patch', 'post', 'Delete']) {
			const r = await api.fetch('/api/echo', { method, body: method === 'Delete' ? undefined : 'x' })
			out.push({ status: r.status, method: (await r.json()).method })
		}
		const r = await api.patch('/api/echo', { n: 1 })
		out.push({ status: r.status, method: r.data.method })
		return out
	})()`, &got)
	sent := tb.wire(s.URL + "/api/echo")
	require.Equal(t, 4, len(sent), "requests sent, with statuses %v", statuses(sent))
	require.Len(t, got, 4)
	for i, want := range []string{"patch", "POST", "DELETE", "PATCH"} {
		assert.Equal(t, 200, got[i].Status, want)
		assert.Equal(t, want, got[i].Method, "the method the server got")
		assert.Equal(t, want, decodeProof(t, sent[i].DPoP).Claims.HTM, "htm")
	}
	assert.Zero(t, s.Counters().DPoPRejected, "rejections: %v", s.DPoPRejections())
	requireNoExceptions(t, tb)
}

package session

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"

	jwtv5 "github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var b64 = base64.RawURLEncoding

func TestSum256MatchesCryptoSHA256(t *testing.T) {
	buf := make([]byte, 300)
	_, _ = rand.Read(buf)
	// Every length around the block and padding boundaries.
	for n := range len(buf) {
		want := sha256.Sum256(buf[:n])
		require.Equal(t, want[:], sum256(buf[:n]), "length %d", n)
	}
	want := sha256.Sum256([]byte("abc"))
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hexOf(sum256([]byte("abc"))))
	assert.Equal(t, want[:], sum256([]byte("abc")))
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestEncodeBase64URL(t *testing.T) {
	buf := make([]byte, 70)
	_, _ = rand.Read(buf)
	for n := range len(buf) {
		require.Equal(t, b64.EncodeToString(buf[:n]), EncodeBase64URL(buf[:n]), "length %d", n)
		back, ok := decodeBase64URL(EncodeBase64URL(buf[:n]))
		require.True(t, ok)
		require.Equal(t, buf[:n], back)
	}
}

// testKey is a P-256 key made in Go, standing in for the browser's.
type testKey struct {
	priv   *ecdsa.PrivateKey
	header string
}

func newTestKey(t *testing.T) testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	x, y := make([]byte, 32), make([]byte, 32)
	priv.X.FillBytes(x)
	priv.Y.FillBytes(y)
	return testKey{priv: priv, header: DPoPHeader(b64.EncodeToString(x), b64.EncodeToString(y))}
}

// sign completes a signing input into a proof, as the bridge does with
// WebCrypto: ES256, r||s.
func (k testKey) sign(t *testing.T, input string) string {
	t.Helper()
	h := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, h[:])
	require.NoError(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig)
}

// parseProof verifies proof as a server does, with golang-jwt and the key
// in its own header, and returns its header and claims.
func parseProof(t *testing.T, proof string) (map[string]any, jwtv5.MapClaims) {
	t.Helper()
	claims := jwtv5.MapClaims{}
	tok, err := jwtv5.NewParser(jwtv5.WithValidMethods([]string{"ES256"}), jwtv5.WithoutClaimsValidation()).
		ParseWithClaims(proof, claims, func(tok *jwtv5.Token) (any, error) {
			jwk, _ := tok.Header["jwk"].(map[string]any)
			if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
				return nil, errors.New("not a P-256 JWK")
			}
			x, err1 := b64.DecodeString(jwk["x"].(string))
			y, err2 := b64.DecodeString(jwk["y"].(string))
			if err1 != nil || err2 != nil {
				return nil, errors.New("bad coordinates")
			}
			return &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil
		})
	require.NoError(t, err)
	return tok.Header, claims
}

func TestDPoPProofIsAValidJWS(t *testing.T) {
	clock := newClock()
	k := newTestKey(t)
	d := NewDPoP(clock, "0f1e2d3c-4b5a-4978-8697-a5b4c3d2e1f0")
	const token = "header.payload.signature"
	input, nonce := d.Input(k.header, "POST", "https://api.example/v1/items?page=2#top", token)
	assert.Empty(t, nonce)
	header, claims := parseProof(t, k.sign(t, input))

	assert.Equal(t, "dpop+jwt", header["typ"])
	assert.Equal(t, "ES256", header["alg"])
	jwk := header["jwk"].(map[string]any)
	assert.NotContains(t, jwk, "d", "the public key only")
	assert.Len(t, jwk, 4, "kty, crv, x, y")

	assert.Equal(t, "POST", claims["htm"])
	assert.Equal(t, "https://api.example/v1/items", claims["htu"], "no query, no fragment")
	assert.EqualValues(t, clock.Now()/1000, claims["iat"], "whole seconds")
	ath := sha256.Sum256([]byte(token))
	assert.Equal(t, b64.EncodeToString(ath[:]), claims["ath"])
	assert.NotContains(t, claims, "nonce")
	assert.Equal(t, "0f1e2d3c-4b5a-4978-8697-a5b4c3d2e1f0.1", claims["jti"], "the instance's random prefix, a counter")
	assert.Len(t, claims, 5)
}

func TestDPoPProofWithoutToken(t *testing.T) {
	d := NewDPoP(newClock(), "prefix-1")
	k := newTestKey(t)
	input, _ := d.Input(k.header, "GET", "https://api.example/login", "")
	_, claims := parseProof(t, k.sign(t, input))
	assert.NotContains(t, claims, "ath", "no token, no ath")
	assert.Equal(t, "https://api.example/login", claims["htu"])
}

func TestDPoPJTIsAreUnique(t *testing.T) {
	d := NewDPoP(newClock(), "prefix-1")
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 250 {
				input, _ := d.Input("h", "GET", "https://a.example/", "t")
				raw, ok := decodeBase64URL(input[strings.IndexByte(input, '.')+1:])
				require.True(t, ok)
				var c struct{ JTI string }
				require.NoError(t, json.Unmarshal(raw, &c))
				mu.Lock()
				assert.False(t, seen[c.JTI], "jti %q twice", c.JTI)
				seen[c.JTI] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, 2000)
	// Another DPoP (another page) starts from other random bytes.
	other := NewDPoP(newClock(), "prefix-2")
	input, _ := other.Input("h", "GET", "https://a.example/", "")
	assert.NotContains(t, seen, claimsOf(t, input)["jti"])
}

func claimsOf(t *testing.T, input string) map[string]any {
	t.Helper()
	raw, ok := decodeBase64URL(input[strings.IndexByte(input, '.')+1:])
	require.True(t, ok)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestDPoPNoncesByOrigin(t *testing.T) {
	d := NewDPoP(newClock(), "prefix-1")
	assert.True(t, d.Remember("https://a.example/x?y", "n-1"))
	assert.False(t, d.Remember("https://a.example/other", "n-1"), "the same nonce again is no change")
	assert.False(t, d.Remember("https://a.example/", ""), "an absent header keeps the nonce")
	assert.False(t, d.Remember("https://a.example/", "bad nonce"), "a space is not an NQCHAR")
	assert.False(t, d.Remember("https://a.example/", `q"uote`))
	assert.False(t, d.Remember("https://a.example/", strings.Repeat("n", 1025)))

	input, nonce := d.Input("h", "GET", "https://a.example/api", "")
	assert.Equal(t, "n-1", nonce)
	assert.Equal(t, "n-1", claimsOf(t, input)["nonce"])
	input, nonce = d.Input("h", "GET", "https://b.example/api", "")
	assert.Empty(t, nonce, "another origin's nonce is not sent")
	assert.NotContains(t, claimsOf(t, input), "nonce")

	assert.True(t, d.Remember("https://a.example/", "n-2"))
	_, nonce = d.Input("h", "GET", "https://a.example/api", "")
	assert.Equal(t, "n-2", nonce, "the newest nonce")

	d.Forget()
	_, nonce = d.Input("h", "GET", "https://a.example/api", "")
	assert.Empty(t, nonce)

	assert.True(t, d.Remember("https://a.example/", strings.Repeat("n", 1024)), "1024 characters are allowed")
	assert.True(t, d.Remember("https://a.example/", "!~"), "visible ASCII from ! to ~")

	for i := range maxNonces + 10 {
		d.Remember("https://"+strings.Repeat("x", i+1)+".example/", "n")
		assert.LessOrEqual(t, len(d.nonces), maxNonces)
	}
	// Full: a new nonce of an origin already known replaces its own only.
	d.Forget()
	for i := range maxNonces {
		d.Remember("https://"+strings.Repeat("x", i+1)+".example/", "n")
	}
	assert.True(t, d.Remember("https://x.example/", "n-2"))
	assert.Len(t, d.nonces, maxNonces, "nothing forgotten")
}

func TestHTU(t *testing.T) {
	for url, want := range map[string]string{
		"https://a.example/p":          "https://a.example/p",
		"https://a.example/p?q=1#f":    "https://a.example/p",
		"https://a.example/p#f?not-q":  "https://a.example/p",
		"https://a.example/p/?":        "https://a.example/p/",
		"?only-a-query":                "",
		"https://a.example:8443/p;x=1": "https://a.example:8443/p;x=1",
	} {
		assert.Equal(t, want, htu(url), url)
	}
}

func TestNonceChallenge(t *testing.T) {
	tests := []struct {
		h    string
		want bool
	}{
		{`DPoP error="use_dpop_nonce"`, true},
		{`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`, true},
		{`DPoP algs="ES256 PS256", error="use_dpop_nonce"`, true},
		{`Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce"`, true},
		{`dpop ERROR="use_dpop_nonce"`, true},
		{`DPoP error=use_dpop_nonce`, true},
		{`DPoP  error = "use_dpop_nonce"`, true},
		{`Negotiate abc==, DPoP error="use_dpop_nonce"`, true},
		{`DPoP error="invalid_token"`, false},
		{`Bearer error="use_dpop_nonce"`, false},
		{`DPoP error_description="use_dpop_nonce"`, false},
		{`DPoP error="invalid_token", Bearer error="use_dpop_nonce"`, false},
		{`DPoP realm="a, error=\"use_dpop_nonce\""`, false},
		{`DPoP error="use_dpop_nonce_x"`, false},
		{`DPoP error=use_dpop_nonce!`, false}, // '!' is a token character
		{`DPoP error=!use_dpop_nonce`, false},
		{`DPoP`, false},
		{``, false},
		{`"DPoP" error="use_dpop_nonce"`, false},
		// quoted-pairs: an escaped character stands for itself
		{`DPoP error="use_dpop_\nonce"`, true},
		{`DPoP realm="a\\", error="use_dpop_nonce"`, true},
		{`DPoP realm="a\", error=\"use_dpop_nonce"`, false},
		// cut short: no panic, no challenge
		{`DPoP error=`, false},
		{`DPoP error= `, false},
		{`Basic abc=`, false},
		{`DPoP error="use_dpop_nonce\`, false},
		{`DPoP error="`, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, NonceChallenge(tt.h), "%s", tt.h)
	}
}

func FuzzNonceChallenge(f *testing.F) {
	f.Add(`DPoP error="use_dpop_nonce"`)
	f.Add(`Bearer realm="a\"", DPoP error=use_dpop_nonce`)
	f.Add(`x="`)
	f.Fuzz(func(t *testing.T, h string) {
		if NonceChallenge(h) {
			assert.Contains(t, strings.ToLower(h), "dpop")
			assert.Contains(t, h, "use_dpop_nonce")
		}
	})
}

func TestDPoPChallenged(t *testing.T) {
	const url = "https://api.example/me"
	const www = `DPoP error="use_dpop_nonce"`
	const body = `{"error":"use_dpop_nonce"}`
	tests := []struct {
		name             string
		status           int
		www, nonce, used string
		unreadable       bool
		body             string
		want             bool
	}{
		{"challenge with a new nonce", 401, www, "n-1", "", false, "", true},
		{"the nonce it carried: retrying would not help", 401, www, "n-1", "n-1", false, "", false},
		{"no nonce to retry with", 401, www, "", "", false, "", false},
		{"another error", 401, `DPoP error="invalid_token"`, "n-1", "", false, "", false},
		{"a 401 that is no challenge at all", 401, "", "n-1", "", false, "", false},
		{"a 403", 403, www, "n-1", "", false, body, false},
		{"header hidden by CORS, new nonce", 401, "", "n-2", "n-1", true, "", true},
		{"header hidden by CORS, same nonce", 401, "", "n-1", "n-1", true, "", false},
		{"token endpoint", 400, "", "n-1", "", false, body, true},
		{"token endpoint, same nonce", 400, "", "n-1", "n-1", false, body, false},
		{"token endpoint, other error", 400, "", "n-1", "", false, `{"error":"invalid_grant"}`, false},
		{"token endpoint, not JSON", 400, "", "n-1", "", false, `use_dpop_nonce`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDPoP(newClock(), "prefix-1")
			assert.Equal(t, tt.want, d.Challenged(url, tt.status, tt.www, tt.nonce, tt.used, tt.unreadable, tt.body))
			_, nonce := d.Input("h", "GET", url, "")
			assert.Equal(t, tt.nonce, nonce, "the nonce is remembered whatever the answer")
		})
	}
}

// fakeProver makes proofs "proof-<n>:<nonce>" and keeps nonces in a DPoP.
type fakeProver struct {
	d      *DPoP
	mu     sync.Mutex
	n      int
	proofs []string
	err    error
}

func (p *fakeProver) Prove(_ Ctx, method, url, token string) (string, string, error) {
	if p.err != nil {
		return "", "", p.err
	}
	_, nonce := p.d.Input("h", method, url, token)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	proof := method + " " + url + " #" + string(rune('0'+p.n)) + " nonce=" + nonce
	p.proofs = append(p.proofs, proof)
	return proof, nonce, nil
}

func (p *fakeProver) Remember(url, nonce string) bool { return p.d.Remember(url, nonce) }

// noncePoster answers like a server in nonce mode: 400 use_dpop_nonce with
// its nonce until a proof carries it.
type noncePoster struct {
	nonce  string
	always bool // challenge every request, whatever it carries
	proofs []string
}

func (p *noncePoster) Post(_ Ctx, _, _, _, proof string) (Reply, error) {
	p.proofs = append(p.proofs, proof)
	if p.always || !strings.HasSuffix(proof, "nonce="+p.nonce) {
		return Reply{Status: 400, Body: `{"error":"use_dpop_nonce"}`, Nonce: p.nonce}, nil
	}
	return Reply{Status: 200, Body: `{"access":"a-2","refresh":"r-2"}`, Nonce: p.nonce}, nil
}

func TestHTTPRefresherDPoPNonce(t *testing.T) {
	const endpoint = "https://auth.example/token"
	t.Run("one retry with the new nonce", func(t *testing.T) {
		prover := &fakeProver{d: NewDPoP(newClock(), "prefix-1")}
		poster := &noncePoster{nonce: "n-1"}
		h := &HTTPRefresher{Poster: poster, URL: endpoint, DPoP: prover}
		g, err := h.Refresh(Background, "r-1")
		require.NoError(t, err)
		assert.Equal(t, "a-2", g.Access)
		assert.Equal(t, []string{"POST " + endpoint + " #1 nonce=", "POST " + endpoint + " #2 nonce=n-1"}, poster.proofs,
			"a fresh proof for each attempt, the second with the nonce")
		_, err = h.Refresh(Background, "r-2")
		require.NoError(t, err)
		assert.Len(t, poster.proofs, 3, "the nonce is remembered: no challenge next time")
	})
	t.Run("only once", func(t *testing.T) {
		prover := &fakeProver{d: NewDPoP(newClock(), "prefix-1")}
		poster := &noncePoster{nonce: "n-1", always: true}
		h := &HTTPRefresher{Poster: poster, URL: endpoint, DPoP: prover}
		_, err := h.Refresh(Background, "r-1")
		require.Error(t, err)
		assert.Equal(t, CodeAuthExpired, CodeOf(err), "a 400 is a refusal")
		assert.Len(t, poster.proofs, 2)
	})
	t.Run("no retry without DPoP", func(t *testing.T) {
		poster := &noncePoster{nonce: "n-1"}
		h := &HTTPRefresher{Poster: poster, URL: endpoint}
		_, err := h.Refresh(Background, "r-1")
		require.Error(t, err)
		assert.Equal(t, []string{""}, poster.proofs, "no proof, one request")
	})
	t.Run("no proof, no request", func(t *testing.T) {
		prover := &fakeProver{d: NewDPoP(newClock(), "prefix-1"), err: errors.New("WebCrypto said no")}
		poster := &noncePoster{nonce: "n-1"}
		h := &HTTPRefresher{Poster: poster, URL: endpoint, DPoP: prover}
		_, err := h.Refresh(Background, "r-1")
		require.Error(t, err)
		assert.Equal(t, CodeNetwork, CodeOf(err))
		assert.Equal(t, "jwtfetch: refresh failed: no DPoP proof could be made", err.Error())
		assert.Empty(t, poster.proofs)
	})
}

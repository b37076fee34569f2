//go:build js && wasm

package jsbridge

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"syscall/js"
)

// dpopStubs stands in for the shim's sign and dpopKey: keys are
// {key: 'K<n>', x, y}, each call recorded as [storageKey, renew]; a proof
// is its input, a dot and "sig:" with the key's name.
func dpopStubs(ns js.Value) (calls js.Value) {
	calls = global.Get("Array").New()
	ns.Set("dpopKey", jsFunc("calls", `
		return async (storageKey, renew) => {
			calls.push([storageKey, renew])
			if (globalThis.dpopKeyFails) throw new Error('IndexedDB said: secret-looking text')
			if (globalThis.dpopKeyHangs) return new Promise(() => {})
			return { key: 'K' + calls.length, x: 'x' + calls.length, y: 'y' + calls.length }
		}`).Invoke(calls))
	ns.Set("sign", jsFunc("", `return (key, input) => Promise.resolve(input + '.sig:' + key)`).Invoke())
	return calls
}

// newDPoPClient is newTestClient with auth.dpop and the stubs.
func newDPoPClient(t *testing.T, fetch js.Value, cfg map[string]any) (ns, id, calls js.Value) {
	ns = js.ValueOf(map[string]any{})
	ns.Set("fetch", fetch)
	calls = dpopStubs(ns)
	Install(ns)
	base := map[string]any{
		"origins":    []any{"https://api.test"},
		"refreshURL": "https://api.test/refresh",
		"storage":    "memory",
		"dpop":       true,
	}
	for k, v := range cfg {
		base[k] = v
	}
	r := ns.Call("newClient", base)
	require.True(t, isArray(r), "newClient: %s", errorText(r))
	id = r.Index(0)
	t.Cleanup(func() { ns.Call("destroy", id) })
	return ns, id, calls
}

func errorText(v js.Value) string {
	if v.Type() == js.TypeObject && v.InstanceOf(jsError) {
		return v.Get("message").String()
	}
	return v.Type().String()
}

// proofOf completes an answer of the proof export: [proof, nonce].
func proofOf(t *testing.T, r js.Value) (proof, nonce string) {
	t.Helper()
	if !isArray(r) {
		v, err := await(t, r)
		require.NoError(t, err)
		r = v
	}
	require.True(t, isArray(r))
	p, err := await(t, r.Index(0))
	require.NoError(t, err)
	return p.String(), r.Index(1).String()
}

// proofClaims decodes the claims of a stub proof.
func proofClaims(t *testing.T, proof string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(proof, ".")
	require.Len(t, parts, 3)
	for i, out := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, out))
	}
	return header, claims
}

func TestDPoPProofExport(t *testing.T) {
	before := liveFuncs.Load()
	srv := newFakeServer(t)
	ns, id, calls := newDPoPClient(t, srv.fetch, nil)
	token := jwt(time.Now().Add(time.Hour))
	ns.Call("setTokens", id, token, "r1")

	value := authorize(ns, id, "https://api.test/me")
	header, v, _ := answer(t, value)
	assert.Equal(t, "Authorization", header)
	assert.Equal(t, "DPoP "+token, v, "the DPoP scheme by default")

	assert.True(t, ns.Call("proof", id, "GET", "https://elsewhere.test/x", v).IsNull(), "no proof for an origin not allowed")
	assert.Equal(t, 0, calls.Length(), "no key needed for that")

	first := ns.Call("proof", id, "GET", "https://api.test/items?page=2#top", v)
	assert.False(t, isArray(first), "the key is loaded first: a Promise")
	proof, nonce := proofOf(t, first)
	assert.Empty(t, nonce)
	assert.True(t, strings.HasSuffix(proof, ".sig:K1"), "signed by the shim with the key it gave")
	h, c := proofClaims(t, proof)
	assert.Equal(t, map[string]any{"typ": "dpop+jwt", "alg": "ES256",
		"jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "x1", "y": "y1"}}, h)
	assert.Equal(t, "https://api.test/items", c["htu"])
	assert.Equal(t, "GET", c["htm"])
	sum := sha256.Sum256([]byte(token))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), c["ath"])
	assert.Equal(t, `[[null,false]]`, global.Get("JSON").Call("stringify", calls).String(),
		"memory storage: a key of this instance (no storage key), not renewed")

	second := ns.Call("proof", id, "POST", "https://api.test/items", js.Null())
	assert.True(t, isArray(second), "with the key loaded the answer needs no Go goroutine")
	proof2, _ := proofOf(t, second)
	_, c2 := proofClaims(t, proof2)
	assert.NotContains(t, c2, "ath", "a request without a token (skipAuth)")
	assert.Equal(t, "POST", c2["htm"])
	assert.NotEqual(t, c["jti"], c2["jti"])

	// A nonce challenge: remembered, answered once.
	www := `DPoP error="use_dpop_nonce", error_description="nonce please"`
	assert.True(t, ns.Call("dpopResponse", id, "https://api.test/items", 401, www, "n-1", "", "").Bool())
	assert.False(t, ns.Call("dpopResponse", id, "https://api.test/items", 401, www, "n-1", "n-1", "").Bool(),
		"the nonce the attempt carried: no retry")
	assert.True(t, ns.Call("dpopResponse", id, "https://api.test/login", 400, js.Null(), "n-2", "n-1", `{"error":"use_dpop_nonce"}`).Bool())
	_, nonce = proofOf(t, ns.Call("proof", id, "GET", "https://api.test/x", v))
	assert.Equal(t, "n-2", nonce)

	// clear(): a new key at once, not the stored one.
	ns.Call("clear", id)
	require.Eventually(t, func() bool { return calls.Length() == 2 }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, `[[null,false],[null,true]]`, global.Get("JSON").Call("stringify", calls).String())
	proof3, nonce := proofOf(t, ns.Call("proof", id, "GET", "https://api.test/x", js.Null()))
	assert.True(t, strings.HasSuffix(proof3, ".sig:K2"))
	assert.Empty(t, nonce, "the nonces went with the session")

	ns.Call("destroy", id)
	assert.Eventually(t, func() bool { return liveFuncs.Load() == before }, 2*time.Second, 10*time.Millisecond,
		"no js.Func left behind: %d before, %d now", before, liveFuncs.Load())
}

func TestDPoPKeyOfTheStorageKey(t *testing.T) {
	for _, tt := range []struct {
		storage string
		// after clear(), a proof uses a new key (renewed) or the stored
		// one, read again
		want string
	}{
		{"local", `[["test:dpop-key",false],["test:dpop-key",true]]`},
		// Per-tab sessions share the key: one tab's logout must not
		// unbind the others' tokens.
		{"session", `[["test:dpop-key",false],["test:dpop-key",false]]`},
	} {
		t.Run(tt.storage, func(t *testing.T) {
			srv := newFakeServer(t)
			ns, id, calls := newDPoPClient(t, srv.fetch, map[string]any{"storage": tt.storage, "storageKey": "test:dpop-key", "crossTab": false})
			proofOf(t, ns.Call("proof", id, "GET", "https://api.test/x", js.Null()))
			assert.Equal(t, `[["test:dpop-key",false]]`, global.Get("JSON").Call("stringify", calls).String(),
				"a stored key, shared under the storage key")
			ns.Call("clear", id)
			proofOf(t, ns.Call("proof", id, "GET", "https://api.test/x", js.Null()))
			assert.Equal(t, tt.want, global.Get("JSON").Call("stringify", calls).String())
		})
	}
}

func TestDPoPKeyFailureFailsTheRequestCleanly(t *testing.T) {
	srv := newFakeServer(t)
	ns, id, _ := newDPoPClient(t, srv.fetch, nil)
	global.Set("dpopKeyFails", true)
	defer global.Delete("dpopKeyFails")
	_, err := await(t, ns.Call("proof", id, "GET", "https://api.test/x", js.Null()))
	require.Error(t, err)
	var je *JSError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "ERR_NETWORK", je.Value.Get("code").String())
	msg := je.Value.Get("message").String()
	assert.Equal(t, "jwtfetch: no DPoP proof could be made: the key could not be loaded or made", msg)
	assert.NotContains(t, msg, "secret", "the browser's text stays out")

	global.Delete("dpopKeyFails")
	proof, _ := proofOf(t, ns.Call("proof", id, "GET", "https://api.test/x", js.Null()))
	assert.NotEmpty(t, proof, "the next proof tries again")
}

// A key that never comes (a lock or a database that never answers) fails
// the request at dpopKeyTimeout: nothing stays pending.
func TestDPoPKeyThatNeverComes(t *testing.T) {
	defer func(d session.Duration) { dpopKeyTimeout = d }(dpopKeyTimeout)
	dpopKeyTimeout = 50 * session.Millisecond
	srv := newFakeServer(t)
	ns, id, _ := newDPoPClient(t, srv.fetch, nil)
	global.Set("dpopKeyHangs", true)
	defer global.Delete("dpopKeyHangs")
	start := time.Now()
	_, err := await(t, ns.Call("proof", id, "GET", "https://api.test/x", js.Null()))
	require.Error(t, err)
	var je *JSError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "ERR_NETWORK", je.Value.Get("code").String())
	assert.Less(t, time.Since(start), 2*time.Second)

	global.Delete("dpopKeyHangs")
	proof, _ := proofOf(t, ns.Call("proof", id, "GET", "https://api.test/x", js.Null()))
	assert.NotEmpty(t, proof, "the next proof loads the key again")
}

func TestDPoPRefreshCarriesAProofAndAnswersTheNonce(t *testing.T) {
	seen := global.Get("Array").New()
	fetch := jsFunc("seen", `
		let nonce = ''
		return async (input, init) => {
			const req = new Request(input, init)
			const proof = req.headers.get('dpop')
			seen.push(proof)
			const claims = JSON.parse(atob(proof.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')))
			if (claims.nonce !== 'n-1') {
				return new Response('{"error":"use_dpop_nonce"}', { status: 400, headers: { 'DPoP-Nonce': 'n-1' } })
			}
			return Response.json({ access: 'a2', refresh: 'r2' })
		}`).Invoke(seen)
	ns, id, _ := newDPoPClient(t, fetch, nil)
	ns.Call("setTokens", id, "a1", "r1")
	v, err := await(t, ns.Call("refresh", id))
	require.NoError(t, err)
	assert.Equal(t, "a2", v.String())
	require.Equal(t, 2, seen.Length(), "one retry with the nonce")
	for i := range 2 {
		_, c := proofClaims(t, seen.Index(i).String())
		assert.Equal(t, "POST", c["htm"])
		assert.Equal(t, "https://api.test/refresh", c["htu"])
		assert.NotContains(t, c, "ath", "the refresh carries no access token")
		if i == 1 {
			assert.Equal(t, "n-1", c["nonce"])
		}
	}
}

func TestDPoPNeedsWebCryptoAndTheShim(t *testing.T) {
	ns := js.ValueOf(map[string]any{})
	Install(ns) // no sign, no dpopKey
	r := ns.Call("newClient", map[string]any{"storage": "memory", "dpop": true})
	require.False(t, isArray(r))
	assert.Contains(t, errorText(r), "auth.dpop needs the module's sign and dpopKey")
}

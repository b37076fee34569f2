//go:build !js

package e2e

// DPoP across tabs, browser contexts, logouts and reloads: one key per
// origin and browser profile, shared by its tabs; a session copied into
// another profile is useless there; a logout makes a new key.

import (
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTabInNewBrowserContext is newTab in a browser context of its own, like
// another browser profile or an incognito window: its own localStorage,
// IndexedDB and cookies. The context goes with the test.
func newTabInNewBrowserContext(t *testing.T) *tab {
	t.Helper()
	return newTab(t, chromedp.WithNewBrowserContext())
}

// TestDPoPTabsShareOneKey: two fresh tabs whose first proofs are made at
// the same moment end up with one stored key, which the server sees for
// both; a login in one tab is used by the other without a rejection.
func TestDPoPTabsShareOneKey(t *testing.T) {
	s := newSite(t, time.Minute)
	a, b := newTab(t), newTab(t)
	a.openDPoP(s.URL, dpopInstance)
	b.openDPoP(s.URL, dpopInstance)
	require.Nil(t, a.storedDPoPKey(), "no key before the first proof")

	// Tab A holds the key's Web Lock while both tabs start a login, so
	// both are at their first proof together: two requests for the lock
	// must be waiting before it is let go.
	a.eval(`new Promise((held) => {
		navigator.locks.request('jwtfetch:dpop', () => new Promise((release) => { window.releaseKeyLock = release; held(true) }))
	})`, nil)
	const start = `(window.loginP = api.post('/auth/login', { username: 'demo', password: 'demo123' }, { skipAuth: true }).then(r => r.data), true)`
	var wg sync.WaitGroup
	for _, tb := range []*tab{a, b} {
		wg.Go(func() { tb.eval(start, nil) })
	}
	wg.Wait()
	a.waitTrue(`navigator.locks.query().then(q => q.pending.filter(l => l.name === 'jwtfetch:dpop').length === 2)`,
		"both tabs wait for the key")
	a.eval(`(releaseKeyLock(), true)`, nil)
	var logins [2]loginAnswer
	for i, tb := range []*tab{a, b} {
		wg.Go(func() { tb.eval(`loginP`, &logins[i]) })
	}
	wg.Wait()

	keys := s.DPoPKeys()
	t.Logf("keys seen by the server after the race: %d", len(keys))
	require.Len(t, keys, 1, "one key for both tabs")
	stored := a.storedDPoPKey()
	require.NotNil(t, stored)
	assert.Equal(t, keys[0], stored.jkt(), "the stored key is that key")
	for i, tb := range []*tab{a, b} {
		assert.Equal(t, keys[0], accessJKT(t, logins[i].Access), "tab %d's login is bound to it", i)
		login := tb.wire(s.URL + "/auth/login")
		require.Len(t, login, 1)
		checkProof(t, login[0], keys[0])
	}

	// Tab A's session is tab B's.
	a.eval(`loginP.then(d => { api.auth.setTokens({ accessToken: d.access, refreshToken: d.refresh }); return true })`, nil)
	b.waitTrue(`api.auth.isAuthenticated()`, "tab B sees the login")
	var got [2][]string
	for i, tb := range []*tab{a, b} {
		wg.Go(func() { tb.eval(codes(5, `api.get('/api/me')`), &got[i]) })
	}
	wg.Wait()
	assert.Equal(t, [2][]string{repeat("200", 5), repeat("200", 5)}, got)
	me := b.wire(s.URL + "/api/me")
	require.Len(t, me, 5)
	for _, e := range me {
		assert.Equal(t, "DPoP "+logins[0].Access, e.Authorization, "tab B sends tab A's token")
		checkProof(t, e, keys[0])
	}
	jtis := map[string]bool{}
	for _, tb := range []*tab{a, b} {
		for _, e := range tb.wire(s.URL + "/a") {
			jtis[decodeProof(t, e.DPoP).Claims.JTI] = true
		}
	}
	assert.Len(t, jtis, 12, "the tabs' proofs have a jti each, though they share the key")
	c := s.Counters()
	assert.Zero(t, c.DPoPRejected, "rejections: %v", s.DPoPRejections())
	assert.EqualValues(t, 12, c.DPoPProofs, "2 logins and 10 requests")
	assert.Len(t, s.DPoPKeys(), 1)

	// A logout in tab A makes a new key for every tab: a login in tab B
	// right after it is bound to the key tab A uses too.
	a.eval(`(api.auth.clear(), true)`, nil)
	b.waitTrue(`!api.auth.isAuthenticated()`, "tab B sees the logout")
	b.dpopLogin()
	a.waitTrue(`api.auth.isAuthenticated()`, "tab A sees tab B's login")
	for i, tb := range []*tab{a, b} {
		wg.Go(func() { tb.eval(codes(5, `api.get('/api/me')`), &got[i]) })
	}
	wg.Wait()
	assert.Equal(t, [2][]string{repeat("200", 5), repeat("200", 5)}, got, "both tabs, after the logout and tab B's login")
	keys = s.DPoPKeys()
	require.Len(t, keys, 2, "a second key after the logout")
	stored = a.storedDPoPKey()
	require.NotNil(t, stored)
	assert.Equal(t, keys[1], stored.jkt(), "the stored key is the new one")
	assert.Zero(t, s.Counters().DPoPRejected, "rejections: %v", s.DPoPRejections())
	requireNoExceptions(t, a)
	requireNoExceptions(t, b)
}

// TestDPoPStolenSessionInAnotherBrowserContext: a session copied out of
// localStorage into another browser context, which has a key of its own,
// is refused there, for requests and refresh alike, and ends expired; the
// tab it was taken from keeps working.
func TestDPoPStolenSessionInAnotherBrowserContext(t *testing.T) {
	s := newSite(t, time.Minute)
	a := newTab(t)
	a.openDPoP(s.URL, dpopInstance)
	login := a.dpopLogin()
	jkt := accessJKT(t, login.Access)
	var raw string
	a.eval(`localStorage.getItem('jwtfetch')`, &raw)
	require.Contains(t, raw, login.Refresh, "the session is in localStorage")

	thief := newTabInNewBrowserContext(t)
	thief.open(s.URL + "/blank.html")
	require.Nil(t, thief.storedDPoPKey(), "another context: no key of tab A's")
	thief.eval(`(localStorage.setItem('jwtfetch', `+jsString(raw)+`), true)`, nil)
	thief.openDPoP(s.URL, dpopInstance)
	thief.eval(`(window.expiredEvents = 0, api.auth.on('expired', () => { window.expiredEvents++ }), true)`, nil)
	s.ResetCounters()

	var got struct {
		Before    bool
		Code      string
		Status    int
		After     bool
		OnExpired int
		Expired   int
		Token     *string
		Second    string
	}
	thief.eval(`(async () => {
		const before = api.auth.isAuthenticated()
		const r = await api.get('/api/me').then(r => ({ status: r.status }), e => ({ code: e.code, status: e.response?.status ?? 0 }))
		const after = api.auth.isAuthenticated()
		const second = await api.get('/api/me').then(r => String(r.status), e => e.code + ' ' + (e.response?.status ?? 0))
		return { before, ...r, after, onExpired: window.expiredCalls, expired: window.expiredEvents, token: api.auth.accessToken(), second }
	})()`, &got)
	t.Logf("the thief's request: %+v", got)
	assert.True(t, got.Before, "the copied session was loaded")
	assert.False(t, got.After, "the thief's session ends")
	assert.Equal(t, 1, got.OnExpired, "onExpired once")
	assert.Equal(t, 1, got.Expired, "one expired event")
	assert.Nil(t, got.Token)
	assert.Equal(t, "ERR_AUTH_EXPIRED", got.Code, "the request fails: its refresh was refused")
	assert.Equal(t, "ERR_BAD_REQUEST 401", got.Second, "afterwards it sends no token")

	me, refresh := thief.wire(s.URL+"/api/me"), thief.wire(s.URL+"/auth/refresh")
	require.NotEmpty(t, me)
	require.Len(t, refresh, 1, "one refresh attempt")
	assert.Equal(t, 401, me[0].Status)
	assert.Contains(t, me[0].WWW, `DPoP error="invalid_dpop_proof", error_description="key mismatch"`)
	assert.Equal(t, "DPoP "+login.Access, me[0].Authorization, "the stolen token was sent")
	assert.Equal(t, 400, refresh[0].Status)
	thiefJKT := thumbprint(decodeProof(t, me[0].DPoP).Header.JWK)
	assert.NotEqual(t, jkt, thiefJKT, "the other context signs with its own key")
	checkProof(t, refresh[0], thiefJKT)
	assert.Equal(t, map[string]int64{"key mismatch": 2}, s.DPoPRejections(), "the request and the refresh")
	assert.Zero(t, s.Counters().Refreshes)

	var status int
	a.eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status, "tab A goes on")
	var fresh string
	a.eval(`api.auth.refresh()`, &fresh)
	assert.Equal(t, jkt, accessJKT(t, fresh), "and refreshes with its key")
	c := s.Counters()
	assert.EqualValues(t, 1, c.Refreshes)
	assert.Zero(t, c.ReuseDetections, "the thief used nothing up")
	requireNoExceptions(t, a)
}

// TestDPoPClearMakesNewKey: auth.clear() replaces the stored key at once,
// so the next login is bound to a new one; a reload keeps the key and the
// session. With storage 'memory' no key is stored.
func TestDPoPClearMakesNewKey(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openDPoP(s.URL, dpopInstance)
	first := accessJKT(t, tb.dpopLogin().Access)
	stored := tb.storedDPoPKey()
	require.NotNil(t, stored)
	require.Equal(t, first, stored.jkt())

	tb.eval(`(api.auth.clear(), true)`, nil)
	deadline := time.Now().Add(5 * time.Second)
	for stored = tb.storedDPoPKey(); stored == nil || stored.jkt() == first; stored = tb.storedDPoPKey() {
		if time.Now().After(deadline) {
			t.Fatalf("the stored key was not replaced after auth.clear()")
		}
		time.Sleep(10 * time.Millisecond)
	}
	second := tb.dpopLogin().Access
	assert.Equal(t, stored.jkt(), accessJKT(t, second), "the new login is bound to the new stored key")
	var status int
	tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
	require.Equal(t, 200, status)
	keys := s.DPoPKeys()
	require.Len(t, keys, 2, "two keys")
	assert.Equal(t, []string{first, stored.jkt()}, keys)

	tb.openDPoP(s.URL, dpopInstance) // reload
	tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status, "the session continues after a reload")
	me := tb.wire(s.URL + "/api/me")
	require.Len(t, me, 1)
	assert.Equal(t, "DPoP "+second, me[0].Authorization)
	checkProof(t, me[0], stored.jkt())
	after := tb.storedDPoPKey()
	require.NotNil(t, after)
	assert.Equal(t, stored.jkt(), after.jkt(), "the same key")
	assert.Len(t, s.DPoPKeys(), 2, "no third key")
	assert.Zero(t, s.Counters().DPoPRejected, "rejections: %v", s.DPoPRejections())
	requireNoExceptions(t, tb)

	t.Run("memory", func(t *testing.T) {
		s := newSite(t, time.Minute)
		tb := newTab(t)
		tb.openDPoP(s.URL, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', dpop: true, storage: 'memory' } }`)
		tb.dpopLogin()
		var status int
		tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
		require.Equal(t, 200, status)
		assert.Len(t, s.DPoPKeys(), 1)
		assert.Nil(t, tb.storedDPoPKey(), "no key in IndexedDB")
		var scan struct{ Found, Bad []string }
		tb.eval(scanSecretsJS, &scan)
		t.Logf("readable: %q", scan.Found)
		for _, f := range scan.Found {
			assert.NotContains(t, f, ":dpop", "no DPoP record anywhere")
			assert.NotContains(t, f, "CryptoKey", "no key anywhere")
		}
		assert.Empty(t, scan.Bad)
	})
}

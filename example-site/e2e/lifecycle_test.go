//go:build !js

package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Token lifecycle in the browser: storage kinds, reloads, events, timeouts,
// logout during a refresh, refresh styles and functions.

func TestStorageKinds(t *testing.T) {
	s := newSite(t, time.Minute)
	tests := []struct {
		kind         string
		storage      string // JavaScript expression for auth.storage
		where        string // JavaScript expression reading what was stored
		survivesLoad bool
	}{
		{"local", `'local'`, `localStorage.getItem('k-local')`, true},
		{"session", `'session'`, `sessionStorage.getItem('k-session')`, true},
		{"memory", `'memory'`, `localStorage.getItem('k-memory') ?? sessionStorage.getItem('k-memory')`, false},
		{"object", `(window.box = new Map(), { getItem: k => window.box.get(k) ?? null, setItem: (k, v) => window.box.set(k, v), removeItem: k => window.box.delete(k) })`,
			`window.box.get('k-object') ?? null`, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			tb := newTab(t)
			cfg := fmt.Sprintf(`{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: %s, storageKey: 'k-%s' } }`, tt.storage, tt.kind)
			tb.openInstance(s, cfg)
			tb.login()
			var stored *string
			tb.eval(tt.where, &stored)
			if tt.kind == "memory" {
				assert.Nil(t, stored, "memory storage writes nothing")
			} else {
				require.NotNil(t, stored)
				assert.Contains(t, *stored, `"v":1`)
			}
			assert.Empty(t, tb.storedAt("jwtfetch"), "nothing under the default key")

			tb.openInstance(s, cfg) // reload
			var authed bool
			tb.eval(`api.auth.isAuthenticated()`, &authed)
			assert.Equal(t, tt.survivesLoad, authed, "authenticated after reload")
			if tt.survivesLoad {
				var status int
				tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
				assert.Equal(t, 200, status)
				tb.eval(`(api.auth.clear(), true)`, nil)
				tb.eval(tt.where, &stored)
				assert.Nil(t, stored, "logout removes the entry")
			}
		})
	}
}

// storedAt reads a localStorage entry, "" when there is none.
func (tb *tab) storedAt(key string) string {
	tb.t.Helper()
	var v *string
	tb.eval(fmt.Sprintf(`localStorage.getItem(%q)`, key), &v)
	if v == nil {
		return ""
	}
	return *v
}

func TestCorruptStorageMeansLoggedOut(t *testing.T) {
	s := newSite(t, time.Minute)
	for _, bad := range []string{`not json`, `{"v":2,"access":"a","refresh":"r"}`, `{"v":1}`, `[]`, `{"v":1,"access":7}`} {
		t.Run(bad, func(t *testing.T) {
			tb := newTab(t)
			tb.open(s.URL + "/blank.html")
			tb.eval(fmt.Sprintf(`(localStorage.setItem('jwtfetch', %q), true)`, bad), nil)
			tb.openInstance(s, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh' } }`)
			var got struct {
				Authed bool
				Status int
			}
			tb.eval(`api.get('/public/text').then(r => ({ authed: api.auth.isAuthenticated(), status: r.status }))`, &got)
			assert.False(t, got.Authed)
			assert.Equal(t, 200, got.Status, "the instance works")
			tb.login()
			assert.Contains(t, tb.storedAt("jwtfetch"), `"v":1`, "a login replaces the bad entry")
			_, thrown := tb.logs()
			assert.Empty(t, thrown)
		})
	}
}

func TestReloadRightAfterRefreshContinues(t *testing.T) {
	// Guarantee 6: the rotated refresh token is stored before anyone can
	// need it; a reload right after a refresh goes on with it.
	s := newSite(t, time.Minute)
	tb := newTab(t)
	cfg := `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh' } }`
	tb.openInstance(s, cfg)
	tb.login()
	for round := range 3 {
		s.RevokeAccessTokens()
		tb.eval(`api.get('/api/me').then(r => r.status)`, nil)
		tb.openInstance(s, cfg) // reload at once
		s.RevokeAccessTokens()
		var status int
		tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
		require.Equal(t, 200, status, "round %d", round)
	}
	c := s.Counters()
	assert.EqualValues(t, 6, c.Refreshes)
	assert.Zero(t, c.ReuseDetections)
	assert.Zero(t, c.RefreshFailures)
}

func TestRefreshBeforeExpiry(t *testing.T) {
	// A 2 s token and the default leeway (capped at half the lifetime):
	// after 1.2 s a request refreshes first instead of sending a token about
	// to fail.
	s := newSite(t, 2*time.Second)
	tb := loggedIn(t, s, defaultInstance)
	time.Sleep(1200 * time.Millisecond)
	s.ResetCounters()
	var status int
	tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status)
	c := s.Counters()
	assert.EqualValues(t, 1, c.Refreshes)
	assert.Zero(t, c.Unauthorized, "no doomed request was sent")
}

func TestEvents(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openInstance(s, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory',
		onExpired: () => window.expiredCalls = (window.expiredCalls ?? 0) + 1 } }`)
	// Each listener call is recorded as "name authenticated fromOtherTab".
	tb.eval(`(window.events = [], ['tokens', 'refresh', 'expired'].forEach(e =>
		api.auth.on(e, (n, d) => events.push(n + ' ' + d.authenticated + ' ' + d.fromOtherTab))), true)`, nil)
	tb.login()
	s.RevokeAccessTokens()
	tb.eval(`api.get('/api/me')`, nil)
	var events []string
	tb.eval(`events`, &events)
	assert.Equal(t, []string{"tokens true false", "tokens true false", "refresh true false"}, events, "login, then the refresh")

	s.RevokeAccessTokens()
	s.SetRefreshFailure(401)
	var got struct {
		Codes   []string
		Events  []string
		Expired int
		Authed  bool
	}
	tb.eval(`(async () => {
		events.length = 0
		const codes = await Promise.all(Array.from({length: 5}, () => api.get('/api/me').then(() => 'ok', e => e.code)))
		return { codes, events, expired: window.expiredCalls, authed: api.auth.isAuthenticated() }
	})()`, &got)
	assert.Equal(t, []string{"ERR_AUTH_EXPIRED", "ERR_AUTH_EXPIRED", "ERR_AUTH_EXPIRED", "ERR_AUTH_EXPIRED", "ERR_AUTH_EXPIRED"}, got.Codes)
	assert.Equal(t, []string{"tokens false false", "expired false false"}, got.Events)
	assert.Equal(t, 1, got.Expired, "onExpired called once")
	assert.False(t, got.Authed)

	var n int
	tb.eval(`(() => { let n = 0; const off = api.auth.on('tokens', () => n++); api.auth.setTokens({accessToken: 'x'}); off(); api.auth.clear(); return n })()`, &n)
	assert.Equal(t, 1, n, "unsubscribed listeners are not called")
}

func TestRefreshTimeout(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory', refreshTimeout: 300 } }`)
	s.RevokeAccessTokens()
	s.SetRefreshDelay(5 * time.Second)
	var got struct {
		Codes  []string
		Ms     float64
		Authed bool
	}
	tb.eval(`(async () => {
		const t0 = performance.now()
		const codes = await Promise.all(Array.from({length: 5}, () => api.get('/api/me').then(() => 'ok', e => e.code)))
		return { codes, ms: performance.now() - t0, authed: api.auth.isAuthenticated() }
	})()`, &got)
	assert.Equal(t, []string{"ECONNABORTED", "ECONNABORTED", "ECONNABORTED", "ECONNABORTED", "ECONNABORTED"}, got.Codes)
	assert.Less(t, got.Ms, 3000.0, "settled at the refresh timeout, long before the server answered")
	assert.True(t, got.Authed, "a timeout is not a logout")

	s.SetRefreshDelay(0)
	var status int
	tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status, "the next request refreshes again")
}

func TestRefreshNetworkFailureKeepsSession(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, `{ baseURL: location.origin, auth: { refreshURL: 'http://127.0.0.1:1/refresh', storage: 'memory' } }`)
	s.RevokeAccessTokens()
	var got struct {
		Code   string
		Authed bool
	}
	tb.eval(`api.get('/api/me').then(() => ({code: 'ok'}), e => ({ code: e.code, authed: api.auth.isAuthenticated() }))`, &got)
	assert.Equal(t, "ERR_NETWORK", got.Code)
	assert.True(t, got.Authed, "tokens are kept")
}

// heldRefreshSite is a site whose refresh endpoint /held-refresh holds
// each refresh until the test calls release; arrived receives when one has
// reached the server. So a test can act exactly while a refresh is at the
// server, however slow the machine.
func heldRefreshSite(t *testing.T) (s *site, arrived <-chan struct{}, release func()) {
	t.Helper()
	got, released := make(chan struct{}, 1), make(chan struct{})
	s = newSiteWith(t, time.Minute, map[string]http.Handler{
		"/held-refresh": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case got <- struct{}{}:
			default:
			}
			select {
			case <-released:
			case <-r.Context().Done():
				return
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.RequestURI = "/auth/refresh", ""
			s.ServeHTTP(w, r2)
		}),
	})
	var once sync.Once
	release = func() { once.Do(func() { close(released) }) }
	t.Cleanup(release)
	return s, got, release
}

// waitArrived waits for a held refresh to reach the server.
func waitArrived(t *testing.T, arrived <-chan struct{}) {
	t.Helper()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the refresh never reached the server")
	}
}

func TestLogoutDuringRefreshWins(t *testing.T) {
	// Guarantee 8: a logout while the refresh is at the server wins.
	s, arrived, release := heldRefreshSite(t)
	tb := loggedIn(t, s, `{ baseURL: location.origin, auth: { refreshURL: '/held-refresh' } }`)
	s.RevokeAccessTokens()
	tb.eval(`(window.p = api.get('/api/me').then(() => 'ok', e => e.code), true)`, nil)
	waitArrived(t, arrived)
	tb.eval(`(api.auth.clear(), true)`, nil)
	release()
	var got struct {
		Code   string
		Authed bool
		Stored *string
		IDB    any
	}
	tb.eval(`(async () => {
		const code = await p
		// The refresh has ended once its cross-tab lock is free again: its
		// answer has come and gone.
		await navigator.locks.request('jwtfetch:refresh', () => {})
		const dbs = (await indexedDB.databases()).map(d => d.name)
		let idb = null
		if (dbs.includes('jwtfetch')) {
			idb = await new Promise((resolve, reject) => {
				const open = indexedDB.open('jwtfetch')
				open.onerror = () => reject(open.error)
				open.onsuccess = () => {
					const db = open.result
					if (!db.objectStoreNames.contains('sessions')) return resolve(null)
					const get = db.transaction('sessions').objectStore('sessions').get('jwtfetch')
					get.onerror = () => reject(get.error)
					get.onsuccess = () => resolve(get.result ?? null)
				}
			})
		}
		return { code, authed: api.auth.isAuthenticated(), stored: localStorage.getItem('jwtfetch'), idb }
	})()`, &got)
	assert.Equal(t, "ERR_AUTH_EXPIRED", got.Code)
	assert.False(t, got.Authed)
	assert.Nil(t, got.Stored, "the refreshed tokens were not written to localStorage")
	assert.Nil(t, got.IDB, "nor to IndexedDB")
	assert.EqualValues(t, 1, s.Counters().Refreshes, "the server did refresh")
}

// Requests that wait for a refresh when the instance is destroyed reject
// with ERR_DESTROYED when the refresh ends and are not sent again: after
// destroy() the instance sends nothing.
func TestDestroyDuringRefresh(t *testing.T) {
	s, arrived, release := heldRefreshSite(t)
	tb := loggedIn(t, s, `{ baseURL: location.origin, auth: { refreshURL: '/held-refresh', storage: 'memory' } }`)
	s.RevokeAccessTokens()
	tb.eval(`(window.p = Promise.all([
		api.get('/api/me'),
		api.fetch('/api/me'),
		api.get('/api/me?late'),
	].map(p => p.then(r => 'resolved ' + r.status, e => e.name + ' ' + e.code))), true)`, nil)
	waitArrived(t, arrived)
	before := s.Counters()
	tb.eval(`(api.destroy(), true)`, nil)
	release()
	var got []string
	tb.eval(`p`, &got)
	assert.Equal(t, repeat("JwtFetchError ERR_DESTROYED", 3), got)
	after := s.Counters()
	assert.Equal(t, before.APICalls+before.Unauthorized, after.APICalls+after.Unauthorized, "no retry was sent after destroy()")
}

func TestRefreshFunction(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, `{ baseURL: location.origin, auth: { storage: 'memory', refreshTimeout: 500,
		refresh: async (rt) => {
			window.fnCalls = (window.fnCalls ?? 0) + 1
			if (window.selfCall) await api.get('/api/me') // breaks the rule: waits for the refresh it is part of
			const r = await api.post('/auth/refresh', { refresh: rt }, { skipAuth: true })
			return { accessToken: r.data.access, refreshToken: r.data.refresh }
		} } }`)
	s.RevokeAccessTokens()
	s.ResetCounters()
	var statuses []int
	tb.eval(`Promise.all(Array.from({length: 10}, () => api.get('/api/me').then(r => r.status)))`, &statuses)
	assert.Equal(t, []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200}, statuses)
	var calls int
	tb.eval(`window.fnCalls`, &calls)
	assert.Equal(t, 1, calls)
	assert.EqualValues(t, 1, s.Counters().Refreshes)

	// A refresh function that calls the instance without skipAuth waits for
	// itself: the refresh timeout bounds it, nothing hangs.
	s.RevokeAccessTokens()
	var code string
	tb.eval(`(window.selfCall = true, api.get('/api/me').then(() => 'ok', e => e.code))`, &code)
	assert.Equal(t, "ECONNABORTED", code)
	var status int
	tb.eval(`(window.selfCall = false, api.get('/api/me').then(r => r.status))`, &status)
	assert.Equal(t, 200, status, "and the session goes on")
}

func TestForcedRefresh(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, defaultInstance)
	s.ResetCounters()
	var got struct {
		Same    bool
		Changed bool
	}
	tb.eval(`(async () => {
		const before = api.auth.accessToken()
		const [a, b] = await Promise.all([api.auth.refresh(), api.auth.refresh()])
		return { same: a === b, changed: a !== before && a === api.auth.accessToken() }
	})()`, &got)
	assert.True(t, got.Same, "two calls join one refresh")
	assert.True(t, got.Changed)
	assert.EqualValues(t, 1, s.Counters().Refreshes)

	s.SetRefreshFailure(401)
	var code string
	tb.eval(`api.auth.refresh().then(() => 'ok', e => e.name + ' ' + e.code + ' ' + (e instanceof m.JwtFetchError))`, &code)
	assert.Equal(t, "JwtFetchError ERR_AUTH_EXPIRED true", code)

	tb.login()
	s.RevokeAccessTokens()
	tb.eval(`api.fetch('/api/me').then(() => 'ok', e => e.name + ' ' + e.code + ' ' + (e instanceof m.JwtFetchError))`, &code)
	assert.Equal(t, "JwtFetchError ERR_AUTH_EXPIRED true", code, "fetch's session errors are JwtFetchError instances too")
}

func TestOAuth2StyleAgainstDemoServer(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', refreshStyle: 'oauth2', clientId: 'web', storage: 'memory' } }`)
	s.RevokeAccessTokens()
	var status int
	tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status)
	assert.EqualValues(t, 1, s.Counters().Refreshes)
}

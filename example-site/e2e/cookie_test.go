//go:build !js

package e2e

// Cookie mode (API.md, "Cookie mode"): the refresh token lives in an
// HttpOnly cookie the demo server sets, the access token in memory only.
// The tests check what the server saw (its counters and the tokens it
// issued, authserver.Config.RecordIssued) and what the browser keeps (every
// storage a script can read, and the cookie jar through DevTools).

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/jwtfetch/jwtfetch/example-site/authserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cookieInstance is the create() config of cookie mode against the demo
// server.
const cookieInstance = `{ baseURL: location.origin, auth: { mode: 'cookie',
	refreshURL: '/auth/refresh', logoutURL: '/auth/logout', refreshTimeout: 3000 } }`

// newCookieSite is a demo server that records the tokens it issues, so the
// tests can look for them where they must not be.
func newCookieSite(t *testing.T, accessTTL time.Duration) *site {
	t.Helper()
	return newSiteFrom(t, authserver.Config{AccessTTL: accessTTL, RecordIssued: true}, nil)
}

// openCookieTab opens a tab on origin's /blank.html with window.api made
// from config, recording its events in window.events as "name
// authenticated fromOtherTab" and counting onExpired calls in
// window.onExpiredCalls. Nothing is logged in.
func openCookieTab(t *testing.T, origin, config string) *tab {
	t.Helper()
	tb := newTab(t)
	tb.openCookieInstance(origin, config)
	return tb
}

// openCookieInstance (re)loads the tab's blank page and creates the
// instance as openCookieTab does; the listeners are registered before the
// runtime is ready, so a restore at start-up is seen.
func (tb *tab) openCookieInstance(origin, config string) {
	tb.t.Helper()
	tb.open(origin + "/blank.html")
	tb.eval(`(async () => {
		window.m = await import('/jsglue/jwtfetch.js')
		const config = `+config+`
		window.onExpiredCalls = 0
		config.auth = { ...config.auth, onExpired: () => { window.onExpiredCalls++ } }
		window.api = m.create(config)
		window.events = []
		for (const e of ['tokens', 'refresh', 'expired']) {
			api.auth.on(e, (name, d) => events.push(name + ' ' + d?.authenticated + ' ' + d?.fromOtherTab))
		}
		await api.ready
		return true
	})()`, nil)
}

// cookieLogin logs in in cookie mode through window.api and hands the
// access token to it; it checks that the login answer carried no refresh
// token.
func (tb *tab) cookieLogin() {
	tb.t.Helper()
	var got struct {
		Keys   []string
		Authed bool
	}
	tb.eval(`api.post('/auth/login', { username: 'demo', password: 'demo123', mode: 'cookie' }, { skipAuth: true })
		.then(({ data }) => {
			api.auth.setTokens({ accessToken: data.access, expiresIn: data.expires_in })
			return { keys: Object.keys(data).sort(), authed: api.auth.isAuthenticated() }
		})`, &got)
	require.Equal(tb.t, []string{"access", "expires_in"}, got.Keys, "the cookie-mode login answer")
	require.True(tb.t, got.Authed, "authenticated after setTokens")
}

// cookieEvents returns the events openCookieInstance recorded.
func (tb *tab) cookieEvents() []string {
	tb.t.Helper()
	var ev []string
	tb.eval(`window.events`, &ev)
	return ev
}

// eventsNamed counts the recorded events whose name is name.
func eventsNamed(events []string, name string) int {
	n := 0
	for _, e := range events {
		if strings.HasPrefix(e, name+" ") {
			n++
		}
	}
	return n
}

// browserCookies returns the browser's cookies for url, HttpOnly ones
// included, as DevTools sees them.
func (tb *tab) browserCookies(url string) map[string]*network.Cookie {
	tb.t.Helper()
	out := map[string]*network.Cookie{}
	err := chromedp.Do(tb.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		for _, c := range res.Cookies {
			out[c.Name] = c
		}
		return err
	}))
	require.NoError(tb.t, err, "reading the browser's cookies")
	return out
}

// lastIssued is the newest token pair the server issued.
func lastIssued(t *testing.T, s *site) authserver.Issued {
	t.Helper()
	all := s.Issued()
	require.NotEmpty(t, all, "the server issued no token")
	return all[len(all)-1]
}

// requireRefreshCookie checks the browser's refresh cookie: HttpOnly,
// SameSite=Strict, Path=/auth, and the server's newest refresh token.
func requireRefreshCookie(t *testing.T, tb *tab, s *site) {
	t.Helper()
	jar := tb.browserCookies(s.URL + "/auth/refresh")
	rc := jar[authserver.RefreshCookie]
	require.NotNil(t, rc, "the browser holds the refresh cookie")
	assert.True(t, rc.HTTPOnly, "HttpOnly")
	assert.Equal(t, network.CookieSameSiteStrict, rc.SameSite)
	assert.Equal(t, "/auth", rc.Path)
	assert.Equal(t, lastIssued(t, s).Refresh, rc.Value, "the cookie holds the newest refresh token")
	require.NotNil(t, jar[authserver.XSRFCookie], "the browser holds the XSRF cookie")
}

// scanStorageJS collects, as one string per place, everything a script of
// the page can read: localStorage, sessionStorage, every IndexedDB database
// and object store (keys and values), and document.cookie. Binary values
// are decoded as text, so a token kept as bytes is found too.
const scanStorageJS = `(async () => {
	const text = (v) => JSON.stringify(v, (k, x) => {
		if (x instanceof ArrayBuffer) return new TextDecoder().decode(x)
		if (ArrayBuffer.isView(x)) return new TextDecoder().decode(x.buffer)
		if (typeof CryptoKey !== 'undefined' && x instanceof CryptoKey) return '[CryptoKey ' + x.type + ']'
		if (x instanceof Map) return [...x]
		if (x instanceof Set) return [...x]
		return x
	})
	const out = []
	for (const [name, s] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]]) {
		for (let i = 0; i < s.length; i++) out.push(name + ' ' + s.key(i) + '=' + s.getItem(s.key(i)))
	}
	const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error) })
	for (const { name } of await indexedDB.databases()) {
		const db = await req(indexedDB.open(name))
		for (const store of db.objectStoreNames) {
			const st = db.transaction(store, 'readonly').objectStore(store)
			const [keys, values] = await Promise.all([req(st.getAllKeys()), req(st.getAll())])
			out.push('indexedDB ' + name + '/' + store + ' ' + text(keys) + ' ' + text(values))
		}
		db.close()
	}
	out.push('document.cookie ' + document.cookie)
	return out
})()`

// scanStorage runs scanStorageJS in the tab.
func (tb *tab) scanStorage() []string {
	tb.t.Helper()
	var places []string
	tb.eval(scanStorageJS, &places)
	return places
}

// requireNothingSecret scans the tab's storage and console for every token
// the server issued so far; when is the moment, for the messages.
func requireNothingSecret(t *testing.T, tb *tab, s *site, when string) []string {
	t.Helper()
	places := tb.scanStorage()
	console, thrown := tb.syncedLogs()
	issued := s.Issued()
	require.NotEmpty(t, issued)
	for i, p := range issued {
		for what, secret := range map[string]string{"access token": p.Access, "refresh token": p.Refresh} {
			for _, place := range places {
				if strings.Contains(place, secret) {
					t.Errorf("%s: %s #%d is readable by scripts in %.40s…", when, what, i, place)
				}
			}
			for _, line := range append(console, thrown...) {
				if strings.Contains(line, secret) {
					t.Errorf("%s: %s #%d is in the console", when, what, i)
				}
			}
		}
	}
	// The scan looks where it says: the readable XSRF cookie is there, the
	// HttpOnly refresh cookie is not.
	cookies := places[len(places)-1]
	assert.Contains(t, cookies, authserver.XSRFCookie+"=", "%s: document.cookie shows the XSRF cookie", when)
	assert.NotContains(t, cookies, authserver.RefreshCookie, "%s: the refresh cookie is HttpOnly", when)
	return places
}

// TestCookieScanFindsSecrets keeps the storage scan honest: a token put in
// each place it scans is found there.
func TestCookieScanFindsSecrets(t *testing.T) {
	s := newCookieSite(t, time.Minute)
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	const secret = "not-a-token-0123456789"
	tb.eval(`(async () => {
		localStorage.setItem('a', 'x`+secret+`')
		sessionStorage.setItem('b', '`+secret+`')
		document.cookie = 'c=`+secret+`; path=/'
		const open = indexedDB.open('scan-check', 1)
		open.onupgradeneeded = () => open.result.createObjectStore('s')
		const db = await new Promise(ok => open.onsuccess = () => ok(open.result))
		const tx = db.transaction('s', 'readwrite')
		tx.objectStore('s').put({ nested: [new TextEncoder().encode('`+secret+`')] }, 'k')
		await new Promise(ok => tx.oncomplete = ok)
		db.close()
		return true
	})()`, nil)
	found := map[string]bool{}
	for _, place := range tb.scanStorage() {
		if strings.Contains(place, secret) {
			found[strings.Fields(place)[0]] = true
		}
	}
	assert.Equal(t, map[string]bool{"localStorage": true, "sessionStorage": true, "indexedDB": true, "document.cookie": true}, found)
}

// TestCookieServerInBrowser checks the demo server's cookies in a real
// browser without jwtfetch: the login sets an HttpOnly refresh cookie that
// page scripts cannot read and a readable XSRF cookie; a credentialed
// refresh with the XSRF header rotates the cookie; one without the header
// is refused with 403 xsrf_failed and leaves the cookie valid; the logout
// deletes both cookies.
func TestCookieServerInBrowser(t *testing.T) {
	s := newCookieSite(t, time.Minute)
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	var login struct {
		Status int
		Keys   []string
		Cookie string
	}
	tb.eval(`fetch('/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ username: 'demo', password: 'demo123', mode: 'cookie' }) })
		.then(async r => ({ status: r.status, keys: Object.keys(await r.json()).sort(), cookie: document.cookie }))`, &login)
	require.Equal(t, 200, login.Status)
	assert.Equal(t, []string{"access", "expires_in"}, login.Keys)
	assert.Regexp(t, `^XSRF-TOKEN=[\w-]+$`, login.Cookie, "only the XSRF cookie is readable")
	requireRefreshCookie(t, tb, s)
	first := lastIssued(t, s).Refresh

	refresh := func(withHeader bool) (status int, body string) {
		t.Helper()
		var got struct {
			Status int
			Body   string
		}
		tb.eval(fmt.Sprintf(`(async () => {
			const xsrf = document.cookie.match(/(?:^|; )XSRF-TOKEN=([^;]*)/)[1]
			const r = await fetch('/auth/refresh', { method: 'POST', credentials: 'include',
				headers: { 'Content-Type': 'application/json', ...(%t ? { 'X-XSRF-TOKEN': xsrf } : {}) }, body: '{}' })
			return { status: r.status, body: await r.text() }
		})()`, withHeader), &got)
		return got.Status, got.Body
	}
	status, body := refresh(false)
	assert.Equal(t, 403, status)
	assert.JSONEq(t, `{"error":"xsrf_failed"}`, body)
	assert.Equal(t, first, tb.browserCookies(s.URL + "/auth/refresh")[authserver.RefreshCookie].Value, "the cookie is kept")

	status, body = refresh(true)
	require.Equal(t, 200, status, body)
	assert.NotContains(t, body, "refresh", "the answer carries no refresh token")
	requireRefreshCookie(t, tb, s)
	assert.NotEqual(t, first, lastIssued(t, s).Refresh, "rotated")
	c := s.Counters()
	assert.EqualValues(t, 1, c.CookieRefreshes)
	assert.EqualValues(t, 1, c.XSRFFailures)
	assert.Zero(t, c.ReuseDetections)

	tb.eval(`fetch('/auth/logout', { method: 'POST', credentials: 'include' }).then(r => r.status)`, &status)
	assert.Equal(t, 204, status)
	assert.Empty(t, tb.browserCookies(s.URL+"/auth/refresh"), "logout deletes both cookies")
	var cookie string
	tb.eval(`document.cookie`, &cookie)
	assert.Empty(t, cookie)
	assert.EqualValues(t, 1, s.Counters().Logouts)
	requireCookieRefused(t, s, lastIssued(t, s).Refresh)
}

// requireCookieRefused presents refresh as the refresh cookie, with a
// matching XSRF pair, straight to the server: it must be refused.
func requireCookieRefused(t *testing.T, s *site, refresh string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/auth/refresh", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: authserver.RefreshCookie, Value: refresh})
	req.AddCookie(&http.Cookie{Name: authserver.XSRFCookie, Value: "x"})
	req.Header.Set(authserver.XSRFHeader, "x")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the old refresh cookie is refused by the server")
}

// TestCookieLoginExpiryOneRefresh: log in, let the access token expire,
// then one request makes exactly one refresh (by cookie) and succeeds, and
// the next requests use the new token without refreshing again.
func TestCookieLoginExpiryOneRefresh(t *testing.T) {
	const ttl = 2 * time.Second
	s := newCookieSite(t, ttl)
	tb := openCookieTab(t, s.URL, cookieInstance)
	tb.cookieLogin()
	requireRefreshCookie(t, tb, s)
	login := lastIssued(t, s)
	var access string
	tb.eval(`api.auth.accessToken()`, &access)
	require.Equal(t, login.Access, access, "jwtfetch holds the login's access token")

	time.Sleep(ttl + 200*time.Millisecond) // the server no longer accepts it
	var status int
	tb.eval(`api.get('/api/me').then(r => r.status, e => e.code + ': ' + e.message)`, &status)
	assert.Equal(t, 200, status)
	c := s.Counters()
	assert.EqualValues(t, 1, c.Refreshes, "one refresh")
	assert.EqualValues(t, 1, c.CookieRefreshes, "by cookie")
	assert.Zero(t, c.RefreshFailures)
	assert.Zero(t, c.XSRFFailures, "the refresh carried the XSRF header")
	assert.EqualValues(t, 1, c.APICalls)

	fresh := lastIssued(t, s)
	tb.eval(`api.auth.accessToken()`, &access)
	assert.Equal(t, fresh.Access, access, "jwtfetch holds the refreshed access token")
	assert.NotEqual(t, login.Refresh, fresh.Refresh)
	requireRefreshCookie(t, tb, s)

	var statuses []string
	tb.eval(codes(3, `api.get('/api/me')`), &statuses)
	assert.Equal(t, repeat("200", 3), statuses)
	assert.EqualValues(t, 1, s.Counters().Refreshes, "no second refresh for a fresh token")
	assert.Equal(t, 1, eventsNamed(tb.cookieEvents(), "refresh"), "refresh events: %v", tb.cookieEvents())
	requireNothingSecret(t, tb, s, "after a refresh")
	requireNoExceptions(t, tb)
}

// TestCookieRevokedBurstOneRefresh: the server revokes every access token;
// 30 requests at once get 401, make one refresh and all succeed on retry.
func TestCookieRevokedBurstOneRefresh(t *testing.T) {
	s := newCookieSite(t, time.Minute)
	tb := openCookieTab(t, s.URL, cookieInstance)
	tb.cookieLogin()
	s.RevokeAccessTokens()
	s.ResetCounters()
	var statuses []string
	tb.eval(codes(30, `api.get('/api/me')`), &statuses)
	assert.Equal(t, repeat("200", 30), statuses)
	c := s.Counters()
	assert.EqualValues(t, 1, c.Refreshes, "one refresh for 30 requests")
	assert.EqualValues(t, 1, c.CookieRefreshes)
	assert.EqualValues(t, 1, c.RefreshRequests)
	assert.Zero(t, c.ReuseDetections)
	assert.LessOrEqual(t, c.Unauthorized, int64(30), "at most one 401 per request")
	assert.EqualValues(t, 30, c.APICalls, "every request succeeded once")
	requireRefreshCookie(t, tb, s)
	requireNothingSecret(t, tb, s, "after the burst")
	t.Logf("30 requests after revocation: %d × 401, %d refresh, %d API calls", c.Unauthorized, c.Refreshes, c.APICalls)
}

// TestCookieReloadRestores: after a reload the access token is gone (it was
// only in memory); the marker says the origin is signed in, and the first
// requests that need a token wait for exactly one refresh.
func TestCookieReloadRestores(t *testing.T) {
	s := newCookieSite(t, time.Minute)
	tb := openCookieTab(t, s.URL, cookieInstance)
	tb.cookieLogin()
	requireNothingSecret(t, tb, s, "after login")
	for round := 1; round <= 2; round++ {
		s.ResetCounters()
		tb.openCookieInstance(s.URL, cookieInstance) // reload
		var authed bool
		tb.eval(`api.auth.isAuthenticated()`, &authed)
		assert.True(t, authed, "round %d: isAuthenticated after the reload (the marker)", round)
		var statuses []string
		tb.eval(codes(5, `api.get('/api/me')`), &statuses)
		assert.Equal(t, repeat("200", 5), statuses, "round %d", round)
		c := s.Counters()
		assert.EqualValues(t, 1, c.Refreshes, "round %d: one refresh restores the session", round)
		assert.EqualValues(t, 1, c.CookieRefreshes, "round %d", round)
		assert.Zero(t, c.Unauthorized, "round %d: no request went without a token first", round)
		assert.Zero(t, c.ReuseDetections, "round %d", round)
		assert.EqualValues(t, 5, c.APICalls, "round %d", round)
		var access string
		tb.eval(`api.auth.accessToken()`, &access)
		assert.Equal(t, lastIssued(t, s).Access, access, "round %d: the restored access token", round)
		assert.Zero(t, eventsNamed(tb.cookieEvents(), "expired"), "round %d", round)
		requireNothingSecret(t, tb, s, fmt.Sprintf("after reload %d", round))
	}
	requireNoExceptions(t, tb)
}

// TestCookieRefusedRestore: the refresh after a reload is refused: logged
// out, the expired event and onExpired once, the marker gone, and nothing
// is retried.
func TestCookieRefusedRestore(t *testing.T) {
	s := newCookieSite(t, time.Minute)
	tb := openCookieTab(t, s.URL, cookieInstance)
	tb.cookieLogin()
	s.SetRefreshFailure(http.StatusUnauthorized)
	s.ResetCounters()
	tb.openCookieInstance(s.URL, cookieInstance) // reload

	var got struct {
		Codes   []string
		Authed  bool
		Access  *string
		Expired int
	}
	tb.eval(`(async () => {
		const codes = await `+codes(3, `api.get('/api/me')`)+`
		return { codes, authed: api.auth.isAuthenticated(), access: api.auth.accessToken(), expired: window.onExpiredCalls }
	})()`, &got)
	assert.Equal(t, repeat("ERR_AUTH_EXPIRED", 3), got.Codes)
	assert.False(t, got.Authed, "logged out")
	assert.Nil(t, got.Access)
	assert.Equal(t, 1, got.Expired, "onExpired once")
	events := tb.cookieEvents()
	assert.Equal(t, 1, eventsNamed(events, "expired"), "one expired event: %v", events)
	c := s.Counters()
	assert.EqualValues(t, 1, c.RefreshRequests, "one refresh attempt")
	assert.Zero(t, c.APICalls)

	// Nothing is stuck and nothing loops: the next request goes without a
	// token, and a reload finds the origin signed out.
	var again string
	tb.eval(`api.get('/api/me').then(r => 'status ' + r.status, e => e.code + ' ' + e.response?.status)`, &again)
	assert.Equal(t, "ERR_BAD_REQUEST 401", again, "logged out: the request goes without a token")
	tb.openCookieInstance(s.URL, cookieInstance)
	var authed bool
	tb.eval(`api.auth.isAuthenticated()`, &authed)
	assert.False(t, authed, "the marker is gone after a refused restore")
	tb.eval(`api.get('/api/me').then(r => 'status ' + r.status, e => e.code + ' ' + e.response?.status)`, &again)
	assert.Equal(t, "ERR_BAD_REQUEST 401", again)
	assert.EqualValues(t, 1, s.Counters().RefreshRequests, "no refresh after the refusal")
	assert.Zero(t, eventsNamed(tb.cookieEvents(), "expired"), "no expired event after the reload")
	requireNoExceptions(t, tb)
}

// openCookieTabs opens n tabs with cookieInstance and logs in through the
// first; the others learn of the login over BroadcastChannel.
func openCookieTabs(t *testing.T, s *site, n int) []*tab {
	t.Helper()
	tabs := make([]*tab, n)
	for i := range tabs {
		tabs[i] = openCookieTab(t, s.URL, cookieInstance)
	}
	tabs[0].cookieLogin()
	for i, tb := range tabs[1:] {
		tb.waitTrue(`api.auth.isAuthenticated()`, fmt.Sprintf("tab %d sees the login", i+1))
	}
	return tabs
}

// cookieBurst fires perTab requests in every tab at once and returns each
// tab's answers as status codes or error codes.
func cookieBurst(tabs []*tab, perTab int) [][]string {
	var wg sync.WaitGroup
	out := make([][]string, len(tabs))
	for i, tb := range tabs {
		wg.Go(func() { tb.eval(codes(perTab, `api.get('/api/me')`), &out[i]) })
	}
	wg.Wait()
	return out
}

// TestCookieTabsOneRefreshPerRound: two tabs, ten requests each, eight
// rounds; the server revokes every access token before each round. Each
// round makes one refresh for both tabs (the cookie rotates, so a second
// one would present a used cookie and end the session), with no reuse, and
// both tabs end the round with the new access token.
func TestCookieTabsOneRefreshPerRound(t *testing.T) {
	const nTabs, perTab, rounds = 2, 10, 8
	s := newCookieSite(t, time.Minute)
	tabs := openCookieTabs(t, s, nTabs)
	s.ResetCounters()
	start := time.Now()
	for round := 1; round <= rounds; round++ {
		s.RevokeAccessTokens()
		before := s.Counters()
		got := cookieBurst(tabs, perTab)
		for i, g := range got {
			require.Equal(t, repeat("200", perTab), g, "round %d, tab %d (server: %+v)", round, i, s.Counters())
		}
		c := s.Counters()
		assert.EqualValues(t, 1, c.Refreshes-before.Refreshes, "round %d: one refresh for both tabs", round)
		require.Zero(t, c.ReuseDetections, "round %d: reuse detections", round)
		newest := lastIssued(t, s).Access
		for i, tb := range tabs {
			tb.waitTrue(fmt.Sprintf(`api.auth.accessToken() === %q`, newest), fmt.Sprintf("round %d: tab %d holds the newest access token", round, i))
		}
	}
	c := s.Counters()
	t.Logf("%d rounds of %d tabs × %d requests: %d refreshes (%d by cookie), %d reuse detections, %d refresh failures, %d × 401, %d API calls, in %v",
		rounds, nTabs, perTab, c.Refreshes, c.CookieRefreshes, c.ReuseDetections, c.RefreshFailures, c.Unauthorized, c.APICalls,
		time.Since(start).Round(time.Millisecond))
	assert.EqualValues(t, rounds, c.Refreshes)
	assert.EqualValues(t, rounds, c.CookieRefreshes)
	assert.Zero(t, c.ReuseDetections)
	assert.Zero(t, c.RefreshFailures)
	assert.Zero(t, c.XSRFFailures)
	requireRefreshCookie(t, tabs[0], s)
	for i, tb := range tabs {
		requireNothingSecret(t, tb, s, fmt.Sprintf("tab %d after the rounds", i))
		requireNoExceptions(t, tb)
	}
}

// TestCookieLogoutEverywhere: auth.clear() in one tab POSTs logoutURL with
// the cookie; the server revokes the session and deletes the cookies, and
// every tab is logged out.
func TestCookieLogoutEverywhere(t *testing.T) {
	s := newCookieSite(t, time.Minute)
	tabs := openCookieTabs(t, s, 2)
	a, b := tabs[0], tabs[1]
	s.RevokeAccessTokens() // one refresh first, so the session's cookie has rotated
	var statuses []string
	b.eval(codes(2, `api.get('/api/me')`), &statuses)
	require.Equal(t, repeat("200", 2), statuses)
	session := lastIssued(t, s)
	b.eval(`(window.events = [], true)`, nil)
	s.ResetCounters()

	a.eval(`Promise.resolve(api.auth.clear()).then(() => api.auth.isAuthenticated())`, nil)
	a.waitTrue(`!api.auth.isAuthenticated()`, "tab A is logged out")
	b.waitTrue(`!api.auth.isAuthenticated() && api.auth.accessToken() === null`, "the logout reaches tab B")
	b.waitTrue(`events.includes('tokens false true')`, "tab B gets a tokens event: not authenticated, from another tab")
	deadline := time.Now().Add(5 * time.Second)
	for s.Counters().Logouts == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	c := s.Counters()
	assert.EqualValues(t, 1, c.Logouts, "the server saw one logout")
	assert.Empty(t, a.browserCookies(s.URL+"/auth/refresh"), "the server deleted the cookies")
	assert.Zero(t, eventsNamed(b.cookieEvents(), "expired"), "a logout is not an expiry: %v", b.cookieEvents())

	// Tab B goes on signed out: no token, no refresh.
	var code string
	b.eval(`api.get('/api/me').then(() => 'ok', e => e.code + ' ' + e.response?.status)`, &code)
	assert.Equal(t, "ERR_BAD_REQUEST 401", code, "B's next request is unauthenticated")
	assert.Zero(t, s.Counters().RefreshRequests, "no refresh after the logout")
	// After a reload, neither tab thinks it is signed in.
	b.openCookieInstance(s.URL, cookieInstance)
	var authed bool
	b.eval(`api.auth.isAuthenticated()`, &authed)
	assert.False(t, authed, "signed out after a reload")

	// Server side: the session's last cookie is revoked.
	requireCookieRefused(t, s, session.Refresh)
	assert.Zero(t, s.Counters().ReuseDetections, "refused as logged out, not as reused")
	for _, tb := range tabs {
		requireNoExceptions(t, tb)
	}
}

// TestCookieMissingXSRF: an instance that looks for the XSRF cookie under a
// wrong name sends no XSRF header; the server refuses the refresh with 403
// xsrf_failed. The request rejects with an error that names the XSRF
// cookie or header, and the session is not ended (no expired event, still
// authenticated, no refresh loop). An instance with the right name then
// refreshes with the same, unconsumed cookie.
func TestCookieMissingXSRF(t *testing.T) {
	s := newCookieSite(t, time.Minute)
	wrong := `{ baseURL: location.origin, xsrfCookieName: 'WRONG', auth: { mode: 'cookie',
		refreshURL: '/auth/refresh', logoutURL: '/auth/logout', refreshTimeout: 3000 } }`
	tb := openCookieTab(t, s.URL, wrong)
	tb.cookieLogin()
	loginRefresh := lastIssued(t, s).Refresh
	s.RevokeAccessTokens()
	s.ResetCounters()

	type result struct {
		Codes, Messages []string
		Authed          bool
		Expired         int
	}
	var got result
	tb.eval(`(async () => {
		const rs = await Promise.allSettled(Array.from({ length: 5 }, () => api.get('/api/me')))
		return { codes: rs.map(r => r.status === 'fulfilled' ? String(r.value.status) : r.reason?.code),
			messages: rs.map(r => r.status === 'fulfilled' ? '' : String(r.reason?.message)),
			authed: api.auth.isAuthenticated(), expired: window.onExpiredCalls }
	})()`, &got)
	for i, code := range got.Codes {
		assert.NotEqual(t, "200", code, "request %d cannot succeed", i)
		assert.NotEqual(t, "ERR_AUTH_EXPIRED", code, "request %d: a missing XSRF header does not end the session", i)
		assert.Regexp(t, `(?i)xsrf`, got.Messages[i], "request %d: the error names the XSRF cookie/header", i)
		assert.Regexp(t, `(?i)cookie|header`, got.Messages[i], "request %d: the error says what is missing", i)
	}
	t.Logf("errors: %q: %q", got.Codes, got.Messages)
	assert.True(t, got.Authed, "still authenticated")
	assert.Zero(t, got.Expired, "no onExpired")
	assert.Zero(t, eventsNamed(tb.cookieEvents(), "expired"), "no expired event: %v", tb.cookieEvents())
	c := s.Counters()
	assert.LessOrEqual(t, c.RefreshRequests, int64(1), "one refresh attempt for the burst, if any")
	assert.Equal(t, c.RefreshRequests, c.XSRFFailures, "every refresh that went out lacked the header")
	assert.Zero(t, c.Refreshes)
	assert.Zero(t, c.ReuseDetections)

	// A second try does not loop either.
	var again string
	tb.eval(`api.get('/api/me').then(r => String(r.status), e => e.code)`, &again)
	assert.NotEqual(t, "ERR_AUTH_EXPIRED", again)
	assert.LessOrEqual(t, s.Counters().RefreshRequests, int64(2), "no refresh loop")
	tb.eval(`api.auth.isAuthenticated()`, &got.Authed)
	assert.True(t, got.Authed, "still authenticated after the second try")
	requireNoExceptions(t, tb)

	// The cookie was not consumed: the right configuration, after a reload,
	// restores the session with it.
	tb.openCookieInstance(s.URL, cookieInstance)
	var status int
	tb.eval(`api.get('/api/me').then(r => r.status, e => e.code)`, &status)
	assert.Equal(t, 200, status, "with the right xsrfCookieName")
	c = s.Counters()
	assert.EqualValues(t, 1, c.Refreshes)
	assert.Zero(t, c.ReuseDetections)
	assert.NotEqual(t, loginRefresh, lastIssued(t, s).Refresh, "rotated from the login's cookie")
}

// TestCookieDemoPage: the demo page in cookie mode (/?mode=cookie) logs in,
// refreshes once after the server revokes the token, stores no token and
// logs out.
func TestCookieDemoPage(t *testing.T) {
	s := newCookieSite(t, time.Minute)
	tb := newTab(t)
	tb.open(s.URL + "/?mode=cookie")
	tb.waitText("#state", "signed out")
	tb.click("#login")
	tb.waitText("#state", "signed in")
	tb.waitText("#me", `"user": "demo"`)
	requireRefreshCookie(t, tb, s)
	var keys []string
	var mode string
	tb.eval(`api.defaults.auth.mode`, &mode)
	assert.Equal(t, "cookie", mode, "the page's instance is in cookie mode")
	assert.EqualValues(t, 1, s.Counters().Logins)
	requireNothingSecret(t, tb, s, "demo page after login")

	s.RevokeAccessTokens()
	s.ResetCounters()
	tb.click("#burst")
	tb.waitText("#me", "20 of 20 succeeded")
	c := s.Counters()
	assert.EqualValues(t, 1, c.Refreshes, "one refresh for 20 requests")
	assert.EqualValues(t, 1, c.CookieRefreshes)
	assert.Zero(t, c.ReuseDetections)
	requireNothingSecret(t, tb, s, "demo page after the refresh")
	tb.eval(`Object.keys(localStorage)`, &keys)
	t.Logf("localStorage keys on the demo page: %q", keys)

	tb.waitText("#readable", `localStorage jwtfetch-cookie = { v: 1, cookie: true }`)
	assert.Equal(t, "localStorage jwtfetch-cookie = { v: 1, cookie: true }\ncookie XSRF-TOKEN = <32 characters>", tb.text("#readable"),
		"what scripts can read: the marker and the XSRF cookie")

	tb.open(s.URL + "/?mode=cookie") // reload: restored by cookie
	tb.waitText("#state", "signed in")
	tb.waitText("#me", `"user": "demo"`)
	requireNothingSecret(t, tb, s, "demo page after reload")

	tb.click("#logout")
	tb.waitText("#state", "signed out")
	deadline := time.Now().Add(5 * time.Second)
	for s.Counters().Logouts == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.EqualValues(t, 1, s.Counters().Logouts)
	assert.Empty(t, tb.browserCookies(s.URL+"/auth/refresh"), "logged out: no cookies")
	requireNoExceptions(t, tb)
}

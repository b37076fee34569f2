//go:build !js

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/example-site/authserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Trust at the edges: one test per way a token could leak or a promise
// settle late that independent probes found (README, "Guarantees" 12–19).

// headerLog records the headers of every request a server received.
type headerLog struct {
	mu   sync.Mutex
	reqs []string // "METHOD /path name: value" lines
}

func (l *headerLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, values := range r.Header {
		for _, v := range values {
			l.reqs = append(l.reqs, r.Method+" "+r.URL.RequestURI()+" "+name+": "+v)
		}
	}
	l.reqs = append(l.reqs, r.Method+" "+r.URL.RequestURI())
}

// containing returns the recorded lines that contain secret.
func (l *headerLog) containing(secret string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.reqs {
		if strings.Contains(line, secret) {
			out = append(out, line)
		}
	}
	return out
}

// requests counts the requests received with method.
func (l *headerLog) requests(method string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.reqs {
		if strings.HasPrefix(line, method+" ") && !strings.Contains(line, ": ") {
			n++
		}
	}
	return n
}

// corsForAnyone lets any page read the answer and send any header: an
// attacker's server, or a second API that welcomes the page.
func corsForAnyone(w http.ResponseWriter, r *http.Request) (preflight bool) {
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Credentials", "true")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// foreignOrigin is a server on an origin that must never get a token. It
// records every request, preflights included, and welcomes any header.
func foreignOrigin(t *testing.T) (string, *headerLog) {
	t.Helper()
	log := &headerLog{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		if corsForAnyone(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"landed":true}`))
	}))
	t.Cleanup(ts.Close)
	return ts.URL, log
}

// secondAPI is an allowed API on another origin than the page's, with
// /redirect and /trace as the scenario site has them.
func secondAPI(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", redirect)
	mux.HandleFunc("/trace", trace)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !corsForAnyone(w, r) {
			mux.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// Finding 1: browsers strip Authorization on a redirect to another origin,
// but no other header. Whatever the header name and the redirect code, the
// token never reaches an origin outside `origins`; a redirect that stays on
// the page's origin keeps it.
func TestTrustRedirectsKeepTheTokenHome(t *testing.T) {
	ss := newScenarioSite(t, time.Minute)
	api2 := secondAPI(t)
	for _, tt := range []struct{ header, scheme string }{{"X-Trace", ""}, {"Authorization", "Bearer"}} {
		t.Run(tt.header, func(t *testing.T) {
			foreign, log := foreignOrigin(t)
			tb := loggedIn(t, ss.site, fmt.Sprintf(`{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh',
				storage: 'memory', header: %q, scheme: %q, origins: [location.origin, %q] } }`, tt.header, tt.scheme, api2))
			var token string
			tb.eval(`api.auth.accessToken()`, &token)
			require.NotEmpty(t, token)

			type result struct {
				Code            int
				Start           string
				Get, Fetch, Req string
			}
			var got []result
			tb.eval(`(async () => {
				const out = []
				for (const code of [301, 302, 303, 307, 308]) {
					for (const [start, base] of [['page', location.origin], ['api', `+jsString(api2)+`]]) {
						const url = base + '/redirect?code=' + code + '&to=' + encodeURIComponent(`+jsString(foreign)+` + '/landed?code=' + code)
						const get = await api.get(url).then(r => String(r.status), e => e.code + ' ' + e.message)
						const fetch = await api.fetch(url).then(r => String(r.status), e => e.name + ' ' + e.message)
						// A Request input goes another way through the module.
						const req = await api.fetch(new Request(url)).then(r => String(r.status), e => e.name + ' ' + e.message)
						out.push({ code, start, get, fetch, req })
					}
				}
				return out
			})()`, &got)
			require.Len(t, got, 10)
			assert.Empty(t, masked(log.containing(token), token), "the token reached the foreign origin")
			for _, r := range got {
				if tt.header == "Authorization" {
					// The browser follows and drops Authorization itself.
					assert.Equal(t, "200", r.Get, "%d from %s", r.Code, r.Start)
					assert.Equal(t, "200", r.Fetch, "%d from %s", r.Code, r.Start)
					assert.Equal(t, "200", r.Req, "%d from %s", r.Code, r.Start)
					continue
				}
				// Not followed: a network error that says why.
				assert.True(t, strings.HasPrefix(r.Get, "ERR_NETWORK ") && strings.Contains(r.Get, "redirect"), "get %d from %s: %s", r.Code, r.Start, r.Get)
				assert.True(t, strings.HasPrefix(r.Fetch, "TypeError ") && strings.Contains(r.Fetch, "redirect"), "fetch %d from %s: %s", r.Code, r.Start, r.Fetch)
				assert.True(t, strings.HasPrefix(r.Req, "TypeError ") && strings.Contains(r.Req, "redirect"), "fetch(Request) %d from %s: %s", r.Code, r.Start, r.Req)
			}
			if tt.header == "Authorization" {
				assert.Equal(t, 30, log.requests("GET"), "every redirect was followed (without the token)")
			} else {
				assert.Zero(t, log.requests("GET"), "nothing was sent to the foreign origin")
			}

			// Redirects within the page's origin are followed with the token.
			var hops []string
			tb.eval(`Promise.all([301, 302, 303, 307, 308].map(code =>
				api.get('/redirect?code=' + code + '&to=/trace').then(r => r.data[`+jsString(map[string]string{"X-Trace": "xtrace", "Authorization": "auth"}[tt.header])+`], e => e.code)))`, &hops)
			want := sha(token)
			if tt.scheme != "" {
				want = sha(tt.scheme + " " + token)
			}
			assert.Equal(t, repeat(want, 5), hops, "same-origin hops keep the token")

			// The caller's own redirect mode is kept: 'manual' hands the
			// opaque redirect back, 'error' fails as fetch does.
			var own []string
			tb.eval(`(async () => {
				const url = location.origin + '/redirect?code=302&to=' + encodeURIComponent(`+jsString(foreign)+` + '/landed?own=1')
				const manual = await api.fetch(url, { redirect: 'manual' }).then(r => r.type + ' ' + r.status, e => e.name + ' ' + e.message)
				const error = await api.fetch(url, { redirect: 'error' }).then(r => r.type + ' ' + r.status, e => e.name)
				return [manual, error]
			})()`, &own)
			assert.Equal(t, []string{"opaqueredirect 0", "TypeError"}, own)
			if tt.header != "Authorization" {
				assert.Zero(t, log.requests("GET"), "nothing was sent to the foreign origin")
			}
			requireNoExceptions(t, tb)
		})
	}
}

// assertNotQuoted checks that no text contains any of the secrets, and
// reports the texts that do with the secret masked.
func assertNotQuoted(t *testing.T, texts []string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		var bad []string
		for _, text := range texts {
			if strings.Contains(text, secret) {
				bad = append(bad, text)
			}
		}
		assert.Empty(t, masked(bad, secret), "texts quote a token")
	}
}

// masked shortens texts and replaces secret in them, for failure messages.
func masked(texts []string, secret string) []string {
	var out []string
	for _, text := range texts {
		text = strings.ReplaceAll(text, secret, "<TOKEN>")
		if len(text) > 160 {
			text = text[:160] + "…"
		}
		out = append(out, text)
	}
	return out
}

// errorText is JavaScript that turns a rejection into every text a console
// or a logger could print of it: String(e), message, stack, JSON, each own
// property, along the whole cause chain. It also logs e to the console.
const errorText = `(e => {
	console.error(e)
	const out = []
	for (let v = e, depth = 0; v != null && depth < 6; v = v.cause, depth++) {
		out.push(String(v))
		try { out.push(JSON.stringify(v)) } catch {}
		if (typeof v === 'object') {
			for (const k of Object.getOwnPropertyNames(v)) { try { out.push(k + '=' + String(v[k])) } catch {} }
		}
		if (typeof v !== 'object' || !('cause' in v)) break
	}
	return out.join('\n')
})`

// Finding 2: a refresh function's rejection may quote the refresh token;
// no rejection, cause, warning or console line carries it.
func TestTrustRefreshFunctionErrorsAreNotQuoted(t *testing.T) {
	s := newSite(t, time.Minute)
	throwers := map[string]string{
		"Error":           `throw new Error('refresh failed for ' + rt)`,
		"string":          `throw rt`,
		"axios-like":      `throw { status: 503, message: 'bad ' + rt, response: { status: 503, data: rt } }`,
		"cause":           `throw new TypeError('no', { cause: new Error(rt) })`,
		"refusal":         `throw Object.assign(new Error('refused ' + rt), { status: 401 })`,
		"resolves string": `return rt`,
	}
	for name, thrower := range throwers {
		t.Run(name, func(t *testing.T) {
			tb := loggedIn(t, s, `{ baseURL: location.origin, auth: { storage: 'memory',
				refresh: async (rt) => { window.rt = rt; `+thrower+` } } }`)
			s.RevokeAccessTokens()
			var texts []string
			tb.eval(`(async () => {
				const t = `+errorText+`
				const out = []
				out.push(await api.get('/api/me').then(() => 'resolved', t))
				out.push(await api.fetch('/api/me').then(r => 'status ' + r.status, t))
				out.push(await api.auth.refresh().then(() => 'resolved', t))
				return out
			})()`, &texts)
			var rt string
			tb.eval(`window.rt ?? ''`, &rt)
			require.NotEmpty(t, rt, "the refresh function ran")
			console, _ := tb.logs()
			assertNotQuoted(t, append(texts, console...), rt)
			assert.Contains(t, texts[0], "JwtFetchError", "a JwtFetchError, not the app's own value")
			requireNoExceptions(t, tb)
		})
	}
}

// Finding 3: a storage object's exception may quote the value it was
// given; the warning does not repeat it.
func TestTrustStorageErrorsAreNotQuoted(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openInstance(s, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: {
		getItem: k => null,
		setItem: (k, v) => { throw new Error('quota exceeded storing ' + v) },
		removeItem: k => { throw new Error('cannot remove ' + window.tokens?.access) },
	} } }`)
	var tokens struct{ Access, Refresh string }
	tb.eval(`api.post('/auth/login', {username: 'demo', password: 'demo123'}, {skipAuth: true}).then(r => {
		window.tokens = r.data
		api.auth.setTokens({accessToken: r.data.access, refreshToken: r.data.refresh})
		return { access: r.data.access, refresh: r.data.refresh }
	})`, &tokens)
	s.RevokeAccessTokens()
	var status int
	tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status, "the session works from memory")
	tb.eval(`(api.auth.clear(), true)`, nil)
	console, _ := tb.logs()
	assertNotQuoted(t, console, tokens.Access, tokens.Refresh)
	warnings := 0
	for _, line := range console {
		if strings.Contains(line, "storage is not available") {
			warnings++
		}
	}
	assert.Equal(t, 1, warnings, "one warning: %q", console)
	requireNoExceptions(t, tb)
}

// idbSession is JavaScript that resolves with the cross-tab copy of the
// session in IndexedDB (null when there is none), without creating the
// database when it is missing.
const idbSession = `new Promise((resolve, reject) => {
	const open = indexedDB.open('jwtfetch')
	open.onupgradeneeded = () => open.transaction.abort()
	open.onerror = () => resolve(null)
	open.onsuccess = () => {
		const db = open.result
		if (!db.objectStoreNames.contains('sessions')) { db.close(); resolve(null); return }
		const get = db.transaction('sessions').objectStore('sessions').get('jwtfetch')
		get.onsuccess = () => { db.close(); resolve(get.result ?? null) }
		get.onerror = () => { db.close(); reject(get.error) }
	}
})`

// Finding 4: a logout during a refresh wins everywhere: the refreshed
// tokens reach neither localStorage nor the cross-tab copy in IndexedDB.
func TestTrustLogoutDuringRefreshLeavesNothingInIndexedDB(t *testing.T) {
	for run := range 3 {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			t.Parallel() // each run on its own origin
			s := newSite(t, time.Minute)
			tb := loggedIn(t, s, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh' } }`)
			s.RevokeAccessTokens()
			s.ResetCounters()
			s.SetRefreshDelay(400 * time.Millisecond)
			var got struct {
				Code  string
				Local *string
				IDB   any
			}
			tb.eval(`(async () => {
				const p = api.get('/api/me').then(() => 'ok', e => e.code)
				// Log out once the refresh request has reached the server
				// (which answers it 400 ms later).
				while ((await (await fetch('/debug/counters')).json()).refreshRequests === 0) {
					await new Promise(r => setTimeout(r, 5))
				}
				api.auth.clear()
				const code = await p
				// Long after the refresh answer came and anything was written.
				await new Promise(r => setTimeout(r, 1000))
				return { code, local: localStorage.getItem('jwtfetch'), idb: await `+idbSession+` }
			})()`, &got)
			assert.Equal(t, "ERR_AUTH_EXPIRED", got.Code)
			assert.EqualValues(t, 1, s.Counters().Refreshes, "the server did refresh")
			assert.Nil(t, got.Local, "nothing in localStorage")
			assert.Nil(t, got.IDB, "nothing in IndexedDB")
		})
	}
}

// Finding 5: one time budget per refresh, across the wait for another
// tab's lock and the request: with a refresh endpoint that hangs, every
// tab settles within refreshTimeout, not a multiple of it.
func TestTrustHungRefreshSettlesEveryTabWithinOneTimeout(t *testing.T) {
	const timeout = 3000
	s := newSite(t, time.Minute)
	tabs := openTabsWith(t, s, 3, fmt.Sprintf(`{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', refreshTimeout: %d } }`, timeout))
	s.RevokeAccessTokens()
	s.SetRefreshDelay(time.Minute)
	type settled struct {
		Codes []string
		Ms    float64
	}
	got := make([]settled, len(tabs))
	var wg sync.WaitGroup
	for i, tb := range tabs {
		wg.Go(func() {
			// Staggered: a later tab waits for the first one's lock,
			// then must not start a full timeout of its own.
			time.Sleep(time.Duration(i) * 600 * time.Millisecond)
			tb.eval(`(async () => {
				const t0 = performance.now()
				const codes = await `+codes(5, `api.get('/api/me?i=' + i)`)+`
				return { codes, ms: performance.now() - t0 }
			})()`, &got[i])
		})
	}
	wg.Wait()
	for i, g := range got {
		t.Logf("tab %d settled after %.0f ms (refreshTimeout %d)", i, g.Ms, timeout)
		assert.Equal(t, repeat("ECONNABORTED", 5), g.Codes, "tab %d", i)
		// Twice the timeout is what stacked budgets give; allow a margin
		// for a loaded machine below that.
		assert.Less(t, g.Ms, float64(timeout)*1.5, "tab %d settled within one refreshTimeout", i)
	}
	s.SetRefreshDelay(0)
	var status int
	tabs[1].eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status, "the next request refreshes")
}

// Finding 6: a back end that copies iat from the refresh token into every
// new access token (so exp-iat grows with each refresh) does not stop
// refresh-before-expiry, whatever the server's clock says.
func TestTrustCopiedIatStillRefreshesAhead(t *testing.T) {
	for _, skew := range []time.Duration{0, 5 * time.Minute, -5 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			s := newSiteFrom(t, authserver.Config{
				AccessTTL: time.Second,
				Now:       func() time.Time { return time.Now().Add(skew) },
			}, nil)
			s.SetCopyIssuedAt(true)
			tb := loggedIn(t, s, defaultInstance)
			s.ResetCounters()
			var statuses []int
			tb.eval(`(async () => {
				const out = [], end = performance.now() + 4000
				while (performance.now() < end) {
					out.push(await api.get('/api/me').then(r => r.status, e => e.code))
					await new Promise(r => setTimeout(r, 100))
				}
				return out
			})()`, &statuses)
			assert.NotContains(t, statuses, 0)
			c := s.Counters()
			t.Logf("%d requests, %d refreshes, %d answered 401", len(statuses), c.Refreshes, c.Unauthorized)
			assert.Zero(t, c.Unauthorized, "no request was sent with an expired token (%d requests, %d refreshes)", len(statuses), c.Refreshes)
			assert.GreaterOrEqual(t, c.Refreshes, int64(4), "it refreshed all along")
			assert.Zero(t, c.ReuseDetections)
		})
	}
}

// Finding 7: a refresh URL that redirects, or answers 404 or 405, is a
// configuration mistake, not a logout: the tokens are kept, the error names
// the refresh URL and what it answered, and the redirect is not followed
// (a 307 would re-send the refresh token to wherever it points).
func TestTrustMisconfiguredRefreshURLKeepsTheSession(t *testing.T) {
	var followed atomic.Int32
	ss := &scenarioSite{}
	ss.site = newSiteWith(t, time.Minute, map[string]http.Handler{
		"/moved/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			followed.Add(1)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}),
		"/refresh-301": http.RedirectHandler("/moved/", http.StatusMovedPermanently),
		"/refresh-307": http.RedirectHandler("/moved/", http.StatusTemporaryRedirect),
		"/refresh-404": http.NotFoundHandler(),
		"/refresh-405": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", "GET")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}),
	})
	for _, tt := range []struct{ path, says string }{
		{"/refresh-301", "redirect"},
		{"/refresh-307", "redirect"},
		{"/refresh-404", "404"},
		{"/refresh-405", "405"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			tb := newTab(t)
			tb.openInstance(ss.site, `{ baseURL: location.origin, auth: { refreshURL: '`+tt.path+`',
				onExpired: () => window.expired = (window.expired ?? 0) + 1 } }`)
			tb.login()
			var before string
			tb.eval(`localStorage.getItem('jwtfetch')`, &before)
			ss.RevokeAccessTokens()
			var got struct {
				Codes    []string
				Message  string
				Expired  int
				Authed   bool
				Stored   string
				SameTok  bool
				Forced   string
				Previous string
			}
			tb.eval(`(async () => {
				const access = api.auth.accessToken()
				const codes = await `+codes(3, `api.get('/api/me?i=' + i)`)+`
				const message = await api.get('/api/me').catch(e => e.message)
				const forced = await api.auth.refresh().then(() => 'resolved', e => e.code)
				return { codes, message, forced, expired: window.expired ?? 0, authed: api.auth.isAuthenticated(),
					stored: localStorage.getItem('jwtfetch'), sameTok: api.auth.accessToken() === access }
			})()`, &got)
			assert.Equal(t, repeat("ERR_BAD_RESPONSE", 3), got.Codes)
			assert.Equal(t, "ERR_BAD_RESPONSE", got.Forced)
			assert.Contains(t, got.Message, ss.URL+tt.path, "names the refresh URL")
			assert.Contains(t, got.Message, tt.says)
			assert.Zero(t, got.Expired, "not a logout")
			assert.True(t, got.Authed)
			assert.True(t, got.SameTok, "the tokens are kept")
			assert.Equal(t, before, got.Stored, "the stored session is kept")
			assert.Zero(t, followed.Load(), "the refresh POST never followed a redirect")
			requireNoExceptions(t, tb)
		})
	}
}

// Finding 8: small edges. destroy() before the runtime is ready makes every
// later call fail with ERR_DESTROYED (not a TypeError) and a call queued
// before it is dropped quietly; a refresh result with a throwing getter is
// a clear rejection, not an uncaught error; an origin without a scheme is
// refused at create().
func TestTrustSmallEdges(t *testing.T) {
	s := newSite(t, time.Minute)
	t.Run("destroy before ready", func(t *testing.T) {
		tb := newTab(t)
		tb.open(s.URL + "/blank.html")
		var got map[string]string
		tb.eval(`(async () => {
			const m = await import('/jsglue/jwtfetch.js')
			const code = f => { try { f(); return 'no throw' } catch (e) { return e.code ?? e.name } }
			const a = m.create({ baseURL: location.origin, auth: { refresh: null, storage: 'memory' } })
			a.auth.setTokens({ accessToken: 'queued' }) // queued until ready, then dropped
			a.destroy()
			const out = {
				refresh: await a.auth.refresh().then(() => 'resolved', e => e.code ?? e.name),
				get: await a.get('/public/text').then(() => 'resolved', e => e.code ?? e.name),
				fetch: await a.fetch('/public/text').then(() => 'resolved', e => e.code ?? e.name),
				setTokens: code(() => a.auth.setTokens({ accessToken: 'x' })),
				clear: code(() => a.auth.clear()),
				accessToken: code(() => a.auth.accessToken()),
				isAuthenticated: code(() => a.auth.isAuthenticated()),
			}
			await a.ready.catch(() => {})
			await m.load()
			await new Promise(r => setTimeout(r, 100))
			return out
		})()`, &got)
		for call, code := range got {
			assert.Equal(t, "ERR_DESTROYED", code, call)
		}
		console, thrown := tb.logs()
		console = slices.DeleteFunc(console, func(line string) bool {
			return strings.Contains(line, "Failed to load resource") // the page's favicon
		})
		assert.Empty(t, console, "nothing logged")
		assert.Empty(t, thrown)
	})
	t.Run("throwing getter in a refresh result", func(t *testing.T) {
		tb := loggedIn(t, s, `{ baseURL: location.origin, auth: { storage: 'memory',
			refresh: async (rt) => ({ get accessToken() { throw new Error('getter ' + rt) } }) } }`)
		s.RevokeAccessTokens()
		var got struct {
			Code   string
			Later  int
			Authed bool
		}
		tb.eval(`(async () => {
			const code = await api.get('/api/me').then(() => 'resolved', e => e.code)
			const later = await api.get('/public/text', { skipAuth: true }).then(r => r.status)
			return { code, later, authed: api.auth.isAuthenticated() }
		})()`, &got)
		assert.Equal(t, "ERR_BAD_RESPONSE", got.Code)
		assert.Equal(t, 200, got.Later, "the runtime is alive")
		assert.True(t, got.Authed, "a broken refresh result is not a logout")
		requireNoExceptions(t, tb)
	})
	t.Run("origin without a scheme", func(t *testing.T) {
		tb := newTab(t)
		tb.open(s.URL + "/blank.html")
		var got []string
		tb.eval(`(async () => {
			const m = await import('/jsglue/jwtfetch.js')
			return ['127.0.0.1:8080', 'api.example.com', 'ftp://files.example.com', ''].map(o => {
				try { m.create({ auth: { origins: [o] } }).destroy(); return 'accepted ' + o }
				catch (e) { return e.code + ' ' + e.message }
			})
		})()`, &got)
		require.Len(t, got, 4)
		for _, g := range got {
			assert.True(t, strings.HasPrefix(g, "ERR_BAD_OPTION_VALUE jwtfetch: auth.origins"), g)
		}
		assert.Contains(t, got[0], "http://127.0.0.1:8080", "the message shows how to write it")
		var ok bool
		tb.eval(`import('/jsglue/jwtfetch.js').then(m => { m.create({ auth: { origins: ['http://127.0.0.1:8080', 'https://api.example.com/v1/'] } }).destroy(); return true })`, &ok)
		assert.True(t, ok, "origins with a scheme (and even a path) are fine")
	})
}

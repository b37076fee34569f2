//go:build !js

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests drive the axios-style instance and its fetch in Chromium
// against the demo API. Each opens a blank page, imports the module and
// creates `window.api`.

// openInstance opens the site's blank page and creates window.api with the
// given create() config (a JavaScript expression).
func (tb *tab) openInstance(s *site, config string) {
	tb.t.Helper()
	tb.open(s.URL + "/blank.html")
	tb.eval(`(async () => {
		window.m = await import('/jsglue/jwtfetch.js')
		window.api = m.create(`+config+`)
		await api.ready
		return true
	})()`, nil)
}

// loggedIn opens a tab with window.api made from config and logged in.
func loggedIn(t *testing.T, s *site, config string) *tab {
	t.Helper()
	tb := newTab(t)
	tb.openInstance(s, config)
	tb.login()
	return tb
}

// login logs in through the demo API and hands the tokens to window.api.
func (tb *tab) login() {
	tb.t.Helper()
	tb.eval(`api.post('/auth/login', {username: 'demo', password: 'demo123'}, {skipAuth: true})
		.then(r => { api.auth.setTokens({accessToken: r.data.access, refreshToken: r.data.refresh}); return true })`, nil)
}

const defaultInstance = `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } }`

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestInstanceResponseShape(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, defaultInstance)
	var got struct {
		Status     int
		StatusText string
		User       string
		CT         string
		Method     string
		URL        string
		Raw        bool
	}
	tb.eval(`api.get('/api/me').then(r => ({
		status: r.status, statusText: r.statusText, user: r.data.user,
		ct: r.headers['content-type'], method: r.config.method, url: r.config.url,
		raw: r.raw instanceof Response }))`, &got)
	assert.Equal(t, 200, got.Status)
	assert.Equal(t, "OK", got.StatusText)
	assert.Equal(t, "demo", got.User)
	assert.Contains(t, got.CT, "application/json")
	assert.Equal(t, "get", got.Method)
	assert.Equal(t, "/api/me", got.URL)
	assert.True(t, got.Raw)
}

func TestInstanceBodies(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, defaultInstance)
	type echo struct {
		Method     string
		Query      string
		Headers    map[string]string
		BodySha256 string
		Body       string
	}
	tests := []struct {
		name     string
		call     string
		wantBody string
		wantCT   string
	}{
		{"object as JSON", `api.post('/api/echo', {a: 1, b: [true, null]})`, `{"a":1,"b":[true,null]}`, "application/json"},
		{"array as JSON", `api.put('/api/echo', [1, 'two'])`, `[1,"two"]`, "application/json"},
		{"string as is", `api.post('/api/echo', 'plain words', {headers: {'Content-Type': 'text/plain'}})`, "plain words", "text/plain"},
		{"URLSearchParams", `api.post('/api/echo', new URLSearchParams({a: '1', b: 'x y'}))`, "a=1&b=x+y", "application/x-www-form-urlencoded;charset=UTF-8"},
		{"Blob", `api.post('/api/echo', new Blob(['blob body'], {type: 'text/x-blob'}))`, "blob body", "text/x-blob"},
		{"ArrayBuffer", `api.patch('/api/echo', new TextEncoder().encode('buffer body').buffer)`, "buffer body", ""},
		{"typed array", `api.post('/api/echo', new TextEncoder().encode('typed body'))`, "typed body", ""},
		{"no body on GET", `api.get('/api/echo', {data: {ignored: true}})`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e echo
			tb.eval(tt.call+`.then(r => r.data)`, &e)
			assert.Equal(t, sha(tt.wantBody), e.BodySha256, "body %q", e.Body)
			assert.Equal(t, tt.wantCT, e.Headers["content-type"])
			assert.Contains(t, e.Headers["authorization"], "Bearer ")
		})
	}
	t.Run("FormData with a file", func(t *testing.T) {
		var e echo
		tb.eval(`(() => { const f = new FormData(); f.append('name', 'x'); f.append('file', new Blob(['file body']), 'a.txt')
			return api.post('/api/echo', f).then(r => r.data) })()`, &e)
		assert.Contains(t, e.Headers["content-type"], "multipart/form-data; boundary=")
		assert.Contains(t, e.Body, `filename="a.txt"`)
		assert.Contains(t, e.Body, "file body")
	})
	t.Run("params", func(t *testing.T) {
		var e echo
		tb.eval(`api.get('/api/echo?x=0', {params: {a: 1, list: ['p', 'q'], skip: undefined, s: 'a b&c'}}).then(r => r.data)`, &e)
		assert.Equal(t, "x=0&a=1&list=p&list=q&s=a+b%26c", e.Query)
		tb.eval(`api.get('/api/echo', {params: new URLSearchParams([['k', 'v'], ['k', 'w']])}).then(r => r.data)`, &e)
		assert.Equal(t, "k=v&k=w", e.Query)
	})
}

func TestInstanceResponseTypes(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openInstance(s, defaultInstance)
	var got map[string]string
	tb.eval(`(async () => ({
		json: typeof (await api.get('/public/echo')).data,
		textOfJSON: typeof (await api.get('/public/echo', {responseType: 'text'})).data,
		text: (await api.get('/public/text')).data,
		blob: (await api.get('/public/text', {responseType: 'blob'})).data.constructor.name,
		arraybuffer: (await api.get('/public/text', {responseType: 'arraybuffer'})).data.constructor.name,
		stream: (await api.get('/public/text', {responseType: 'stream'})).data.constructor.name,
		head: JSON.stringify((await api.head('/public/text')).data),
	}))()`, &got)
	assert.Equal(t, map[string]string{
		"json": "object", "textOfJSON": "string", "text": "hello", "blob": "Blob",
		"arraybuffer": "ArrayBuffer", "stream": "ReadableStream", "head": `""`,
	}, got)
}

func TestInstanceErrors(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, defaultInstance)
	type result struct {
		Name     string
		Code     string
		Status   int
		IsJFE    bool
		Message  string
		HasCfg   bool
		Resolved bool
	}
	run := func(call string) result {
		var r result
		tb.eval(call+`.then(() => ({resolved: true}), e => ({name: e.name, code: e.code, status: e.response?.status,
			isJFE: m.isJwtFetchError(e), message: e.message, hasCfg: !!e.config}))`, &r)
		return r
	}
	tests := []struct {
		name   string
		call   string
		code   string
		status int
	}{
		{"4xx", `api.get('/api/status/404')`, "ERR_BAD_REQUEST", 404},
		{"5xx", `api.get('/api/status/503')`, "ERR_BAD_RESPONSE", 503},
		{"401 with skipRefresh", `api.get('/api/me', {skipRefresh: true, headers: {}, skipAuth: true})`, "ERR_BAD_REQUEST", 401},
		{"network", `api.get('http://127.0.0.1:1/nothing')`, "ERR_NETWORK", 0},
		{"timeout", `api.get('/public/slow?ms=2000', {timeout: 100})`, "ECONNABORTED", 0},
		{"abort", `(() => { const ac = new AbortController(); setTimeout(() => ac.abort(), 50); return api.get('/public/slow?ms=2000', {signal: ac.signal}) })()`, "ERR_CANCELED", 0},
		{"aborted before", `api.get('/api/me', {signal: AbortSignal.abort()})`, "ERR_CANCELED", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(tt.call)
			require.False(t, r.Resolved)
			assert.Equal(t, "JwtFetchError", r.Name)
			assert.True(t, r.IsJFE)
			assert.True(t, r.HasCfg, "error carries the config")
			assert.Equal(t, tt.code, r.Code, r.Message)
			assert.Equal(t, tt.status, r.Status)
		})
	}
	t.Run("validateStatus", func(t *testing.T) {
		var st int
		tb.eval(`api.get('/api/status/404', {validateStatus: s => s < 500}).then(r => r.status)`, &st)
		assert.Equal(t, 404, st)
		tb.eval(`api.get('/api/status/500', {validateStatus: null}).then(r => r.status)`, &st)
		assert.Equal(t, 500, st)
	})
}

func TestInstanceDefaultsAndHeaders(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openInstance(s, `{ baseURL: location.origin + '/public', headers: { 'X-Test': 'default', common: { 'X-Request-Id': 'c' } }, auth: { storage: 'memory' } }`)
	var h map[string]string
	tb.eval(`api.get('echo').then(r => r.data.headers)`, &h)
	assert.Equal(t, "default", h["x-test"])
	assert.Equal(t, "c", h["x-request-id"])
	h = nil // Unmarshal into a map adds to what is there
	tb.eval(`api.get('/echo', {headers: {'x-TEST': 'mine', 'X-Request-Id': null}}).then(r => r.data.headers)`, &h)
	assert.Equal(t, "mine", h["x-test"], "request headers win, case-insensitively")
	assert.NotContains(t, h, "x-request-id", "null removes a default")
	tb.eval(`(api.defaults.headers['X-Test'] = 'changed', api.get('echo').then(r => r.data.headers))`, &h)
	assert.Equal(t, "changed", h["x-test"], "defaults are live")
	var timedOut string
	tb.eval(`(api.defaults.timeout = 50, api.get('slow?ms=1000').catch(e => e.code))`, &timedOut)
	assert.Equal(t, "ECONNABORTED", timedOut)
}

func TestInterceptors(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, defaultInstance)
	var got struct {
		Order     []string
		Auth      string
		Current   string
		Status    int
		RespCalls int
	}
	s.RevokeAccessTokens()
	s.ResetCounters()
	tb.eval(`(async () => {
		const order = []
		let respCalls = 0
		api.interceptors.request.use(c => { order.push('req1'); return c })
		api.interceptors.request.use(async c => {
			order.push('req2')
			await new Promise(r => setTimeout(r, 10))
			c.headers['Authorization'] = 'Bearer stale-token-from-interceptor'
			return c
		})
		const ej = api.interceptors.request.use(c => { order.push('ejected'); return c })
		api.interceptors.request.eject(ej)
		api.interceptors.response.use(r => { order.push('resp1'); respCalls++; return r })
		api.interceptors.response.use(r => { order.push('resp2'); r.extra = r.status; return r })
		const r = await api.get('/api/echo')
		return { order, auth: r.data.headers.authorization, current: 'Bearer ' + api.auth.accessToken(),
			status: r.extra, respCalls }
	})()`, &got)
	assert.Equal(t, []string{"req2", "req1", "resp1", "resp2"}, got.Order, "axios order")
	assert.Equal(t, got.Current, got.Auth, "the retry carries the new token, not the interceptor's")
	assert.Equal(t, 200, got.Status, "response interceptors see the final result")
	assert.Equal(t, 1, got.RespCalls)
	assert.EqualValues(t, 1, s.Counters().Refreshes)

	var recovered string
	tb.eval(`(api.interceptors.response.clear(),
		api.interceptors.response.use(null, e => ({ data: 'recovered from ' + e.code })),
		api.get('/api/status/500').then(r => r.data))`, &recovered)
	assert.Equal(t, "recovered from ERR_BAD_RESPONSE", recovered)
}

func TestFetchContract(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, defaultInstance)
	s.RevokeAccessTokens()
	var got struct {
		Me        int
		NotFound  int
		Skip      int
		FromReq   int
		Relative  int
		NetErr    string
		AbortName string
		Caller    []any
	}
	tb.eval(`(async () => ({
		me: (await api.fetch('/api/me')).status,
		notFound: (await api.fetch(location.origin + '/api/status/404')).status,
		skip: (await api.fetch('/api/me', {skipAuth: true})).status,
		fromReq: (await api.fetch(new Request('/api/echo', {method: 'POST', body: 'x'}))).status,
		relative: (await api.fetch('api/me')).status,
		netErr: await api.fetch('http://127.0.0.1:1/').then(() => 'resolved', e => e.constructor.name),
		abortName: await api.fetch('/public/slow?ms=1000', {signal: AbortSignal.timeout(50)}).then(() => 'resolved', e => e.name),
		caller: await (async () => {
			const req = new Request('/api/me', {headers: {'X-Test': '1'}})
			const status = (await api.fetch(req)).status
			return [status, req.headers.get('authorization'), req.headers.get('x-test'), req.bodyUsed]
		})(),
	}))()`, &got)
	assert.Equal(t, 200, got.Me, "refreshed and retried")
	assert.Equal(t, 404, got.NotFound, "resolves on any status")
	assert.Equal(t, 401, got.Skip, "skipAuth sends no token and does not refresh")
	assert.Equal(t, 200, got.FromReq, "accepts a Request")
	assert.Equal(t, 200, got.Relative)
	assert.Equal(t, "TypeError", got.NetErr, "rejects like fetch")
	assert.Equal(t, "TimeoutError", got.AbortName, "the signal's reason")
	assert.Equal(t, []any{200.0, nil, "1", false}, got.Caller, "the caller's Request is never changed")
	assert.EqualValues(t, 1, s.Counters().Refreshes)
}

// jsModules serves the npm packages the tests use (ky, openapi-fetch).
func jsModules(t *testing.T) http.Handler {
	t.Helper()
	dir, err := filepath.Abs("../../jsglue/test/node_modules")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "ky")); err != nil {
		t.Fatalf("npm packages missing (%v): run `make test`, which runs npm ci in jsglue/test", err)
	}
	return http.StripPrefix("/node_modules/", http.FileServer(http.Dir(dir)))
}

func TestFetchWithKyAndOpenapiFetch(t *testing.T) {
	s := newSiteWith(t, time.Minute, map[string]http.Handler{"/node_modules/": jsModules(t)})
	tb := loggedIn(t, s, defaultInstance)
	s.RevokeAccessTokens()
	s.ResetCounters()
	var got struct {
		Ky      []string
		Openapi []string
		Post    string
	}
	tb.eval(`(async () => {
		const { default: ky } = await import('/node_modules/ky/distribution/index.js')
		const { default: createClient } = await import('/node_modules/openapi-fetch/dist/index.mjs')
		const k = ky.create({ baseUrl: location.origin, fetch: api.fetch, retry: 0 })
		const c = createClient({ baseUrl: location.origin, fetch: api.fetch })
		const kyUsers = await Promise.all(Array.from({length: 5}, () => k.get('api/me').json().then(d => d.user)))
		const oaUsers = await Promise.all(Array.from({length: 5}, () => c.GET('/api/me').then(r => r.data.user)))
		const post = await k.post('api/echo', { json: { a: 1 } }).json()
		return { ky: kyUsers, openapi: oaUsers, post: post.body }
	})()`, &got)
	assert.Equal(t, []string{"demo", "demo", "demo", "demo", "demo"}, got.Ky)
	assert.Equal(t, []string{"demo", "demo", "demo", "demo", "demo"}, got.Openapi)
	assert.Equal(t, `{"a":1}`, got.Post)
	c := s.Counters()
	assert.EqualValues(t, 1, c.Refreshes, "one refresh for both libraries")
	assert.Zero(t, c.ReuseDetections)
}

func TestDropInGlobalFetch(t *testing.T) {
	// The page's own code knows nothing of jwtfetch: it calls the global
	// fetch. Replacing window.fetch makes it authenticated, and the bridge
	// keeps using the original fetch, so nothing loops.
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, defaultInstance)
	tb.eval(`(window.fetch = api.fetch, true)`, nil)
	s.RevokeAccessTokens()
	s.ResetCounters()
	var got struct {
		Statuses []int
		Users    []string
	}
	tb.eval(`(async () => {
		// "existing" code
		const rs = await Promise.all(Array.from({length: 10}, () => fetch('/api/me')))
		const users = await Promise.all(rs.map(r => r.json().then(d => d.user)))
		return { statuses: rs.map(r => r.status), users }
	})()`, &got)
	for i, st := range got.Statuses {
		assert.Equal(t, 200, st, "request %d", i)
	}
	assert.Len(t, got.Users, 10)
	c := s.Counters()
	assert.EqualValues(t, 1, c.Refreshes)
	assert.EqualValues(t, 10, c.APICalls)
	assert.EqualValues(t, 10, c.Unauthorized)
}

func TestDestroy(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openInstance(s, defaultInstance)
	var got struct {
		Code  string
		Other int
		Funcs float64
	}
	tb.eval(`(async () => {
		const other = m.create({ baseURL: location.origin, auth: { storage: 'memory' } })
		api.destroy()
		api.destroy() // twice is fine
		const code = await api.get('/public/text').catch(e => e.code)
		const st = (await other.get('/public/text')).status
		other.destroy()
		return { code, other: st }
	})()`, &got)
	assert.Equal(t, "ERR_DESTROYED", got.Code)
	assert.Equal(t, 200, got.Other, "other instances are not affected")
}

func TestEveryMethod(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, defaultInstance)
	var got []string
	tb.eval(`Promise.all([
		api.get('/api/echo'), api.delete('/api/echo'), api.options('/api/echo'),
		api.post('/api/echo', 'p'), api.put('/api/echo', 'p'), api.patch('/api/echo', 'p'),
		api.request({ url: '/api/echo', method: 'post' }), api.request('/api/echo', { method: 'DELETE' }),
	]).then(rs => rs.map(r => r.data.method))`, &got)
	assert.Equal(t, []string{"GET", "DELETE", "OPTIONS", "POST", "PUT", "PATCH", "POST", "DELETE"}, got)
	var head int
	tb.eval(`api.head('/api/me').then(r => r.status)`, &head)
	assert.Equal(t, 200, head)
}

func TestAbortAndTimeoutWhileWaitingForRefresh(t *testing.T) {
	// Against the real server, whose refresh is held for 1 s: one request
	// is aborted and one times out while they wait for it; the others
	// succeed, and the aborted ones are never sent again.
	s := newSite(t, time.Minute)
	tb := loggedIn(t, s, defaultInstance)
	s.RevokeAccessTokens()
	s.ResetCounters()
	s.SetRefreshDelay(time.Second)
	var got struct {
		Aborted, TimedOut  string
		AbortMs, TimeoutMs float64
		Others             []int
		FetchAbort         string
	}
	tb.eval(`(async () => {
		const t0 = performance.now()
		const ac = new AbortController(), ac2 = new AbortController()
		const aborted = api.get('/api/me', { signal: ac.signal }).then(() => 'ok', e => e.code)
		const fetchAborted = api.fetch('/api/me', { signal: ac2.signal }).then(() => 'ok', e => e.name)
		const timedOut = api.get('/api/me', { timeout: 300 }).then(() => 'ok', e => e.code)
		const others = Promise.all(Array.from({length: 5}, () => api.get('/api/me').then(r => r.status)))
		setTimeout(() => { ac.abort(); ac2.abort() }, 150)
		const a = await aborted, abortMs = performance.now() - t0
		const tm = await timedOut, timeoutMs = performance.now() - t0
		return { aborted: a, abortMs, timedOut: tm, timeoutMs, others: await others, fetchAbort: await fetchAborted }
	})()`, &got)
	assert.Equal(t, "ERR_CANCELED", got.Aborted)
	assert.Equal(t, "AbortError", got.FetchAbort, "fetch rejects like fetch")
	assert.Less(t, got.AbortMs, 900.0, "rejected at the abort, not after the refresh")
	assert.Equal(t, "ECONNABORTED", got.TimedOut)
	assert.Less(t, got.TimeoutMs, 900.0, "rejected at the timeout, not after the refresh")
	assert.Equal(t, []int{200, 200, 200, 200, 200}, got.Others)
	c := s.Counters()
	assert.EqualValues(t, 1, c.Refreshes)
	assert.EqualValues(t, 5, c.APICalls, "the aborted and timed-out requests were not sent again")
}

func TestRuntimeThatFailsToLoad(t *testing.T) {
	// A wasm that cannot be loaded rejects every request clearly (no
	// promise stays pending), and a later load with the right URL works.
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	var got struct {
		Ready, Get, Fetch, Refresh string
		Later                      int
	}
	tb.eval(`(async () => {
		const m = await import('/jsglue/jwtfetch.js')
		const bad = m.create({ baseURL: location.origin, wasmURL: '/missing.wasm', auth: { storage: 'memory' } })
		const settle = p => Promise.race([p.then(() => 'resolved', e => e.code ?? e.name),
			new Promise(r => setTimeout(() => r('pending'), 3000))])
		const res = {
			ready: await settle(bad.ready),
			get: await settle(bad.get('/public/text')),
			fetch: await settle(bad.fetch('/public/text')),
			refresh: await settle(bad.auth.refresh()),
		}
		const good = m.create({ baseURL: location.origin, auth: { storage: 'memory' } })
		res.later = (await good.get('/public/text')).status
		return res
	})()`, &got)
	assert.Equal(t, "ERR_NETWORK", got.Ready)
	assert.Equal(t, "ERR_NETWORK", got.Get)
	assert.NotEqual(t, "pending", got.Fetch)
	assert.NotEqual(t, "pending", got.Refresh)
	assert.Equal(t, 200, got.Later, "the next load succeeds")
}

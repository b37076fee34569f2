//go:build !js

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
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
	t.Run("401 with skipRefresh", func(t *testing.T) {
		// skipRefresh sends the token but hands a 401 back as it is. The
		// server answers 401 to a good token here (/api/status/401 is
		// authenticated), so it counts the call only if the token came.
		type outcome struct {
			result
			Body struct{ Status int }
		}
		call := func(cfg string) outcome {
			var o outcome
			tb.eval(`api.get('/api/status/401'`+cfg+`).then(() => ({resolved: true}), e => ({name: e.name, code: e.code,
				status: e.response?.status, isJFE: m.isJwtFetchError(e), message: e.message, hasCfg: !!e.config, body: e.response?.data}))`, &o)
			return o
		}
		s.ResetCounters()
		r := call(`, {skipRefresh: true}`)
		require.False(t, r.Resolved)
		assert.Equal(t, "JwtFetchError", r.Name)
		assert.Equal(t, "ERR_BAD_REQUEST", r.Code, r.Message)
		assert.Equal(t, 401, r.Status, "the 401 comes back as it is")
		assert.Equal(t, 401, r.Body.Status, "with the server's own answer")
		c := s.Counters()
		assert.EqualValues(t, 1, c.APICalls, "the server saw the token, once: no retry")
		assert.Zero(t, c.Unauthorized, "the token it saw was good")
		assert.Zero(t, c.RefreshRequests, "no refresh")

		// The same request without skipRefresh does refresh and retry: the
		// checks above can tell the difference.
		s.ResetCounters()
		r = call(``)
		assert.Equal(t, 401, r.Status)
		c = s.Counters()
		assert.EqualValues(t, 1, c.Refreshes, "without skipRefresh a 401 refreshes")
		assert.EqualValues(t, 2, c.APICalls, "and is retried")
	})
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

// destroyedCalls is JavaScript that defines window.destroyedCalls(inst):
// it makes every call of the public API on inst, each to its own /probe/
// URL, and resolves with how each one ended: "rejected <name> <code>",
// "threw <name> <code>" (synchronously), "resolved", "returned" or
// "pending" (not settled within 3 s).
const destroyedCalls = `window.destroyedCalls = async (inst) => {
	const outcome = (f) => {
		let r
		try {
			r = f()
		} catch (e) {
			return Promise.resolve('threw ' + e?.name + ' ' + e?.code)
		}
		if (!(r instanceof Promise)) return Promise.resolve('returned')
		return Promise.race([r.then(() => 'resolved', e => 'rejected ' + e?.name + ' ' + e?.code),
			new Promise(res => setTimeout(() => res('pending'), 3000))])
	}
	const calls = {
		request: () => inst.request({ url: '/probe/request' }),
		get: () => inst.get('/probe/get'),
		delete: () => inst.delete('/probe/delete'),
		head: () => inst.head('/probe/head'),
		options: () => inst.options('/probe/options'),
		post: () => inst.post('/probe/post', { a: 1 }),
		put: () => inst.put('/probe/put', 'x'),
		patch: () => inst.patch('/probe/patch', 'x'),
		fetch: () => inst.fetch('/probe/fetch'),
		'auth.refresh': () => inst.auth.refresh(),
		'auth.setTokens': () => inst.auth.setTokens({ accessToken: 'after-destroy', refreshToken: 'after-destroy' }),
		'auth.clear': () => inst.auth.clear(),
		'auth.accessToken': () => inst.auth.accessToken(),
		'auth.isAuthenticated': () => inst.auth.isAuthenticated(),
		'auth.on': () => inst.auth.on('tokens', () => {}),
	}
	const out = {}
	for (const [name, f] of Object.entries(calls)) out[name] = await outcome(f)
	return out
}`

// wantDestroyed is what destroyedCalls reports for a destroyed instance
// (API.md, destroy()).
func wantDestroyed() map[string]string {
	want := map[string]string{}
	for _, name := range []string{"request", "get", "delete", "head", "options", "post", "put", "patch", "fetch", "auth.refresh"} {
		want[name] = "rejected JwtFetchError ERR_DESTROYED"
	}
	for _, name := range []string{"auth.setTokens", "auth.clear", "auth.accessToken", "auth.isAuthenticated", "auth.on"} {
		want[name] = "threw JwtFetchError ERR_DESTROYED"
	}
	return want
}

// TestDestroy checks what destroy() releases: afterwards every call fails
// with ERR_DESTROYED and sends nothing, the listeners hear nothing more, and
// the runtime holds nothing for the instance (no client, no js.Func); also
// when destroy() came before the runtime was ready. Other instances go on.
func TestDestroy(t *testing.T) {
	var probes atomic.Int64
	s := newSiteWith(t, time.Minute, map[string]http.Handler{
		"/probe/": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			probes.Add(1)
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("probe"))
		}),
	})
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")

	// Destroyed before the runtime is ready (this page has not loaded it
	// yet): a request and a login queued before destroy() are dropped, no
	// client is ever made.
	var early struct {
		Queued string
		Calls  map[string]string
		Stored *string
		Stats  struct{ Clients int }
	}
	tb.eval(`(async () => {
		`+destroyedCalls+`
		window.m = await import('/jsglue/jwtfetch.js')
		window.cfg = { baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storageKey: 'destroy-test' } }
		const inst = m.create(cfg)
		const queued = inst.get('/probe/queued').then(() => 'resolved', e => 'rejected ' + e?.name + ' ' + e?.code)
		inst.auth.setTokens({ accessToken: 'queued-token', refreshToken: 'queued-refresh' })
		inst.destroy()
		await inst.ready
		return { queued: await queued, calls: await destroyedCalls(inst), stored: localStorage.getItem('destroy-test'),
			stats: await m.debugStats() }
	})()`, &early)
	assert.Equal(t, "rejected JwtFetchError ERR_DESTROYED", early.Queued, "a request made before destroy() and the runtime")
	assert.Equal(t, wantDestroyed(), early.Calls, "destroyed before the runtime was ready")
	assert.Nil(t, early.Stored, "the login queued before destroy() was dropped")
	assert.Zero(t, early.Stats.Clients, "no client was made for it")
	assert.Zero(t, probes.Load(), "nothing was sent")

	// Three instances share one session under one key: api is destroyed,
	// writer makes changes, and sentinel hears them the way api would.
	type stats struct{ Funcs, Clients int }
	var base stats
	tb.eval(`(async () => {
		window.writer = m.create(cfg)
		window.sentinel = m.create(cfg)
		await Promise.all([writer.ready, sentinel.ready])
		window.sentinelEvents = 0
		sentinel.auth.on('tokens', () => sentinelEvents++)
		window.base = await m.debugStats()
		window.api = m.create(cfg)
		await api.ready
		return base
	})()`, &base)
	tb.login()
	// Before destroy(): api's listeners hear the writer's changes, and its
	// requests reach the server.
	var alive struct {
		Probe  int
		Events []string
	}
	tb.eval(`(async () => {
		window.apiEvents = []
		for (const e of ['tokens', 'refresh', 'expired']) api.auth.on(e, (name) => apiEvents.push(name))
		await writer.auth.refresh()
		const deadline = Date.now() + 5000
		while (!apiEvents.includes('tokens') && Date.now() < deadline) await new Promise(r => setTimeout(r, 10))
		return { probe: (await api.get('/probe/alive')).status, events: apiEvents }
	})()`, &alive)
	require.Equal(t, 200, alive.Probe)
	require.Contains(t, alive.Events, "tokens", "api hears another instance's refresh while alive")
	require.EqualValues(t, 1, probes.Load(), "the probe counts requests")

	before, sent := s.Counters(), probes.Load()
	var got struct {
		Calls          map[string]string
		APIEvents      []string
		SentinelEvents int
		Other          int
		Stats          stats
	}
	tb.eval(`(async () => {
		const heard = apiEvents.length
		api.destroy()
		api.destroy() // twice is fine
		const calls = await destroyedCalls(api)
		// Changes api would hear if it were alive: wait until the sentinel
		// has heard them.
		const seen = sentinelEvents
		writer.auth.clear()
		writer.auth.setTokens({ accessToken: 'after.destroy.token', refreshToken: 'after-destroy-refresh' })
		let deadline = Date.now() + 5000
		while (sentinelEvents < seen + 2 && Date.now() < deadline) await new Promise(r => setTimeout(r, 10))
		const other = m.create({ baseURL: location.origin, auth: { storage: 'memory' } })
		const st = (await other.get('/public/text')).status
		other.destroy()
		// The runtime lets go of the instance: as many clients and js.Func
		// values as before it was made (a refresh may still be finishing).
		let stats = await m.debugStats()
		deadline = Date.now() + 5000
		while ((stats.clients !== base.clients || stats.funcs !== base.funcs) && Date.now() < deadline) {
			await new Promise(r => setTimeout(r, 20))
			stats = await m.debugStats()
		}
		return { calls, apiEvents: apiEvents.slice(heard), sentinelEvents: sentinelEvents - seen, other: st, stats }
	})()`, &got)
	assert.Equal(t, wantDestroyed(), got.Calls, "every call after destroy()")
	assert.Equal(t, sent, probes.Load(), "no request was sent after destroy()")
	assert.Equal(t, before, s.Counters(), "nothing reached the auth API after destroy()")
	require.Equal(t, 2, got.SentinelEvents, "the sentinel heard the logout and the login")
	assert.Empty(t, got.APIEvents, "a destroyed instance's listeners are not called")
	assert.Equal(t, 200, got.Other, "other instances are not affected")
	assert.Equal(t, base, got.Stats, "the runtime released the destroyed instances: clients and js.Func values as before")
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
	// A wasm that cannot be loaded rejects ready and every request with a
	// JwtFetchError that names the URL (API.md, Errors): none resolves and
	// none stays pending. A later load with the right URL works.
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	type settled struct {
		State, Name, Code, Message string
	}
	var got struct {
		Ready, Get, Fetch, Refresh settled
		Later                      int
	}
	tb.eval(`(async () => {
		const m = await import('/jsglue/jwtfetch.js')
		const bad = m.create({ baseURL: location.origin, wasmURL: '/missing.wasm', auth: { storage: 'memory' } })
		const settle = p => Promise.race([
			p.then(() => ({ state: 'resolved' }), e => ({ state: 'rejected', name: e?.name, code: e?.code, message: String(e?.message) })),
			new Promise(r => setTimeout(() => r({ state: 'pending' }), 3000))])
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
	for what, r := range map[string]settled{"ready": got.Ready, "get": got.Get, "fetch": got.Fetch, "auth.refresh": got.Refresh} {
		assert.Equal(t, "rejected", r.State, "%s rejects", what)
		assert.Equal(t, "JwtFetchError", r.Name, "%s: %s", what, r.Message)
		assert.Equal(t, "ERR_NETWORK", r.Code, "%s: %s", what, r.Message)
		assert.Contains(t, r.Message, "/missing.wasm", "%s: the message names the URL", what)
		assert.Contains(t, r.Message, "404", "%s: and what went wrong", what)
	}
	assert.Equal(t, 200, got.Later, "the next load succeeds")
}

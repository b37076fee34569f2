//go:build !js

package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The mistakes a newcomer makes in the first hour each get one clear line,
// at the moment they are made, that says what to do.

// TestMistakeWasmURL: a wasmURL that answers an HTML page (any single-page
// app's fallback does, with status 200), another file, or nothing at all
// rejects ready with a message that names the URL and what to check; the
// raw "CompileError: expected magic word" never reaches the user.
func TestMistakeWasmURL(t *testing.T) {
	spa := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!doctype html><title>app</title><div id=app></div>")
	})
	s := newSiteWith(t, time.Minute, map[string]http.Handler{
		"/spa/": spa,
		"GET /wrong.wasm": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/wasm")
			_, _ = io.WriteString(w, "not a module")
		}),
		"GET /bytes.bin": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write([]byte{0, 'a', 's', 'm', 9, 9, 9, 9})
		}),
	})
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	tests := []struct {
		name, url string
		want      []string
	}{
		{"an SPA fallback", "/spa/assets/jwtfetch.wasm", []string{"answered an HTML page", "single-page app", "wasmURL"}},
		{"not wasm, served as wasm", "/wrong.wasm", []string{"application/wasm", "not WebAssembly", "wasmURL"}},
		{"a broken module", "/bytes.bin", []string{"not a jwtfetch.wasm this module can run", "make build"}},
		{"missing", "/nowhere/jwtfetch.wasm", []string{"HTTP 404", "make build", "wasmURL"}},
		{"no server", "http://127.0.0.1:9/jwtfetch.wasm", []string{"network error", "server is up"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got struct{ Name, Code, Message string }
			tb.eval(`(async () => {
				const m = await import('/jsglue/jwtfetch.js')
				const api = m.create({ wasmURL: `+jsString(tt.url)+`, auth: { refresh: null, storage: 'memory' } })
				return api.ready.then(() => ({ message: 'resolved' }), e => ({ name: e.name, code: e.code, message: e.message }))
			})()`, &got)
			assert.Equal(t, "JwtFetchError", got.Name, got.Message)
			assert.Equal(t, "ERR_NETWORK", got.Code, got.Message)
			assert.Contains(t, got.Message, "cannot load the runtime from "+absURL(s.URL, tt.url)+": ")
			for _, w := range tt.want {
				assert.Contains(t, got.Message, w)
			}
			assert.NotContains(t, got.Message, "magic word")
			assert.NotContains(t, got.Message, "\n", "one line")
		})
	}
}

// TestMistakeNoRefreshURL: create() without a way to refresh warns once,
// at once; saying refresh: null (or giving either) does not.
func TestMistakeNoRefreshURL(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	tb.eval(`import('/jsglue/jwtfetch.js').then(m => {
		window.m = m
		m.create({ baseURL: location.origin, auth: { storage: 'memory' } })
		return true
	})`, nil)
	console := pageLines(tb)
	require.Len(t, console, 1, "one warning: %q", console)
	assert.True(t, strings.HasPrefix(console[0], "warning: jwtfetch: create() without auth.refreshURL"), console[0])
	assert.Contains(t, console[0], "set auth.refreshURL")

	tb.eval(`(m.create({ auth: { refresh: null, storage: 'memory' } }),
		m.create({ auth: { refreshURL: '/auth/refresh', storage: 'memory' } }),
		m.create({ auth: { refresh: async () => null, storage: 'memory' } }), true)`, nil)
	assert.Equal(t, console, pageLines(tb), "no more warnings")
}

// TestMistakeSetTokensNames: the demo server's own field names, or the
// whole login answer, given to setTokens throw at once, before the runtime
// is ready too, naming the fields to rename and never their values.
func TestMistakeSetTokensNames(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	var got struct {
		Before, After, Wrong, Empty, Number struct{ Name, Code, Message string }
	}
	tb.eval(`(async () => {
		const m = await import('/jsglue/jwtfetch.js')
		const api = m.create({ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } })
		const attempt = (tokens) => {
			try {
				api.auth.setTokens(tokens)
				return { message: 'no error' }
			} catch (e) {
				return { name: e.name, code: e.code, message: e.message }
			}
		}
		const login = { access: 'eyJ.secret-access.x', refresh: 'secret-refresh', user: 'demo' }
		const before = attempt(login)
		await api.ready
		return {
			before,
			after: attempt(login),
			wrong: attempt({ access_token: 'secret-access', refresh_token: 'secret-refresh', expires_in: 60 }),
			empty: attempt({}),
			number: attempt({ accessToken: 42 }),
		}
	})()`, &got)
	for name, e := range map[string]struct{ Name, Code, Message string }{"before ready": got.Before, "after ready": got.After} {
		assert.Equal(t, "JwtFetchError", e.Name, "%s: %s", name, e.Message)
		assert.Equal(t, "ERR_BAD_OPTION_VALUE", e.Code, name)
		assert.Equal(t, "jwtfetch: setTokens: expects { accessToken, refreshToken }; got { access, refresh, user }: "+
			"write setTokens({ accessToken: data.access, refreshToken: data.refresh })", e.Message, name)
	}
	assert.Equal(t, "jwtfetch: setTokens: expects { accessToken, refreshToken }; got { access_token, refresh_token, expires_in }: "+
		"write setTokens({ accessToken: data.access_token, refreshToken: data.refresh_token, expiresIn: data.expires_in })", got.Wrong.Message)
	assert.Equal(t, "jwtfetch: setTokens: expects { accessToken, refreshToken }; got neither", got.Empty.Message)
	assert.Equal(t, "jwtfetch: setTokens: accessToken must be a string, not number", got.Number.Message)
	assert.Empty(t, pageLines(tb), "thrown, not logged")
}

// TestMistakeRefusedRefreshNamesTheURL: the error every waiting request
// gets when the refresh endpoint refuses names that endpoint and says what
// follows.
func TestMistakeRefusedRefreshNamesTheURL(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.openInstance(s, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } }`)
	tb.login()
	s.RevokeAccessTokens()
	s.SetRefreshFailure(401)
	var got struct{ Code, Message string }
	tb.eval(`api.get('/api/me').then(() => ({}), e => ({ code: e.code, message: e.message }))`, &got)
	assert.Equal(t, "ERR_AUTH_EXPIRED", got.Code)
	assert.Equal(t, "jwtfetch: refresh refused: POST "+s.URL+"/auth/refresh answered 401; the session is over", got.Message)
}

// pageLines is what the page wrote to the console, without the browser's
// own lines about resources (a blank page's missing favicon).
func pageLines(tb *tab) []string {
	tb.t.Helper()
	console, _ := tb.syncedLogs()
	var out []string
	for _, l := range console {
		if !strings.Contains(l, "Failed to load resource") && !strings.HasPrefix(l, "debug: e2e console sync") {
			out = append(out, l)
		}
	}
	return out
}

func absURL(base, u string) string {
	if strings.Contains(u, "://") {
		return u
	}
	return base + u
}

//go:build !js

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's JavaScript is run, not retyped: every ```js block of
// README.md runs as a module in a plain page of the demo site, in Chromium,
// with 'jwtfetch' mapped to /jsglue/jwtfetch.js and 'axios' to the axios
// the tests install. A block that needs a bundler or a framework says so
// in its info string (```js vite, ```jsx, ```vue) and is not run here; the
// packaging tests cover those paths.

// snippet is one runnable block of the README.
type snippet struct {
	line int // where it starts in README.md
	code string
}

// readmeSnippets returns the ```js blocks of the README.
func readmeSnippets(t *testing.T) []snippet {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var out []snippet
	var cur *snippet
	for i, l := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```js":
			cur = &snippet{line: i + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.code += l + "\n"
		}
	}
	require.Nil(t, cur, "an unterminated code block")
	return out
}

// readmeScope lists the names a block's checks may read: each one the
// block declares is copied into window.scope after it ran.
var readmeScope = []string{"api", "me", "res", "data", "seen"}

// readmeModule is the block as a module: the names it uses without
// declaring them (the README's username and password) get the demo's
// values, axios is imported when it is used, and its scope is exported.
func readmeModule(code string) string {
	var pre strings.Builder
	declared := func(name string) bool {
		n := regexp.QuoteMeta(name)
		return regexp.MustCompile(`\b(?:const|let|var)\s+(?:` + n + `\b|[{[][^}\]]*\b` + n + `\b)` +
			`|\bimport\s+(?:` + n + `\b|\{[^}]*\b` + n + `\b)`).MatchString(code)
	}
	if strings.Contains(code, "axios.") && !declared("axios") {
		pre.WriteString("import axios from 'axios'\n")
	}
	for name, value := range map[string]string{"username": "'demo'", "password": "'demo123'"} {
		if regexp.MustCompile(`\b`+name+`\b`).MatchString(code) && !declared(name) {
			fmt.Fprintf(&pre, "const %s = %s\n", name, value)
		}
	}
	var post strings.Builder
	post.WriteString("\nexport const scope = {}\n")
	for _, name := range readmeScope {
		fmt.Fprintf(&post, "try { scope.%s = %s } catch {}\n", name, name)
	}
	return pre.String() + code + post.String()
}

// readmePage has the import map the blocks are written against.
const readmePage = `<!doctype html><meta charset="utf-8"><title>README</title>
<script type="importmap">{"imports": {
  "jwtfetch": "/jsglue/jwtfetch.js",
  "axios": "/node_modules/axios/dist/esm/axios.js"
}}</script>
<body data-ready="true">`

// readmeChecks are what must hold after particular blocks ran, keyed by a
// line that identifies the block. Every key must match a block: a check
// whose block was rewritten fails instead of silently checking nothing.
var readmeChecks = map[string]func(t *testing.T, s *site, tb *tab){
	// The axios interceptor the README replaces: it works for one refresh.
	"api.interceptors.response.use(undefined, async (error) => {": func(t *testing.T, s *site, tb *tab) {
		tb.eval(`fetch('/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ username: 'demo', password: 'demo123' }) }).then(r => r.json()).then(d => {
			localStorage.setItem('access', d.access)
			localStorage.setItem('refresh', d.refresh)
			return true
		})`, nil)
		s.RevokeAccessTokens()
		var user string
		tb.eval(`scope.api.get('/me').then(r => r.data.user)`, &user)
		assert.Equal(t, "demo", user)
		assert.EqualValues(t, 1, s.Counters().Refreshes)
	},
	// Listeners tell a login, a refresh, and another tab's logout apart.
	"api.auth.on('tokens', (name, { authenticated, fromOtherTab }) => {": func(t *testing.T, s *site, tb *tab) {
		tb.eval(`scope.api.post('/auth/login', { username: 'demo', password: 'demo123' }, { skipAuth: true })
			.then(({ data }) => (scope.api.auth.setTokens({ accessToken: data.access, refreshToken: data.refresh }), true))`, nil)
		s.RevokeAccessTokens()
		tb.eval(`scope.api.get('/api/me').then(r => r.status)`, nil)
		other := newTab(t)
		other.open(s.URL + "/blank.html")
		other.eval(`import('/jsglue/jwtfetch.js').then(m => (m.create({ auth: { refreshURL: '/auth/refresh' } }).auth.clear(), true))`, nil)
		tb.waitTrue(`scope.seen.length === 4`, "the other tab's logout is heard")
		var seen []string
		tb.eval(`scope.seen`, &seen)
		assert.Equal(t, []string{"signed in or refreshed", "signed in or refreshed", "refreshed", "signed out in another tab"}, seen)
	},
	// Cookie mode: nothing in storage but a marker, logout tells the server.
	"api.auth.clear() // POSTs /auth/logout": func(t *testing.T, s *site, tb *tab) {
		var got struct {
			Me     int
			Authed bool
			Stored string
		}
		tb.eval(`({ me: scope.me.status, authed: scope.api.auth.isAuthenticated(), stored: JSON.stringify(localStorage) })`, &got)
		assert.Equal(t, 200, got.Me)
		assert.False(t, got.Authed)
		assert.Equal(t, "{}", got.Stored, "not even the marker after the logout")
		c := s.Counters()
		assert.EqualValues(t, 1, c.Logins)
		assert.EqualValues(t, 1, c.Logouts, "the server was told")
		tb.waitTrue(`document.cookie === ''`, "the server deleted the XSRF cookie at the logout")
	},
	// DPoP: the login and the request carry proofs; the tokens are bound.
	"const me = await api.get('/api/me') // Authorization: DPoP <token> and DPoP: <proof>": func(t *testing.T, s *site, tb *tab) {
		var got struct {
			Me   int
			Type string
		}
		tb.eval(`({ me: scope.me.status, type: scope.data.token_type })`, &got)
		assert.Equal(t, 200, got.Me)
		assert.Equal(t, "DPoP", got.Type, "the server bound the tokens to the key")
		c := s.Counters()
		assert.EqualValues(t, 2, c.DPoPProofs, "the login's proof and the request's")
		assert.Zero(t, c.DPoPRejected)
		assert.Len(t, s.DPoPKeys(), 1)
	},
	// Usage: log in, two requests, log out.
	"const res = await api.fetch('/api/me')": func(t *testing.T, s *site, tb *tab) {
		var got struct {
			Me, Res int
			User    string
			Authed  bool
		}
		tb.eval(`({ me: scope.me.status, user: scope.me.data.user, res: scope.res.status, authed: scope.api.auth.isAuthenticated() })`, &got)
		assert.Equal(t, 200, got.Me)
		assert.Equal(t, "demo", got.User)
		assert.Equal(t, 200, got.Res)
		assert.False(t, got.Authed, "logged out at the end")
		c := s.Counters()
		assert.EqualValues(t, 1, c.Logins)
		assert.EqualValues(t, 2, c.APICalls)
		assert.Zero(t, c.Unauthorized)
	},
}

func TestReadmeSnippets(t *testing.T) {
	snippets := readmeSnippets(t)
	require.NotEmpty(t, snippets)
	axios, err := filepath.Abs("../../jsglue/test/node_modules/axios")
	require.NoError(t, err)
	if _, err := os.Stat(axios); err != nil {
		t.Fatalf("axios missing (%v): run `make test`, which runs npm ci in jsglue/test", err)
	}
	used := map[string]bool{}
	for _, sn := range snippets {
		t.Run(fmt.Sprintf("README.md:%d", sn.line), func(t *testing.T) {
			module := readmeModule(sn.code)
			s := newSiteWith(t, time.Minute, map[string]http.Handler{
				"GET /readme/page.html": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					_, _ = w.Write([]byte(readmePage))
				}),
				"GET /readme/snippet.js": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
					_, _ = w.Write([]byte(module))
				}),
				"/node_modules/axios/": http.StripPrefix("/node_modules/axios/", http.FileServer(http.Dir(axios))),
			})
			tb := newTab(t)
			tb.open(s.URL + "/readme/page.html")
			var result string
			tb.eval(`import('/readme/snippet.js').then(m => { window.scope = m.scope; return 'ok' },
				e => 'threw ' + (e?.name ?? '') + ': ' + (e?.message ?? String(e)))`, &result)
			require.Equal(t, "ok", result, "the block at README.md:%d:\n%s", sn.line, sn.code)
			for key, check := range readmeChecks {
				if strings.Contains(sn.code, key) {
					used[key] = true
					check(t, s, tb)
				}
			}
			console, thrown := tb.syncedLogs()
			assert.Empty(t, thrown, "exceptions")
			for _, l := range console {
				if strings.HasPrefix(l, "error:") && !strings.Contains(l, "Failed to load resource") {
					t.Errorf("console: %s", l)
				}
			}
		})
	}
	for key := range readmeChecks {
		assert.True(t, used[key], "no README block contains %q any more: update readmeChecks", key)
	}
}

//go:build !js

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPackagedInVite packs jsglue as npm would publish it (its package.json,
// files and prepack), installs the tarball into a throwaway Vite app with a
// plain page, a React page (jwtfetch/react) and a Vue page (jwtfetch/vue),
// and walks each page through a session in Chromium: once built by `vite
// build` and served by the test site, once from the `vite` dev server with
// the API on another port behind its proxy. So the package's exports, files,
// bindings and the wasm asset URL work for a bundler user, not only from
// /jsglue/.
func TestPackagedInVite(t *testing.T) {
	vite := viteBin(t)
	tmp := t.TempDir()
	tarball := packJSGlue(t, tmp)
	app := newViteApp(t, filepath.Join(tmp, "app"), tarball)

	t.Run("build", func(t *testing.T) {
		runIn(t, app, vite, "build", "--base", "/app/", "--logLevel", "warn")
		wasms, _ := filepath.Glob(filepath.Join(app, "dist", "assets", "*.wasm"))
		require.Len(t, wasms, 1, "Vite emits the wasm as one asset")
		hashed := "/app/assets/" + filepath.Base(wasms[0])
		require.Regexp(t, `^/app/assets/jwtfetch-[\w-]+\.wasm$`, hashed)

		s := newSiteWith(t, time.Minute, map[string]http.Handler{
			"/app/": http.StripPrefix("/app/", http.FileServer(http.Dir(filepath.Join(app, "dist")))),
		})
		t.Run("plain", func(t *testing.T) {
			tb := newTab(t)
			viteSession(t, tb, s, s.URL+"/app/")
			viteCheckPreload(t, tb, s.URL+hashed)
		})
		t.Run("react", func(t *testing.T) {
			tb := newTab(t)
			viteSession(t, tb, s, s.URL+"/app/react.html")
			viteCheckInstances(tb, 1)
			viteCheckWasmFetches(tb, s.URL+hashed)
			viteBindingEdges(t, tb, s)
		})
		t.Run("vue", func(t *testing.T) {
			tb := newTab(t)
			viteSession(t, tb, s, s.URL+"/app/vue.html")
			viteCheckWasmFetches(tb, s.URL+hashed)
			viteBindingEdges(t, tb, s)
		})
	})

	t.Run("dev", func(t *testing.T) {
		// The API on another port: the test site, behind Vite's proxy.
		s := newSite(t, time.Minute)
		url := startVite(t, vite, app, "JWTFETCH_API="+s.URL)
		wasm := url + "/node_modules/jwtfetch/jwtfetch.wasm"
		t.Run("plain", func(t *testing.T) {
			tb := newTab(t)
			viteSession(t, tb, s, url+"/")
			viteCheckPreload(t, tb, wasm)
		})
		t.Run("react", func(t *testing.T) {
			tb := newTab(t)
			viteSession(t, tb, s, url+"/react.html")
			// React's development build: StrictMode mounts the provider
			// twice, and the first instance is destroyed.
			viteCheckInstances(tb, 2)
			viteCheckWasmFetches(tb, wasm)
		})
		t.Run("vue", func(t *testing.T) {
			tb := newTab(t)
			viteSession(t, tb, s, url+"/vue.html")
			viteCheckWasmFetches(tb, wasm)
		})
	})

	// npm install <folder> makes node_modules/jwtfetch a symlink. Vite does
	// not pre-bundle a linked package and serves it from its real path,
	// outside the app. It serves the modules the app imports from there,
	// but refuses (403) the wasm that jwtfetch.js asks for with new
	// URL('./jwtfetch.wasm', import.meta.url) unless server.fs.allow lists
	// the folder (or a module it transformed imports jwtfetch.wasm?url).
	// The React page loads the wasm from that default URL.
	t.Run("dev, linked package", func(t *testing.T) {
		pkg := filepath.Join(tmp, "pkg")
		linked := newViteApp(t, filepath.Join(tmp, "linked"), pkg)
		fi, err := os.Lstat(filepath.Join(linked, "node_modules", "jwtfetch"))
		require.NoError(t, err)
		require.NotZero(t, fi.Mode()&os.ModeSymlink, "npm install <folder> links it")
		s := newSite(t, time.Minute)
		url := startVite(t, vite, linked, "JWTFETCH_API="+s.URL, "JWTFETCH_ALLOW="+pkg)
		tb := newTab(t)
		viteSession(t, tb, s, url+"/react.html")
		viteCheckWasmFetches(tb, url+"/@fs"+filepath.ToSlash(pkg)+"/jwtfetch.wasm")
	})
}

// TestPackagedPrepack checks that `npm pack` refuses to make a tarball
// without the build outputs, and says what to do.
func TestPackagedPrepack(t *testing.T) {
	tmp := t.TempDir()
	pkg := filepath.Join(tmp, "pkg")
	copyJSGlueSources(t, pkg)
	cmd := exec.Command("npm", "pack", "--pack-destination", tmp)
	cmd.Dir = pkg
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "npm pack without jwtfetch.wasm must fail; it printed:\n%s", out)
	assert.Contains(t, string(out), "jwtfetch: jwtfetch.wasm and wasm_exec.js missing next to package.json; run `make build` first")
	tarballs, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	assert.Empty(t, tarballs, "no tarball")
}

// viteBin is Vite's command, installed in jsglue/test by `make test`.
func viteBin(t *testing.T) string {
	t.Helper()
	tools, err := filepath.Abs("../../jsglue/test/node_modules/.bin")
	require.NoError(t, err)
	vite := filepath.Join(tools, "vite")
	if _, err := os.Stat(vite); err != nil {
		t.Fatalf("vite missing (%v): run `make test`, which runs npm ci in jsglue/test", err)
	}
	return vite
}

// jsglueBuildOutputs are the files of jsglue/ that `make build` writes; the
// tests take them from the e2e's own build (jsglueDir).
var jsglueBuildOutputs = []string{"jwtfetch.wasm", "wasm_exec.js"}

// copyJSGlueSources copies jsglue/'s own files (not its build outputs, not
// test/) to dir.
func copyJSGlueSources(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	entries, err := os.ReadDir(filepath.Join("..", "..", "jsglue"))
	require.NoError(t, err)
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, "jwtfetch.wasm") || strings.HasPrefix(name, "wasm_exec.js") ||
			strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") {
			continue
		}
		copyFile(t, filepath.Join("..", "..", "jsglue", name), filepath.Join(dir, name))
	}
}

// packJSGlue makes the package directory tmp/pkg (the sources plus the
// build outputs), packs it with npm pack into tmp, checks the tarball's
// files and returns its path.
func packJSGlue(t *testing.T, tmp string) string {
	t.Helper()
	pkg := filepath.Join(tmp, "pkg")
	copyJSGlueSources(t, pkg)
	for _, f := range jsglueBuildOutputs {
		copyFile(t, filepath.Join(jsglueDir, f), filepath.Join(pkg, f))
	}
	out := runIn(t, pkg, "npm", "pack", "--json", "--pack-destination", tmp)
	var packed []struct {
		Filename string
		Files    []struct{ Path string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &packed), out)
	require.Len(t, packed, 1)
	var files []string
	for _, f := range packed[0].Files {
		files = append(files, f.Path)
	}
	sort.Strings(files)
	assert.Equal(t, []string{
		"bindings.d.ts", "bindings.js", "jwtfetch.d.ts", "jwtfetch.js", "jwtfetch.wasm", "package.json",
		"react.d.ts", "react.js", "vue.d.ts", "vue.js", "wasm_exec.js",
	}, files, "files in the tarball")
	return filepath.Join(tmp, packed[0].Filename)
}

// viteAppDeps are the packages the throwaway app installs besides jwtfetch.
var viteAppDeps = []string{"react", "react-dom", "vue"}

// newViteApp writes the throwaway app to dir and installs its packages
// offline, from npm's cache: jwtfetch from pkg (a tarball, or a folder,
// which npm links), and React and Vue at the versions jsglue/test locks,
// which `npm ci` there has put in the cache. The app gets a lock file made
// from jsglue/test's, so that npm needs no registry metadata.
func newViteApp(t *testing.T, dir, pkg string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, content := range viteAppFiles {
		writeFile(t, filepath.Join(dir, name), content)
	}
	manifest, lock := viteAppLock(t, filepath.Join("..", "..", "jsglue", "test", "package-lock.json"), viteAppDeps)
	writeFile(t, filepath.Join(dir, "package.json"), manifest)
	writeFile(t, filepath.Join(dir, "package-lock.json"), lock)
	runIn(t, dir, "npm", "install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", pkg)
	return dir
}

// viteAppLock returns the package.json and package-lock.json of an app
// that depends on deps, with the versions and the entries (those of deps
// and of everything they need) of the lock file at lockPath.
func viteAppLock(t *testing.T, lockPath string, deps []string) (manifest, lock string) {
	t.Helper()
	b, err := os.ReadFile(lockPath)
	require.NoError(t, err)
	var src struct {
		Packages map[string]map[string]any `json:"packages"`
	}
	require.NoError(t, json.Unmarshal(b, &src))
	// resolve finds the entry a package at path from gets for name, as
	// Node resolves: its own node_modules first, then its parents'.
	resolve := func(from, name string) string {
		for {
			p := "node_modules/" + name
			if from != "" {
				p = from + "/" + p
			}
			if _, ok := src.Packages[p]; ok {
				return p
			}
			if from == "" {
				return ""
			}
			if i := strings.LastIndex(from, "/node_modules/"); i >= 0 {
				from = from[:i]
			} else {
				from = ""
			}
		}
	}
	direct := map[string]string{}
	packages := map[string]any{}
	var queue []string
	for _, d := range deps {
		p := resolve("", d)
		require.NotEmpty(t, p, "%s is not in %s: add it to jsglue/test's devDependencies", d, lockPath)
		direct[d] = src.Packages[p]["version"].(string)
		queue = append(queue, p)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if _, done := packages[p]; done {
			continue
		}
		entry := map[string]any{}
		for k, v := range src.Packages[p] {
			if k != "dev" && k != "devOptional" && k != "peer" {
				entry[k] = v
			}
		}
		packages[p] = entry
		needs, _ := entry["dependencies"].(map[string]any)
		peers, _ := entry["peerDependencies"].(map[string]any)
		optionalPeers, _ := entry["peerDependenciesMeta"].(map[string]any)
		names := make([]string, 0, len(needs)+len(peers))
		for n := range needs {
			names = append(names, n)
		}
		for n := range peers {
			if meta, _ := optionalPeers[n].(map[string]any); meta["optional"] != true {
				names = append(names, n)
			}
		}
		for _, n := range names {
			r := resolve(p, n)
			require.NotEmpty(t, r, "%s needs %s, which is not in %s", p, n, lockPath)
			queue = append(queue, r)
		}
	}
	packages[""] = map[string]any{"name": "app", "dependencies": direct}
	m, err := json.MarshalIndent(map[string]any{"name": "app", "private": true, "type": "module", "dependencies": direct}, "", "  ")
	require.NoError(t, err)
	l, err := json.MarshalIndent(map[string]any{"name": "app", "lockfileVersion": 3, "requires": true, "packages": packages}, "", "  ")
	require.NoError(t, err)
	return string(m), string(l)
}

// startVite starts the Vite dev server in dir on a free port, with env
// added to its environment, waits until it serves, and stops it when the
// test ends, whatever the outcome. It returns the server's URL.
func startVite(t *testing.T, vite, dir string, env ...string) string {
	t.Helper()
	cmd := exec.Command(vite, "--host", "127.0.0.1", "--port", "0", "--clearScreen", "false")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	out := &lineWatch{re: regexp.MustCompile(`Local:\s+(http://127\.0\.0\.1:\d+)/`), found: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	var url string
	select {
	case url = <-out.found:
	case err := <-exited:
		t.Fatalf("vite dev server exited (%v):\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("vite dev server printed no URL in 30 s:\n%s", out.String())
	}
	// It prints the URL once it listens; check that it serves. (Not a
	// page: serving one makes Vite transform its modules, which changes
	// what it then allows to be served; see "dev, linked package".)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url + "/@vite/client")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("vite dev server at %s does not serve / (%v):\n%s", url, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lineWatch collects a process's output and sends the first submatch of re
// on found when a line matches.
type lineWatch struct {
	re    *regexp.Regexp
	found chan string

	mu   sync.Mutex
	buf  strings.Builder
	sent bool
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.sent {
		if m := w.re.FindStringSubmatch(w.buf.String()); m != nil {
			w.sent = true
			w.found <- m[1]
		}
	}
	return len(p), nil
}

func (w *lineWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// viteSession walks a page of the throwaway app through a session: log
// in, outlive a server-side revocation of the access token with one
// refresh, log out; the page shows isAuthenticated (#state) and the
// token's claims (#user: sub, #exp: exp) as they change.
func viteSession(t *testing.T, tb *tab, s *site, url string) {
	t.Helper()
	tb.open(url)
	require.Empty(t, tb.text("#error"), "the page loads")
	assert.Equal(t, "signed out", tb.text("#state"))
	assert.Empty(t, tb.text("#user"))

	tb.click("#login")
	tb.waitText("#state", "signed in")
	tb.waitText("#user", "demo")
	exp := viteExp(tb)
	require.NotZero(t, exp, "#exp shows the token's exp")
	var first string
	tb.eval(`api.auth.accessToken()`, &first)

	s.RevokeAccessTokens()
	s.ResetCounters()
	tb.click("#load")
	tb.waitText("#me", "demo")
	tb.waitTrue(fmt.Sprintf(`Number(document.querySelector('#exp').textContent) > %v`, exp), "#exp shows the refreshed token's exp")
	c := s.Counters()
	assert.EqualValues(t, 1, c.Unauthorized, "the revoked token was refused")
	assert.EqualValues(t, 1, c.Refreshes, "refreshes")
	var second string
	tb.eval(`api.auth.accessToken()`, &second)
	assert.NotEqual(t, first, second)

	tb.click("#logout")
	tb.waitText("#state", "signed out")
	tb.waitTrue(`document.querySelector('#user').textContent === '' && document.querySelector('#exp').textContent === ''`, "the claims are gone")
	assert.EqualValues(t, 1, s.Counters().Logouts, "the server ended the session")
	assert.Empty(t, tb.text("#error"))

	console, thrown := tb.syncedLogs()
	assert.Empty(t, thrown, "uncaught exceptions")
	for _, line := range console {
		assert.False(t, strings.Contains(line, first) || strings.Contains(line, second), "a token reached the console: %q", line)
	}
}

// viteExp is the number the page shows in #exp, or 0.
func viteExp(tb *tab) float64 {
	tb.t.Helper()
	var exp float64
	tb.eval(`Number(document.querySelector('#exp').textContent)`, &exp)
	return exp
}

// viteCheckPreload checks that the page preloads the wasm with a link tag
// and that the runtime fetched that same URL, wasm, once: a preload whose
// URL, mode or credentials differ from the runtime's fetch is a second
// download (and a console warning about an unused preload).
func viteCheckPreload(t *testing.T, tb *tab, wasm string) {
	t.Helper()
	var got struct {
		Preload string
		URL     string // what the page passed to create({ wasmURL })
	}
	tb.eval(`({ preload: document.querySelector('link[rel=preload][as=fetch]')?.href ?? '', url: new URL(window.wasmURL, location.href).href })`, &got)
	assert.Equal(t, wasm, got.Preload, "the preloaded URL")
	assert.Equal(t, wasm, got.URL, "the URL the runtime is loaded from")
	viteCheckWasmFetches(tb, wasm)
	var initiator string
	tb.eval(`performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'))?.initiatorType ?? ''`, &initiator)
	assert.Equal(t, "link", initiator, "the link tag fetched the wasm, and the runtime used that response")
}

// viteCheckWasmFetches checks that the page fetched one wasm, the one at
// url. (In dev, the module Vite makes of an ?url import is fetched as
// jwtfetch.wasm?import&url: JavaScript, not counted.)
func viteCheckWasmFetches(tb *tab, url string) {
	tb.t.Helper()
	var fetched []string
	tb.eval(`performance.getEntriesByType('resource')
		.filter((e) => { const u = new URL(e.name); return u.pathname.endsWith('.wasm') && !u.searchParams.has('import') })
		.map((e) => e.name)`, &fetched)
	assert.Equal(tb.t, []string{url}, fetched, "wasm fetches")
}

// viteCheckInstances checks how many instances the React page's provider
// created, and that one is alive.
func viteCheckInstances(tb *tab, created int) {
	tb.t.Helper()
	var got struct{ Created, Alive int }
	tb.eval(`window.instances`, &got)
	assert.Equal(tb.t, created, got.Created, "instances created")
	assert.Equal(tb.t, 1, got.Alive, "instances alive")
}

// viteBindingEdges checks the bindings' login, logout and claims at their
// edges, through window.session (the page's useJwtFetch()).
func viteBindingEdges(t *testing.T, tb *tab, s *site) {
	t.Run("login answer without tokens", func(t *testing.T) {
		var got struct{ Name, Code, Message string }
		// /public/echo answers JSON that quotes the request body.
		tb.eval(`session.login('/public/echo', { secret: 'body-secret-123' }).then(
			() => ({ name: 'resolved' }),
			(e) => ({ name: e.name, code: e.code, message: e.message }))`, &got)
		assert.Equal(t, "JwtFetchError", got.Name)
		assert.Equal(t, "ERR_BAD_RESPONSE", got.Code)
		assert.Contains(t, got.Message, "access, access_token, accessToken, token")
		assert.NotContains(t, got.Message, "body-secret-123", "the message quotes the body")
		assert.Equal(t, "signed out", tb.text("#state"))
	})
	t.Run("a token that is not a JWT", func(t *testing.T) {
		tb.eval(`api.auth.setTokens({ accessToken: 'opaque.not!base64.json', refreshToken: 'r', expiresIn: 60 }), true`, nil)
		tb.waitText("#state", "signed in")
		assert.Empty(t, tb.text("#user"), "no claims")
		assert.Empty(t, tb.text("#exp"))
		s.ResetCounters()
		tb.eval(`session.logout().then(() => true)`, nil)
		tb.waitText("#state", "signed out")
		assert.Zero(t, s.Counters().Logouts, "logout() without a URL calls no server")
		_, thrown := tb.syncedLogs()
		assert.Empty(t, thrown, "uncaught exceptions")
	})
}

// viteAppFiles is the throwaway app: a plain page, a React page and a Vue
// page that each log in, show the session and log out, and its Vite
// config. The pages show the same elements (#state, #user, #exp, #me,
// #error; buttons #login, #load, #logout) and set body[data-ready] once the
// runtime is ready, or failed to load (in #error).
var viteAppFiles = map[string]string{
	"vite.config.js": `import { resolve } from 'node:path'

// JWTFETCH_API: where the dev server's proxy sends /api and /auth (the API
// on another port). JWTFETCH_ALLOW: a folder outside the app the dev server
// may serve files from (a linked jwtfetch).
const api = process.env.JWTFETCH_API
const allow = process.env.JWTFETCH_ALLOW

export default {
  define: {
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  server: {
    proxy: api && {
      '/api': { target: api, changeOrigin: true },
      '/auth': { target: api, changeOrigin: true },
    },
    fs: allow ? { allow: [process.cwd(), allow] } : undefined,
  },
  build: {
    rolldownOptions: {
      input: { index: resolve('index.html'), react: resolve('react.html'), vue: resolve('vue.html') },
    },
  },
}
`,
	"shared.js": `// The create() config of every page: the API at the page's origin (the
// test site for a build, Vite's proxy in dev).
export const config = { baseURL: '/', auth: { refreshURL: '/auth/refresh', storage: 'memory' } }
export const credentials = { username: 'demo', password: 'demo123' }
`,
	// The plain page preloads the wasm Vite hashes, and passes the same
	// URL (an ?url import) to create().
	"index.html": `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>plain</title>
<link rel="preload" href="/node_modules/jwtfetch/jwtfetch.wasm" as="fetch" type="application/wasm" crossorigin>
</head>
<body>
<p><button id="login">Log in</button> <button id="load">Load</button> <button id="logout">Log out</button></p>
<p id="state">loading…</p><p id="user"></p><p id="exp"></p><pre id="me"></pre><p id="error"></p>
<script type="module" src="/plain.js"></script>
</body>
</html>
`,
	"plain.js": `import { create } from 'jwtfetch'
import wasmURL from 'jwtfetch/jwtfetch.wasm?url'
import { config, credentials } from './shared.js'

window.wasmURL = wasmURL
const api = (window.api = create({ ...config, wasmURL }))
const $ = (id) => document.getElementById(id)

function claims(token) {
  const b64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
  return JSON.parse(atob(b64))
}

function show() {
  const token = api.auth.accessToken()
  const c = token ? claims(token) : null
  $('state').textContent = api.auth.isAuthenticated() ? 'signed in' : 'signed out'
  $('user').textContent = c?.sub ?? ''
  $('exp').textContent = c?.exp ?? ''
}

const run = (f) => () => f().catch((e) => { $('error').textContent = e.code ?? String(e) })
api.auth.on('tokens', show)
$('login').onclick = run(async () => {
  const { data } = await api.post('/auth/login', credentials, { skipAuth: true })
  api.auth.setTokens({ accessToken: data.access, refreshToken: data.refresh })
})
$('load').onclick = run(async () => { $('me').textContent = (await api.get('/api/me')).data.user })
$('logout').onclick = run(async () => {
  await api.post('/auth/logout', null, { skipRefresh: true }).catch(() => {})
  api.auth.clear()
})
api.ready.then(show, (e) => { $('error').textContent = e.message }).finally(() => {
  document.body.dataset.ready = 'true'
})
`,
	"react.html": `<!doctype html>
<html><head><meta charset="utf-8"><title>react</title></head>
<body><div id="app"></div><script type="module" src="/react.js"></script></body></html>
`,
	// createElement, no JSX: no compiler plugin needed.
	"react.js": `import { createElement as h, StrictMode, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { create } from 'jwtfetch'
import { JwtFetchProvider, useJwtFetch } from 'jwtfetch/react'
import { config, credentials } from './shared.js'

// Counts the provider's instances (StrictMode makes two in development).
window.instances = { created: 0, alive: 0 }
function createInstance(cfg) {
  const api = create(cfg)
  window.instances.created++
  window.instances.alive++
  const destroy = api.destroy
  api.destroy = () => {
    window.instances.alive--
    destroy()
  }
  return api
}

function App() {
  const session = useJwtFetch()
  const { api, ready, error: loadError, isAuthenticated, claims, login, logout } = session
  const [me, setMe] = useState('')
  const [error, setError] = useState('')
  useEffect(() => {
    window.api = api
    window.session = session
    if (ready || loadError) document.body.dataset.ready = 'true'
  })
  const run = (f) => () => f().catch((e) => setError(e.code ?? String(e)))
  return h('div', null,
    h('button', { id: 'login', onClick: run(() => login('/auth/login', credentials)) }, 'Log in'),
    h('button', { id: 'load', onClick: run(async () => setMe((await api.get('/api/me')).data.user)) }, 'Load'),
    h('button', { id: 'logout', onClick: run(() => logout('/auth/logout')) }, 'Log out'),
    h('p', { id: 'state' }, !ready ? 'loading…' : isAuthenticated ? 'signed in' : 'signed out'),
    h('p', { id: 'user' }, claims?.sub ?? ''),
    h('p', { id: 'exp' }, claims?.exp ?? ''),
    h('pre', { id: 'me' }, me),
    h('p', { id: 'error' }, error || (loadError?.message ?? '')),
  )
}

createRoot(document.getElementById('app')).render(
  h(StrictMode, null, h(JwtFetchProvider, { config, createInstance }, h(App))),
)
`,
	"vue.html": `<!doctype html>
<html><head><meta charset="utf-8"><title>vue</title></head>
<body><div id="app"></div><script type="module" src="/vue.js"></script></body></html>
`,
	// h() render functions: no template compiler, no plugin.
	"vue.js": `import { createApp, h, ref, watch } from 'vue'
import { createJwtFetch, useJwtFetch } from 'jwtfetch/vue'
import { config, credentials } from './shared.js'

const App = {
  setup() {
    const session = useJwtFetch()
    const { api, ready, error: loadError, isAuthenticated, claims, login, logout } = session
    const me = ref('')
    const error = ref('')
    window.api = api
    window.session = session
    watch([ready, loadError], ([r, e]) => {
      if (e) error.value = e.message
      if (r || e) document.body.dataset.ready = 'true'
    }, { immediate: true, flush: 'post' })
    const run = (f) => () => f().catch((e) => { error.value = e.code ?? String(e) })
    return () => [
      h('button', { id: 'login', onClick: run(() => login('/auth/login', credentials)) }, 'Log in'),
      h('button', { id: 'load', onClick: run(async () => { me.value = (await api.get('/api/me')).data.user }) }, 'Load'),
      h('button', { id: 'logout', onClick: run(() => logout('/auth/logout')) }, 'Log out'),
      h('p', { id: 'state' }, !ready.value ? 'loading…' : isAuthenticated.value ? 'signed in' : 'signed out'),
      h('p', { id: 'user' }, claims.value?.sub ?? ''),
      h('p', { id: 'exp' }, claims.value?.exp ?? ''),
      h('pre', { id: 'me' }, me.value),
      h('p', { id: 'error' }, error.value),
    ]
  },
}

createApp(App).use(createJwtFetch(config)).mount('#app')
`,
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o644))
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(name, []byte(content), 0o644))
}

// runIn runs a command in dir and returns its standard output.
func runIn(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), stderr.String())
	return string(out)
}

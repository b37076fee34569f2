//go:build !js

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPackagedInVite packs jsglue as npm would publish it, installs the
// tarball into a throwaway Vite app, builds the app and runs the built page
// in Chromium: the package's exports, files and the wasm asset URL work for
// a bundler user, not only from /jsglue/.
func TestPackagedInVite(t *testing.T) {
	tools, err := filepath.Abs("../../jsglue/test/node_modules/.bin")
	require.NoError(t, err)
	vite := filepath.Join(tools, "vite")
	if _, err := os.Stat(vite); err != nil {
		t.Fatalf("vite missing (%v): run `make test`, which runs npm ci in jsglue/test", err)
	}
	tmp := t.TempDir()

	// The package directory: the sources plus the built files.
	pkg := filepath.Join(tmp, "pkg")
	require.NoError(t, os.MkdirAll(pkg, 0o755))
	for _, f := range []string{"jwtfetch.js", "jwtfetch.d.ts", "package.json"} {
		copyFile(t, filepath.Join("..", "..", "jsglue", f), filepath.Join(pkg, f))
	}
	for _, f := range []string{"jwtfetch.wasm", "wasm_exec.js"} {
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
	assert.Equal(t, []string{"jwtfetch.d.ts", "jwtfetch.js", "jwtfetch.wasm", "package.json", "wasm_exec.js"}, files, "files in the tarball")

	// The app: installs the tarball, imports the bare name.
	app := filepath.Join(tmp, "app")
	require.NoError(t, os.MkdirAll(app, 0o755))
	writeFile(t, filepath.Join(app, "package.json"), `{"name": "app", "private": true, "type": "module"}`)
	writeFile(t, filepath.Join(app, "index.html"), `<!doctype html><meta charset="utf-8"><title>app</title>
<script type="module" src="/main.js"></script><body>`)
	writeFile(t, filepath.Join(app, "main.js"), `import { create, isJwtFetchError } from 'jwtfetch'
window.api = create({ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } })
window.isJwtFetchError = isJwtFetchError
api.ready.then(() => { document.body.dataset.ready = 'true' })
`)
	runIn(t, app, "npm", "install", "--offline", "--no-audit", "--no-fund", filepath.Join(tmp, packed[0].Filename))
	runIn(t, app, vite, "build", "--base", "/app/", "--logLevel", "warn")
	wasms, _ := filepath.Glob(filepath.Join(app, "dist", "assets", "*.wasm"))
	require.Len(t, wasms, 1, "Vite emits the wasm as an asset")

	s := newSiteWith(t, time.Minute, map[string]http.Handler{
		"/app/": http.StripPrefix("/app/", http.FileServer(http.Dir(filepath.Join(app, "dist")))),
	})
	tb := newTab(t)
	tb.open(s.URL + "/app/")
	tb.login()
	s.RevokeAccessTokens()
	s.ResetCounters()
	var users []string
	tb.eval(`Promise.all(Array.from({length: 5}, () => api.get('/api/me').then(r => r.data.user)))`, &users)
	assert.Equal(t, []string{"demo", "demo", "demo", "demo", "demo"}, users)
	assert.EqualValues(t, 1, s.Counters().Refreshes)
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

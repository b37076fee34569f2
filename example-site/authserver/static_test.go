package authserver

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func TestStatic(t *testing.T) {
	base := t.TempDir()
	web, glue := filepath.Join(base, "web"), filepath.Join(base, "jsglue")
	writeFiles(t, web, map[string]string{
		"index.html":       "<h1>demo</h1>",
		"app.js":           "console.log(1)",
		"app.js.br":        "BROTLI",
		"app.js.gz":        "GZIP",
		"only-gz.css":      "body{}",
		"only-gz.css.gz":   "GZCSS",
		"sub/index.html":   "<p>sub</p>",
		"empty/readme.txt": "no index here",
		".hidden/secret":   "hidden",
		"data.json":        `{"a":1}`,
		"noext":            "plain bytes",
	})
	writeFiles(t, glue, map[string]string{
		"jwtfetch.wasm":    "\x00asm\x01\x00\x00\x00",
		"jwtfetch.wasm.br": "WASMBR",
		"jwtfetch.js":      "export {}",
	})
	writeFiles(t, base, map[string]string{"secret.txt": "outside"})
	require.NoError(t, os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(web, "link.txt")))

	s := New(Config{WebDir: web, JSGlueDir: glue})
	tests := []struct {
		name         string
		method       string
		path         string
		accept       string
		wantStatus   int
		wantType     string
		wantEncoding string
		wantBody     string
		wantVary     bool
	}{
		{"index", "GET", "/", "", 200, "text/html; charset=utf-8", "", "<h1>demo</h1>", false},
		{"index by name", "GET", "/index.html", "", 200, "text/html; charset=utf-8", "", "<h1>demo</h1>", false},
		{"js identity", "GET", "/app.js", "", 200, "text/javascript; charset=utf-8", "", "console.log(1)", true},
		{"js br", "GET", "/app.js", "gzip, deflate, br, zstd", 200, "text/javascript; charset=utf-8", "br", "BROTLI", true},
		{"js gzip", "GET", "/app.js", "gzip", 200, "text/javascript; charset=utf-8", "gzip", "GZIP", true},
		{"js br refused", "GET", "/app.js", "br;q=0, gzip;q=0.5", 200, "text/javascript; charset=utf-8", "gzip", "GZIP", true},
		{"css only gz", "GET", "/only-gz.css", "br", 200, "text/css; charset=utf-8", "", "body{}", true},
		{"css gz", "GET", "/only-gz.css", "br, gzip", 200, "text/css; charset=utf-8", "gzip", "GZCSS", true},
		{"json", "GET", "/data.json", "", 200, "application/json", "", `{"a":1}`, false},
		{"sniffed", "GET", "/noext", "", 200, "text/plain; charset=utf-8", "", "plain bytes", false},
		{"subdir index", "GET", "/sub/", "", 200, "text/html; charset=utf-8", "", "<p>sub</p>", false},
		{"head", "HEAD", "/app.js", "br", 200, "text/javascript; charset=utf-8", "br", "", true},
		{"wasm br", "GET", "/jsglue/jwtfetch.wasm", "br", 200, "application/wasm", "br", "WASMBR", true},
		{"wasm", "GET", "/jsglue/jwtfetch.wasm", "", 200, "application/wasm", "", "\x00asm\x01\x00\x00\x00", true},
		{"glue js", "GET", "/jsglue/jwtfetch.js", "", 200, "text/javascript; charset=utf-8", "", "export {}", false},
		{"glue dir no index", "GET", "/jsglue/", "", 404, "", "", "", false},
		{"dir without index", "GET", "/empty/", "", 404, "", "", "", false},
		{"missing", "GET", "/nope.js", "", 404, "", "", "", false},
		{"hidden", "GET", "/.hidden/secret", "", 404, "", "", "", false},
		{"symlink out of root", "GET", "/link.txt", "", 404, "", "", "", false},
		{"post", "POST", "/app.js", "", 405, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, s, tt.method, tt.path, "", "Accept-Encoding", tt.accept)
			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			if tt.wantStatus != http.StatusOK {
				assert.NotContains(t, rec.Body.String(), "outside")
				assert.NotContains(t, rec.Body.String(), "readme")
				return
			}
			h := rec.Header()
			assert.Equal(t, tt.wantType, h.Get("Content-Type"))
			assert.Equal(t, tt.wantEncoding, h.Get("Content-Encoding"))
			assert.Equal(t, "no-cache", h.Get("Cache-Control"))
			assert.Equal(t, tt.wantBody, rec.Body.String())
			if tt.wantVary {
				assert.Contains(t, h.Values("Vary"), "Accept-Encoding")
			} else {
				assert.NotContains(t, h.Values("Vary"), "Accept-Encoding")
			}
		})
	}
}

func TestStaticRedirectsAndTraversal(t *testing.T) {
	base := t.TempDir()
	web := filepath.Join(base, "web")
	writeFiles(t, web, map[string]string{"sub/index.html": "sub"})
	writeFiles(t, base, map[string]string{"secret.txt": "outside"})
	s := New(Config{WebDir: web})

	rec := do(t, s, http.MethodGet, "/sub?x=1", "")
	assert.Equal(t, http.StatusMovedPermanently, rec.Code)
	assert.Equal(t, "/sub/?x=1", rec.Header().Get("Location"))

	for _, p := range []string{"/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"} {
		rec := do(t, s, http.MethodGet, p, "")
		assert.NotEqual(t, http.StatusOK, rec.Code, p)
		assert.NotContains(t, rec.Body.String(), "outside", p)
	}

	// The handler on its own, given unclean paths the mux would redirect.
	h := staticDir{prefix: "/", dir: web}
	for _, p := range []string{"/../secret.txt", "/sub/../../secret.txt", "/./../secret.txt"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = p
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusNotFound, rec.Code, p)
		assert.NotContains(t, rec.Body.String(), "outside", p)
	}
}

func TestStaticNotConfigured(t *testing.T) {
	s := New(Config{})
	assert.Equal(t, http.StatusNotFound, do(t, s, http.MethodGet, "/", "").Code)
	assert.Equal(t, http.StatusNotFound, do(t, s, http.MethodGet, "/jsglue/jwtfetch.js", "").Code)

	s = New(Config{WebDir: filepath.Join(t.TempDir(), "missing")})
	assert.Equal(t, http.StatusNotFound, do(t, s, http.MethodGet, "/", "").Code)
}

func TestAccepts(t *testing.T) {
	tests := []struct {
		header []string
		coding string
		want   bool
	}{
		{[]string{"br"}, "br", true},
		{[]string{"gzip, br"}, "br", true},
		{[]string{"gzip", "BR"}, "br", true},
		{[]string{"br;q=0"}, "br", false},
		{[]string{"br; q=0.0"}, "br", false},
		{[]string{"br;q=0.1"}, "br", true},
		{[]string{"brotli"}, "br", false},
		{nil, "br", false},
		{[]string{"identity"}, "gzip", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, accepts(tt.header, tt.coding), "%q %s", tt.header, tt.coding)
	}
}

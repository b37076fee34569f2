//go:build !js

package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// headerEcho is a server on another origin that answers credentialed CORS
// requests with the request headers it got, by lower-case name.
func headerEcho(t *testing.T) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-XSRF-TOKEN, X-CSRFToken")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		got := map[string]string{}
		for name, v := range r.Header {
			got[strings.ToLower(name)] = strings.Join(v, ", ")
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(got)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestXSRFHeader: like axios, the value of the readable XSRF cookie goes
// in the XSRF header of requests sent with credentials, and only to the
// allowed origins; names are configurable.
func TestXSRFHeader(t *testing.T) {
	s := newSite(t, time.Minute)
	other := headerEcho(t)
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	tb.eval(`(document.cookie = 'XSRF-TOKEN=abc%20def; path=/', document.cookie = 'csrftoken=c-123; path=/', true)`, nil)
	var got struct {
		Cred, Plain, Fetch, FetchPlain, Preset, Other, OtherAllowed, Named string
	}
	tb.eval(`(async () => {
		const m = await import('/jsglue/jwtfetch.js')
		const cfg = { baseURL: location.origin, auth: { refresh: null, storage: 'memory' } }
		const api = m.create(cfg)
		const echo = (p) => p.then(r => r.data.headers['x-xsrf-token'] ?? '', e => 'error ' + e.code)
		const otherHeader = (p, name) => p.then(r => (r.data ?? {})[name] ?? '', e => 'error ' + e.code)
		const allowed = m.create({ ...cfg, auth: { ...cfg.auth, origins: [location.origin, `+jsString(other)+`] } })
		const named = m.create({ ...cfg, xsrfCookieName: 'csrftoken', xsrfHeaderName: 'X-CSRFToken',
			auth: { ...cfg.auth, origins: [location.origin, `+jsString(other)+`] } })
		return {
			cred: await echo(api.get('/public/echo', { withCredentials: true })),
			plain: await echo(api.get('/public/echo')),
			fetch: await api.fetch('/public/echo', { credentials: 'include' }).then(r => r.json()).then(d => d.headers['x-xsrf-token'] ?? ''),
			fetchPlain: await api.fetch('/public/echo').then(r => r.json()).then(d => d.headers['x-xsrf-token'] ?? ''),
			preset: await echo(api.get('/public/echo', { withCredentials: true, headers: { 'x-xsrf-token': 'mine' } })),
			other: await otherHeader(api.get(`+jsString(other)+`, { withCredentials: true }), 'x-xsrf-token'),
			otherAllowed: await otherHeader(allowed.get(`+jsString(other)+`, { withCredentials: true }), 'x-xsrf-token'),
			named: await otherHeader(named.get(`+jsString(other)+`, { withCredentials: true }), 'x-csrftoken'),
		}
	})()`, &got)
	assert.Equal(t, "abc def", got.Cred, "withCredentials: the cookie's value, decoded")
	assert.Empty(t, got.Plain, "not without credentials")
	assert.Equal(t, "abc def", got.Fetch, "fetch with credentials: 'include'")
	assert.Empty(t, got.FetchPlain)
	assert.Equal(t, "mine", got.Preset, "a header the request sets is kept")
	assert.Empty(t, got.Other, "never to an origin outside origins")
	assert.Equal(t, "abc def", got.OtherAllowed, "to an allowed origin")
	assert.Equal(t, "c-123", got.Named, "xsrfCookieName and xsrfHeaderName")
}

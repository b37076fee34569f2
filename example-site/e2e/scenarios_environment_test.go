//go:build !js

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 9: storage faults. Corrupt JSON or another schema version means
// logged out; localStorage that throws (disabled, over quota) means the
// session lives in memory, with one warning and no exception for the app.
// Each case has its own origin, so its own localStorage and IndexedDB: the
// session one case stores is never what the next one reads.
func TestScenarioStorageFaults(t *testing.T) {
	for _, tt := range []struct{ name, value string }{
		{"corrupt JSON", `{"v":1,"access":`},
		{"wrong schema version", `{"v":2,"access":"a","refresh":"r","exp":0}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ss := newScenarioSite(t, time.Minute)
			tb := newTab(t)
			tb.open(ss.URL + "/blank.html")
			tb.eval(fmt.Sprintf(`(localStorage.setItem('jwtfetch', %q), true)`, tt.value), nil)
			tb.openInstance(ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh' } }`)
			var authed bool
			tb.eval(`api.auth.isAuthenticated()`, &authed)
			assert.False(t, authed, "logged out")
			tb.login()
			var status int
			tb.eval(`api.get('/api/me').then(r => r.status)`, &status)
			assert.Equal(t, 200, status)
			requireNoExceptions(t, tb)
		})
	}
	for _, op := range []string{"getItem", "setItem"} {
		t.Run("localStorage."+op+" throws", func(t *testing.T) {
			ss := newScenarioSite(t, time.Minute)
			tb := newTab(t)
			tb.open(ss.URL + "/blank.html")
			var fresh struct {
				Keys int
				DBs  []string
			}
			tb.eval(`(async () => ({ keys: localStorage.length, dbs: (await indexedDB.databases()).map(d => d.name) }))()`, &fresh)
			require.Zero(t, fresh.Keys, "a fresh origin: nothing in localStorage")
			require.Empty(t, fresh.DBs, "a fresh origin: no IndexedDB")
			tb.eval(`(async () => {
				Storage.prototype.`+op+` = function () { throw new DOMException('storage is disabled', 'SecurityError') }
				window.m = await import('/jsglue/jwtfetch.js')
				window.api = m.create({ baseURL: location.origin, auth: { refreshURL: '/auth/refresh' } })
				await api.ready
				return true
			})()`, nil)
			tb.login()
			ss.RevokeAccessTokens()
			var statuses []string
			tb.eval(codes(3, `api.get('/api/me?i=' + i)`), &statuses)
			assert.Equal(t, repeat("200", 3), statuses, "works from memory, refresh included")
			console, thrown := tb.syncedLogs()
			assert.Empty(t, thrown)
			warnings := 0
			for _, line := range console {
				if strings.HasPrefix(line, "warning:") && strings.Contains(line, "storage is not available") {
					warnings++
				}
			}
			assert.Equal(t, 1, warnings, "one warning; console: %q", console)
		})
	}
}

// Scenario 10: a server that forgets CORS headers on its 401s makes the
// browser report them as network errors. By default that is ERR_NETWORK
// and no refresh; with refreshOnNetworkError it refreshes and retries.
func TestScenarioCORSHidden401(t *testing.T) {
	ss := newScenarioSite(t, time.Minute)
	// The same API on another origin, dropping CORS headers from its 401s.
	hiding := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss.Server.ServeHTTP(&corsDropper{ResponseWriter: w}, r)
	}))
	t.Cleanup(hiding.Close)
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("refreshOnNetworkError=%v", on), func(t *testing.T) {
			tb := newTab(t)
			tb.openInstance(ss.site, fmt.Sprintf(`{ baseURL: %q, auth: { refreshURL: location.origin + '/auth/refresh',
				origins: [location.origin, %q], storage: 'memory', refreshOnNetworkError: %v } }`, hiding.URL, hiding.URL, on))
			tb.login()
			var first string
			tb.eval(`api.get('/api/me').then(r => String(r.status), e => e.code)`, &first)
			require.Equal(t, "200", first, "CORS works for a 200")
			ss.RevokeAccessTokens()
			ss.ResetCounters()
			var got []string
			tb.eval(codes(3, `api.get('/api/me?i=' + i)`), &got)
			if !on {
				assert.Equal(t, repeat("ERR_NETWORK", 3), got, "off by default")
				assert.Zero(t, ss.Counters().Refreshes)
				return
			}
			assert.Equal(t, repeat("200", 3), got)
			assert.EqualValues(t, 1, ss.Counters().Refreshes)
		})
	}
}

// corsDropper removes the CORS headers from 401 answers.
type corsDropper struct {
	http.ResponseWriter
}

func (c *corsDropper) WriteHeader(status int) {
	if status == http.StatusUnauthorized {
		for k := range c.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				c.Header().Del(k)
			}
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

// Scenario 11: a tab that slept (frozen: no timers, no tasks) wakes after
// its token expired; the first requests refresh once and succeed.
func TestScenarioTabWakesAfterExpiry(t *testing.T) {
	ss := newScenarioSite(t, 2*time.Second)
	tb := loggedIn(t, ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh' } }`)
	freeze := func(state page.SetWebLifecycleStateState) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.SetWebLifecycleState, page.SetWebLifecycleStateParams{State: state})
			return err
		})
	}
	tb.do(freeze(page.SetWebLifecycleStateStateFrozen))
	time.Sleep(2500 * time.Millisecond)
	tb.do(freeze(page.SetWebLifecycleStateStateActive))
	ss.ResetCounters()
	var got []string
	tb.eval(codes(10, `api.get('/api/me?i=' + i)`), &got)
	assert.Equal(t, repeat("200", 10), got)
	assert.EqualValues(t, 1, ss.Counters().Refreshes)
	requireNoExceptions(t, tb)
}

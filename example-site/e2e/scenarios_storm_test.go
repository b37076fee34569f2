//go:build !js

package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Scenario 1: requests fail together, some of their 401s arriving after
// the refresh started or even finished: still one refresh, all retried.
func TestScenarioLate401sJoinOrReuseTheOneRefresh(t *testing.T) {
	ss := newScenarioSite(t, time.Minute)
	tb := loggedIn(t, ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } }`)
	ss.RevokeAccessTokens()
	ss.ResetCounters()
	ss.SetRefreshDelay(300 * time.Millisecond)
	var got []string
	start := time.Now()
	// 5 fast requests start the refresh; 5 whose 401 comes back while it
	// runs (150 ms); 5 whose 401 comes back after it finished (800 ms).
	// (Distinct URLs: Chromium's cache lock would serialize equal GETs.)
	tb.eval(`Promise.all([
		...Array.from({length: 5}, (_, i) => api.get('/api/me?i=' + i)),
		...Array.from({length: 5}, (_, i) => api.get('/slow-me?ms=150&i=' + i)),
		...Array.from({length: 5}, (_, i) => api.get('/slow-me?ms=800&i=' + i)),
	].map(p => p.then(r => String(r.status), e => e.code)))`, &got)
	t.Logf("took %v", time.Since(start))
	assert.Equal(t, repeat("200", 15), got)
	c := ss.Counters()
	assert.EqualValues(t, 1, c.Refreshes, "refreshes")
	assert.EqualValues(t, 15, c.Unauthorized, "each request failed once")
	assert.EqualValues(t, 15, c.APICalls, "and succeeded once")
	requireNoExceptions(t, tb)
}

// Scenario 2: the retried request gets a 401 again (an authorization
// problem, not expiry): exactly one retry, then the 401 reaches the caller;
// no second refresh, no storm.
func TestScenarioSecond401IsReturnedWithoutAStorm(t *testing.T) {
	ss := newScenarioSite(t, time.Minute)
	tb := loggedIn(t, ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } }`)
	ss.ResetCounters()
	var got []string
	tb.eval(codes(10, `api.fetch('/api/status/401')`), &got) // 401 whatever the token
	assert.Equal(t, repeat("401", 10), got)
	c := ss.Counters()
	assert.EqualValues(t, 1, c.Refreshes, "one refresh for the ten")
	assert.EqualValues(t, 20, c.APICalls, "each request sent twice, never more")

	tb.eval(codes(1, `api.get('/api/status/401')`), &got)
	assert.Equal(t, []string{"ERR_BAD_REQUEST"}, got)
	var me int
	tb.eval(`api.get('/api/me').then(r => r.status)`, &me)
	assert.Equal(t, 200, me, "the session is intact")
}

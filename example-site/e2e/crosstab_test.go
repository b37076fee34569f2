//go:build !js

package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Several tabs of one origin in one browser share one session: one refresh
// for all, logouts and logins seen everywhere, and a stuck tab cannot block
// the others for longer than the refresh timeout.

const tabInstance = `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', refreshTimeout: 1500 } }`

// openTabs opens n tabs on the site's blank page, each with window.api, and
// logs in through the first one.
func openTabs(t *testing.T, s *site, n int) []*tab {
	t.Helper()
	return openTabsWith(t, s, n, tabInstance)
}

// openTabsWith is openTabs with another create() config.
func openTabsWith(t *testing.T, s *site, n int, config string) []*tab {
	t.Helper()
	tabs := make([]*tab, n)
	for i := range tabs {
		tabs[i] = newTab(t)
		tabs[i].openInstance(s, config)
	}
	tabs[0].login()
	for i, tb := range tabs[1:] {
		tb.waitTrue(`api.auth.isAuthenticated()`, fmt.Sprintf("tab %d sees the login", i+1))
	}
	return tabs
}

// waitTrue waits until a JavaScript expression is true.
func (tb *tab) waitTrue(expr, what string) {
	tb.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ok bool
		tb.eval(expr, &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("timed out waiting: %s (%s)", what, expr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// burst fires perTab requests in every tab at the same moment and returns
// how many succeeded.
func burst(t *testing.T, tabs []*tab, perTab int) int {
	t.Helper()
	var wg sync.WaitGroup
	ok := make([]int, len(tabs))
	for i, tb := range tabs {
		wg.Go(func() {
			tb.eval(fmt.Sprintf(`Promise.allSettled(Array.from({length: %d}, () => api.get('/api/me')))
				.then(rs => rs.filter(r => r.status === 'fulfilled' && r.value.status === 200).length)`, perTab), &ok[i])
		})
	}
	wg.Wait()
	n := 0
	for _, k := range ok {
		n += k
	}
	return n
}

func TestTabsShareOneRefresh(t *testing.T) {
	const nTabs, perTab, rounds = 3, 10, 20
	s := newSite(t, time.Minute)
	tabs := openTabs(t, s, nTabs)
	s.ResetCounters()
	for round := range rounds {
		s.RevokeAccessTokens() // every tab's token fails at once
		before := s.Counters().Refreshes
		got := burst(t, tabs, perTab)
		require.Equal(t, nTabs*perTab, got, "successes in round %d (server: %+v)", round, s.Counters())
		assert.EqualValues(t, 1, s.Counters().Refreshes-before, "refreshes in round %d", round)
	}
	c := s.Counters()
	t.Logf("%d rounds of %d tabs x %d requests: %d refreshes, %d reuse detections, %d refresh failures",
		rounds, nTabs, perTab, c.Refreshes, c.ReuseDetections, c.RefreshFailures)
	assert.EqualValues(t, rounds, c.Refreshes)
	assert.Zero(t, c.ReuseDetections)
	assert.Zero(t, c.RefreshFailures)
}

func TestTabsShareOneRefreshOnExpiry(t *testing.T) {
	// Expiry by time: 6 s tokens, refreshed ahead of time, from half-way
	// through their life (the leeway, 30 s, capped at half the lifetime).
	// Each round waits until the current token has passed that point and
	// then bursts in every tab; the token that refresh brings reaches its
	// own point 3 s later, so one burst cannot span two refresh points
	// unless it takes 3 s.
	const rounds = 3
	ttl := 6 * time.Second
	s := newSite(t, ttl)
	tabs := openTabs(t, s, 3)
	s.ResetCounters()
	// The current token was issued before now (the login, then each
	// round's refresh, which happens within the round's burst).
	issuedBy := time.Now()
	for round := range rounds {
		time.Sleep(time.Until(issuedBy.Add(ttl/2 + 100*time.Millisecond)))
		before := s.Counters().Refreshes
		start := time.Now()
		require.Equal(t, 30, burst(t, tabs, 10), "round %d", round)
		issuedBy = time.Now()
		require.Less(t, issuedBy.Sub(start), ttl/2, "round %d: the burst took longer than a token's first half", round)
		assert.EqualValues(t, 1, s.Counters().Refreshes-before, "refreshes in round %d", round)
	}
	assert.Zero(t, s.Counters().ReuseDetections)
	assert.Zero(t, s.Counters().Unauthorized, "every token was refreshed before it was sent expired")
}

func TestTabsLogoutAndLogin(t *testing.T) {
	s := newSite(t, time.Minute)
	tabs := openTabs(t, s, 2)
	a, b := tabs[0], tabs[1]
	// Each tab records its tokens events as "authenticated fromOtherTab".
	for _, tb := range tabs {
		tb.eval(`(window.tokenEvents = [], api.auth.on('tokens', (_, d) => tokenEvents.push(d.authenticated + ' ' + d.fromOtherTab)), true)`, nil)
	}

	a.eval(`(api.auth.clear(), true)`, nil)
	b.waitTrue(`!api.auth.isAuthenticated() && window.tokenEvents.length === 1`, "the logout reaches tab B with a tokens event")
	var code string
	b.eval(`api.get('/api/me').then(() => 'ok', e => e.code + ' ' + e.response?.status)`, &code)
	assert.Equal(t, "ERR_BAD_REQUEST 401", code, "B's next request is unauthenticated")

	a.login()
	b.waitTrue(`api.auth.isAuthenticated() && window.tokenEvents.length === 2`, "the login reaches tab B")
	var status int
	b.eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status, "B is logged in without a reload")

	var events []string
	a.eval(`tokenEvents`, &events)
	assert.Equal(t, []string{"false false", "true false"}, events, "tab A: its own logout and login")
	b.eval(`tokenEvents`, &events)
	assert.Equal(t, []string{"false true", "true true"}, events, "tab B: the logout and login of another tab")
}

func TestTabsStuckLockHolder(t *testing.T) {
	s := newSite(t, time.Minute)
	tabs := openTabs(t, s, 2)
	a := tabs[0]
	// A frozen tab: it holds the refresh lock and never lets go.
	stuck := tabs[1]
	stuck.eval(`(navigator.locks.request('jwtfetch:refresh', () => new Promise(() => {})), true)`, nil)
	s.RevokeAccessTokens()
	var got struct {
		Codes []string
		Ms    float64
	}
	a.eval(`(async () => {
		const t0 = performance.now()
		const codes = await Promise.all(Array.from({length: 5}, () => api.get('/api/me').then(() => 'ok', e => e.code)))
		return { codes, ms: performance.now() - t0 }
	})()`, &got)
	assert.Equal(t, []string{"ECONNABORTED", "ECONNABORTED", "ECONNABORTED", "ECONNABORTED", "ECONNABORTED"}, got.Codes)
	assert.Less(t, got.Ms, 4000.0, "failed within the bound (refreshTimeout 1.5 s)")

	stuck.close() // the lock goes with the tab
	var status int
	a.eval(`api.get('/api/me').then(r => r.status)`, &status)
	assert.Equal(t, 200, status, "recovers once the stuck tab is gone")
	assert.Zero(t, s.Counters().ReuseDetections)
}

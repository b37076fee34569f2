//go:build !js

package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The shim keeps Go's answer to "what does a request to this origin
// carry" while Go said it holds (until the leeway, while the session's
// state version stays), so that a request with a good token does not call
// into the wasm. These check that a kept answer is never used once it no
// longer holds.

func TestKeptAnswersFollowEveryChange(t *testing.T) {
	ss := newScenarioSite(t, time.Minute)
	api2 := secondAPI(t)
	foreign, log := foreignOrigin(t)
	tabs := openTabsWith(t, ss.site, 2, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', origins: [location.origin, `+jsString(api2)+`] } }`)
	tb, other := tabs[0], tabs[1]

	// trace answers the hash of the Authorization each origin received.
	trace := func() (page, second string) {
		t.Helper()
		var got []string
		tb.eval(`(async () => [
			(await api.get('/trace')).data.auth,
			(await api.get(`+jsString(api2+"/trace")+`)).data.auth,
			await api.get(`+jsString(foreign+"/x")+`).then(() => 'sent', e => e.code),
		])()`, &got)
		require.Len(t, got, 3)
		return got[0], got[1]
	}
	bearer := func(tb *tab) string {
		var tok string
		tb.eval(`api.auth.accessToken()`, &tok)
		require.NotEmpty(t, tok)
		return sha("Bearer " + tok)
	}

	first := bearer(tb)
	p, s := trace()
	assert.Equal(t, first, p)
	assert.Equal(t, first, s, "the second allowed API")
	p, s = trace() // now from the kept answers
	assert.Equal(t, []string{first, first}, []string{p, s})

	// A new login in this tab.
	tb.login()
	second := bearer(tb)
	require.NotEqual(t, first, second)
	p, s = trace()
	assert.Equal(t, []string{second, second}, []string{p, s}, "after setTokens")

	// A refresh forced by a 401: the retry and every later request carry
	// the new token, never the refused one.
	ss.RevokeAccessTokens()
	tb.eval(`api.get('/api/me').then(r => r.status)`, nil)
	p, s = trace()
	third := bearer(tb)
	require.NotEqual(t, second, third)
	assert.Equal(t, []string{third, third}, []string{p, s}, "after the refresh")

	// A logout in the other tab reaches this one through a storage event.
	other.eval(`api.auth.clear()`, nil)
	tb.waitTrue(`!api.auth.isAuthenticated()`, "the logout reaches the first tab")
	p, s = trace()
	assert.Equal(t, []string{"", ""}, []string{p, s}, "logged out elsewhere: no token")

	// A login in the other tab, and a local logout.
	other.login()
	tb.waitTrue(`api.auth.isAuthenticated()`, "the login reaches the first tab")
	fourth := bearer(other)
	p, s = trace()
	assert.Equal(t, []string{fourth, fourth}, []string{p, s}, "logged in elsewhere")
	tb.eval(`api.auth.clear()`, nil)
	p, s = trace()
	assert.Equal(t, []string{"", ""}, []string{p, s}, "after clear()")
	assert.Empty(t, log.containing("Bearer"), "the foreign origin never got a token")
	requireNoExceptions(t, tb)
}

// A token that runs into the leeway is refreshed before it is sent, even
// though the answer for its origin was kept: the answer held only until
// then.
func TestKeptAnswersEndAtTheLeeway(t *testing.T) {
	ss := newScenarioSite(t, 3*time.Second) // leeway capped at half: refresh from 1.5 s
	tb := loggedIn(t, ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } }`)
	var got struct {
		Sent, Stale int
	}
	tb.eval(`(async () => {
		let sent = 0, stale = 0
		const end = Date.now() + 4000
		while (Date.now() < end) {
			const tok = api.auth.accessToken()
			const exp = JSON.parse(atob(tok.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).exp * 1000
			const r = await api.get('/trace')
			sent++
			// The token this request carried, if it was the one read above,
			// must not have been past its leeway (half of 3 s) when sent.
			if (r.data.auth === await sha('Bearer ' + tok) && Date.now() > exp - 1500 + 200) stale++
			await new Promise(r => setTimeout(r, 20))
		}
		return { sent, stale }
		async function sha(s) {
			const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s))
			return [...new Uint8Array(d)].map(b => b.toString(16).padStart(2, '0')).join('')
		}
	})()`, &got)
	t.Logf("%d requests, %d with a token past its leeway, %d refreshes", got.Sent, got.Stale, ss.Counters().Refreshes)
	assert.Greater(t, got.Sent, 50)
	assert.Zero(t, got.Stale)
	assert.GreaterOrEqual(t, ss.Counters().Refreshes, int64(2), "refreshed ahead, more than once")
	assert.Zero(t, ss.Counters().Unauthorized, "no request was sent with an expired token")
}

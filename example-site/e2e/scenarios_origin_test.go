//go:build !js

package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 7: a request aborted while it waits for a refresh rejects with
// ERR_CANCELED alone; the others succeed; it is not sent afterwards.
func TestScenarioAbortWhileQueuedCancelsOnlyThatRequest(t *testing.T) {
	ss := newScenarioSite(t, time.Minute)
	tb := loggedIn(t, ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } }`)
	ss.RevokeAccessTokens()
	ss.ResetCounters()
	ss.SetRefreshDelay(500 * time.Millisecond)
	var got []string
	tb.eval(`(() => {
		const ac = new AbortController()
		const ps = Array.from({length: 6}, (_, i) => api.get('/api/me?i=' + i, i === 2 ? { signal: ac.signal } : {}))
		setTimeout(() => ac.abort(), 150) // all six are waiting for the refresh by now
		return Promise.all(ps.map(p => p.then(r => String(r.status), e => e.code)))
	})()`, &got)
	assert.Equal(t, []string{"200", "200", "ERR_CANCELED", "200", "200", "200"}, got)
	c := ss.Counters()
	assert.EqualValues(t, 1, c.Refreshes)
	assert.EqualValues(t, 5, c.APICalls, "the aborted request was not sent again")
}

// Scenario 8: tokens never leave the allowed origins. A request to another
// origin carries no Authorization, nor does a redirect from an allowed
// origin to another one; tokens appear in no error message and no console
// line.
func TestScenarioTokensStayOnAllowedOrigins(t *testing.T) {
	ss := newScenarioSite(t, time.Minute)
	other, seen := otherOrigin(t)
	tb := loggedIn(t, ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh' } }`)
	var res []string
	tb.eval(`Promise.all([
		api.get(`+jsString(other+"/direct")+`),
		api.fetch(`+jsString(other+"/fetch")+`),
		api.get('/redirect?to=' + encodeURIComponent(`+jsString(other+"/redirected")+`)),
	].map(p => p.then(r => String(r.status), e => e.code)))`, &res)
	assert.Equal(t, []string{"200", "200", "200"}, res)
	assert.Equal(t, []string{"", "", ""}, seen(), "no Authorization reached the other origin")

	// Errors of every kind, then a look at messages and console.
	stored := tb.stored()
	require.NotNil(t, stored)
	var messages []string
	ss.RevokeAccessTokens()
	ss.SetRefreshFailure(401)
	tb.eval(`Promise.all([
		api.get('/api/status/500'), api.get('http://127.0.0.1:1/x'), api.get('/api/me'),
		api.auth.refresh(), api.get('/api/me', { timeout: 1 }),
	].map(p => p.then(() => 'resolved', e => { console.error(e); console.log(String(e), e.message, e.stack); return e.message + ' ' + JSON.stringify(e.config ?? {}) })))`, &messages)
	console, _ := tb.logs()
	for _, tok := range []string{stored.Access, stored.Refresh} {
		for _, m := range messages {
			assert.False(t, strings.Contains(m, tok), "a token in an error: %q", m)
		}
		for _, line := range console {
			assert.False(t, strings.Contains(line, tok), "a token in the console: %q", line)
		}
	}
	_, err := url.Parse(other)
	require.NoError(t, err)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

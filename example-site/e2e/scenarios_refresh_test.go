//go:build !js

package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 3: the refresh is refused (400, 401, 403): every waiting request
// rejects promptly with ERR_AUTH_EXPIRED, onExpired fires once, storage is
// cleared, and the refresh request itself is never intercepted or
// refreshed.
func TestScenarioRefusedRefreshEndsTheSessionOnce(t *testing.T) {
	for _, status := range []int{400, 401, 403} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			ss := newScenarioSite(t, time.Minute)
			tb := newTab(t)
			tb.openInstance(ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh',
				onExpired: () => window.expired = (window.expired ?? 0) + 1 } }`)
			tb.login()
			tb.eval(`(window.seen = [], api.interceptors.request.use(c => (seen.push(c.url), c)), true)`, nil)
			ss.RevokeAccessTokens()
			ss.ResetCounters()
			ss.SetRefreshFailure(status)
			var got struct {
				Codes   []string
				Ms      float64
				Expired int
				Stored  *string
				Seen    []string
			}
			tb.eval(`(async () => {
				const t0 = performance.now()
				const codes = await `+codes(10, `api.get('/api/me')`)+`
				return { codes, ms: performance.now() - t0, expired: window.expired,
					stored: localStorage.getItem('jwtfetch'), seen }
			})()`, &got)
			assert.Equal(t, repeat("ERR_AUTH_EXPIRED", 10), got.Codes)
			assert.Less(t, got.Ms, 2000.0, "promptly")
			assert.Equal(t, 1, got.Expired, "onExpired once")
			assert.Nil(t, got.Stored, "storage cleared")
			assert.Equal(t, repeat("/api/me", 10), got.Seen, "the refresh request never went through the interceptors")
			c := ss.Counters()
			assert.EqualValues(t, 1, c.RefreshFailures, "one refresh request")
			assert.Zero(t, c.Refreshes)
			requireNoExceptions(t, tb)
		})
	}
}

// Scenario 4: the refresh endpoint hangs, answers 500, answers non-JSON,
// answers JSON without a token, or the connection drops: every waiter
// settles, nothing stays stuck, the tokens are kept (a failed refresh is not
// a logout), and the next request refreshes with the kept refresh token.
// Each failure mode has its own origin (so its own localStorage, IndexedDB
// and Web Lock), tab and storage key: none sees what another left behind.
func TestScenarioBrokenRefreshEndpointLeavesNothingStuck(t *testing.T) {
	tests := []struct {
		mode, code string
	}{
		{"hang", "ECONNABORTED"},
		{"500", "ERR_BAD_RESPONSE"},
		{"nonjson", "ERR_BAD_RESPONSE"},
		{"notoken", "ERR_BAD_RESPONSE"},
		{"drop", "ERR_NETWORK"},
	}
	type session struct {
		Access string  // api.auth.accessToken()
		Stored *string // localStorage under the storage key
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			ss := newScenarioSite(t, time.Minute)
			key := "broken-refresh-" + tt.mode
			tb := loggedIn(t, ss.site, fmt.Sprintf(`{ baseURL: location.origin, auth: { refreshURL: '/flaky-refresh',
				refreshTimeout: 700, storageKey: %q } }`, key))
			read := `({ access: api.auth.accessToken(), stored: localStorage.getItem(` + jsString(key) + `) })`
			var login session
			tb.eval(read, &login)
			require.NotEmpty(t, login.Access)
			require.NotNil(t, login.Stored, "the login is stored under %s", key)
			loginState := decodeStored(t, *login.Stored)
			require.NotEmpty(t, loginState.Refresh)

			ss.RevokeAccessTokens()
			ss.ResetCounters()
			ss.setMode(tt.mode)
			var got struct {
				Codes []string
				Ms    float64
				session
			}
			tb.eval(`(async () => {
				const t0 = performance.now()
				const codes = await `+codes(5, `api.get('/api/me?i=' + i)`)+`
				return { codes, ms: performance.now() - t0, ...`+read+` }
			})()`, &got)
			assert.Equal(t, repeat(tt.code, 5), got.Codes)
			assert.Less(t, got.Ms, 3000.0, "every waiter settled within the bound")
			assert.Equal(t, login.Access, got.Access, "the access token is kept: a failed refresh is not a logout")
			require.NotNil(t, got.Stored, "the session is still stored")
			kept := decodeStored(t, *got.Stored)
			assert.Equal(t, loginState.Refresh, kept.Refresh, "the stored refresh token is kept")
			assert.Equal(t, loginState.Access, kept.Access, "the stored access token is kept")

			ss.setMode("")
			var next []string
			tb.eval(codes(3, `api.get('/api/me?i=' + i)`), &next)
			require.Equal(t, repeat("200", 3), next, "the next requests refresh again")
			c := ss.Counters()
			assert.EqualValues(t, 1, c.Refreshes, "one refresh, with the kept refresh token")
			assert.Zero(t, c.ReuseDetections)
			var after session
			tb.eval(read, &after)
			assert.NotEqual(t, login.Access, after.Access, "a new access token")
			require.NotNil(t, after.Stored)
			assert.NotEqual(t, loginState.Refresh, decodeStored(t, *after.Stored).Refresh, "the rotated refresh token is stored")
			requireNoExceptions(t, tb)
		})
	}
}

// decodeStored reads a stored session entry.
func decodeStored(t *testing.T, raw string) stored {
	t.Helper()
	var s stored
	require.NoError(t, json.Unmarshal([]byte(raw), &s), "stored session %q", raw)
	return s
}

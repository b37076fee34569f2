//go:build !js

package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/example-site/authserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDPoPWithCookieMode: DPoP and cookie mode together. The refresh
// cookie's session is bound to the key at the login, the refresh (by
// cookie) carries a proof, nothing secret is readable by scripts (the
// CryptoKey is the only thing in IndexedDB besides the refresh time), and
// the refresh cookie alone, taken to another client, is refused.
func TestDPoPWithCookieMode(t *testing.T) {
	s := newCookieSite(t, time.Minute)
	tb := openCookieTab(t, s.URL, `{ baseURL: location.origin, auth: { mode: 'cookie', dpop: true,
		refreshURL: '/auth/refresh', logoutURL: '/auth/logout', refreshTimeout: 3000 } }`)
	var tokenType string
	tb.eval(`api.post('/auth/login', { username: 'demo', password: 'demo123', mode: 'cookie' }, { skipAuth: true })
		.then(({ data }) => (api.auth.setTokens({ accessToken: data.access, expiresIn: data.expires_in }), data.token_type))`, &tokenType)
	assert.Equal(t, "DPoP", tokenType, "bound at the login")

	s.RevokeAccessTokens()
	var statuses []int
	tb.eval(`Promise.all(Array.from({ length: 10 }, () => api.get('/api/me').then(r => r.status)))`, &statuses)
	assert.Equal(t, []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200}, statuses)
	c := s.Counters()
	assert.EqualValues(t, 1, c.CookieRefreshes, "one refresh, by cookie")
	assert.Zero(t, c.DPoPRejected)
	// The server counts the proofs of requests it granted: the 10 whose
	// token it had revoked count neither way.
	assert.EqualValues(t, 1+1+10, c.DPoPProofs, "the login, the refresh, the 10 retries")
	assert.EqualValues(t, 10, c.Unauthorized)
	require.Len(t, s.DPoPKeys(), 1)
	places := requireNothingSecret(t, tb, s, "cookie mode with DPoP")
	for _, p := range places {
		if strings.HasPrefix(p, "indexedDB jwtfetch/sessions") {
			assert.Contains(t, p, `[CryptoKey private]`, "the key is kept")
			assert.NotContains(t, p, `"d"`, "no private JWK")
		}
	}

	// The refresh cookie taken elsewhere: no proof, refused, and the
	// session here goes on.
	req, err := http.NewRequest(http.MethodPost, s.URL+"/auth/refresh", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: authserver.RefreshCookie, Value: lastIssued(t, s).Refresh})
	jar := tb.browserCookies(s.URL + "/")
	req.AddCookie(&http.Cookie{Name: authserver.XSRFCookie, Value: jar[authserver.XSRFCookie].Value})
	req.Header.Set("X-XSRF-TOKEN", jar[authserver.XSRFCookie].Value)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a stolen refresh cookie without the key")
	assert.EqualValues(t, 1, s.DPoPRejections()["missing"])

	var fresh string
	tb.eval(`api.auth.refresh().then(() => 'ok')`, &fresh)
	assert.Equal(t, "ok", fresh, "the real session still refreshes")
	assert.Zero(t, s.Counters().ReuseDetections)
}

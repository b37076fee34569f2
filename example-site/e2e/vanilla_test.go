//go:build !js

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const accessTTL = 2 * time.Second

type stored struct {
	V       int     `json:"v"`
	Access  string  `json:"access"`
	Refresh string  `json:"refresh"`
	Exp     float64 `json:"exp"`
}

func (tb *tab) stored() *stored {
	tb.t.Helper()
	var raw *string
	tb.eval(`localStorage.getItem('jwtfetch')`, &raw)
	if raw == nil {
		return nil
	}
	var s stored
	require.NoError(tb.t, json.Unmarshal([]byte(*raw), &s), "stored session %q", *raw)
	return &s
}

// TestVanillaPage walks the demo page through a whole session: log in, outlive
// the access token, reload, a burst after expiry, a burst after the server
// revoked the token, log out.
func TestVanillaPage(t *testing.T) {
	s := newSite(t, accessTTL)
	tb := newTab(t)
	tb.open(s.URL + "/")
	assert.Equal(t, "signed out", tb.text("#state"))

	tb.click("#login")
	tb.waitText("#user", "demo")
	assert.Equal(t, "signed in", tb.text("#state"))
	first := tb.stored()
	require.NotNil(t, first, "the session is stored after login")
	assert.Equal(t, 1, first.V)
	assert.Zero(t, s.Counters().Refreshes)

	t.Run("outlives the access token", func(t *testing.T) {
		s.ResetCounters()
		time.Sleep(accessTTL + 500*time.Millisecond)
		var me struct {
			Status int
			User   string
		}
		tb.eval(`api.get('/api/me').then(r => ({status: r.status, user: r.data.user}))`, &me)
		assert.Equal(t, 200, me.Status)
		assert.Equal(t, "demo", me.User)
		c := s.Counters()
		assert.EqualValues(t, 1, c.Refreshes, "refreshes")
		assert.Zero(t, c.ReuseDetections)
		now := tb.stored()
		assert.NotEqual(t, first.Access, now.Access, "new access token stored")
		assert.NotEqual(t, first.Refresh, now.Refresh, "rotated refresh token stored")
	})

	t.Run("reload keeps the session", func(t *testing.T) {
		s.ResetCounters()
		tb.open(s.URL + "/")
		tb.waitText("#state", "signed in")
		tb.waitText("#user", "demo")
		assert.Zero(t, s.Counters().Unauthorized)
	})

	t.Run("20 concurrent requests after expiry", func(t *testing.T) {
		time.Sleep(accessTTL + 500*time.Millisecond)
		s.ResetCounters()
		tb.click("#burst")
		tb.waitText("#me", "20 of 20 succeeded")
		c := s.Counters()
		assert.EqualValues(t, 1, c.Refreshes, "refreshes")
		assert.EqualValues(t, 20, c.APICalls, "API calls")
	})

	t.Run("20 concurrent 401s after the server revoked the token", func(t *testing.T) {
		burstAfterRevoke(t, tb, s)
	})

	last := tb.stored()
	require.NotNil(t, last)

	t.Run("logout", func(t *testing.T) {
		tb.click("#logout")
		tb.waitText("#state", "signed out")
		assert.Nil(t, tb.stored(), "storage is empty")
		var res struct {
			Status int
			Code   string
		}
		tb.eval(`api.get('/api/me').then(r => ({status: r.status}), e => ({status: e.response?.status, code: e.code}))`, &res)
		assert.Equal(t, 401, res.Status)
		assert.Equal(t, "ERR_BAD_REQUEST", res.Code)
		assert.EqualValues(t, 1, s.Counters().Logouts, "the server revoked the session")
	})

	console, thrown := tb.logs()
	assert.Empty(t, thrown, "uncaught exceptions")
	for _, line := range console {
		for _, tok := range []string{first.Access, first.Refresh, last.Access, last.Refresh} {
			assert.False(t, strings.Contains(line, tok), "a token reached the console: %q", line)
		}
	}
}

// burstAfterRevoke has the server revoke the access token, clicks the demo
// page's "20 requests at once" button and checks that they shared one
// refresh.
//
// The requests must go out while the access token (2 s) is in the first
// half of its life: later they refresh first and send no doomed token, so
// no 401 comes. So the page refreshes right before, and revokes the token
// and clicks in the same go, without the test's round trips in between.
func burstAfterRevoke(t *testing.T, tb *tab, s *site) {
	t.Helper()
	tb.eval(`(async () => {
		await api.auth.refresh()
		for (const path of ['/debug/reset', '/debug/revoke-access']) {
			const r = await fetch(path, { method: 'POST' })
			if (!r.ok) throw new Error(path + ': HTTP ' + r.status)
		}
		document.getElementById('burst').click()
		return true
	})()`, nil)
	tb.waitText("#me", "20 of 20 succeeded")
	c := s.Counters()
	assert.EqualValues(t, 1, c.Refreshes, "refreshes")
	assert.EqualValues(t, 20, c.Unauthorized, "each request failed once")
	assert.EqualValues(t, 20, c.APICalls, "and succeeded once")
	assert.Zero(t, c.ReuseDetections)
}

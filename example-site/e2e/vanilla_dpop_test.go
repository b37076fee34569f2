//go:build !js

package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jwtfetch/jwtfetch/example-site/authserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proofNumber reads n from "proof #n".
func proofNumber(t *testing.T, label string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(label, "proof #"))
	require.NoError(t, err, "proof label %q", label)
	return n
}

// shortOnPage is how the page shortens a nonce or a thumbprint.
func shortOnPage(v string) string {
	if len(v) > 8 {
		return v[:6] + "…"
	}
	return v
}

// TestVanillaDPoP drives the demo page in DPoP mode (/?mode=dpop) and reads
// what it shows: a numbered proof with each attempt and each refresh, with
// its claims; the nonce challenge and its one retry; the binding (token_type,
// cnf.jkt) and the non-extractable key in IndexedDB; and nowhere a token.
func TestVanillaDPoP(t *testing.T) {
	s := newSiteFrom(t, authserver.Config{AccessTTL: time.Minute, RecordIssued: true}, nil)
	tb := newTab(t)
	tb.do(chromedp.EmulateViewport(1000, 900))
	tb.open(s.URL + "/?mode=dpop")

	var page struct {
		Current    string
		DPoP       bool
		StorageKey string
		Lessons    []string
	}
	tb.eval(`({
		current: document.querySelector('nav a[aria-current="page"]')?.textContent,
		dpop: api.defaults.auth.dpop,
		storageKey: api.defaults.auth.storageKey,
		lessons: [...document.querySelectorAll('#lessons button[data-lesson]')].map((b) => b.id),
	})`, &page)
	assert.Equal(t, "DPoP mode", page.Current, "the nav marks this mode")
	assert.True(t, page.DPoP, "the page's instance has auth.dpop")
	assert.Equal(t, "jwtfetch-dpop", page.StorageKey)
	assert.Equal(t, []string{"storm", "expire", "hang", "refuse", "nonce", "rotate"}, page.Lessons)

	tb.click("#login")
	tb.waitText("#me", `"user": "demo"`)
	tb.waitText("#binding", "is the thumbprint of this page's key")
	keys := s.DPoPKeys()
	require.Len(t, keys, 1, "one key signed every proof")
	firstKey := keys[0]
	c := s.Counters()
	assert.EqualValues(t, 1, c.Logins)
	assert.EqualValues(t, 2, c.DPoPProofs, "proofs accepted: the login's and /api/me's")
	assert.Zero(t, c.DPoPRejected)
	assert.Zero(t, c.DPoPNonceChallenges)

	t.Run("the session panel shows the binding", func(t *testing.T) {
		b := tb.text("#binding")
		assert.Contains(t, b, `token_type: "DPoP"`)
		assert.Contains(t, b, "token #1's cnf.jkt "+shortOnPage(firstKey)+" is the thumbprint of this page's key.")
	})

	t.Run("login and load: a proof with each attempt", func(t *testing.T) {
		tb.click("#load")
		waitFor(t, "Load profile to end", func() bool {
			acts := tb.timeline()
			return acts[0].Act == "load" && len(acts[0].rows("request")) == 1 && acts[0].rows("request")[0].Final == "200"
		})
		acts := tb.timeline()
		load, login := acts[0], acts[1]
		require.Equal(t, "login", login.Act)
		requests := login.rows("request")
		require.Len(t, requests, 2, "the login and /api/me")
		require.Len(t, requests[0].Attempts, 1)
		require.Len(t, requests[1].Attempts, 1)
		a := requests[0].Attempts[0]
		assert.Equal(t, tlAttempt{Status: "200", Proof: "proof #1", HTM: "POST", HTU: "/auth/login", ATH: "false"}, a,
			"the login carries a proof, no token and so no ath")
		assert.Contains(t, requests[0].Text, "htm POST · htu /auth/login · no ath")
		a = requests[1].Attempts[0]
		assert.Equal(t, tlAttempt{Token: "token #1", Status: "200", Proof: "proof #2", HTM: "GET", HTU: "/api/me", ATH: "true"}, a)
		assert.Contains(t, requests[1].Text, "sent with token #1 + proof #2 → 200")
		assert.Contains(t, requests[1].Text, "htm GET · htu /api/me · ath ✓")
		a = load.rows("request")[0].Attempts[0]
		assert.Equal(t, "proof #3", a.Proof, "every attempt has a proof of its own")
		assert.Equal(t, "token #1", a.Token)
	})

	t.Run("what scripts can read: a key that cannot be taken", func(t *testing.T) {
		tb.waitText("#readable", "indexedDB jwtfetch/sessions jwtfetch-dpop:dpop = ")
		r := tb.text("#readable")
		assert.Contains(t, r, "privateKey: CryptoKey { private ECDSA P-256, extractable: false, usages: sign }")
		assert.Contains(t, r, "publicKey: CryptoKey { public ECDSA P-256, extractable: true, usages: verify }")
		assert.Contains(t, r, "localStorage jwtfetch-dpop = { v: 1, access: <")
		assert.Contains(t, tb.text("#readable-note"), "extractable: false")
		// What the panel says holds: the private key is in IndexedDB and
		// WebCrypto refuses to export it.
		var export string
		tb.eval(`new Promise((resolve, reject) => {
			const open = indexedDB.open('jwtfetch', 1)
			open.onerror = () => reject(open.error)
			open.onsuccess = () => {
				const get = open.result.transaction('sessions').objectStore('sessions').get('jwtfetch-dpop:dpop')
				get.onsuccess = () => { open.result.close(); resolve(get.result) }
			}
		}).then((pair) => crypto.subtle.exportKey('jwk', pair.privateKey)).then(() => 'exported', (e) => e.name)`, &export)
		assert.Equal(t, "InvalidAccessError", export, "the private key cannot be exported")
	})

	t.Run("expire now: the refresh and the retry carry proofs", func(t *testing.T) {
		act := tb.lesson("expire")
		assert.Contains(t, act.summary(), "1 of 1 succeeded")
		d := tb.timeline()[0]
		requests := d.rows("request")
		require.Len(t, requests, 1)
		at := requests[0].Attempts
		require.Len(t, at, 2, requests[0].Text)
		assert.Equal(t, "401", at[0].Status)
		assert.Equal(t, "invalid_token", at[0].Challenge, "the DPoP challenge's error is shown")
		assert.Equal(t, "200", at[1].Status)
		assert.NotEqual(t, at[0].Token, at[1].Token, "retried with the new token")
		assert.Equal(t, "true", at[1].ATH)
		refreshes := d.rows("refresh")
		require.Len(t, refreshes, 1)
		ra := refreshes[0].Attempts[0]
		assert.Equal(t, "200", ra.Status)
		assert.Equal(t, "POST", ra.HTM)
		assert.Equal(t, "/auth/refresh", ra.HTU)
		assert.Contains(t, refreshes[0].Text, "htm POST · htu /auth/refresh · no ath", "the refresh's proof has no ath")
		assert.Less(t, proofNumber(t, at[0].Proof), proofNumber(t, ra.Proof))
		assert.Less(t, proofNumber(t, ra.Proof), proofNumber(t, at[1].Proof), "proofs are numbered in the order sent")
		c := s.Counters()
		assert.EqualValues(t, 1, c.Refreshes)
		assert.EqualValues(t, 2, c.DPoPProofs, "the refresh's and the retry's")
		assert.Zero(t, c.DPoPRejected)
	})

	var nonce string // the page's nonce after the nonce lesson, shortOnPage
	t.Run("server demands a nonce: one challenge, one retry", func(t *testing.T) {
		act := tb.lesson("nonce")
		assert.Contains(t, act.summary(), "2 of 2 succeeded; still signed in")
		d := tb.timeline()[0]
		requests := d.rows("request")
		require.Len(t, requests, 2)
		at := requests[0].Attempts
		require.Len(t, at, 2, requests[0].Text)
		assert.Equal(t, "401", at[0].Status)
		assert.Equal(t, "use_dpop_nonce", at[0].Challenge)
		assert.Empty(t, at[0].Nonce, "the first proof has no nonce")
		assert.Equal(t, "200", at[1].Status)
		assert.NotEmpty(t, at[1].Nonce, "the retry's proof carries the nonce")
		assert.Equal(t, at[0].Token, at[1].Token, "same token: no refresh")
		assert.Greater(t, proofNumber(t, at[1].Proof), proofNumber(t, at[0].Proof), "a new proof")
		assert.Contains(t, requests[0].Text, "→ 401 use_dpop_nonce")
		assert.Contains(t, requests[0].Text, "at once, with the nonce:sent again with "+at[1].Token+" + "+at[1].Proof+" → 200")
		assert.Contains(t, requests[0].Text, "nonce "+at[1].Nonce)
		nonce = at[1].Nonce
		next := requests[1].Attempts
		require.Len(t, next, 1, "the next request carries the nonce at once: %s", requests[1].Text)
		assert.Equal(t, nonce, next[0].Nonce)
		assert.Equal(t, "200", next[0].Status)
		assert.Empty(t, d.rows("refresh"))

		c := s.Counters()
		assert.EqualValues(t, 2, c.DPoPProofs, "proofs accepted: the retry's and the next request's")
		assert.EqualValues(t, 1, c.DPoPNonceChallenges)
		assert.Zero(t, c.DPoPRejected)
		assert.Zero(t, c.Refreshes)
		counter := func(name string) string { return tb.text(`#lessons dd[data-counter="` + name + `"]`) }
		waitFor(t, "the page's DPoP counters", func() bool {
			return counter("dpopProofs") == "2" && counter("dpopNonceChallenges") == "1" && counter("dpopRejected") == "0"
		})
		tb.screenshot("timeline-dpop.png", "#lessons, #timeline > .act:first-child")
	})

	t.Run("server rotates the nonce: the old one is refused once", func(t *testing.T) {
		act := tb.lesson("rotate")
		assert.Contains(t, act.summary(), "1 of 1 succeeded")
		requests := tb.timeline()[0].rows("request")
		require.Len(t, requests, 2)
		require.Len(t, requests[0].Attempts, 1, "the page has the current nonce: %s", requests[0].Text)
		assert.Equal(t, nonce, requests[0].Attempts[0].Nonce)
		at := requests[1].Attempts
		require.Len(t, at, 2, requests[1].Text)
		assert.Equal(t, nonce, at[0].Nonce, "the stale nonce")
		assert.Equal(t, "use_dpop_nonce", at[0].Challenge)
		assert.NotEqual(t, nonce, at[1].Nonce, "the new nonce")
		assert.Equal(t, "200", at[1].Status)
		c := s.Counters()
		assert.EqualValues(t, 1, c.DPoPNonceChallenges)
		assert.Zero(t, c.DPoPRejected)
	})

	t.Run("a refresh challenged for its nonce is sent again", func(t *testing.T) {
		s.RotateDPoPNonce() // twice: the page's nonce is stale
		s.RotateDPoPNonce()
		s.ResetCounters() // keeps nonce mode on
		tb.eval(`api.auth.refresh().then(() => true)`, nil)
		var refreshes []tlRow
		waitFor(t, "two refresh rows", func() bool {
			refreshes = tb.timeline()[0].rows("refresh")
			return len(refreshes) == 2 && refreshes[1].Status == "200"
		})
		assert.Equal(t, "400", refreshes[0].Status)
		assert.Equal(t, "use_dpop_nonce", refreshes[0].Attempts[0].Challenge)
		assert.Contains(t, refreshes[0].Text, "400 use_dpop_nonce: sent again at once, a new proof with the nonce")
		assert.NotContains(t, refreshes[0].Text, "refused", "a nonce challenge does not end the session")
		assert.NotEqual(t, refreshes[0].Attempts[0].Nonce, refreshes[1].Attempts[0].Nonce)
		assert.Equal(t, "signed in", tb.text("#state"))
		c := s.Counters()
		assert.EqualValues(t, 1, c.Refreshes)
		assert.EqualValues(t, 1, c.DPoPNonceChallenges)
		assert.EqualValues(t, 1, c.DPoPProofs)
	})

	t.Run("logout, and a new key at the next login", func(t *testing.T) {
		tb.click("#logout")
		tb.waitText("#state", "signed out")
		var hidden bool
		tb.eval(`document.getElementById('binding').hidden`, &hidden)
		assert.True(t, hidden, "no binding shown when signed out")
		waitFor(t, "the server to see the logout", func() bool { return s.Counters().Logouts == 1 })
		s.ResetCounters()
		tb.click("#login")
		tb.waitText("#me", `"user": "demo"`)
		keys := s.DPoPKeys()
		require.Len(t, keys, 1)
		assert.NotEqual(t, firstKey, keys[0], "auth.clear() made a new key")
		tb.waitText("#binding", shortOnPage(keys[0])+" is the thumbprint of this page's key.")
	})

	t.Run("no token text on the page or in the console", func(t *testing.T) {
		var html string
		tb.eval(`document.documentElement.outerHTML`, &html)
		console, thrown := tb.syncedLogs()
		assert.Empty(t, thrown, "uncaught exceptions")
		issued := s.Issued()
		require.NotEmpty(t, issued)
		for _, p := range issued {
			for _, tok := range []string{p.Access, p.Refresh} {
				assert.NotContains(t, html, tok)
				for _, line := range console {
					assert.NotContains(t, line, tok)
				}
			}
		}
		assert.NotContains(t, html, "eyJ", "no JWT (token or proof) on the page")
	})
}

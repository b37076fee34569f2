//go:build !js

package e2e

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

	t.Run("lesson button with a token in its leeway refreshes first", func(t *testing.T) {
		// 2 s tokens: a request always meets the token in its leeway (1 s)
		// soon, so the lesson gets a fresh token before it revokes it.
		act := tb.lesson("storm")
		assert.Contains(t, act.summary(), "20 of 20 succeeded")
		assert.Contains(t, act.Rows[0].Text, "within 1 s of its expiry")
		refreshes := act.rows("refresh")
		require.Len(t, refreshes, 2, "the fresh token first, then the one refresh of the 20 401s")
		for _, r := range act.rows("request") {
			require.Len(t, r.Attempts, 2, r.Text)
			assert.Equal(t, "401", r.Attempts[0].Status)
			assert.Equal(t, "200", r.Attempts[1].Status)
		}
		c := s.Counters() // reset after the first refresh
		assert.EqualValues(t, 1, c.Refreshes)
		assert.EqualValues(t, 20, c.Unauthorized)
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

// tlAttempt is one attempt of a request in the demo page's timeline.
type tlAttempt struct {
	Token  string // "token #3", never the token
	Status string // "401", "200", "aborted", "" while in flight
	// In DPoP mode, what the page shows of the attempt's proof; "" else.
	Challenge string // the DPoP challenge's error, "use_dpop_nonce"
	Proof     string // "proof #7"
	HTM, HTU  string
	ATH       string // "true" or "false"
	Nonce     string // shortened as the page shows it: "AbC12x…"; "" for none
}

// tlRow is a row of the timeline: a request with its attempts, a refresh
// request (its one attempt in Attempts[0]), or a note.
type tlRow struct {
	Kind     string // "request", "refresh" or "note"
	Final    string // requests: the status they ended with, or the error code
	Status   string // refreshes: the answer's status, "aborted" or "pending"
	Text     string
	Attempts []tlAttempt
}

// tlAct is one block of the timeline: what the user did, and its rows.
type tlAct struct {
	Act  string
	Rows []tlRow
}

func (a tlAct) rows(kind string) []tlRow {
	var out []tlRow
	for _, r := range a.Rows {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func (a tlAct) summary() string {
	for _, r := range a.Rows {
		if r.Kind == "note" && strings.Contains(r.Text, " succeeded") {
			return r.Text
		}
	}
	return ""
}

// timeline reads the demo page's timeline, newest block first.
func (tb *tab) timeline() []tlAct {
	tb.t.Helper()
	var acts []tlAct
	tb.eval(`[...document.querySelectorAll('#timeline > .act')].map((a) => ({
		act: a.dataset.act,
		rows: [...a.querySelectorAll('.rows > li')].map((li) => {
			const kind = li.classList.contains('group') ? 'request' : li.classList.contains('refresh') ? 'refresh' : 'note'
			const d = (e) => ({ token: e.dataset.token ?? '', status: e.dataset.status ?? '', challenge: e.dataset.challenge ?? '',
				proof: e.dataset.proof ?? '', htm: e.dataset.htm ?? '', htu: e.dataset.htu ?? '', ath: e.dataset.ath ?? '', nonce: e.dataset.nonce ?? '' })
			return {
				kind,
				final: li.dataset.final ?? '',
				status: li.dataset.status ?? '',
				text: li.textContent,
				attempts: kind === 'request' ? [...li.querySelectorAll('.attempt')].map(d) : kind === 'refresh' ? [d(li)] : [],
			}
		}),
	}))`, &acts)
	return acts
}

// lesson clicks a lesson button of the demo page and waits until the
// lesson's block in the timeline has its summary line.
func (tb *tab) lesson(name string) tlAct {
	tb.t.Helper()
	tb.click("#" + name)
	deadline := time.Now().Add(20 * time.Second)
	for {
		acts := tb.timeline()
		if len(acts) > 0 && acts[0].Act == name && acts[0].summary() != "" {
			return acts[0]
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("lesson %s did not finish; timeline: %+v", name, acts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tokenNumber reads n from "token #n".
func tokenNumber(t *testing.T, label string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(label, "token #"))
	require.NoError(t, err, "token label %q", label)
	return n
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// events reads the demo page's Events list, oldest first.
func (tb *tab) events() []string {
	tb.t.Helper()
	var ev []string
	tb.eval(`[...document.querySelectorAll('#events li')].map((li) => li.dataset.event).reverse()`, &ev)
	return ev
}

// screenshot saves the part of the page from the first to the last element
// that sel (CSS) finds as dir/name (PNG) when JWTFETCH_SCREENSHOTS=dir is
// set: `JWTFETCH_SCREENSHOTS=example-site/web/screenshots go test -run
// TestVanillaLessons ./example-site/e2e/` (a relative dir is taken from the
// repository root) regenerates the README's pictures.
func (tb *tab) screenshot(name, sel string) {
	tb.t.Helper()
	dir := os.Getenv("JWTFETCH_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir)
	}
	// No moving parts: the picture is the same from one run to the next.
	tb.eval(`(() => {
		const s = document.createElement('style')
		s.textContent = '*, *::before, *::after { animation: none !important; transition: none !important; }'
		document.head.append(s)
		return true
	})()`, nil)
	shot, err := chromedp.Run(tb.ctx, chromedp.Screenshot(chromedp.CSSAll(sel)))
	require.NoError(tb.t, err, "screenshot")
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(tb.t, err, "decoding the screenshot")
	var out bytes.Buffer
	require.NoError(tb.t, png.Encode(&out, paletted(img)))
	require.NoError(tb.t, os.MkdirAll(dir, 0o755))
	require.NoError(tb.t, os.WriteFile(filepath.Join(dir, name), out.Bytes(), 0o644))
}

// paletted maps img to its 256 most frequent colours (each pixel to the
// nearest of them), which keeps a screenshot of a flat page sharp at about
// half the size of the full-colour PNG.
func paletted(img image.Image) *image.Paletted {
	b := img.Bounds()
	counts := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := slices.Collect(maps.Keys(counts))
	slices.SortFunc(colors, func(a, b color.RGBA) int { return counts[b] - counts[a] })
	pal := make(color.Palette, 0, 256)
	for _, c := range colors[:min(256, len(colors))] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	index := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}

// TestVanillaLessons drives the demo page's lesson buttons, which make the
// server misbehave, and reads what the page's timeline shows of each.
// The tokens live a minute, so no request meets one in its leeway (30 s):
// every refresh below is one that a 401 caused.
func TestVanillaLessons(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.do(chromedp.EmulateViewport(1000, 900))
	tb.open(s.URL + "/")
	tb.click("#login")
	tb.waitText("#user", "demo")
	tb.waitText("#countdown", "expires in")
	assert.Contains(t, tb.text("#countdown"), "token #1")
	assert.Contains(t, tb.text("#countdown"), "leeway: 30 s, at most half of its 60 s life")
	tb.waitText("#me", `"user": "demo"`)
	tb.screenshot("session.png", ".top")
	var controls bool
	tb.eval(`!document.querySelector('#lessons .with-debug').hidden && document.querySelector('#lessons .no-debug').hidden`, &controls)
	require.True(t, controls, "the lesson buttons show when /debug/ answers")
	first := tb.stored()
	require.NotNil(t, first)

	// pageCounter reads one of the server's counters as the page shows them.
	pageCounter := func(name string) string {
		return tb.text(`#lessons dd[data-counter="` + name + `"]`)
	}

	t.Run("revoke + 20 requests: one refresh", func(t *testing.T) {
		act := tb.lesson("storm")
		assert.Contains(t, act.summary(), "20 of 20 succeeded; still signed in")
		requests := act.rows("request")
		require.Len(t, requests, 20)
		for i, r := range requests {
			require.Len(t, r.Attempts, 2, "request %d: %s", i, r.Text)
			assert.Equal(t, "401", r.Attempts[0].Status, "request %d first attempt", i)
			assert.Equal(t, "200", r.Attempts[1].Status, "request %d retry", i)
			assert.Greater(t, tokenNumber(t, r.Attempts[1].Token), tokenNumber(t, r.Attempts[0].Token),
				"request %d is retried with a newer token", i)
			assert.Equal(t, "200", r.Final)
		}
		refreshes := act.rows("refresh")
		require.Len(t, refreshes, 1, "one refresh row")
		assert.Equal(t, "200", refreshes[0].Status)
		assert.Contains(t, refreshes[0].Text, requests[0].Attempts[1].Token, "the refresh row names the token it got")
		c := s.Counters()
		assert.EqualValues(t, 1, c.Refreshes, "refreshes")
		assert.EqualValues(t, 20, c.Unauthorized, "401s")
		assert.EqualValues(t, 20, c.APICalls, "API calls")
		assert.Zero(t, c.ReuseDetections)
		waitFor(t, "the page's counters", func() bool {
			return pageCounter("refreshes") == "1" && pageCounter("unauthorized") == "20" && pageCounter("apiCalls") == "20"
		})
		tb.screenshot("timeline-storm.png", "#lessons, #timeline > .act:first-child")
	})

	t.Run("expire now", func(t *testing.T) {
		act := tb.lesson("expire")
		assert.Contains(t, act.summary(), "1 of 1 succeeded")
		requests := act.rows("request")
		require.Len(t, requests, 1)
		require.Len(t, requests[0].Attempts, 2, requests[0].Text)
		assert.Equal(t, "401", requests[0].Attempts[0].Status)
		assert.Equal(t, "200", requests[0].Attempts[1].Status)
		assert.Contains(t, requests[0].Text, "waited for the refresh")
		require.Len(t, act.rows("refresh"), 1)
		assert.Equal(t, "200", act.rows("refresh")[0].Status)
		assert.EqualValues(t, 1, s.Counters().Refreshes)
	})

	t.Run("the refresh hangs", func(t *testing.T) {
		start := time.Now()
		act := tb.lesson("hang")
		took := time.Since(start)
		assert.Greater(t, took, 3500*time.Millisecond, "the requests wait for refreshTimeout (4 s)")
		assert.Less(t, took, 7*time.Second, "and no longer: the server would answer at 8 s")
		assert.Contains(t, act.summary(), "0 of 5 succeeded, 5 × ECONNABORTED; still signed in")
		requests := act.rows("request")
		require.Len(t, requests, 5)
		for i, r := range requests {
			assert.Equal(t, "ECONNABORTED", r.Final, "request %d", i)
			require.Len(t, r.Attempts, 1, "request %d is not retried", i)
			assert.Equal(t, "401", r.Attempts[0].Status)
			assert.Contains(t, r.Text, "the refresh took too long")
		}
		require.Len(t, act.rows("refresh"), 1)
		assert.Equal(t, "signed in", tb.text("#state"), "the session is kept")
		// jwtfetch aborts the refresh request it gave up on, and the server
		// sees it go.
		waitFor(t, "the refresh row to show the abort", func() bool {
			r := tb.timeline()[0].rows("refresh")
			return len(r) == 1 && r[0].Status == "aborted" && strings.Contains(r[0].Text, "gave up")
		})
		waitFor(t, "the server to see the refresh abandoned", func() bool { return s.Counters().RefreshFailures == 1 })
		assert.Zero(t, s.Counters().Refreshes)
		tb.screenshot("timeline-hang.png", "#lessons, #timeline > .act:first-child")

		// The next request refreshes again: jwtfetch knows its token failed,
		// so it refreshes before sending it, and this refresh answers at once.
		tb.click("#load")
		waitFor(t, "Load profile to refresh and succeed", func() bool {
			acts := tb.timeline()
			if acts[0].Act != "load" || len(acts[0].rows("request")) != 1 {
				return false
			}
			return acts[0].rows("request")[0].Final == "200"
		})
		load := tb.timeline()[0]
		r := load.rows("request")[0]
		require.NotEmpty(t, r.Attempts, r.Text)
		assert.Equal(t, "200", r.Attempts[len(r.Attempts)-1].Status)
		assert.Greater(t, tokenNumber(t, r.Attempts[len(r.Attempts)-1].Token), tokenNumber(t, requests[0].Attempts[0].Token),
			"sent with a new token")
		require.Len(t, load.rows("refresh"), 1)
		assert.Equal(t, "200", load.rows("refresh")[0].Status)
		c := s.Counters()
		assert.EqualValues(t, 1, c.Refreshes)
		assert.Zero(t, c.ReuseDetections, "the abandoned refresh left the refresh token unused")
	})

	last := tb.stored()
	require.NotNil(t, last)

	t.Run("the refresh is refused", func(t *testing.T) {
		act := tb.lesson("refuse")
		assert.Contains(t, act.summary(), "0 of 5 succeeded, 5 × ERR_AUTH_EXPIRED; signed out")
		requests := act.rows("request")
		require.Len(t, requests, 5)
		for i, r := range requests {
			assert.Equal(t, "ERR_AUTH_EXPIRED", r.Final, "request %d", i)
			require.NotEmpty(t, r.Attempts)
			assert.Equal(t, "401", r.Attempts[0].Status)
		}
		refreshes := act.rows("refresh")
		require.Len(t, refreshes, 1)
		assert.Equal(t, "401", refreshes[0].Status)
		tb.waitText("#state", "signed out")
		assert.Nil(t, tb.stored())
		events := tb.events()
		var expired int
		for _, e := range events {
			if strings.Contains(e, "expired") {
				expired++
			}
		}
		assert.Equal(t, 1, expired, "expired is shown once: %q", events)
		assert.Equal(t, "expired: the refresh was refused, logged out", events[len(events)-1], "and no logout line after it")
		assert.Equal(t, "session expired; please log in again", tb.text("#error"))
		tb.screenshot("timeline-refused.png", ".top, #timeline > .act:first-child")
	})

	t.Run("the server refreshes normally again", func(t *testing.T) {
		tb.click("#login")
		tb.waitText("#state", "signed in")
		act := tb.lesson("expire")
		assert.Contains(t, act.summary(), "1 of 1 succeeded")
		assert.EqualValues(t, 1, s.Counters().Refreshes)
	})

	t.Run("no token text on the page or in the console", func(t *testing.T) {
		var html string
		tb.eval(`document.documentElement.outerHTML`, &html)
		now := tb.stored()
		require.NotNil(t, now)
		console, thrown := tb.logs()
		assert.Empty(t, thrown, "uncaught exceptions")
		for _, tok := range []string{first.Access, first.Refresh, last.Access, last.Refresh, now.Access, now.Refresh} {
			assert.NotContains(t, html, tok)
			for _, line := range console {
				assert.NotContains(t, line, tok)
			}
		}
	})
}

// TestVanillaSecondTab checks what a second tab of the demo page shows of
// the first one's login, refresh and logout.
func TestVanillaSecondTab(t *testing.T) {
	s := newSite(t, time.Minute)
	one, two := newTab(t), newTab(t)
	one.open(s.URL + "/")
	two.open(s.URL + "/")
	assert.Equal(t, "signed out", two.text("#state"))

	one.click("#login")
	one.waitText("#user", "demo")
	two.waitText("#state", "signed in")
	two.waitText("#user", "demo")
	two.waitText("#me", `"user": "demo"`)
	two.waitText("#events", "login in another tab")

	one.eval(`api.auth.refresh().then(() => true)`, nil)
	two.waitText("#events", "refresh in another tab")

	one.click("#logout")
	two.waitText("#state", "signed out")
	two.waitText("#events", "logout in another tab")

	assert.Equal(t, []string{"login in another tab", "refresh in another tab", "logout in another tab"}, two.events())
	waitFor(t, "tab one's own events", func() bool { return len(one.events()) == 3 })
	assert.Equal(t, []string{"login", "refresh", "logout"}, one.events())
	var user string
	two.eval(`document.getElementById('user').textContent`, &user)
	assert.Equal(t, "?", user)
	assert.EqualValues(t, 1, s.Counters().Refreshes)
}

// TestVanillaWithoutDebug checks the demo page against a server without the
// /debug/ endpoints: a note instead of the lesson buttons, and the rest
// works.
func TestVanillaWithoutDebug(t *testing.T) {
	s := newSiteWith(t, time.Minute, map[string]http.Handler{"/debug/": http.NotFoundHandler()})
	tb := newTab(t)
	tb.open(s.URL + "/")
	var shown struct{ Note, Lessons bool }
	tb.eval(`({ note: !document.querySelector('#lessons .no-debug').hidden, lessons: !document.querySelector('#lessons .with-debug').hidden })`, &shown)
	assert.True(t, shown.Note, "the note on -debug shows")
	assert.False(t, shown.Lessons, "the lesson buttons are hidden")
	tb.click("#login")
	tb.waitText("#user", "demo")
	tb.waitText("#me", `"user": "demo"`)
	assert.EqualValues(t, 1, s.Counters().APICalls)
}

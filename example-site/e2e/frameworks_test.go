//go:build !js

package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frameworkBuild is how to make the bundles the Vue and React pages load.
const frameworkBuild = "run the frontend build: make frontend, or cd example-site/frontend && npm ci && node build.mjs"

// TestFrameworks walks the Vue and React versions of the demo page through
// the vanilla page's session: log in, outlive the access token, a burst after
// the server revoked the token, reload, log out. The development build of the
// React page runs StrictMode's double mount, which the provider must survive
// with one live instance.
func TestFrameworks(t *testing.T) {
	pages := []struct {
		name   string
		path   string // page URL path
		bundle string // what the page loads, under example-site/web
		// Instances the page creates; React StrictMode in development
		// mounts the provider twice and the first instance is destroyed.
		created int
	}{
		{name: "vue", path: "/vue/", bundle: "vue/app.js", created: 1},
		{name: "react", path: "/react/", bundle: "react/app.js", created: 1},
		{name: "react-strict-dev", path: "/react/dev.html", bundle: "react/app.dev.js", created: 2},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			// Missing bundles are a failure, never a skip: a skip would
			// let a broken page pass CI unnoticed.
			if err := frameworkBundleFresh(filepath.Join(webDir, filepath.FromSlash(p.bundle))); err != nil {
				t.Fatalf("%v; %s", err, frameworkBuild)
			}
			s := newSite(t, accessTTL)
			tb := newTab(t)
			tb.open(s.URL + p.path)
			assert.Equal(t, "signed out", tb.text("#state"))
			frameworkCheckInstances(tb, p.created)

			tb.click("#login")
			tb.waitText("#user", "demo") // the token's sub claim
			assert.Equal(t, "signed in", tb.text("#state"))
			assert.WithinDuration(t, time.Now().Add(accessTTL), frameworkExpiry(tb), time.Second, "#expires: the token's exp claim")
			first := tb.stored()
			require.NotNil(t, first, "the session is stored after login")
			assert.Zero(t, s.Counters().Refreshes)

			t.Run("outlives the access token", func(t *testing.T) {
				time.Sleep(accessTTL + 500*time.Millisecond)
				s.ResetCounters()
				before := tb.text("#me")
				expBefore := frameworkExpiry(tb)
				tb.click("#load")
				frameworkWait(tb, "#me shows a new profile", func() bool {
					me := tb.text("#me")
					return me != before && strings.Contains(me, `"user": "demo"`)
				})
				// The binding's claims follow the refresh: the page shows the
				// new token's exp.
				frameworkWait(tb, "#expires shows the refreshed token's exp", func() bool {
					return frameworkExpiry(tb).After(expBefore)
				})
				c := s.Counters()
				assert.EqualValues(t, 1, c.Refreshes, "refreshes")
				assert.Zero(t, c.ReuseDetections)
				assert.Empty(t, tb.text("#error"))
				assert.Equal(t, "demo", tb.text("#user"))
				now := tb.stored()
				require.NotNil(t, now)
				assert.NotEqual(t, first.Refresh, now.Refresh, "rotated refresh token stored")
			})

			t.Run("20 concurrent 401s after the server revoked the token", func(t *testing.T) {
				burstAfterRevoke(t, tb, s)
			})

			t.Run("reload keeps the session", func(t *testing.T) {
				s.ResetCounters()
				tb.open(s.URL + p.path)
				tb.waitText("#state", "signed in")
				tb.waitText("#user", "demo")
				assert.Zero(t, s.Counters().Unauthorized)
				frameworkCheckInstances(tb, p.created)
			})

			last := tb.stored()
			require.NotNil(t, last)

			// A second tab of the page: the binding follows the session
			// the first tab ends ('tokens' from another tab).
			other := newTab(t)
			other.open(s.URL + p.path)
			other.waitText("#state", "signed in")
			other.waitText("#user", "demo")

			t.Run("logout", func(t *testing.T) {
				tb.click("#logout")
				tb.waitText("#state", "signed out")
				other.waitText("#state", "signed out")
				var user string
				other.eval(`document.querySelector('#user').textContent`, &user)
				assert.Equal(t, "?", user, "the other tab's claims are gone")
				assert.Nil(t, tb.stored(), "storage is empty")
				var keys int
				tb.eval(`localStorage.length`, &keys)
				assert.Zero(t, keys, "localStorage keys")
				assert.EqualValues(t, 1, s.Counters().Logouts, "the server revoked the session")
			})

			var events []string
			tb.eval(`[...document.querySelectorAll('#events li')].map(li => li.textContent)`, &events)
			assert.NotEmpty(t, events, "the events list shows token changes")

			console, thrown := tb.logs()
			assert.Empty(t, thrown, "uncaught exceptions")
			for _, line := range console {
				for _, tok := range []string{first.Access, first.Refresh, last.Access, last.Refresh} {
					assert.False(t, strings.Contains(line, tok), "a token reached the console: %q", line)
				}
			}
		})
	}
}

// frameworkBundleFresh reports an error when bundle is missing or older
// than a file it is built from.
func frameworkBundleFresh(bundle string) error {
	fi, err := os.Stat(bundle)
	if err != nil {
		return fmt.Errorf("%s is not built", bundle)
	}
	frontend := filepath.Join(webDir, "..", "frontend")
	var stale string
	check := func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(fi.ModTime()) {
			stale = path
			return fs.SkipAll
		}
		return nil
	}
	// The bindings are bundled from jsglue/ (the core module is not: the
	// pages load it from /jsglue/).
	jsglue := filepath.Join(webDir, "..", "..", "jsglue")
	for _, src := range []string{
		filepath.Join(frontend, "src"), filepath.Join(frontend, "build.mjs"), filepath.Join(frontend, "package-lock.json"),
		filepath.Join(jsglue, "vue.js"), filepath.Join(jsglue, "react.js"), filepath.Join(jsglue, "bindings.js"),
	} {
		if err := filepath.WalkDir(src, check); err != nil {
			return fmt.Errorf("checking %s is up to date: %v", bundle, err)
		}
		if stale != "" {
			return fmt.Errorf("%s is older than %s", bundle, stale)
		}
	}
	return nil
}

// frameworkCheckInstances checks that the page created the expected number
// of jwtfetch instances and that exactly one is alive and is window.api.
func frameworkCheckInstances(tb *tab, created int) {
	tb.t.Helper()
	var got struct {
		Created, Alive int
		API            bool
	}
	tb.eval(`({...window.__jwtfetchInstances, api: typeof window.api?.get === 'function'})`, &got)
	assert.Equal(tb.t, created, got.Created, "instances created")
	assert.Equal(tb.t, 1, got.Alive, "instances alive")
	assert.True(tb.t, got.API, "window.api is the instance")
}

// frameworkExpiry is the time the page shows in #expires (the
// datetime attribute: the exp claim of the access token), or the zero time.
func frameworkExpiry(tb *tab) time.Time {
	tb.t.Helper()
	var s string
	tb.eval(`document.querySelector('#expires')?.dateTime ?? ''`, &s)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return at
}

// frameworkWait polls cond until it holds, or fails the test after a while.
func frameworkWait(tb *tab, what string, cond func() bool) {
	tb.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.t.Fatalf("timed out waiting until %s (page error: %q)", what, tb.text("#error"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

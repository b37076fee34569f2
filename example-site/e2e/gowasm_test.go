//go:build !js

package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/example-site/authserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The demo page /go/: a Go program (example-site/gowasm, net/http through
// a jwthttp.Transport) and a JavaScript jwtfetch instance in one page keep
// one session, with each other and with the other tabs.

var (
	goAppOnce sync.Once
	goAppPath string
	goAppErr  error
)

// goApp builds the page's Go program once, as `make build` does, into the
// directory that runMain removes at the end.
func goApp(t *testing.T) http.Handler {
	t.Helper()
	goAppOnce.Do(func() {
		goAppPath = filepath.Join(filepath.Dir(jsglueDir), "gowasm", "app.wasm")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", goAppPath, "../gowasm")
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			goAppErr = fmt.Errorf("building example-site/gowasm: %v\n%s", err, out)
		}
	})
	require.NoError(t, goAppErr)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, goAppPath)
	})
}

// newGoSite is the demo site with the page's Go program.
func newGoSite(t *testing.T, accessTTL time.Duration) *site {
	t.Helper()
	return newSiteFrom(t, authserver.Config{AccessTTL: accessTTL, RecordIssued: true}, map[string]http.Handler{"GET /go/app.wasm": goApp(t)})
}

// bothBurst sends n requests from the Go program and n from the
// JavaScript instance of tb at once, and returns how many of each
// answered 200.
func (tb *tab) bothBurst(n int) (fromGo, fromJS int) {
	tb.t.Helper()
	var got []int
	tb.eval(fmt.Sprintf(`Promise.all([
		goApp.burst(%d),
		Promise.allSettled(Array.from({length: %d}, () => api.get('/api/me')))
			.then(rs => rs.filter(r => r.status === 'fulfilled' && r.value.status === 200).length),
	])`, n, n), &got)
	require.Len(tb.t, got, 2)
	return got[0], got[1]
}

func TestGoWasmAndJavaScriptShareOneSession(t *testing.T) {
	const ttl = 2 * time.Second
	s := newGoSite(t, ttl)
	tb := newTab(t)
	tb.open(s.URL + "/go/")
	assert.Equal(t, "signed out", tb.text("#state"))

	// Log in through the page: the Go program logs in and loads the
	// profile; the JavaScript instance hears of it from the storage event
	// the Transport dispatches in the page.
	tb.click("#login")
	tb.waitText("#me", "Go: 200 demo")
	tb.waitTrue(`api.auth.isAuthenticated()`, "the JavaScript instance sees the Go login")
	assert.Equal(t, "signed in", tb.text("#state"))
	// The JavaScript instance holds the Go login's token, from the shared
	// storage.
	issued := s.Issued()
	require.Len(t, issued, 1, "one login, no refresh yet")
	var shared string
	tb.eval(`api.auth.accessToken()`, &shared)
	assert.True(t, shared == issued[0].Access, "the JavaScript instance has the Go login's access token")
	var same bool
	tb.eval(`(async () => (await api.get('/api/me')).status === 200)()`, &same)
	assert.True(t, same)
	// Its request may refresh ahead first: the shared state keeps the
	// expiry in whole seconds, so the instance that reads it sees the 2 s
	// token up to 1 s older than it is, which can put it at its leeway
	// (half its life) at once. Never more than that one refresh.
	assert.LessOrEqual(t, s.Counters().Refreshes, int64(1), "at most the refresh ahead of the leeway")

	t.Run("an expiry costs one refresh", func(t *testing.T) {
		for round := range 3 {
			time.Sleep(ttl + 300*time.Millisecond) // the access token has expired
			before := s.Counters()
			fromGo, fromJS := tb.bothBurst(10)
			after := s.Counters()
			assert.Equal(t, 10, fromGo, "Go requests that succeeded in round %d", round)
			assert.Equal(t, 10, fromJS, "JavaScript requests that succeeded in round %d", round)
			assert.EqualValues(t, 1, after.Refreshes-before.Refreshes, "refreshes in round %d", round)
			assert.EqualValues(t, 1, after.RefreshRequests-before.RefreshRequests, "refresh requests in round %d", round)
		}
	})

	t.Run("a revocation costs one refresh", func(t *testing.T) {
		for round := range 3 {
			s.RevokeAccessTokens()
			before := s.Counters()
			fromGo, fromJS := tb.bothBurst(10)
			after := s.Counters()
			assert.Equal(t, 10, fromGo, "round %d", round)
			assert.Equal(t, 10, fromJS, "round %d", round)
			assert.EqualValues(t, 1, after.Refreshes-before.Refreshes, "refreshes in round %d", round)
		}
	})

	t.Run("the buttons", func(t *testing.T) {
		tb.click("#burst")
		tb.waitText("#me", "Go: 10 of 10, JavaScript: 10 of 10 succeeded")
		tb.click("#load-js")
		tb.waitText("#me", "JavaScript: 200 demo")
	})

	t.Run("logouts and logins reach the other side", func(t *testing.T) {
		// JavaScript logs out: the Go program sees it at its next call.
		tb.eval(`(api.auth.clear(), true)`, nil)
		var goAuth bool
		tb.eval(`goApp.isAuthenticated()`, &goAuth)
		assert.False(t, goAuth, "Go sees the JavaScript logout")

		// JavaScript logs in: Go uses those tokens, without a refresh.
		before := s.Counters()
		tb.eval(`(async () => {
			const { data } = await api.post('/auth/login', { username: 'demo', password: 'demo123' }, { skipAuth: true })
			api.auth.setTokens({ accessToken: data.access, refreshToken: data.refresh })
			return true
		})()`, nil)
		var me struct {
			Status int
			User   string
		}
		tb.eval(`goApp.me()`, &me)
		assert.Equal(t, 200, me.Status)
		assert.Equal(t, "demo", me.User)
		assert.Equal(t, before.Refreshes, s.Counters().Refreshes, "no refresh")

		// Go logs out: the JavaScript instance hears of it at once.
		tb.click("#logout-go")
		tb.waitTrue(`!api.auth.isAuthenticated()`, "the JavaScript instance sees the Go logout")
		tb.waitText("#state", "signed out")
	})

	console, thrown := tb.logs()
	assert.Empty(t, thrown, "uncaught exceptions")
	for _, line := range console {
		assert.NotContains(t, line, "eyJ", "a token in the console: %s", line)
	}
}

// TestGoWasmPagesInTwoTabs: two tabs of the page, each with a Go program
// and a JavaScript instance, make one refresh for the four of them.
func TestGoWasmPagesInTwoTabs(t *testing.T) {
	const ttl = 2 * time.Second
	s := newGoSite(t, ttl)
	tabs := []*tab{newTab(t), newTab(t)}
	tabs[0].open(s.URL + "/go/")
	tabs[0].eval(`goApp.login('demo', 'demo123').then(() => true)`, nil)
	tabs[1].open(s.URL + "/go/")
	var auth bool
	tabs[1].eval(`goApp.isAuthenticated() && api.auth.isAuthenticated()`, &auth)
	require.True(t, auth, "the second tab starts with the session")

	for round := range 3 {
		time.Sleep(ttl + 300*time.Millisecond)
		before := s.Counters()
		var wg sync.WaitGroup
		results := make([][2]int, len(tabs))
		for i, tb := range tabs {
			wg.Go(func() { results[i][0], results[i][1] = tb.bothBurst(5) })
		}
		wg.Wait()
		after := s.Counters()
		for i := range tabs {
			assert.Equal(t, [2]int{5, 5}, results[i], "tab %d, round %d", i, round)
		}
		assert.EqualValues(t, 1, after.Refreshes-before.Refreshes, "refreshes in round %d", round)
	}
	assert.Zero(t, s.Counters().ReuseDetections)

	tabs[1].click("#logout-go")
	tabs[0].waitTrue(`!goApp.isAuthenticated() && !api.auth.isAuthenticated()`, "the logout reaches the other tab")
	for _, tb := range tabs {
		_, thrown := tb.logs()
		assert.Empty(t, thrown)
	}
}

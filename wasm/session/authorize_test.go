package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the request decisions: Authorize and its Wait, Retry, RetryOn
// and Successor, which Do (and the JavaScript shim) are built on.

// authorizeNow calls c.Authorize and fails the test if it blocks. It
// returns what the request carries, without the answer's validity (Until
// and Version, tested in TestAnswerValidity).
func authorizeNow(t *testing.T, c *Client, url string) (Auth, *Wait) {
	a, w := authorizeFull(t, c, url)
	a.Until, a.Version = 0, 0
	return a, w
}

// authorizeFull is authorizeNow with the answer's validity.
func authorizeFull(t *testing.T, c *Client, url string) (Auth, *Wait) {
	t.Helper()
	type result struct {
		a Auth
		w *Wait
	}
	ch := make(chan result, 1)
	go func() {
		a, w := c.Authorize(url)
		ch <- result{a, w}
	}()
	select {
	case r := <-ch:
		return r.a, r.w
	case <-time.After(2 * time.Second):
		t.Fatal("Authorize blocked")
		return Auth{}, nil
	}
}

// bearer is the Auth the harness's default config sends access with.
func bearer(access string) Auth {
	return Auth{Header: "Authorization", Value: "Bearer " + access, Token: access}
}

// inFlight reports whether c has a refresh running.
func inFlight(c *Client) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flight != nil
}

// isClosed reports whether ch is closed (without waiting).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestAuthorize(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		// setup makes the session and returns the token Authorize should
		// answer with ("" for none).
		setup func(h *harness) string
		url   string
		// wantWait: a refresh must come first.
		wantWait bool
	}{
		{"good token", nil, func(h *harness) string { return h.login() }, apiURL, false},
		{"good token, other path on the origin", nil, func(h *harness) string { return h.login() }, "https://api.test:443/x?y", false},
		{"other origin", nil, func(h *harness) string { h.login(); return "" }, "https://evil.test/me", false},
		{"other origin, expired token: no refresh either", nil, func(h *harness) string {
			h.login()
			h.clock.Advance(11 * time.Minute)
			return ""
		}, "https://evil.test/me", false},
		{"relative URL", nil, func(h *harness) string { h.login(); return "" }, "/me", false},
		{"no session", nil, func(h *harness) string { return "" }, apiURL, false},
		{"outside the leeway", nil, func(h *harness) string {
			access := h.login() // lives 10 minutes, leeway 30 s
			h.clock.Advance(9*time.Minute + 29*time.Second)
			return access
		}, apiURL, false},
		{"expiring token", nil, func(h *harness) string {
			h.login()
			h.clock.Advance(9*time.Minute + 31*time.Second)
			return ""
		}, apiURL, true},
		{"expired token", nil, func(h *harness) string {
			h.login()
			h.clock.Advance(11 * time.Minute)
			return ""
		}, apiURL, true},
		{"access-less session with a refresh token", nil, func(h *harness) string {
			require.NoError(h.t, h.store.Save(`{"v":1,"access":"","refresh":"refresh-0","exp":0}`))
			h.c = New(h.c.cfg, h.api)
			return ""
		}, apiURL, true},
		{"opaque token without expiry", nil, func(h *harness) string {
			h.c.SetTokens("opaque", "refresh-0", 0)
			return "opaque"
		}, apiURL, false},
		{"expired token without a refresh token is sent", nil, func(h *harness) string {
			access := jwtAt(h.clock.Time(), time.Minute, 1)
			h.c.SetTokens(access, "", 0)
			h.clock.Advance(2 * time.Minute)
			return access
		}, apiURL, false},
		{"expired token without a Refresher is sent", func(c *Config) { c.Refresher = nil }, func(h *harness) string {
			access := h.login()
			h.clock.Advance(11 * time.Minute)
			return access
		}, apiURL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.mod)
			want := tt.setup(h)
			old := h.c.AccessToken()
			gate := h.ref.hold()
			a, w := authorizeNow(t, h.c, tt.url)
			if !tt.wantWait {
				assert.Nil(t, w, "no refresh first")
				assert.False(t, inFlight(h.c), "no refresh started")
				if want == "" {
					assert.Equal(t, Auth{}, a, "nothing sent")
				} else {
					assert.Equal(t, bearer(want), a)
				}
				close(gate)
				return
			}
			require.NotNil(t, w, "the refresh comes first")
			assert.Equal(t, Auth{}, a, "nothing is sent before the refresh")
			assert.True(t, inFlight(h.c), "the refresh has started")
			assert.False(t, isClosed(w.Done()), "the refresh is held")
			close(gate)
			select {
			case <-w.Done():
			case <-time.After(2 * time.Second):
				t.Fatal("Done never closed")
			}
			got, err := w.Wait(context.Background())
			require.NoError(t, err)
			require.NotEqual(t, old, h.c.AccessToken())
			assert.Equal(t, bearer(h.c.AccessToken()), got, "the Wait gives the refreshed token")
			assert.EqualValues(t, 1, h.ref.calls.Load())
			a, w = authorizeNow(t, h.c, tt.url)
			assert.Nil(t, w)
			assert.Equal(t, got, a, "the new token is then sent as is")
		})
	}
}

func TestAuthorizeAfterRefusalWaits(t *testing.T) {
	// A token a server refused (Successor was asked for its successor) is
	// not sent again: requests wait for the refresh, and join it.
	h := newHarness(t, nil)
	old := h.login()
	gate := h.ref.hold()
	done := make(chan Auth, 1)
	go func() {
		a, err := h.c.Successor(context.Background(), old)
		assert.NoError(t, err)
		done <- a
	}()
	require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, 2*time.Second, time.Millisecond)
	a, w := authorizeNow(t, h.c, apiURL)
	require.NotNil(t, w, "the refused token is not sent")
	assert.Equal(t, Auth{}, a)
	close(gate)
	got, err := w.Wait(context.Background())
	require.NoError(t, err)
	assert.Equal(t, bearer(h.c.AccessToken()), got)
	assert.Equal(t, got, <-done)
	assert.NotEqual(t, old, got.Token)
	assert.EqualValues(t, 1, h.ref.calls.Load(), "the request joined the refresh")
}

func TestWaitsShareOneRefresh(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Header, c.Scheme = "X-Token", "" })
	h.login()
	h.clock.Advance(11 * time.Minute)
	gate := h.ref.hold()
	const n = 20
	waits := make([]*Wait, n)
	for i := range waits {
		var a Auth
		a, waits[i] = authorizeNow(t, h.c, apiURL)
		require.NotNil(t, waits[i])
		assert.Equal(t, Auth{}, a)
	}
	for _, w := range waits[1:] {
		assert.True(t, w.Done() == waits[0].Done(), "every request waits for the same refresh")
	}
	close(gate)
	var wg sync.WaitGroup
	got := make([]Auth, n)
	errs := make([]error, n)
	for i, w := range waits {
		wg.Go(func() { got[i], errs[i] = w.Wait(context.Background()) })
	}
	wg.Wait()
	access := h.c.AccessToken()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, Auth{Header: "X-Token", Value: access, Token: access}, got[i])
	}
	assert.EqualValues(t, 1, h.ref.calls.Load())
}

func TestWaitErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		// fail is what the refresh returns; during runs while it is held;
		// hang leaves it held until RefreshTimeout.
		fail    error
		during  func(h *harness)
		hang    bool
		code    string
		msg     string
		session bool // the session survives
	}{
		{"refused", nil, StatusError("POST /refresh", 401), nil, false, CodeAuthExpired,
			"jwtfetch: refresh refused: POST /refresh answered 401; the session is over", false},
		{"server error", nil, StatusError("POST /refresh", 503), nil, false, CodeBadResponse,
			"jwtfetch: refresh failed: POST /refresh answered 503; the session is kept", true},
		{"logout during the refresh", nil, nil, func(h *harness) { h.c.Clear() }, false, CodeAuthExpired,
			"jwtfetch: session ended while the refresh was running", false},
		{"refresh timeout", func(c *Config) { c.RefreshTimeout = 50 * Millisecond }, nil, nil, true, CodeTimeout,
			"jwtfetch: refresh timed out after 50ms", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.mod)
			h.login()
			h.clock.Advance(11 * time.Minute)
			h.ref.fail(tt.fail)
			gate := h.ref.hold()
			_, w := authorizeNow(t, h.c, apiURL)
			require.NotNil(t, w)
			require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, 2*time.Second, time.Millisecond)
			if tt.during != nil {
				tt.during(h)
			}
			if !tt.hang {
				close(gate)
			}
			a, err := w.Wait(context.Background())
			require.Error(t, err)
			assert.Equal(t, Auth{}, a)
			assert.Equal(t, tt.code, CodeOf(err), "%v", err)
			assert.Equal(t, tt.msg, err.Error())
			assert.Equal(t, tt.session, h.c.IsAuthenticated())

			h.ref.fail(nil)
			a, w = authorizeNow(t, h.c, apiURL)
			if !tt.session {
				assert.Nil(t, w, "no session: nothing to wait for")
				assert.Equal(t, Auth{}, a, "no session: no token")
				return
			}
			require.NotNil(t, w, "the session is kept and its token still expired: the next request refreshes again")
			a, err = w.Wait(context.Background())
			require.NoError(t, err)
			assert.Equal(t, bearer(h.c.AccessToken()), a)
			assert.EqualValues(t, 2, h.ref.calls.Load())
		})
	}
}

func TestWaitCtxEndLeavesTheRefreshAlone(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (Ctx, func())
		code string
		msg  string
	}{
		{"canceled context", func() (Ctx, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			return ctx, cancel
		}, CodeCanceled, "jwtfetch: request canceled"},
		{"context deadline", func() (Ctx, func()) {
			return context.WithTimeout(context.Background(), 10*time.Millisecond)
		}, CodeTimeout, "jwtfetch: request timed out"},
		{"session deadline", func() (Ctx, func()) {
			dl := withTimeout(newClock(), 10*Millisecond)
			return dl, dl.cancel
		}, CodeTimeout, "jwtfetch: request timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.login()
			h.clock.Advance(11 * time.Minute)
			gate := h.ref.hold()
			_, w := authorizeNow(t, h.c, apiURL)
			require.NotNil(t, w)
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			a, err := w.Wait(ctx)
			assert.Less(t, time.Since(start), time.Second, "the caller stops waiting when its ctx ends")
			assert.Equal(t, Auth{}, a)
			assert.Equal(t, tt.code, CodeOf(err), "%v", err)
			assert.Equal(t, tt.msg, err.Error())

			// The refresh goes on, and other requests join it.
			assert.True(t, inFlight(h.c), "the refresh is still running")
			assert.False(t, isClosed(w.Done()))
			_, other := authorizeNow(t, h.c, apiURL)
			require.NotNil(t, other)
			assert.True(t, other.Done() == w.Done(), "the next request joins the same refresh")
			close(gate)
			got, err := other.Wait(context.Background())
			require.NoError(t, err)
			assert.Equal(t, bearer(h.c.AccessToken()), got)
			again, err := w.Wait(context.Background())
			require.NoError(t, err, "the abandoned Wait still gives the result")
			assert.Equal(t, got, again)
			assert.EqualValues(t, 1, h.ref.calls.Load())
			assert.True(t, h.c.IsAuthenticated())
		})
	}
}

func TestRetryAndRetryOn(t *testing.T) {
	tests := []struct {
		name         string
		mod          func(*Config)
		wantStatuses []int
		wantNetwork  bool
		retry        []int // statuses Retry says yes to
		noRetry      []int
	}{
		{"default", nil, []int{401}, false, []int{401}, []int{0, 200, 403, 419, 500}},
		{"custom statuses", func(c *Config) { c.RefreshOn = []int{401, 419} }, []int{401, 419}, false,
			[]int{401, 419}, []int{0, 200, 403}},
		{"statuses without 401", func(c *Config) { c.RefreshOn = []int{403} }, []int{403}, false,
			[]int{403}, []int{0, 401}},
		{"network error", func(c *Config) { c.RefreshOnNetworkError = true }, []int{401}, true,
			[]int{0, 401}, []int{200, 403}},
		{"no Refresher", func(c *Config) { c.Refresher = nil }, nil, false,
			nil, []int{0, 200, 401, 403}},
		{"no Refresher, network error and statuses set", func(c *Config) {
			c.Refresher, c.RefreshOnNetworkError, c.RefreshOn = nil, true, []int{401, 419}
		}, nil, false, nil, []int{0, 401, 419}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.mod)
			statuses, network := h.c.RetryOn()
			assert.Equal(t, tt.wantStatuses, statuses)
			assert.Equal(t, tt.wantNetwork, network)
			for _, s := range tt.retry {
				assert.True(t, h.c.Retry(s), "Retry(%d)", s)
			}
			for _, s := range tt.noRetry {
				assert.False(t, h.c.Retry(s), "Retry(%d)", s)
			}
			// RetryOn describes Retry exactly.
			for s := -1; s < 600; s++ {
				want := s == 0 && network
				for _, x := range statuses {
					want = want || (s != 0 && s == x)
				}
				require.Equal(t, want, h.c.Retry(s), "Retry(%d) against RetryOn", s)
			}
		})
	}
}

func TestSuccessorOfAReplacedToken(t *testing.T) {
	// Another request refreshed meanwhile: the new token comes at once,
	// even to a caller that no longer waits, and nothing is refreshed.
	h := newHarness(t, nil)
	old := h.login()
	fresh, err := h.c.Refresh(context.Background())
	require.NoError(t, err)
	require.NotEqual(t, old, fresh)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a, err := h.c.Successor(ctx, old)
	require.NoError(t, err)
	assert.Equal(t, bearer(fresh), a)
	assert.EqualValues(t, 1, h.ref.calls.Load(), "no second refresh")
}

func TestSuccessorOfTheCurrentToken(t *testing.T) {
	h := newHarness(t, nil)
	old := h.login()
	a, err := h.c.Successor(context.Background(), old)
	require.NoError(t, err)
	assert.NotEqual(t, old, a.Token)
	assert.Equal(t, bearer(h.c.AccessToken()), a)
	assert.EqualValues(t, 1, h.ref.calls.Load())
	assert.Equal(t, []string{"refresh-0"}, h.ref.presented())
	got, w := authorizeNow(t, h.c, apiURL)
	assert.Nil(t, w)
	assert.Equal(t, a, got, "requests then carry the successor")
}

func TestSuccessorJoinsOneRefresh(t *testing.T) {
	h := newHarness(t, nil)
	old := h.login()
	gate := h.ref.hold()
	const n = 30
	var wg sync.WaitGroup
	got := make([]Auth, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = h.c.Successor(context.Background(), old) })
	}
	require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, 2*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let every caller join
	close(gate)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, bearer(h.c.AccessToken()), got[i])
	}
	assert.NotEqual(t, old, h.c.AccessToken())
	assert.EqualValues(t, 1, h.ref.calls.Load(), "exactly one refresh")
}

func TestSuccessorErrors(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		setup   func(h *harness) string // returns the failed token
		code    string
		expired int // EventExpired count
		calls   int32
	}{
		{"refused", nil, func(h *harness) string {
			h.ref.fail(StatusError("POST /refresh", 401))
			return h.login()
		}, CodeAuthExpired, 1, 1},
		{"no Refresher", func(c *Config) { c.Refresher = nil }, func(h *harness) string { return h.login() },
			CodeAuthExpired, 0, 0},
		{"no refresh token", nil, func(h *harness) string {
			access := jwtAt(h.clock.Time(), time.Minute, 1)
			h.c.SetTokens(access, "", 0)
			return access
		}, CodeAuthExpired, 1, 0},
		{"no session", nil, func(h *harness) string { return "gone" }, CodeAuthExpired, 0, 0},
		{"canceled", nil, func(h *harness) string {
			h.ref.hold() // the refresh outlives the caller
			return h.login()
		}, CodeCanceled, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.mod)
			failed := tt.setup(h)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.code == CodeCanceled {
				time.AfterFunc(20*time.Millisecond, cancel)
			}
			a, err := h.c.Successor(ctx, failed)
			assert.Equal(t, Auth{}, a)
			assert.Equal(t, tt.code, CodeOf(err), "%v", err)
			assert.Equal(t, tt.expired, h.events.count(EventExpired))
			require.Eventually(t, func() bool { return h.ref.calls.Load() == tt.calls }, 2*time.Second, time.Millisecond,
				"refreshes: %d; want %d", h.ref.calls.Load(), tt.calls)
		})
	}
}

func TestAuthValue(t *testing.T) {
	tests := []struct {
		name           string
		header, scheme string
		want           func(access string) Auth
	}{
		{"default header, Bearer", "", "Bearer", func(a string) Auth { return Auth{Header: "Authorization", Value: "Bearer " + a, Token: a} }},
		{"no scheme: the bare token", "", "", func(a string) Auth { return Auth{Header: "Authorization", Value: a, Token: a} }},
		{"custom header, no scheme", "X-Token", "", func(a string) Auth { return Auth{Header: "X-Token", Value: a, Token: a} }},
		{"custom header and scheme", "X-Api-Key", "Token", func(a string) Auth { return Auth{Header: "X-Api-Key", Value: "Token " + a, Token: a} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Header, c.Scheme = tt.header, tt.scheme })
			access := h.login()
			a, w := authorizeNow(t, h.c, apiURL)
			require.Nil(t, w)
			assert.Equal(t, tt.want(access), a, "Authorize")

			// The successor's Auth has the same form, and so does what Do
			// sends.
			s, err := h.c.Successor(context.Background(), access)
			require.NoError(t, err)
			assert.Equal(t, tt.want(h.c.AccessToken()), s, "Successor")
			_, err = h.c.Do(context.Background(), fakeReq{apiURL}, Options{})
			require.NoError(t, err)
			log := h.api.requests()
			require.NotEmpty(t, log)
			assert.Equal(t, sent{apiURL, s.Header, s.Value}, log[0], "Do")
		})
	}
}

func TestNewWithoutDoer(t *testing.T) {
	// The shim sends its own requests: a Client without a Doer decides.
	h := newHarness(t, nil)
	c := New(h.c.cfg, nil)
	access := jwtAt(h.clock.Time(), 10*time.Minute, 1)
	c.SetTokens(access, "refresh-0", 0)
	a, w := authorizeNow(t, c, apiURL)
	assert.Nil(t, w)
	assert.Equal(t, bearer(access), a)
	assert.True(t, c.Retry(401))
	s, err := c.Successor(context.Background(), a.Token)
	require.NoError(t, err)
	assert.NotEqual(t, access, s.Token)
	assert.Equal(t, bearer(c.AccessToken()), s)
}

// TestAnswerValidity: an answer of Authorize holds until its Until and for
// as long as the state stays at its Version; every change that could change
// an answer reports a new version through OnChange, with the lock held.
func TestAnswerValidity(t *testing.T) {
	var mu sync.Mutex
	var reported []uint64
	h := newHarness(t, func(c *Config) {
		c.OnChange = func(v uint64) {
			mu.Lock()
			reported = append(reported, v)
			mu.Unlock()
		}
	})
	last := func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		require.NotEmpty(t, reported)
		return reported[len(reported)-1]
	}
	changes := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(reported)
	}

	a, w := authorizeFull(t, h.c, apiURL)
	require.Nil(t, w)
	assert.Equal(t, Auth{}, a, "before any change: version 0, no token, no time limit")

	access := h.login() // 10 minutes; leeway 30 s
	a, w = authorizeFull(t, h.c, apiURL)
	require.Nil(t, w)
	assert.Equal(t, last(), a.Version, "SetTokens: a new version")
	assert.Equal(t, h.clock.Now()+10*msMinute-30*msSecond, a.Until, "the token is sent until the leeway starts")
	other, _ := authorizeFull(t, h.c, "https://other.test/")
	assert.Equal(t, Auth{Version: a.Version}, other, "another origin: no token, as long as the state stays")

	// At Until exactly, the answer is a refresh to wait for.
	h.clock.Advance(time.Duration(a.Until-h.clock.Now()-1) * time.Millisecond)
	b, w := authorizeFull(t, h.c, apiURL)
	require.Nil(t, w, "one millisecond before Until")
	assert.Equal(t, a, b, "the same answer")
	n := changes()
	h.clock.Advance(time.Millisecond)
	_, w = authorizeFull(t, h.c, apiURL)
	require.NotNil(t, w, "at Until a refresh comes first")
	assert.Greater(t, changes(), n, "the expiring token is now known bad: a new version")
	got, err := w.Wait(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, access, got.Token)
	c, w := authorizeFull(t, h.c, apiURL)
	require.Nil(t, w)
	assert.Equal(t, last(), c.Version, "the refresh: a new version")
	assert.Greater(t, c.Version, a.Version)

	// A 401 marks the token bad: the version moves before the refresh ends.
	gate := h.ref.hold()
	before := c.Version
	done := make(chan error, 1)
	go func() {
		_, err := h.c.Successor(context.Background(), c.Token)
		done <- err
	}()
	require.Eventually(t, func() bool { return last() > before }, time.Second, time.Millisecond)
	_, w = authorizeFull(t, h.c, apiURL)
	require.NotNil(t, w, "the bad token is not answered again")
	close(gate)
	require.NoError(t, <-done)

	for _, change := range []struct {
		name string
		do   func()
	}{
		{"Sync", func() { h.c.Sync(EncodeState(NewTokens(jwtAt(h.clock.Time(), time.Hour, 77), "r", 0, h.clock.Now()))) }},
		{"Clear", h.c.Clear},
	} {
		v := last()
		change.do()
		assert.Greater(t, last(), v, change.name)
		a, _ := authorizeFull(t, h.c, apiURL)
		assert.Equal(t, last(), a.Version, change.name)
	}
	a, _ = authorizeFull(t, h.c, apiURL)
	assert.Equal(t, Auth{Version: last()}, a, "logged out: no token")

	// Without a way to refresh, the token is sent until it fails.
	h2 := newHarness(t, func(c *Config) { c.Refresher = nil })
	h2.login()
	a, _ = authorizeFull(t, h2.c, apiURL)
	assert.Zero(t, a.Until)
	assert.NotEmpty(t, a.Header)
}

package session

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const apiURL = "https://api.test/me"

type harness struct {
	t      *testing.T
	clock  *fakeClock
	api    *fakeAPI
	ref    *fakeRefresher
	store  *MemStore
	events *eventLog
	warns  []string
	c      *Client
}

// newHarness returns a client for origin https://api.test with a rotating
// refresher; mod may change the config before the client is made.
func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock(), api: newAPI(), store: &MemStore{}, events: &eventLog{}}
	h.ref = &fakeRefresher{api: h.api, clock: h.clock, ttl: time.Minute}
	cfg := Config{
		Origins:        []string{"https://api.test"},
		Scheme:         "Bearer",
		Leeway:         30 * Second,
		RefreshTimeout: 2 * Second,
		Refresher:      h.ref,
		Store:          h.store,
		Clock:          h.clock,
		OnEvent:        h.events.add,
		Warn:           func(m string) { h.warns = append(h.warns, m) },
	}
	if mod != nil {
		mod(&cfg)
	}
	h.c = New(cfg, h.api)
	return h
}

// login gives the client a fresh pair that the API accepts and returns the
// access token.
func (h *harness) login() string {
	access := jwtAt(h.clock.Time(), 10*time.Minute, 1)
	h.api.accept(access)
	h.c.SetTokens(access, "refresh-0", 0)
	return access
}

func (h *harness) get(ctx context.Context) (int, error) {
	resp, err := h.c.Do(ctx, fakeReq{apiURL}, Options{})
	if err != nil {
		return 0, err
	}
	return resp.Status(), nil
}

func TestTokenSentOnlyToAllowedOrigins(t *testing.T) {
	tests := []struct {
		name, url string
		want      bool
	}{
		{"same origin", "https://api.test/me", true},
		{"explicit default port", "https://api.test:443/me", true},
		{"upper-case host", "https://API.test/x", true},
		{"other host", "https://evil.test/me", false},
		{"other scheme", "http://api.test/me", false},
		{"other port", "https://api.test:8443/me", false},
		{"suffix trick", "https://api.test.evil.test/me", false},
		{"userinfo trick", "https://api.test@evil.test/me", false},
		{"relative", "/me", false},
	}
	h := newHarness(t, nil)
	access := h.login()
	for _, tt := range tests {
		_, err := h.c.Do(context.Background(), fakeReq{tt.url}, Options{})
		require.NoError(t, err, tt.name)
		log := h.api.requests()
		last := log[len(log)-1]
		if tt.want {
			assert.Equal(t, sent{tt.url, "Authorization", "Bearer " + access}, last, tt.name)
		} else {
			assert.Empty(t, last.header, "%s: token sent to %s", tt.name, tt.url)
		}
	}
	assert.Zero(t, h.ref.calls.Load(), "a 401 from a foreign origin must not refresh")
}

func TestHeaderAndScheme(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Header, c.Scheme = "X-Token", "" })
	access := h.login()
	_, err := h.c.Do(context.Background(), fakeReq{apiURL}, Options{})
	require.NoError(t, err)
	assert.Equal(t, sent{apiURL, "X-Token", access}, h.api.requests()[0])
}

func TestRefreshOn401AndRetryOnce(t *testing.T) {
	h := newHarness(t, nil)
	old := h.login()
	h.api.revoke(old)

	status, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.EqualValues(t, 1, h.ref.calls.Load())
	log := h.api.requests()
	require.Len(t, log, 2)
	assert.Equal(t, "Bearer "+old, log[0].value)
	assert.Equal(t, "Bearer "+h.c.AccessToken(), log[1].value, "the retry carries the new token")
	assert.NotEqual(t, old, h.c.AccessToken())

	st, err := DecodeState(h.store.v)
	require.NoError(t, err)
	assert.Equal(t, "refresh-1", st.Refresh, "the rotated refresh token is stored")
	assert.Equal(t, 1, h.events.count(EventRefresh))
}

func TestConcurrentFailuresShareOneRefresh(t *testing.T) {
	h := newHarness(t, nil)
	h.api.revoke(h.login())
	gate := h.ref.hold()

	const n = 50
	var wg sync.WaitGroup
	statuses := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { statuses[i], errs[i] = h.get(context.Background()) })
	}
	// Let every request reach the queue before the refresh answers.
	require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, 2*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	close(gate)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, 200, statuses[i])
	}
	assert.EqualValues(t, 1, h.ref.calls.Load(), "refreshes")
	withNew := 0
	for _, s := range h.api.requests() {
		if s.value == "Bearer "+h.c.AccessToken() {
			withNew++
		}
	}
	assert.Equal(t, n, withNew, "each request is sent once with the new token")
}

func TestLateFailureAfterRefreshJustRetries(t *testing.T) {
	// A request sent with the old token whose 401 arrives after another
	// request already refreshed must retry with the new token, not refresh
	// again (comparing tokens, not times).
	h := newHarness(t, nil)
	old := h.login()
	h.api.revoke(old)
	release, parked := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	h.api.onDo = func(s sent) {
		// Only the first request parks; the second one is also sent with
		// the old token, gets its 401 and refreshes.
		if s.value == "Bearer "+old && first.CompareAndSwap(false, true) {
			close(parked)
			<-release
		}
	}
	late := make(chan error, 1)
	go func() { _, err := h.get(context.Background()); late <- err }()
	<-parked // the late request is now inside the server with the old token
	status, err := h.get(context.Background())
	require.NoError(t, err)
	require.Equal(t, 200, status)
	close(release)
	require.NoError(t, <-late)
	assert.EqualValues(t, 1, h.ref.calls.Load(), "refreshes")
}

func TestRetryIsNotRefreshedAgain(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	h.api.forbid = true // every answer is 401, whatever the token
	status, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 401, status, "the second 401 reaches the caller")
	assert.EqualValues(t, 1, h.ref.calls.Load())
	assert.Len(t, h.api.requests(), 2, "one try and exactly one retry")
}

func TestRefusedRefreshEndsSession(t *testing.T) {
	h := newHarness(t, nil)
	h.api.revoke(h.login())
	h.ref.fail(StatusError("POST /refresh", 401))
	gate := h.ref.hold()
	const n = 10
	errs := make(chan error, n)
	for range n {
		go func() { _, err := h.get(context.Background()); errs <- err }()
	}
	require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	close(gate)
	for range n {
		err := <-errs
		assert.Equal(t, CodeAuthExpired, CodeOf(err), "%v", err)
	}
	assert.EqualValues(t, 1, h.ref.calls.Load())
	assert.False(t, h.c.IsAuthenticated())
	assert.Empty(t, h.store.v, "storage cleared")
	assert.Equal(t, 1, h.events.count(EventExpired), "expired fires once")

	// Logged out now: requests go without a token and 401s pass through.
	status, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 401, status)
	assert.EqualValues(t, 1, h.ref.calls.Load())
	assert.Equal(t, 1, h.events.count(EventExpired))
}

func TestFailedRefreshLeavesNothingStuck(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"server error", StatusError("POST /refresh", 503), CodeBadResponse},
		{"network", &Error{Code: CodeNetwork, Message: "refresh failed: network error"}, CodeNetwork},
		{"garbage", &Error{Code: CodeBadResponse, Message: "refresh response is not a JSON object"}, CodeBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.api.revoke(h.login())
			h.ref.fail(tt.err)
			_, err := h.get(context.Background())
			assert.Equal(t, tt.code, CodeOf(err))
			assert.True(t, h.c.IsAuthenticated(), "a failed (not refused) refresh keeps the session")
			assert.Zero(t, h.events.count(EventExpired))

			h.ref.fail(nil)
			status, err := h.get(context.Background())
			require.NoError(t, err, "the next request may refresh again")
			assert.Equal(t, 200, status)
			assert.EqualValues(t, 2, h.ref.calls.Load())
		})
	}
}

func TestHangingRefreshTimesOut(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RefreshTimeout = 50 * Millisecond })
	h.api.revoke(h.login())
	h.ref.hold() // never released: the refresher only stops on ctx
	start := time.Now()
	_, err := h.get(context.Background())
	assert.Equal(t, CodeTimeout, CodeOf(err), "%v", err)
	assert.Less(t, time.Since(start), time.Second)

	h.ref.fail(nil)
	status, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 200, status)
}

// stuckRefresher ignores its context and never returns.
type stuckRefresher struct{}

func (stuckRefresher) Refresh(Ctx, string) (Grant, error) { select {} }

func TestRefresherThatIgnoresContextStillTimesOut(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.RefreshTimeout = 30 * Millisecond
		c.Refresher = stuckRefresher{}
	})
	h.api.revoke(h.login())
	_, err := h.get(context.Background())
	assert.Equal(t, CodeTimeout, CodeOf(err))
}

func TestCanceledWaiterLeavesOthersAlone(t *testing.T) {
	h := newHarness(t, nil)
	h.api.revoke(h.login())
	gate := h.ref.hold()
	ctx, cancel := context.WithCancel(context.Background())
	canceled := make(chan error, 1)
	go func() { _, err := h.get(ctx); canceled <- err }()
	require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, time.Second, time.Millisecond)
	other := make(chan error, 1)
	go func() { _, err := h.get(context.Background()); other <- err }()
	time.Sleep(10 * time.Millisecond) // other joins the queue without sending the bad token

	cancel()
	assert.Equal(t, CodeCanceled, CodeOf(<-canceled))
	close(gate)
	require.NoError(t, <-other)
	assert.EqualValues(t, 1, h.ref.calls.Load())
	log := h.api.requests()
	require.Len(t, log, 2, "the canceled request is not sent again")
	assert.Equal(t, "Bearer "+h.c.AccessToken(), log[1].value)
}

func TestSkipOptions(t *testing.T) {
	h := newHarness(t, nil)
	h.api.revoke(h.login())

	resp, err := h.c.Do(context.Background(), fakeReq{apiURL}, Options{SkipAuth: true})
	require.NoError(t, err)
	assert.Equal(t, 401, resp.Status())
	assert.Empty(t, h.api.requests()[0].header, "skipAuth sends no token")

	resp, err = h.c.Do(context.Background(), fakeReq{apiURL}, Options{SkipRefresh: true})
	require.NoError(t, err)
	assert.Equal(t, 401, resp.Status())
	assert.NotEmpty(t, h.api.requests()[1].header, "skipRefresh still sends the token")
	assert.Zero(t, h.ref.calls.Load())
}

func TestRefreshBeforeExpiry(t *testing.T) {
	h := newHarness(t, nil)
	first := h.login() // lives 10 minutes
	h.clock.Advance(9*time.Minute + 29*time.Second)
	_, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Zero(t, h.ref.calls.Load(), "31 s before expiry the token is still sent")

	h.clock.Advance(2 * time.Second)
	status, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.EqualValues(t, 1, h.ref.calls.Load(), "within the leeway the request refreshes first")
	for _, s := range h.api.requests()[1:] {
		assert.NotEqual(t, "Bearer "+first, s.value, "the doomed token is not sent")
	}
}

func TestShortTokensAreNotRefreshedOnEveryRequest(t *testing.T) {
	// A 2 s token with the default 30 s leeway would always be "expiring";
	// the leeway is capped at half the token's life.
	h := newHarness(t, nil)
	h.ref.ttl = 2 * time.Second
	access := jwtAt(h.clock.Time(), 2*time.Second, 1)
	h.api.accept(access)
	h.c.SetTokens(access, "refresh-0", 0)
	for range 5 {
		_, err := h.get(context.Background())
		require.NoError(t, err)
	}
	assert.Zero(t, h.ref.calls.Load())
	h.clock.Advance(1500 * time.Millisecond)
	_, err := h.get(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 1, h.ref.calls.Load())
	_, err = h.get(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 1, h.ref.calls.Load(), "the new token is used as is")
}

func TestLogoutDuringRefreshWins(t *testing.T) {
	h := newHarness(t, nil)
	h.api.revoke(h.login())
	gate := h.ref.hold()
	done := make(chan error, 1)
	go func() { _, err := h.get(context.Background()); done <- err }()
	require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, time.Second, time.Millisecond)

	h.c.Clear()
	close(gate)
	assert.Equal(t, CodeAuthExpired, CodeOf(<-done))
	assert.Empty(t, h.c.AccessToken(), "the refreshed tokens are discarded")
	assert.Empty(t, h.store.v, "nothing is written back")
	assert.Zero(t, h.events.count(EventRefresh))
}

func TestLoginDuringRefreshWins(t *testing.T) {
	h := newHarness(t, nil)
	h.api.revoke(h.login())
	gate := h.ref.hold()
	done := make(chan int, 1)
	go func() { s, _ := h.get(context.Background()); done <- s }()
	require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, time.Second, time.Millisecond)

	fresh := h.login()
	close(gate)
	assert.Equal(t, 200, <-done, "the waiter retries with the new login's token")
	assert.Equal(t, fresh, h.c.AccessToken())
}

func TestNoRefreshToken(t *testing.T) {
	h := newHarness(t, nil)
	access := jwtAt(h.clock.Time(), time.Minute, 1)
	h.c.SetTokens(access, "", 0) // API does not accept it
	_, err := h.get(context.Background())
	assert.Equal(t, CodeAuthExpired, CodeOf(err))
	assert.False(t, h.c.IsAuthenticated())
	assert.Equal(t, 1, h.events.count(EventExpired))
	assert.Zero(t, h.ref.calls.Load())
}

func TestWithoutRefresherA401PassesThrough(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Refresher = nil })
	h.c.SetTokens("opaque", "refresh-0", 0)
	status, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 401, status)
	assert.True(t, h.c.IsAuthenticated(), "the app manages its own session")
	_, err = h.c.Refresh(context.Background())
	assert.Equal(t, CodeAuthExpired, CodeOf(err))
}

func TestNotLoggedInSendsNoToken(t *testing.T) {
	h := newHarness(t, nil)
	status, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 401, status)
	assert.Empty(t, h.api.requests()[0].header)
	assert.Zero(t, h.ref.calls.Load())
	assert.Zero(t, h.events.count(EventExpired))
}

func TestRefreshTokenOnlyRefreshesFirst(t *testing.T) {
	h := newHarness(t, nil)
	require.NoError(t, h.store.Save(`{"v":1,"access":"","refresh":"refresh-0","exp":0}`))
	h.c = New(h.c.cfg, h.api)
	status, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.EqualValues(t, 1, h.ref.calls.Load())
	assert.Len(t, h.api.requests(), 1)
}

func TestForcedRefresh(t *testing.T) {
	h := newHarness(t, nil)
	old := h.login()
	access, err := h.c.Refresh(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, old, access)
	assert.Equal(t, access, h.c.AccessToken())
	assert.Equal(t, []string{"refresh-0"}, h.ref.presented())

	gate := h.ref.hold()
	results := make(chan string, 2)
	for range 2 {
		go func() { a, _ := h.c.Refresh(context.Background()); results <- a }()
	}
	require.Eventually(t, func() bool { return h.ref.calls.Load() == 2 }, time.Second, time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	close(gate)
	a, b := <-results, <-results
	assert.Equal(t, a, b, "concurrent forced refreshes join one")
	assert.EqualValues(t, 2, h.ref.calls.Load())
}

func TestRotationStoredBeforeRetry(t *testing.T) {
	h := newHarness(t, nil)
	h.api.revoke(h.login())
	var storedAtRetry string
	h.api.onDo = func(s sent) {
		if len(h.api.requests()) == 1 {
			// Called before the retry is recorded; the store must already
			// hold the rotated token.
			storedAtRetry = h.store.v
		}
	}
	_, err := h.get(context.Background())
	require.NoError(t, err)
	st, err := DecodeState(storedAtRetry)
	require.NoError(t, err)
	assert.Equal(t, "refresh-1", st.Refresh)
}

func TestNoRotationKeepsRefreshToken(t *testing.T) {
	h := newHarness(t, nil)
	h.ref.noRotate = true
	h.api.revoke(h.login())
	_, err := h.get(context.Background())
	require.NoError(t, err)
	_, err = h.c.Refresh(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"refresh-0", "refresh-0"}, h.ref.presented())
}

func TestRestoreFromStore(t *testing.T) {
	h := newHarness(t, nil)
	access := h.login()
	restored := New(h.c.cfg, h.api)
	assert.Equal(t, access, restored.AccessToken(), "a reload continues the session")
	status, err := restored.Do(context.Background(), fakeReq{apiURL}, Options{})
	require.NoError(t, err)
	assert.Equal(t, 200, status.Status())
}

func TestUnreadableStoreMeansLoggedOut(t *testing.T) {
	for _, raw := range []string{"{", `{"v":2,"access":"a","refresh":"r"}`, `"x"`, `{"v":1}`} {
		h := newHarness(t, nil)
		require.NoError(t, h.store.Save(raw))
		c := New(h.c.cfg, h.api)
		assert.False(t, c.IsAuthenticated(), "%q", raw)
		assert.Equal(t, raw, h.store.v, "unreadable data is left alone, not destroyed")
	}
	h := newHarness(t, func(c *Config) { c.Store = failingStore{} })
	assert.False(t, h.c.IsAuthenticated())
	require.Len(t, h.warns, 1)
	h.login() // saving fails: warned, but the session works in memory
	assert.True(t, h.c.IsAuthenticated())
	assert.Len(t, h.warns, 2)
}

func TestEventsFireOutsideTheLock(t *testing.T) {
	var h *harness
	var seen []string
	h = newHarness(t, func(c *Config) {
		c.OnEvent = func(e Event, _ Detail) { seen = append(seen, e.String()+":"+boolStr(h.c.IsAuthenticated())) }
	})
	h.api.revoke(h.login())
	_, err := h.get(context.Background())
	require.NoError(t, err)
	h.c.Clear()
	assert.Equal(t, []string{"tokens:true", "tokens:true", "refresh:true", "tokens:false"}, seen)
}

// TestEventDetail checks what listeners learn with each event: whether a
// session is left, and whether the change came from elsewhere.
func TestEventDetail(t *testing.T) {
	h := newHarness(t, nil)
	h.api.revoke(h.login())
	assert.Equal(t, []string{"tokens true false"}, h.events.seen(), "login")
	_, err := h.get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"tokens true false", "refresh true false"}, h.events.seen(), "refresh")

	other := jwtAt(h.clock.Time(), time.Hour, 9)
	h.c.Sync(EncodeState(NewTokens(other, "refresh-9", 0, h.clock.Time().UnixMilli())))
	assert.Equal(t, []string{"tokens true true"}, h.events.seen(), "another tab's login or refresh")
	h.c.Sync("")
	assert.Equal(t, []string{"tokens false true"}, h.events.seen(), "another tab's logout")

	h.login()
	h.events.seen()
	h.c.Clear()
	assert.Equal(t, []string{"tokens false false"}, h.events.seen(), "logout")

	h.api.revoke(h.login())
	h.events.seen()
	h.ref.fail(StatusError("POST /refresh", 401))
	_, err = h.get(context.Background())
	require.Error(t, err)
	assert.Equal(t, []string{"tokens false false", "expired false false"}, h.events.seen(), "refused refresh")
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestRefreshOnCustomStatuses(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RefreshOn = []int{401, 419} })
	assert.True(t, h.c.Retry(419))
	assert.False(t, h.c.Retry(403))
}

func TestDoerErrorIsReturned(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.c.Do(ctx, fakeReq{apiURL}, Options{})
	assert.True(t, errors.Is(err, context.Canceled))
}

// corsHidingAPI answers like fakeAPI, except that its 401s reach the client
// as network errors, as a browser reports a 401 that lacks CORS headers.
type corsHidingAPI struct{ *fakeAPI }

var errHidden = errors.New("TypeError: Failed to fetch")

func (a corsHidingAPI) Do(ctx Ctx, req Request, header, value string) (Response, error) {
	resp, err := a.fakeAPI.Do(ctx, req, header, value)
	if err == nil && resp.Status() == 401 {
		return nil, errHidden
	}
	return resp, err
}

func TestRefreshOnNetworkError(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run("RefreshOnNetworkError="+strconv.FormatBool(on), func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.RefreshOnNetworkError = on })
			h.c = New(h.c.cfg, corsHidingAPI{h.api})
			h.api.revoke(h.login())
			status, err := h.get(context.Background())
			if !on {
				assert.ErrorIs(t, err, errHidden, "off by default: the error is handed back")
				assert.Zero(t, h.ref.calls.Load())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 200, status)
			assert.EqualValues(t, 1, h.ref.calls.Load())

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			h.api.revoke(h.c.AccessToken())
			_, err = h.get(ctx)
			assert.Error(t, err)
			assert.EqualValues(t, 1, h.ref.calls.Load(), "an aborted request does not refresh")
		})
	}
}

package session

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The session's side of the trust fixes: one time budget per refresh, the
// logout-wins check on the shared store, lifetimes that a dishonest iat
// cannot stretch, and warnings that never quote outside text.

// ctxRefresher blocks until its context ends and reports how long it
// waited.
type ctxRefresher struct{ waited chan time.Duration }

func (r ctxRefresher) Refresh(ctx Ctx, _ string) (Grant, error) {
	start := time.Now()
	<-ctx.Done()
	r.waited <- time.Since(start)
	return Grant{}, ctx.Err()
}

func TestOneBudgetForLockWaitAndRefresh(t *testing.T) {
	const timeout = 300 * Millisecond
	ref := ctxRefresher{waited: make(chan time.Duration, 1)}
	ts := newTabs(t, 1, func(c *Config) { c.RefreshTimeout = timeout; c.Refresher = ref })
	unlock, err := ts.lock.Lock(context.Background()) // another tab's refresh
	require.NoError(t, err)
	time.AfterFunc(200*time.Millisecond, unlock)
	ts.revokeAll()
	_, err = ts.c[0].Do(context.Background(), fakeReq{apiURL}, Options{})
	assert.Equal(t, CodeTimeout, CodeOf(err), "%v", err)
	select {
	case waited := <-ref.waited:
		// The lock took 200 ms of the 300: the request gets what is left,
		// not a full timeout of its own.
		assert.Less(t, waited, 250*time.Millisecond, "the refresh had its own budget")
	case <-time.After(2 * time.Second):
		t.Fatal("the refresher was never called")
	}
}

func TestLockGrantedAfterTheBudgetMakesNoRequest(t *testing.T) {
	ts := newTabs(t, 1, func(c *Config) { c.RefreshTimeout = 50 * Millisecond })
	ts.c[0].cfg.Locker = lateLock{}
	ts.revokeAll()
	_, err := ts.c[0].Do(context.Background(), fakeReq{apiURL}, Options{})
	assert.Equal(t, CodeTimeout, CodeOf(err), "%v", err)
	assert.Zero(t, ts.server.calls.Load(), "no refresh request once the budget is spent")
}

// lateLock grants the lock only after the caller's context ended, as a Web
// Lock granted in the same instant as the abort can be.
type lateLock struct{}

func (lateLock) Lock(ctx Ctx) (func(), error) {
	<-ctx.Done()
	return func() {}, nil
}

// gatedShared is a fakeShared whose Save waits for a signal, so a test can
// act while the refresh result is being shared.
type gatedShared struct {
	fakeShared
	saving chan struct{} // closed when Save starts
	gate   chan struct{} // Save returns once it is closed
	once   sync.Once
}

func (s *gatedShared) Save(ctx Ctx, t string, at int64) error {
	s.once.Do(func() { close(s.saving) })
	<-s.gate
	return s.fakeShared.Save(ctx, t, at)
}

func (s *gatedShared) stored() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ok
}

func TestLogoutWhileSharingDeletesTheSharedCopy(t *testing.T) {
	shared := &gatedShared{saving: make(chan struct{}), gate: make(chan struct{})}
	ts := newTabs(t, 1, func(c *Config) { c.Shared = shared })
	c := ts.c[0]
	ts.revokeAll()
	done := make(chan error, 1)
	go func() {
		_, err := c.Do(context.Background(), fakeReq{apiURL}, Options{})
		done <- err
	}()
	<-shared.saving
	c.Clear() // the user logs out while the result is being shared
	close(shared.gate)
	require.NoError(t, <-done, "the request had its answer before the logout")
	require.Eventually(t, func() bool { return !shared.stored() }, time.Second, time.Millisecond,
		"the refreshed tokens do not stay in the shared store")
	assert.False(t, c.IsAuthenticated())
}

func TestLogoutDuringRefreshNeverShares(t *testing.T) {
	shared := &gatedShared{saving: make(chan struct{}), gate: make(chan struct{})}
	close(shared.gate)
	h := newHarness(t, func(c *Config) { c.Locker = newLock(); c.Shared = shared })
	h.login()
	gate := h.ref.hold()
	h.api.revoke(h.c.AccessToken())
	done := make(chan error, 1)
	go func() { _, err := h.get(context.Background()); done <- err }()
	require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, time.Second, time.Millisecond)
	h.c.Clear()
	close(gate)
	assert.Equal(t, CodeAuthExpired, CodeOf(<-done))
	select {
	case <-shared.saving:
		t.Fatal("a refresh that lost to a logout was shared")
	case <-time.After(50 * time.Millisecond):
	}
	assert.False(t, shared.stored())
}

func TestLockWithoutSharedStore(t *testing.T) {
	// Web Locks without IndexedDB: refreshes are exclusive, nothing is
	// shared, nothing panics.
	ts := newTabs(t, 2, func(c *Config) { c.Shared = nil })
	ts.revokeAll()
	resp, err := ts.c[0].Do(context.Background(), fakeReq{apiURL}, Options{})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status())
	// Without a shared store the other tab learns of the rotation by its
	// storage event only.
	require.Eventually(t, func() bool { return ts.c[1].AccessToken() == ts.c[0].AccessToken() }, time.Second, time.Millisecond)
	resp, err = ts.c[1].Do(context.Background(), fakeReq{apiURL}, Options{})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status())
	assert.EqualValues(t, 1, ts.server.calls.Load())
	assert.False(t, ts.shared.ok, "nothing was shared")
}

func TestSharedStoreWithoutLockIsNotUsed(t *testing.T) {
	// Shared means something only under the lock: without one, each tab
	// refreshes on its own and writes nothing there.
	ts := newTabs(t, 1, func(c *Config) { c.Locker = nil })
	ts.revokeAll()
	resp, err := ts.c[0].Do(context.Background(), fakeReq{apiURL}, Options{})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status())
	assert.False(t, ts.shared.ok, "nothing was shared")
}

// copyingIat is a Refresher for a server that copies the login's iat into
// every new access token, optionally telling its clock (ServerTime) on a
// clock skewed by skew.
type copyingIat struct {
	api       *fakeAPI
	clock     *fakeClock
	loginIat  time.Time
	ttl, skew time.Duration
	tellDate  bool
	n         int
}

func (r *copyingIat) Refresh(Ctx, string) (Grant, error) {
	r.n++
	server := r.clock.Time().Add(r.skew)
	access := jwt(`{"n":` + strconv.Itoa(r.n) + `,"iat":` + strconv.FormatInt(r.loginIat.Unix(), 10) +
		`,"exp":` + strconv.FormatInt(server.Add(r.ttl).Unix(), 10) + `}`)
	r.api.accept(access)
	g := Grant{Access: access, Refresh: "r-" + strconv.Itoa(r.n)}
	if r.tellDate {
		g.ServerTime = server.UnixMilli()
	}
	return g, nil
}

func TestCopiedIatDoesNotStretchTheLifetime(t *testing.T) {
	for _, tt := range []struct {
		name     string
		skew     time.Duration
		tellDate bool
	}{
		{"no Date header", 0, false},
		{"Date header", 0, true},
		{"Date header, server 5 min ahead", 5 * time.Minute, true},
		{"Date header, server 5 min behind", -5 * time.Minute, true},
		{"no Date header, server 5 min ahead", 5 * time.Minute, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const ttl = time.Minute
			ref := &copyingIat{ttl: ttl, skew: tt.skew, tellDate: tt.tellDate}
			h := newHarness(t, func(c *Config) { c.Refresher = ref })
			ref.api, ref.clock = h.api, h.clock
			ref.loginIat = h.clock.Time().Add(tt.skew)
			access := jwt(`{"iat":` + strconv.FormatInt(ref.loginIat.Unix(), 10) + `,"exp":` +
				strconv.FormatInt(ref.loginIat.Add(ttl).Unix(), 10) + `}`)
			h.api.accept(access)
			h.c.SetTokens(access, "r-0", 0)
			// The server's view: was each request's token still good?
			var expired []string
			h.api.onDo = func(s sent) {
				c, err := readClaims(s.value[len("Bearer "):])
				if err == nil && h.clock.Time().Add(tt.skew).Unix() >= c.exp {
					expired = append(expired, s.value)
				}
			}
			for round := range 5 {
				// Past half the lifetime (the leeway of 30 s is capped at
				// half of it) a request refreshes first.
				h.clock.Advance(ttl/2 + time.Second)
				status, err := h.get(context.Background())
				require.NoError(t, err)
				require.Equal(t, 200, status)
				assert.Equal(t, round+1, ref.n, "refreshed ahead in round %d", round)
			}
			assert.Empty(t, expired, "requests went out with expired tokens")
		})
	}
}

func TestGrantTokensUsesTheServersClock(t *testing.T) {
	now := int64(1_800_000_000_000) // Unix ms
	tests := []struct {
		name         string
		claims       string
		expiresIn    float64
		serverTime   int64 // Unix ms
		wantLifetime int64 // ms
	}{
		{"honest iat, no Date", `"iat":1800000000,"exp":1800000060`, 0, 0, msMinute},
		{"honest iat, Date agrees", `"iat":1800000000,"exp":1800000060`, 0, now, msMinute},
		{"copied iat, Date", `"iat":1799990000,"exp":1800000060`, 0, now, msMinute},
		{"copied iat, no Date", `"iat":1799990000,"exp":1800000060`, 0, 0, 10060 * msSecond},
		{"no iat, Date, server ahead", `"exp":1800000360`, 0, now + 5*msMinute, msMinute},
		{"no iat, Date, server behind", `"exp":1799999760`, 0, now - 5*msMinute, msMinute},
		{"no iat, expires_in shorter than Date says", `"exp":1800000060`, 30, now, 30 * msSecond},
		{"expired on arrival by the server's clock", `"iat":1800000000,"exp":1800000060`, 0, now + msHour, msMinute},
		{"no iat, Date, far-future exp: capped", `"exp":99999999999`, 0, now, maxLifetime},
		{"Date with milliseconds", `"iat":1799990000,"exp":1800000060`, 0, now + 250, msMinute - 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Grant{Access: jwt(`{` + tt.claims + `}`), ExpiresIn: tt.expiresIn, ServerTime: tt.serverTime}
			got := grantTokens(g, now)
			assert.Equal(t, tt.wantLifetime, got.Lifetime)
			assert.Equal(t, now+tt.wantLifetime, got.Expiry)
		})
	}
}

func TestCapLife(t *testing.T) {
	now := int64(1_800_000_000_000) // Unix ms
	long := Tokens{Access: "a", Expiry: now + 3*msMinute, Lifetime: 3 * msMinute}
	got := capLife(long, msMinute)
	assert.Equal(t, msMinute, got.Lifetime)
	assert.Equal(t, now+msMinute, got.Expiry, "the expiry moves earlier by what was cut")
	assert.Equal(t, long, capLife(long, 0), "no limit known")
	assert.Equal(t, long, capLife(long, msHour), "shorter than the limit")
	opaque := Tokens{Access: "a"}
	assert.Equal(t, opaque, capLife(opaque, msMinute), "unknown lifetime")
}

func TestWarningsNeverQuoteOutsideText(t *testing.T) {
	leaky := describedError{name: "QuotaExceededError", text: "cannot store " + secretRefresh}
	opaque := &leakyError{secretRefresh}
	tests := []struct {
		err  error
		want string
	}{
		{leaky, " (QuotaExceededError)"},
		{&Error{Message: "refresh timed out", Err: opaque}, " (refresh timed out)"},
		{opaque, ""},
		{context.DeadlineExceeded, " (timed out)"},
		{context.Canceled, " (canceled)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Because(tt.err))
	}

	// Every warning of the Client, with stores that fail with such text.
	var mu sync.Mutex
	var warnings []string
	warn := func(m string) {
		mu.Lock()
		warnings = append(warnings, m)
		mu.Unlock()
	}
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), warnings...)
	}
	c := New(Config{
		Store:     &FallbackStore{Primary: leakyStore{}, Warn: warn},
		Refresher: &fakeRefresher{api: newAPI(), clock: newClock(), ttl: time.Minute},
		Locker:    newLock(),
		Shared:    leakyShared{},
		Warn:      warn,
	}, newAPI())
	c.SetTokens(jwtAt(time.Now(), time.Minute, 1), secretRefresh, 0)
	_, _ = c.Refresh(context.Background())
	c.Clear()
	// The fallback store's warning, the shared read, the shared write and
	// the shared delete after the logout.
	require.Eventually(t, func() bool { return len(got()) >= 4 }, time.Second, time.Millisecond)
	for _, w := range got() {
		assert.NotContains(t, w, secretRefresh, "warning %q", w)
	}
}

type leakyError struct{ text string }

func (e *leakyError) Error() string { return "failed with " + e.text }

type leakyStore struct{}

func (leakyStore) Load() (string, error) { return "", nil }
func (leakyStore) Save(v string) error   { return &leakyError{v} }
func (leakyStore) Clear() error          { return &leakyError{secretRefresh} }

type leakyShared struct{}

func (leakyShared) Load(Ctx) (string, int64, bool, error) {
	return "", 0, false, &leakyError{secretRefresh}
}
func (leakyShared) Save(_ Ctx, v string, _ int64) error { return &leakyError{v} }
func (leakyShared) Delete(Ctx) error                    { return &leakyError{secretRefresh} }

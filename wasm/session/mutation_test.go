package session

// Tests written against mutants that survived the rest of the suite: the
// ones gremlins made (`make mutate`) and hand-made ones (a dropped guard, a
// changed default). Each test says which change to the code it catches.
//
// Mutants judged equivalent (no behaviour can tell them from the code):
//
// equivalent: origin.go `i <= 0` → `i < 0`: with i == 0 the scheme is "",
// which is not http or https, so Origin returns "" either way.
// equivalent: origin.go `len(rawURL) < i+3` → `<=`: with nothing after
// "scheme://" the host is empty, and Origin returns "" either way.
// equivalent: json.go `len(p.s)-p.i >= len(lit)` → `>`: a literal that ends
// the input can only be a member of an object left open, an error either way
// (every caller parses an object).
// equivalent: json.go `p.i+4 > len(p.s)` → `>=`: a \u escape that ends the
// input leaves its string unclosed, an error either way.
// equivalent: json.go the fast path of str (`for p.i < len(p.s)` negated):
// the escape-aware loop after it reads the same strings.
// equivalent: state.go `int64(e.num) > 0` → `>= 0`: exp 0 would set Expiry
// to 0, which it already is.
// equivalent: text.go `len(s)*3/4` (both operators): a capacity hint only.
// equivalent: dpop.go `(len(b)*8+5)/6` in EncodeBase64URL (each operator):
// a capacity hint only.
// equivalent: token.go `second < 0` → `<= 0`: an empty payload is no JSON
// object, so the token is not a JWT either way.
// equivalent: token.go `left < t.Lifetime` → `<=` in grantTokens: when they
// are equal, NewTokens has already set Expiry to now+left.
// equivalent: token.go `t.Lifetime > limit` → `>=` in capLife: cutting a
// lifetime equal to the limit cuts nothing.

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// settle waits for the refresh in flight, if any, to end.
func settle(c *Client) {
	c.mu.Lock()
	f := c.flight
	c.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

// Catches dropping `at > st.since` (or making it `>=`) in obtain: a tab
// would adopt a session from the shared store that is older than its own,
// such as a previous login's, and switch users.
func TestSharedSessionOlderThanOwnIsNotAdopted(t *testing.T) {
	tests := []struct {
		name  string
		at    int64 // when the other session was stored, relative to this tab's login
		adopt bool
	}{
		{"stored before this login", -msMinute, false},
		{"stored in the same millisecond", 0, false},
		{"stored after this login", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shared := &fakeShared{}
			h := newHarness(t, func(c *Config) { c.Locker, c.Shared = newLock(), shared })
			h.api.revoke(h.login())
			other := jwtAt(h.clock.Time(), 10*time.Minute, 500)
			h.api.accept(other)
			require.NoError(t, shared.Save(context.Background(), EncodeState(NewTokens(other, "rt-other", 0, h.clock.Now())), h.clock.Now()+tt.at))

			status, err := h.get(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 200, status)
			if tt.adopt {
				assert.Zero(t, h.ref.calls.Load(), "another tab's newer refresh is used, no request")
				assert.Equal(t, other, h.c.AccessToken())
				return
			}
			assert.Equal(t, []string{"refresh-0"}, h.ref.presented(), "this tab refreshes its own session")
			assert.NotEqual(t, other, h.c.AccessToken())
		})
	}
}

func mustDecode(t *testing.T, raw string) Tokens {
	t.Helper()
	tok, err := DecodeState(raw)
	require.NoError(t, err)
	return tok
}

// Catches `t.Access == c.tok.Access && t.Refresh == c.tok.Refresh` → `||`
// in Sync: with a server that does not rotate refresh tokens, another
// tab's refresh changes the access token only, and this tab must take it.
func TestSyncAdoptsANewAccessTokenAlone(t *testing.T) {
	h := newHarness(t, nil)
	h.login()
	fresh := jwtAt(h.clock.Time(), 10*time.Minute, 42)
	h.c.Sync(EncodeState(NewTokens(fresh, "refresh-0", 0, h.clock.Now())))
	assert.Equal(t, fresh, h.c.AccessToken())
	assert.Equal(t, 2, h.events.count(EventTokens), "login, then the synced token")

	h.c.Sync(EncodeState(NewTokens(fresh, "refresh-9", 0, h.clock.Now())))
	assert.Equal(t, 3, h.events.count(EventTokens), "a new refresh token alone is a change too")
}

// Catches dropping `|| ctx.Err() != nil` in Do: with RefreshOnNetworkError,
// a request that fails because it was aborted must not count as a failed
// token.
func TestAbortedRequestStartsNoRefresh(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RefreshOnNetworkError = true })
	h.login()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.c.Do(ctx, fakeReq{apiURL}, Options{})
	assert.ErrorIs(t, err, context.Canceled)
	h.c.mu.Lock()
	f, bad := h.c.flight, h.c.bad
	h.c.mu.Unlock()
	assert.Nil(t, f, "no refresh started")
	assert.Empty(t, bad, "the token is not marked bad")
	settle(h.c)
	assert.Zero(t, h.ref.calls.Load())
}

// Catches a change of the default RefreshTimeout (10 s, API.md).
func TestDefaultRefreshTimeout(t *testing.T) {
	clock := &manualClock{}
	c := New(Config{Origins: []string{"https://api.test"}, Refresher: stuckRefresher{}, Clock: clock}, nil)
	c.SetTokens("opaque", "rt", 0)
	done := make(chan error, 1)
	go func() { _, err := c.Refresh(context.Background()); done <- err }()
	require.Eventually(t, func() bool {
		clock.mu.Lock()
		defer clock.mu.Unlock()
		return len(clock.d) > 0
	}, 5*time.Second, time.Millisecond)
	clock.mu.Lock()
	d := clock.d[0]
	clock.mu.Unlock()
	assert.Equal(t, 10*Second, d, "the refresh's time budget")
	clock.fire(0)
	select {
	case err := <-done:
		assert.Equal(t, CodeTimeout, CodeOf(err), "%v", err)
		assert.Equal(t, "jwtfetch: refresh timed out after 10s", err.Error())
	case <-time.After(5 * time.Second):
		t.Fatal("the refresh did not end when its time ran out")
	}
}

// blockingPoster answers when ctx ends, with ctx's error, like a fetch
// aborted by its signal.
type blockingPoster struct{}

func (blockingPoster) Post(ctx Ctx, _, _, _, _ string) (Reply, error) {
	<-ctx.Done()
	return Reply{}, ctx.Err()
}

// Catches HTTPRefresher reporting a refresh that ran out of time as
// canceled (ERR_CANCELED) instead of timed out (ECONNABORTED), and the
// reverse.
func TestHTTPRefresherTimeoutAndCancel(t *testing.T) {
	h := &HTTPRefresher{Poster: blockingPoster{}, URL: "https://api.test/auth/refresh"}

	clock := &manualClock{}
	dl := withTimeout(clock, Second)
	go clock.fire(0)
	_, err := h.Refresh(dl, "rt")
	assert.Equal(t, CodeTimeout, CodeOf(err), "%v", err)
	assert.Equal(t, "jwtfetch: refresh timed out", err.Error())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = h.Refresh(ctx, "rt")
	assert.Equal(t, CodeCanceled, CodeOf(err), "%v", err)

	// Through a Client: a hung endpoint is a timeout for every waiter.
	hc := newHarness(t, func(c *Config) {
		c.RefreshTimeout = 30 * Millisecond
		c.Refresher = h
	})
	hc.api.revoke(hc.login())
	_, err = hc.get(context.Background())
	assert.Equal(t, CodeTimeout, CodeOf(err), "%v", err)
}

// Catches the leeway being capped at the whole lifetime instead of half of
// it: a 40 s token with the default 30 s leeway would be refreshed 10 s
// after it was issued, then on almost every request.
func TestLeewayIsCappedAtHalfTheLifetime(t *testing.T) {
	const expiry = 1_800_000_040_000
	tests := []struct {
		life, leeway int64 // ms
		want         int64
	}{
		{40 * msSecond, 30 * msSecond, expiry - 20*msSecond},
		{60 * msSecond, 30 * msSecond, expiry - 30*msSecond},
		{10 * msMinute, 30 * msSecond, expiry - 30*msSecond},
		{0, 30 * msSecond, expiry - 30*msSecond}, // lifetime unknown: the leeway as is
	}
	for _, tt := range tests {
		got := Tokens{Expiry: expiry, Lifetime: tt.life}.refreshAt(Duration(tt.leeway) * Millisecond)
		assert.Equal(t, tt.want, got, "refreshAt(lifetime %d ms, leeway %d ms)", tt.life, tt.leeway)
	}

	// The same through Authorize.
	h := newHarness(t, nil)
	access := jwtAt(h.clock.Time(), 40*time.Second, 1)
	h.c.SetTokens(access, "rt", 0)
	h.clock.Advance(20*time.Second - time.Millisecond)
	a, w := h.c.Authorize(apiURL)
	require.Nil(t, w, "half-way minus 1 ms: the token is still sent")
	assert.Equal(t, access, a.Token)
	h.clock.Advance(time.Millisecond)
	_, w = h.c.Authorize(apiURL)
	assert.NotNil(t, w, "half-way: refresh first")
	settle(h.c)
}

// Catches `n > 65535` → `>=` and other changes to the port check: ports
// with any digit, up to 65535, are valid.
func TestOriginPorts(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://api.test:8999/x", "https://api.test:8999"},
		{"http://api.test:9/x", "http://api.test:9"},
		{"http://api.test:0/x", "http://api.test:0"},
		{"http://api.test:65535/x", "http://api.test:65535"},
		{"http://api.test:65536/x", ""},
		{"http://api.test:99999/x", ""},
		{"http://api.test:9a/x", ""},
		{"http://api.test:/x", "http://api.test"},
		{"http:", ""},
		{"http:/", ""},
		{"http:/x", ""},
		{"https://@api.test/x", "https://api.test"},
		{"https://a@b@api.test/x", "https://api.test"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Origin(tt.url), "Origin(%q)", tt.url)
	}
}

// grantQueue is a Refresher that answers with the given grants in turn.
type grantQueue struct {
	mu     sync.Mutex
	grants []Grant
	calls  atomic.Int32
}

func (q *grantQueue) Refresh(Ctx, string) (Grant, error) {
	q.calls.Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.grants) == 0 {
		return Grant{}, &Error{Code: CodeAuthExpired, Message: "refused"}
	}
	g := q.grants[0]
	q.grants = q.grants[1:]
	return g, nil
}

// Catches `c.firstLife == 0` → `!=` in run: a session that began with an
// opaque token learns the lifetime from its first refreshed JWT, and later
// JWTs whose iat was copied from an older token (see DESIGN.md) are capped
// to it.
func TestFirstRefreshSetsTheExpectedLifetime(t *testing.T) {
	clock := newClock()
	now := clock.Now() / 1000
	q := &grantQueue{grants: []Grant{
		{Access: jwt(`{"iat":` + itoa(now) + `,"exp":` + itoa(now+60) + `}`)},
		{Access: jwt(`{"iat":` + itoa(now-600) + `,"exp":` + itoa(now+60) + `}`)},
	}}
	c := New(Config{Origins: []string{"https://api.test"}, Refresher: q, Clock: clock}, nil)
	c.SetTokens("opaque", "rt", 0)
	_, err := c.Refresh(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 60*msSecond, c.tok.Lifetime)
	_, err = c.Refresh(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 60*msSecond, c.tok.Lifetime, "capped to the first lifetime seen")
	assert.EqualValues(t, clock.Now()+60*msSecond, c.tok.Expiry)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Catches `c.gen++` → `c.gen--` in SetTokens, Clear, Sync and endLocked:
// two changes during a refresh must not bring gen back to where the
// refresh started, or the refresh's result would overwrite them.
func TestTwoChangesDuringARefreshStillWin(t *testing.T) {
	type step func(h *harness)
	login := func(h *harness) { h.login() }
	logout := func(h *harness) { h.c.Clear() }
	synced := func(h *harness) {
		other := jwtAt(h.clock.Time(), 10*time.Minute, 300)
		h.api.accept(other)
		h.c.Sync(EncodeState(NewTokens(other, "rt-synced", 0, h.clock.Now())))
	}
	// expire ends the session the way a refused access token without a
	// refresh token does (endLocked).
	expire := func(h *harness) {
		access := jwtAt(h.clock.Time(), 10*time.Minute, 301)
		h.c.SetTokens(access, "", 0)
		_, err := h.c.Successor(context.Background(), access)
		require.Equal(h.t, CodeAuthExpired, CodeOf(err))
	}
	tests := []struct {
		name          string
		first, second step
		wantLoggedIn  bool
	}{
		{"logout then login", logout, login, true},
		{"login then logout", login, logout, false},
		{"sync then login", synced, login, true},
		{"ended then refresh result", expire, func(*harness) {}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.api.revoke(h.login())
			gate := h.ref.hold()
			done := make(chan struct{})
			go func() { _, _ = h.get(context.Background()); close(done) }()
			require.Eventually(t, func() bool { return h.ref.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
			tt.first(h)
			tt.second(h)
			want := h.c.AccessToken()
			close(gate)
			<-done
			settle(h.c)
			assert.Equal(t, want, h.c.AccessToken(), "the refresh's result is discarded")
			assert.Equal(t, tt.wantLoggedIn, h.c.IsAuthenticated())
			assert.Zero(t, h.events.count(EventRefresh))
		})
	}
}

// Catches the changes to the JSON reader that no other test saw.
func TestJSONEdges(t *testing.T) {
	for _, s := range []string{`{"a":`, `{"a": `, `{"a":[`, `{"a":1.`, `{"a":1e`, `{"a":-}`, `{"a":01}`} {
		_, err := parseObject(s)
		assert.Error(t, err, "parseObject(%q)", s)
	}
	m, err := parseObject(`{"big":1.7976931348623151e308,"over":1e309,"digits":123}`)
	if assert.Error(t, err, "1e309 is out of range") {
		assert.Nil(t, m)
	}
	m, err = parseObject(`{"big":1.7976931348623151e308,"digits":123,"frac":0.5}`)
	require.NoError(t, err)
	assert.True(t, m["big"].isNum)
	assert.Equal(t, 123.0, m["digits"].num)
	assert.Equal(t, 0.5, m["frac"].num)
}

// Catches `s[i] <= 'Z'` → `<` in lowerASCII: 'Z' is a letter too.
func TestLowerASCIIEdges(t *testing.T) {
	assert.Equal(t, "az@[`{", lowerASCII("AZ@[`{"))
	assert.Equal(t, "xz", lowerASCII("xZ"), "the first upper-case letter may come late")
}

// Catches state.go `l.num >= 1` → `> 1`: a stored lifetime of one second
// is a lifetime.
func TestDecodeStateLifetimeOfOneSecond(t *testing.T) {
	tok, err := DecodeState(`{"v":1,"access":"opaque","refresh":"rt","exp":1800000001,"life":1}`)
	require.NoError(t, err)
	assert.EqualValues(t, msSecond, tok.Lifetime)
}

// Catches token.go `indexByte(...) >= 0` → `> 0`: a token with a fourth
// segment, even an empty one, is not a JWS.
func TestReadClaimsFourSegments(t *testing.T) {
	good := jwt(`{"exp":1800000000}`)
	_, err := readClaims(good)
	require.NoError(t, err)
	_, err = readClaims(good[:strings.LastIndexByte(good, '.')] + "..sig")
	assert.ErrorIs(t, err, errNotJWT)
}

// Catches grantTokens' boundaries: `g.ServerTime <= 0` → `< 0` and
// `left <= 0` → `< 0`.
func TestGrantTokensServerTimeEdges(t *testing.T) {
	const now = 1_800_000_000_000
	access := jwt(`{"exp":1800000600}`) // no iat
	base := NewTokens(access, "", 0, now)
	assert.Equal(t, base, grantTokens(Grant{Access: access}, now), "server time unknown")
	assert.Equal(t, base, grantTokens(Grant{Access: access, ServerTime: 1_800_000_600_000}, now),
		"expired on arrival by the server's clock: left to the 401")
	got := grantTokens(Grant{Access: access, ServerTime: 1_800_000_599_000}, now)
	assert.EqualValues(t, msSecond, got.Lifetime, "one second left by the server's clock")
	assert.EqualValues(t, now+msSecond, got.Expiry)
}

// Catches changes to finite's bounds: numbers beyond ±1e15 (seconds: some
// 30 million years) are not times a token can mean, and are ignored rather
// than overflowing when turned into milliseconds.
func TestFiniteBounds(t *testing.T) {
	assert.True(t, finite(1e15-1))
	assert.False(t, finite(1e15))
	assert.True(t, finite(-1e15+1))
	assert.False(t, finite(-1e15))
	assert.False(t, finite(math.NaN()))
	assert.False(t, finite(math.Inf(1)))
}

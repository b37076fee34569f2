//go:build !js

package e2e

// jwtfetch against a real, independent OAuth2 server: go-oauth2/oauth2/v4
// (server + manage + memory token store) with JWT access tokens and
// refresh-token rotation. The page, the token endpoint and the protected
// resource share one origin, as in a typical single-page app.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/generates"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	oauthClientID  = "jwtfetch-spa" // a public client: no secret, as a browser app must be
	oauthUser      = "alice"
	oauthPassword  = "wonderland"
	oauthAccessTTL = 2 * time.Second
)

// oauthPage is the page the tests load; it only gives them an origin.
const oauthPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>jwtfetch + go-oauth2</title></head>
<body>jwtfetch against go-oauth2</body></html>
`

// oauthIssued is one token pair the OAuth2 server stored.
type oauthIssued struct {
	Access, Refresh string
	Expires         time.Time // when the server stops accepting Access
}

// recordingStore is the library's memory token store, recording every token
// pair the library creates, so the test can see rotation server-side.
type recordingStore struct {
	oauth2.TokenStore

	mu     sync.Mutex
	issued []oauthIssued
	// sameAccess counts pairs whose access token is byte-identical to an
	// earlier one. go-oauth2's JWTs hold only aud, sub and exp (whole
	// seconds), so two issued within one second are the same string, and
	// with IsRemoveAccess the refresh then deletes the token it just stored.
	sameAccess int
}

func (s *recordingStore) Create(ctx context.Context, info oauth2.TokenInfo) error {
	if err := s.TokenStore.Create(ctx, info); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.issued {
		if p.Access == info.GetAccess() {
			s.sameAccess++
			break
		}
	}
	s.issued = append(s.issued, oauthIssued{
		Access:  info.GetAccess(),
		Refresh: info.GetRefresh(),
		Expires: info.GetAccessCreateAt().Add(info.GetAccessExpiresIn()),
	})
	return nil
}

func (s *recordingStore) all() []oauthIssued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]oauthIssued(nil), s.issued...)
}

func (s *recordingStore) identicalAccess() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sameAccess
}

func (s *recordingStore) last() oauthIssued {
	all := s.all()
	if len(all) == 0 {
		return oauthIssued{}
	}
	return all[len(all)-1]
}

// oauthCounters is what the server saw.
type oauthCounters struct {
	PasswordGrants int // password grants answered 200
	Refreshes      int // refresh grants answered 200
	FailedRefresh  int // refresh grants answered with an error
	RefusedStatus  int // the status of the last of those
	Reused         int // refresh grants presenting a refresh token already presented before
	NotLatest      int // refresh grants presenting a token other than the newest one issued
	NoClientID     int // refresh grants without client_id=oauthClientID
	APICalls       int // requests to /api/me
	Unauthorized   int // of those, answered 401
}

// oauthSite is go-oauth2 on a loopback port with the page, jsglue and a
// protected resource next to it.
type oauthSite struct {
	URL     string
	manager *manage.Manager
	tokens  *recordingStore

	mu        sync.Mutex
	c         oauthCounters
	presented map[string]bool // refresh tokens presented at the token endpoint
	trace     []string        // what the server saw, in order, tokens by issue number
	start     time.Time
}

// tokenName names a token by the number of the pair that holds it: A0/R0 is
// the login's pair, A1/R1 the first refresh's.
func (s *oauthSite) tokenName(tok string) string {
	if tok == "" {
		return "none"
	}
	for i, p := range s.tokens.all() {
		switch tok {
		case p.Access:
			return "A" + strconv.Itoa(i)
		case p.Refresh:
			return "R" + strconv.Itoa(i)
		}
	}
	return "unknown"
}

// note adds an event to the trace; s.mu must be held.
func (s *oauthSite) note(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf("%6.3fs ", time.Since(s.start).Seconds())+fmt.Sprintf(format, args...))
}

func (s *oauthSite) traced() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.trace, "\n")
}

func newOAuthSite(t *testing.T) *oauthSite {
	t.Helper()
	mem, err := store.NewMemoryTokenStore()
	require.NoError(t, err)
	s := &oauthSite{tokens: &recordingStore{TokenStore: mem}, presented: map[string]bool{}, start: time.Now()}

	m := manage.NewDefaultManager()
	m.SetPasswordTokenCfg(&manage.Config{
		AccessTokenExp:    oauthAccessTTL,
		RefreshTokenExp:   time.Hour,
		IsGenerateRefresh: true,
	})
	// Rotation: every refresh grant issues a new refresh token and removes
	// the old access and refresh tokens, so presenting a used refresh token
	// again is refused with invalid_grant.
	m.SetRefreshTokenCfg(&manage.RefreshingConfig{
		AccessTokenExp:     oauthAccessTTL,
		IsGenerateRefresh:  true,
		IsRemoveAccess:     true,
		IsRemoveRefreshing: true,
	})
	m.MapTokenStorage(s.tokens)
	// The library's JWT access tokens (claims aud, sub, exp; HS256).
	m.MapAccessGenerate(generates.NewJWTAccessGenerate("", []byte("e2e-oauth2-signing-key-0123456789"), jwt.SigningMethodHS256))
	clients := store.NewClientStore()
	require.NoError(t, clients.Set(oauthClientID, &models.Client{ID: oauthClientID, Public: true}))
	m.MapClientStorage(clients)
	s.manager = m

	srv := server.NewServer(&server.Config{
		TokenType:         "Bearer",
		AllowedGrantTypes: []oauth2.GrantType{oauth2.PasswordCredentials, oauth2.Refreshing},
	}, m)
	// A public client identifies itself with client_id in the form (RFC 6749
	// §2.3, §3.2.1); that is all jwtfetch sends.
	srv.SetClientInfoHandler(server.ClientFormHandler)
	srv.SetPasswordAuthorizationHandler(func(_ context.Context, clientID, username, password string) (string, error) {
		if clientID == oauthClientID && username == oauthUser && password == oauthPassword {
			return "user-1", nil
		}
		return "", nil // the library answers invalid_grant
	})
	srv.SetInternalErrorHandler(func(err error) *oerrors.Response {
		t.Logf("oauth2 server internal error: %v", err)
		return nil
	})

	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		s.token(t, srv, w, r)
	})
	mux.HandleFunc("/api/me", func(w http.ResponseWriter, r *http.Request) {
		ti, err := srv.ValidationBearerToken(r)
		bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		name := s.tokenName(bearer)
		s.mu.Lock()
		s.c.APICalls++
		if err != nil {
			s.c.Unauthorized++
			s.note("GET /api/me with %s -> 401 (%v)", name, err)
		} else {
			s.note("GET /api/me with %s -> 200", name)
		}
		s.mu.Unlock()
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"user": ti.GetUserID(), "client": ti.GetClientID()})
	})
	files := http.StripPrefix("/jsglue/", http.FileServer(http.Dir(jsglueDir)))
	mux.HandleFunc("/jsglue/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".wasm") {
			// Go's MIME table has it, but a system mime.types may not;
			// instantiateStreaming needs exactly this type.
			w.Header().Set("Content-Type", "application/wasm")
		}
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(oauthPage))
	})

	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("what the OAuth2 server saw:\n%s", s.traced())
		}
	})
	s.URL = ts.URL
	return s
}

// token runs the library's token endpoint and counts its answers.
func (s *oauthSite) token(t *testing.T, srv *server.Server, w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	grant := r.PostForm.Get("grant_type")
	presented := r.PostForm.Get("refresh_token")
	if grant == "refresh_token" {
		s.mu.Lock()
		if s.presented[presented] {
			s.c.Reused++
		}
		s.presented[presented] = true
		if presented != s.tokens.last().Refresh {
			s.c.NotLatest++
		}
		if r.PostForm.Get("client_id") != oauthClientID {
			s.c.NoClientID++
		}
		s.mu.Unlock()
	}
	presentedName := s.tokenName(presented)
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if err := srv.HandleTokenRequest(sw, r); err != nil {
		t.Logf("token endpoint: %v", err)
	}
	newest, same := len(s.tokens.all())-1, s.tokens.identicalAccess()
	s.mu.Lock()
	defer s.mu.Unlock()
	if grant == "refresh_token" {
		s.note("POST /oauth/token refresh_token=%s -> %d (newest pair now #%d, %d identical access tokens)", presentedName, sw.status, newest, same)
	} else {
		s.note("POST /oauth/token grant_type=%s -> %d (newest pair now #%d)", grant, sw.status, newest)
	}
	switch {
	case grant == "password" && sw.status == http.StatusOK:
		s.c.PasswordGrants++
	case grant == "refresh_token" && sw.status == http.StatusOK:
		s.c.Refreshes++
	case grant == "refresh_token":
		s.c.FailedRefresh++
		s.c.RefusedStatus = sw.status
	}
}

func (s *oauthSite) counters() oauthCounters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

// nextSecond sleeps until just after the whole second that follows since.
// go-oauth2's JWT access tokens differ only by exp, in whole seconds: tokens
// issued within one second are identical (see recordingStore.sameAccess).
func nextSecond(since time.Time) {
	time.Sleep(time.Until(since.Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
}

// waitExpired sleeps until the server no longer accepts the newest access
// token, plus a margin.
func (s *oauthSite) waitExpired() {
	time.Sleep(time.Until(s.tokens.last().Expires) + 150*time.Millisecond)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// oauthLogin loads the page, creates the instance with the given extra auth
// options (a JS object literal body, may be empty), logs in with the
// password grant and hands the pair to jwtfetch.
func oauthLogin(t *testing.T, s *oauthSite, extraAuth string) *tab {
	t.Helper()
	return oauthLoginAfter(t, s, extraAuth, nil)
}

// oauthLoginAfter is oauthLogin that calls beforeGrant, when it is not nil,
// once the page and the instance are ready, right before the password
// grant.
func oauthLoginAfter(t *testing.T, s *oauthSite, extraAuth string, beforeGrant func()) *tab {
	t.Helper()
	tb := newTab(t)
	tb.do(chromedp.Navigate(s.URL + "/"))
	var wasmType string
	tb.eval(`(async () => {
		const m = await import('/jsglue/jwtfetch.js')
		window.api = m.create({
			baseURL: location.origin,
			auth: {
				refreshURL: '/oauth/token',
				refreshStyle: 'oauth2',
				clientId: '`+oauthClientID+`',
				storage: 'memory',
				`+extraAuth+`
			},
		})
		window.events = []
		for (const e of ['tokens', 'refresh', 'expired']) api.auth.on(e, () => events.push(e))
		await api.ready
		return (await fetch('/jsglue/jwtfetch.wasm', { method: 'HEAD' })).headers.get('content-type')
	})()`, &wasmType)
	require.Equal(t, "application/wasm", wasmType, "instantiateStreaming needs it")
	if beforeGrant != nil {
		beforeGrant()
	}
	var login struct {
		Status    int
		ExpiresIn float64
		Refresh   bool
		Type      string
		Authed    bool
	}
	tb.eval(`(async () => {
		const r = await fetch('/oauth/token', {
			method: 'POST',
			body: new URLSearchParams({
				grant_type: 'password', username: '`+oauthUser+`', password: '`+oauthPassword+`',
				client_id: '`+oauthClientID+`',
			}),
		})
		const body = await r.json()
		api.auth.setTokens({ accessToken: body.access_token, refreshToken: body.refresh_token, expiresIn: body.expires_in })
		return { status: r.status, expiresIn: body.expires_in, refresh: !!body.refresh_token,
			type: body.token_type, authed: api.auth.isAuthenticated() }
	})()`, &login)
	require.Equal(t, 200, login.Status, "password grant")
	require.True(t, login.Refresh, "the password grant issues a refresh token")
	require.Equal(t, oauthAccessTTL.Seconds(), login.ExpiresIn)
	require.True(t, login.Authed)
	require.Equal(t, "Bearer", login.Type)
	require.Equal(t, 1, s.counters().PasswordGrants)
	var access string
	tb.eval(`api.auth.accessToken()`, &access)
	require.Equal(t, s.tokens.last().Access, access, "jwtfetch holds the issued access token")
	require.Equal(t, 3, strings.Count(access, ".")+1, "go-oauth2 issued a JWT access token")
	return tb
}

// getMe calls /api/me n times, sequentially or all at once, and returns each
// call's status, or "rejected:<code>".
func getMe(tb *tab, n int, concurrent bool) []string {
	tb.t.Helper()
	var out []string
	if concurrent {
		tb.eval(`Promise.allSettled(Array.from({ length: `+strconv.Itoa(n)+` }, () => api.get('/api/me')))
			.then(rs => rs.map(r => r.status === 'fulfilled'
				? String(r.value.status) + ':' + r.value.data.user
				: 'rejected:' + (r.reason && r.reason.code)))`, &out)
		return out
	}
	tb.eval(`(async () => {
		const out = []
		for (let i = 0; i < `+strconv.Itoa(n)+`; i++) {
			try {
				const r = await api.get('/api/me')
				out.push(String(r.status) + ':' + r.data.user)
			} catch (e) {
				out.push('rejected:' + e.code)
			}
		}
		return out
	})()`, &out)
	return out
}

func all200(t *testing.T, got []string, n int, msgAndArgs ...any) {
	t.Helper()
	want := make([]string, n)
	for i := range want {
		want[i] = "200:user-1"
	}
	assert.Equal(t, want, got, msgAndArgs...)
}

// TestOAuth2Rotation outlives the access token six times. Each round waits
// until the server no longer accepts the access token, then sends a burst of
// 10 concurrent requests and 3 sequential ones (odd rounds: the sequential
// ones first, so a lone request does the refresh; even rounds: the burst
// first, so ten requests race for it). Every call must succeed, the server
// must see exactly one refresh grant per round, each presenting the refresh
// token issued by the previous one, and no refresh grant may fail or reuse
// a token: with rotation on, a second refresh with a used token would be
// refused (invalid_grant) and end the session.
//
// leeway is 0 here. go-oauth2's JWT access tokens carry exp but no iat, so
// jwtfetch cannot learn their lifetime (it ignores expires_in for JWTs) and
// the default leeway of 30 s would make every request refresh first; see
// TestOAuth2DefaultLeeway. With leeway 0 jwtfetch refreshes by exp: exp is
// the server's expiry rounded down to the second, so a request after the
// server's expiry always refreshes first, no request carries an expired
// token (0 × 401), and the new token has at least 1.7 s to live (see the
// loop), longer than one round's requests take: exactly one refresh per
// round.
func TestOAuth2Rotation(t *testing.T) {
	start := time.Now()
	s := newOAuthSite(t)
	tb := oauthLogin(t, s, `leeway: 0,`)

	// Within the token's life: no refresh at all.
	all200(t, getMe(tb, 3, false), 3, "fresh token, sequential")
	all200(t, getMe(tb, 10, true), 10, "fresh token, burst")
	require.Zero(t, s.counters().Refreshes, "no refresh while the token is fresh")

	const rounds = 6
	seenAccess := map[string]bool{s.tokens.last().Access: true}
	for round := 1; round <= rounds; round++ {
		before := s.tokens.last()
		s.waitExpired()
		// exp is whole seconds, rounded down: a token refreshed at
		// S.95 looks to jwtfetch like it lives only until S+2, 1.05 s,
		// and on a busy machine a round's 13 requests can take that
		// long, so a second refresh would be right. Refreshing early in
		// a second gives each round at least 1.7 s.
		if now := time.Now(); now.Sub(now.Truncate(time.Second)) > 300*time.Millisecond {
			nextSecond(now)
		}
		roundStart := time.Now()
		if round%2 == 1 {
			all200(t, getMe(tb, 3, false), 3, "round %d, sequential first", round)
			all200(t, getMe(tb, 10, true), 10, "round %d, then a burst", round)
		} else {
			all200(t, getMe(tb, 10, true), 10, "round %d, burst first", round)
			all200(t, getMe(tb, 3, false), 3, "round %d, then sequential", round)
		}
		c := s.counters()
		require.Equal(t, round, c.Refreshes, "round %d: one refresh grant per round (the round took %v)", round, time.Since(roundStart))
		require.Zero(t, c.FailedRefresh, "round %d: failed refresh grants", round)
		require.Zero(t, c.Reused, "round %d: reused refresh tokens", round)

		after := s.tokens.last()
		assert.NotEqual(t, before.Refresh, after.Refresh, "round %d: the refresh token rotated", round)
		assert.False(t, seenAccess[after.Access], "round %d: a new access token", round)
		seenAccess[after.Access] = true
		var access string
		tb.eval(`api.auth.accessToken()`, &access)
		assert.Equal(t, after.Access, access, "round %d: jwtfetch holds the newest access token", round)
		// The old pair is gone from the library's store: that is what
		// makes reuse fail.
		_, err := s.manager.LoadRefreshToken(context.Background(), before.Refresh)
		assert.Error(t, err, "round %d: the used refresh token is revoked server-side", round)
	}

	c := s.counters()
	issued := s.tokens.all()
	refreshTokens := map[string]bool{}
	for _, p := range issued {
		refreshTokens[p.Refresh] = true
	}
	assert.Equal(t, oauthCounters{
		PasswordGrants: 1,
		Refreshes:      rounds,
		APICalls:       13 + rounds*13,
	}, c, "server counters")
	assert.Len(t, issued, 1+rounds, "token pairs issued: the login and one per round")
	assert.Len(t, refreshTokens, 1+rounds, "every issued refresh token is different")
	assert.Zero(t, s.tokens.identicalAccess(), "identical access tokens issued")

	var events []string
	tb.eval(`events`, &events)
	assert.Equal(t, 1+rounds*2, len(events), "events: %v", events)
	assert.Equal(t, rounds, countOf(events, "refresh"), "refresh events")
	assert.Zero(t, countOf(events, "expired"), "expired events")
	_, thrown := tb.logs()
	assert.Empty(t, thrown, "uncaught exceptions")
	t.Logf("%d expiries survived: %d refresh grants, %d failed, %d reused, %d × 401, %d API calls, in %v",
		rounds, c.Refreshes, c.FailedRefresh, c.Reused, c.Unauthorized, c.APICalls, time.Since(start).Round(time.Millisecond))
}

// TestOAuth2RevokedAccess: the server revokes the access token while jwtfetch
// still thinks it fresh, so ten concurrent requests get 401 from the
// library's bearer validation. They must cause one refresh and all succeed
// on their one retry.
func TestOAuth2RevokedAccess(t *testing.T) {
	s := newOAuthSite(t)
	tb := oauthLogin(t, s, `leeway: 0,`) // see TestOAuth2Rotation
	// The refresh must not fall in the login's second, or go-oauth2 would
	// issue the very same access token again (and delete it at once).
	first := s.tokens.last()
	nextSecond(first.Expires.Add(-oauthAccessTTL))
	require.Greater(t, time.Until(first.Expires), 500*time.Millisecond, "the access token is still fresh")
	require.NoError(t, s.manager.RemoveAccessToken(context.Background(), first.Access))

	all200(t, getMe(tb, 10, true), 10, "burst after the access token was revoked")
	c := s.counters()
	assert.Equal(t, 1, c.Refreshes, "refresh grants")
	assert.Zero(t, c.FailedRefresh, "failed refresh grants")
	assert.Zero(t, c.Reused, "reused refresh tokens")
	assert.Zero(t, c.NotLatest, "refresh grants with an old token")
	assert.Positive(t, c.Unauthorized, "the revoked token was refused")
	assert.LessOrEqual(t, c.Unauthorized, 10, "at most one 401 per request")
	assert.Equal(t, 10+c.Unauthorized, c.APICalls, "each refused request retried once")
	assert.NotEqual(t, first.Refresh, s.tokens.last().Refresh, "rotated")
	assert.NotEqual(t, first.Access, s.tokens.last().Access, "a new access token")
	assert.Zero(t, s.tokens.identicalAccess(), "identical access tokens issued")
	t.Logf("revoked access token: %d × 401, %d refresh grant(s), %d API calls", c.Unauthorized, c.Refreshes, c.APICalls)
}

// TestOAuth2RefusedRefresh: the server revokes the refresh token; when the
// access token runs out the refresh grant is refused (invalid_grant, which
// go-oauth2 answers with 401 where RFC 6749 §5.2 says 400), the request
// rejects with ERR_AUTH_EXPIRED and the session is over.
func TestOAuth2RefusedRefresh(t *testing.T) {
	s := newOAuthSite(t)
	tb := oauthLogin(t, s, `leeway: 0,`)
	pair := s.tokens.last()
	require.NoError(t, s.manager.RemoveRefreshToken(context.Background(), pair.Refresh))
	s.waitExpired()

	var res struct {
		Code, Name string
		Authed     bool
		Access     *string
		Events     []string
	}
	tb.eval(`api.get('/api/me').then(
		() => ({ code: 'resolved' }),
		e => ({ code: e.code, name: e.name, authed: api.auth.isAuthenticated(),
			access: api.auth.accessToken(), events }))`, &res)
	assert.Equal(t, "ERR_AUTH_EXPIRED", res.Code)
	assert.Equal(t, "JwtFetchError", res.Name)
	assert.False(t, res.Authed, "isAuthenticated after a refused refresh")
	assert.Nil(t, res.Access, "no access token left")
	assert.Equal(t, 1, countOf(res.Events, "expired"), "expired events: %v", res.Events)
	c := s.counters()
	assert.Equal(t, 1, c.FailedRefresh, "the one refused refresh grant")
	assert.Equal(t, http.StatusUnauthorized, c.RefusedStatus, "go-oauth2's invalid_grant status")
	assert.Zero(t, c.Refreshes)
	assert.Zero(t, c.APICalls, "the expired token was never sent: jwtfetch refreshed first")

	// Nothing is stuck: logged out, the next request goes without a token
	// and gets the server's 401 as it is, with no refresh attempt.
	var again string
	tb.eval(`api.get('/api/me').then(r => 'status ' + r.status, e => e.code + ' ' + (e.response && e.response.status))`, &again)
	assert.Equal(t, "ERR_BAD_REQUEST 401", again, "logged out: the request goes without a token")
	c = s.counters()
	assert.Equal(t, 1, c.FailedRefresh, "no second refresh attempt")
	assert.Equal(t, 1, c.Unauthorized)
}

// TestOAuth2DefaultLeeway measures the default configuration (leeway 30 s)
// against go-oauth2's JWTs, which have exp but no iat and live 2 s
// (expires_in: 2). token.go means to start a refresh no earlier than
// half-way through a token's life "so a token shorter than the leeway is not
// refreshed on every request", so requests 0.1 s after login must go out
// with the login's token and no refresh. (It did refresh first until
// NewTokens took the lifetime from expires_in for JWTs without iat.)
//
// The first half of the token's life is under 1 s (exp is in whole
// seconds), so the timing is checked, not assumed: the login comes just
// after a whole second, once the page is ready; the requests run in the
// page without the test's round trips; and the test fails with its own
// message, not a misleading one, when they still ended past that half.
func TestOAuth2DefaultLeeway(t *testing.T) {
	s := newOAuthSite(t)
	tb := oauthLoginAfter(t, s, ``, func() { nextSecond(time.Now()) })
	login := s.tokens.last()
	// The earliest time jwtfetch may start to refresh first: half the life it
	// knows (expires_in) before the JWT's exp, which is in whole seconds.
	halfLife := login.Expires.Truncate(time.Second).Add(-oauthAccessTTL / 2)
	var got struct {
		First, Sequential, Burst []string
		End                      float64 // Unix ms when the last answer came
	}
	tb.eval(`(async () => {
		const me = () => api.get('/api/me').then(r => r.status + ':' + r.data.user, e => 'rejected:' + e.code)
		await new Promise(r => setTimeout(r, 100))
		const first = [await me()]
		const sequential = [await me(), await me()]
		const burst = await Promise.all(Array.from({ length: 10 }, me))
		return { first, sequential, burst, end: Date.now() }
	})()`, &got)
	end := time.UnixMilli(int64(got.End))
	if end.After(halfLife) {
		t.Fatalf("the requests ended %v after the token's half-life (login at %s, half-life at %s): the machine was "+
			"too slow to test what is sent before it", end.Sub(halfLife), login.Expires.Add(-oauthAccessTTL).Format("15:04:05.000"),
			halfLife.Format("15:04:05.000"))
	}
	c := s.counters()
	if c.Refreshes+c.FailedRefresh > 0 {
		t.Fatalf("with the default leeway (30 s), api.get 0.1 s after setTokens with a 2 s JWT (exp but no iat, "+
			"expires_in=2 passed to setTokens) made %d refresh grant(s) before the token's half-life, want 0: a token "+
			"shorter than the leeway must be sent until half-way through its life. Answers: %v, then %v, then %v",
			c.Refreshes+c.FailedRefresh, got.First, got.Sequential, got.Burst)
	}
	all200(t, got.First, 1, "fresh token, first request")
	all200(t, got.Sequential, 2, "fresh token, sequential")
	all200(t, got.Burst, 10, "fresh token, burst")
	assert.Zero(t, c.Unauthorized)
	assert.Equal(t, 13, c.APICalls, "each request sent once")
	assert.Zero(t, s.tokens.identicalAccess(), "identical access tokens issued")
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

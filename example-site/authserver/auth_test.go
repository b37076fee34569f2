package authserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogin(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		wantStatus  int
		wantError   string
	}{
		{"json ok", http.MethodPost, "application/json", `{"username":"demo","password":"demo123"}`, 200, ""},
		{"json without content type", http.MethodPost, "", `{"username":"demo","password":"demo123"}`, 200, ""},
		{"form ok", http.MethodPost, "application/x-www-form-urlencoded", "username=demo&password=demo123", 200, ""},
		{"wrong password", http.MethodPost, "application/json", `{"username":"demo","password":"nope"}`, 401, "invalid_credentials"},
		{"unknown user", http.MethodPost, "application/json", `{"username":"eve","password":"demo123"}`, 401, "invalid_credentials"},
		{"form wrong password", http.MethodPost, "application/x-www-form-urlencoded", "username=demo&password=x", 401, "invalid_credentials"},
		{"empty body", http.MethodPost, "application/json", "", 401, "invalid_credentials"},
		{"malformed json", http.MethodPost, "application/json", `{"username":`, 400, "invalid_request"},
		{"wrong method", http.MethodGet, "", "", 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{})
			rec := do(t, s, tt.method, "/auth/login", tt.body, "Content-Type", tt.contentType)
			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			m := jsonBody(t, rec)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, m["error"])
				assert.NotContains(t, m, "access")
				assert.Zero(t, s.Counters().Logins)
				return
			}
			assert.NotEmpty(t, m["access"])
			assert.NotEmpty(t, m["refresh"])
			assert.EqualValues(t, 20, m["expires_in"])
			assert.Equal(t, int64(1), s.Counters().Logins)
		})
	}
}

func TestLoginCustomUsers(t *testing.T) {
	s := New(Config{Users: map[string]string{"alice": "wonderland"}})
	rec := do(t, s, http.MethodPost, "/auth/login", `{"username":"alice","password":"wonderland"}`)
	require.Equal(t, http.StatusOK, rec.Code)
	rec = do(t, s, http.MethodPost, "/auth/login", `{"username":"demo","password":"demo123"}`)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestAccessTokenClaims(t *testing.T) {
	clock := newFakeClock()
	clock.Advance(123 * time.Millisecond)
	s := New(Config{Now: clock.Now, AccessTTL: 90 * time.Second})
	access, refresh := login(t, s)

	header := strings.Split(access, ".")[0]
	raw, err := base64.RawURLEncoding.DecodeString(header)
	require.NoError(t, err)
	assert.JSONEq(t, `{"alg":"HS256","typ":"JWT"}`, string(raw))

	c := payload(t, access)
	assert.Equal(t, "demo", c["sub"])
	assert.Equal(t, "access", c["typ"])
	assert.NotEmpty(t, c["jti"])
	assert.NotEmpty(t, c["sid"])
	iat, exp := c["iat"].(float64), c["exp"].(float64)
	assert.InDelta(t, float64(clock.Now().UnixMilli())/1000, iat, 1e-6)
	assert.InDelta(t, 90, exp-iat, 1e-6)

	// Each token is distinct.
	access2, refresh2 := login(t, s)
	assert.NotEqual(t, access, access2)
	assert.NotEqual(t, refresh, refresh2)
	assert.NotEqual(t, c["jti"], payload(t, access2)["jti"])
	assert.NotEqual(t, c["sid"], payload(t, access2)["sid"])

	// Refresh tokens are opaque: 32 random bytes, base64url.
	b, err := base64.RawURLEncoding.DecodeString(refresh)
	require.NoError(t, err)
	assert.Len(t, b, 32)
}

// forge signs claims with key and method.
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return tok
}

func TestMe(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	clock := newFakeClock()
	s := New(Config{Now: clock.Now, Secret: secret})
	access, refresh := login(t, s)
	good := payload(t, access)
	withClaim := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range good {
			c[k] = v
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}

	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"valid", "Bearer " + access, true},
		{"lower-case scheme", "bearer " + access, true},
		{"same claims re-signed", "Bearer " + forge(t, jwt.SigningMethodHS256, secret, withClaim("x", 1)), true},
		{"missing", "", false},
		{"garbage", "Bearer not.a.token", false},
		{"not bearer", "Basic " + access, false},
		{"refresh token", "Bearer " + refresh, false},
		{"tampered", "Bearer " + access + "x", false},
		{"other key", "Bearer " + forge(t, jwt.SigningMethodHS256, []byte("another key of thirty-two bytes!"), withClaim("x", 1)), false},
		{"HS512", "Bearer " + forge(t, jwt.SigningMethodHS512, secret, withClaim("x", 1)), false},
		{"alg none", "Bearer " + forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, withClaim("x", 1)), false},
		{"wrong typ", "Bearer " + forge(t, jwt.SigningMethodHS256, secret, withClaim("typ", "refresh")), false},
		{"no exp", "Bearer " + forge(t, jwt.SigningMethodHS256, secret, withClaim("exp", nil)), false},
		{"unknown session", "Bearer " + forge(t, jwt.SigningMethodHS256, secret, withClaim("sid", "nope")), false},
		{"old generation", "Bearer " + forge(t, jwt.SigningMethodHS256, secret, withClaim("gen", 7)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Counters()
			rec := do(t, s, http.MethodGet, "/api/me", "", "Authorization", tt.header)
			m := jsonBody(t, rec)
			after := s.Counters()
			if tt.ok {
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.Equal(t, "demo", m["user"])
				assert.Equal(t, "demo", m["sub"])
				assert.EqualValues(t, clock.Now().Add(DefaultAccessTTL).Unix(), m["exp"])
				assert.Equal(t, before.APICalls+1, after.APICalls)
				assert.Equal(t, before.Unauthorized, after.Unauthorized)
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
				return
			}
			require.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
			assert.Equal(t, "invalid_token", m["error"])
			assert.Equal(t, `Bearer error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
			assert.Equal(t, before.Unauthorized+1, after.Unauthorized)
			assert.Equal(t, before.APICalls, after.APICalls)
		})
	}
}

func TestMeCountsSessionCalls(t *testing.T) {
	s := New(Config{})
	a1, _ := login(t, s)
	a2, _ := login(t, s)
	for i := 1; i <= 3; i++ {
		m := jsonBody(t, me(t, s, a1))
		assert.EqualValues(t, i, m["calls"])
	}
	assert.EqualValues(t, 1, jsonBody(t, me(t, s, a2))["calls"])
	assert.Equal(t, int64(4), s.Counters().APICalls)
}

func TestAccessTokenExpiry(t *testing.T) {
	tests := []struct {
		name    string
		ttl     time.Duration
		start   time.Duration // offset of the login within its second
		advance time.Duration
		ok      bool
	}{
		{"fresh", 20 * time.Second, 0, 0, true},
		{"just before expiry", 20 * time.Second, 0, 20*time.Second - time.Millisecond, true},
		{"at expiry", 20 * time.Second, 0, 20 * time.Second, false},
		{"long expired", 20 * time.Second, 0, time.Hour, false},
		{"1s late in the second, still valid", time.Second, 999 * time.Millisecond, 999 * time.Millisecond, true},
		{"1s late in the second, expired", time.Second, 999 * time.Millisecond, time.Second, false},
		{"1s early in the second, still valid", time.Second, time.Millisecond, 999 * time.Millisecond, true},
		{"1s early in the second, expired", time.Second, time.Millisecond, 1001 * time.Millisecond, false},
		{"sub-second ttl valid", 300 * time.Millisecond, 900 * time.Millisecond, 299 * time.Millisecond, true},
		{"sub-second ttl expired", 300 * time.Millisecond, 900 * time.Millisecond, 300 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			clock.Advance(tt.start)
			s := New(Config{Now: clock.Now, AccessTTL: tt.ttl})
			access, _ := login(t, s)
			clock.Advance(tt.advance)
			rec := me(t, s, access)
			if tt.ok {
				assert.Equal(t, http.StatusOK, rec.Code)
			} else {
				assert.Equal(t, http.StatusUnauthorized, rec.Code)
			}
		})
	}
}

func TestAccessTokenExpiresRealClock(t *testing.T) {
	s := New(Config{AccessTTL: time.Second})
	access, _ := login(t, s)
	require.Equal(t, http.StatusOK, me(t, s, access).Code)
	time.Sleep(1100 * time.Millisecond)
	require.Equal(t, http.StatusUnauthorized, me(t, s, access).Code)
}

func TestRefreshJSON(t *testing.T) {
	clock := newFakeClock()
	s := New(Config{Now: clock.Now, AccessTTL: 2 * time.Second})
	access, refresh := login(t, s)
	clock.Advance(3 * time.Second)
	require.Equal(t, http.StatusUnauthorized, me(t, s, access).Code)

	rec := refreshJSON(t, s, refresh)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	m := jsonBody(t, rec)
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.ElementsMatch(t, []string{"access", "refresh", "expires_in"}, keys(m))
	assert.EqualValues(t, 2, m["expires_in"])
	newAccess, newRefresh := m["access"].(string), m["refresh"].(string)
	assert.NotEqual(t, refresh, newRefresh)
	assert.Equal(t, payload(t, access)["sid"], payload(t, newAccess)["sid"], "same session")
	assert.Equal(t, http.StatusOK, me(t, s, newAccess).Code)
	assert.Equal(t, int64(1), s.Counters().Refreshes)
	assert.Zero(t, s.Counters().RefreshFailures)
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestRefreshForm(t *testing.T) {
	s := New(Config{})
	_, refresh := login(t, s)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {"demo-app"}}
	rec := do(t, s, http.MethodPost, "/auth/refresh", form.Encode(),
		"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	m := jsonBody(t, rec)
	assert.ElementsMatch(t, []string{"access_token", "refresh_token", "token_type", "expires_in"}, keys(m))
	assert.Equal(t, "Bearer", m["token_type"])
	assert.EqualValues(t, 20, m["expires_in"])
	assert.NotEqual(t, refresh, m["refresh_token"])
	assert.Equal(t, http.StatusOK, me(t, s, m["access_token"].(string)).Code)
}

func TestRefreshErrors(t *testing.T) {
	const (
		jsonType = "application/json"
		formType = "application/x-www-form-urlencoded"
	)
	tests := []struct {
		name        string
		contentType string
		body        func(refresh string) string
		expire      bool // advance the clock past RefreshTTL first
		wantStatus  int
		wantError   string
	}{
		{"json unknown token", jsonType, func(string) string { return `{"refresh":"nope"}` }, false, 401, "invalid_grant"},
		{"json expired token", jsonType, func(r string) string { return `{"refresh":"` + r + `"}` }, true, 401, "invalid_grant"},
		{"json missing token", jsonType, func(string) string { return `{}` }, false, 400, "invalid_request"},
		{"json malformed", jsonType, func(string) string { return `{"refresh"` }, false, 400, "invalid_request"},
		{"form unknown token", formType, func(string) string { return "grant_type=refresh_token&refresh_token=nope" }, false, 400, "invalid_grant"},
		{"form expired token", formType, func(r string) string { return "grant_type=refresh_token&refresh_token=" + r }, true, 400, "invalid_grant"},
		{"form wrong grant type", formType, func(r string) string { return "grant_type=password&refresh_token=" + r }, false, 400, "unsupported_grant_type"},
		{"form missing token", formType, func(string) string { return "grant_type=refresh_token" }, false, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s := New(Config{Now: clock.Now, RefreshTTL: time.Hour})
			_, refresh := login(t, s)
			if tt.expire {
				clock.Advance(time.Hour)
			}
			rec := do(t, s, http.MethodPost, "/auth/refresh", tt.body(refresh), "Content-Type", tt.contentType)
			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			assert.Equal(t, tt.wantError, jsonBody(t, rec)["error"])
			c := s.Counters()
			assert.Equal(t, int64(1), c.RefreshFailures)
			assert.Zero(t, c.Refreshes)
			assert.Zero(t, c.ReuseDetections)
		})
	}
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	s := New(Config{})
	_, other := login(t, s) // an unrelated session
	access1, refresh1 := login(t, s)

	rec := refreshJSON(t, s, refresh1)
	require.Equal(t, http.StatusOK, rec.Code)
	m := jsonBody(t, rec)
	access2, refresh2 := m["access"].(string), m["refresh"].(string)
	require.Equal(t, http.StatusOK, me(t, s, access1).Code, "earlier access tokens live until they expire")
	require.Equal(t, http.StatusOK, me(t, s, access2).Code)

	// The rotated-out token is rejected: a reuse, which revokes the session.
	rec = refreshJSON(t, s, refresh1)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "invalid_grant", jsonBody(t, rec)["error"])
	assert.Equal(t, int64(1), s.Counters().ReuseDetections)

	rec = refreshJSON(t, s, refresh2)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "newer refresh token of the revoked session")
	assert.Equal(t, http.StatusUnauthorized, me(t, s, access2).Code)
	assert.Equal(t, http.StatusUnauthorized, me(t, s, access1).Code)
	assert.Equal(t, int64(1), s.Counters().ReuseDetections, "a revoked session is not detected twice")

	// Form style answers 400 for the same thing.
	rec = do(t, s, http.MethodPost, "/auth/refresh", "grant_type=refresh_token&refresh_token="+refresh1,
		"Content-Type", "application/x-www-form-urlencoded")
	assert.Equal(t, http.StatusBadRequest, rec.Code)

	c := s.Counters()
	assert.Equal(t, int64(1), c.Refreshes)
	assert.Equal(t, int64(3), c.RefreshFailures)

	// Other sessions are unaffected.
	assert.Equal(t, http.StatusOK, refreshJSON(t, s, other).Code)
}

func TestConcurrentRefreshOfOneToken(t *testing.T) {
	s := New(Config{})
	_, refresh := login(t, s)
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/auth/refresh", strings.NewReader(`{"refresh":"`+refresh+`"}`))
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			codes[i] = rec.Code
		})
	}
	wg.Wait()
	var ok int
	for _, c := range codes {
		if c == http.StatusOK {
			ok++
		}
	}
	assert.Equal(t, 1, ok, "codes: %v", codes)
	c := s.Counters()
	assert.Equal(t, int64(1), c.Refreshes)
	assert.Equal(t, int64(n-1), c.RefreshFailures)
	assert.Equal(t, int64(1), c.ReuseDetections)
}

func TestLogout(t *testing.T) {
	tests := []struct {
		name    string
		body    func(refresh string) string
		ctype   string
		bearer  bool
		revokes bool
	}{
		{"json refresh", func(r string) string { return `{"refresh":"` + r + `"}` }, "application/json", false, true},
		{"form refresh_token", func(r string) string { return "refresh_token=" + r }, "application/x-www-form-urlencoded", false, true},
		{"bearer only", func(string) string { return "" }, "", true, true},
		{"empty", func(string) string { return "" }, "", false, false},
		{"unknown token", func(string) string { return `{"refresh":"nope"}` }, "application/json", false, false},
		{"malformed", func(string) string { return `{"refr` }, "application/json", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{})
			access, refresh := login(t, s)
			hdr := []string{"Content-Type", tt.ctype}
			if tt.bearer {
				hdr = append(hdr, "Authorization", "Bearer "+access)
			}
			rec := do(t, s, http.MethodPost, "/auth/logout", tt.body(refresh), hdr...)
			require.Equal(t, http.StatusNoContent, rec.Code)
			assert.Empty(t, rec.Body.String())
			assert.Equal(t, int64(1), s.Counters().Logouts)
			want := http.StatusOK
			if tt.revokes {
				want = http.StatusUnauthorized
			}
			assert.Equal(t, want, me(t, s, access).Code)
			assert.Equal(t, want, refreshJSON(t, s, refresh).Code)
			assert.Zero(t, s.Counters().ReuseDetections)
		})
	}
}

func TestRevokeAccessTokens(t *testing.T) {
	clock := newFakeClock()
	s := New(Config{Now: clock.Now})
	access1, refresh1 := login(t, s)
	access2, _ := login(t, s)
	s.RevokeAccessTokens()

	// Even in the same instant, earlier tokens are revoked and later ones not.
	assert.Equal(t, http.StatusUnauthorized, me(t, s, access1).Code)
	assert.Equal(t, http.StatusUnauthorized, me(t, s, access2).Code)
	rec := refreshJSON(t, s, refresh1)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, http.StatusOK, me(t, s, jsonBody(t, rec)["access"].(string)).Code)
	access3, _ := login(t, s)
	assert.Equal(t, http.StatusOK, me(t, s, access3).Code)
	assert.Zero(t, s.Counters().ReuseDetections)
}

func TestRefreshDelay(t *testing.T) {
	s := New(Config{})
	_, refresh := login(t, s)

	s.SetRefreshDelay(150 * time.Millisecond)
	start := time.Now()
	rec := refreshJSON(t, s, refresh)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	refresh = jsonBody(t, rec)["refresh"].(string)

	// A cancelled request stops waiting and leaves its token unused.
	s.SetRefreshDelay(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/auth/refresh",
		strings.NewReader(`{"refresh":"`+refresh+`"}`))
	start = time.Now()
	s.ServeHTTP(httptest.NewRecorder(), req)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, int64(1), s.Counters().RefreshFailures)

	s.SetRefreshDelay(0)
	assert.Equal(t, http.StatusOK, refreshJSON(t, s, refresh).Code)
	assert.Zero(t, s.Counters().ReuseDetections)
}

func TestRefreshFailure(t *testing.T) {
	tests := []struct {
		status    int
		wantError string
	}{
		{500, "server_error"},
		{503, "temporarily_unavailable"},
		{401, "invalid_grant"},
		{400, "invalid_grant"},
		{429, "server_error"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			s := New(Config{})
			_, refresh := login(t, s)
			s.SetRefreshFailure(tt.status)
			rec := refreshJSON(t, s, refresh)
			require.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.wantError, jsonBody(t, rec)["error"])
			assert.Equal(t, int64(1), s.Counters().RefreshFailures)

			s.SetRefreshFailure(0)
			assert.Equal(t, http.StatusOK, refreshJSON(t, s, refresh).Code, "the token was not consumed")
		})
	}
}

func TestCountersReset(t *testing.T) {
	s := New(Config{})
	login(t, s)
	me(t, s, "x")
	require.NotZero(t, s.Counters())
	s.ResetCounters()
	assert.Zero(t, s.Counters())
}

func TestPrune(t *testing.T) {
	clock := newFakeClock()
	s := New(Config{Now: clock.Now, RefreshTTL: time.Hour})
	for range 3 {
		login(t, s)
	}
	clock.Advance(2 * time.Hour)
	login(t, s)
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Len(t, s.families, 1)
	assert.Len(t, s.refreshTokens, 1)
}

func TestNumericDate(t *testing.T) {
	tests := []struct {
		ms   int64
		json string
	}{
		{1741064767000, "1741064767"},
		{1741064767500, "1741064767.5"},
		{1741064767123, "1741064767.123"},
		{1741064767010, "1741064767.01"},
		{1741064767001, "1741064767.001"},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			b, err := json.Marshal(newNumericDate(time.UnixMilli(tt.ms)))
			require.NoError(t, err)
			assert.Equal(t, tt.json, string(b))
			var d numericDate
			require.NoError(t, json.Unmarshal(b, &d))
			assert.Equal(t, tt.ms, d.t.UnixMilli())
		})
	}
	var d numericDate
	assert.Error(t, json.Unmarshal([]byte(`"soon"`), &d))
	assert.Error(t, json.Unmarshal([]byte(`1e300`), &d))
}

func TestMethodNotAllowed(t *testing.T) {
	s := New(Config{})
	for _, target := range []string{"/auth/login", "/auth/refresh", "/auth/logout"} {
		rec := do(t, s, http.MethodGet, target, "")
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, target)
		assert.Equal(t, "POST", rec.Header().Get("Allow"), target)
		assert.Equal(t, "method_not_allowed", jsonBody(t, rec)["error"])
	}
}

func TestCopyIssuedAt(t *testing.T) {
	clock := newFakeClock()
	s := New(Config{Now: clock.Now, AccessTTL: 2 * time.Second, Debug: true})
	access, refresh := login(t, s)
	loginIat := payload(t, access)["iat"].(float64)

	rec := do(t, s, http.MethodPost, "/debug/copy-iat?on=1", "")
	require.Equal(t, http.StatusNoContent, rec.Code)
	for range 3 {
		clock.Advance(1500 * time.Millisecond)
		rec := refreshJSON(t, s, refresh)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		m := jsonBody(t, rec)
		refresh = m["refresh"].(string)
		c := payload(t, m["access"].(string))
		assert.InDelta(t, loginIat, c["iat"].(float64), 1e-6, "iat copied from the login")
		assert.InDelta(t, float64(clock.Now().UnixMilli())/1000+2, c["exp"].(float64), 1e-6, "exp still now+ttl")
		assert.Equal(t, http.StatusOK, me(t, s, m["access"].(string)).Code)
	}

	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/reset", "").Code)
	clock.Advance(time.Second)
	m := jsonBody(t, refreshJSON(t, s, refresh))
	c := payload(t, m["access"].(string))
	assert.InDelta(t, 2, c["exp"].(float64)-c["iat"].(float64), 1e-6, "reset restores honest iats")
	assert.Equal(t, http.StatusBadRequest, do(t, s, http.MethodPost, "/debug/copy-iat?on=maybe", "").Code)
}

func TestDateHeaderFollowsTheServerClock(t *testing.T) {
	clock := newFakeClock()
	s := New(Config{Now: clock.Now})
	for _, path := range []string{"/public/text", "/auth/login"} {
		rec := do(t, s, http.MethodGet, path, "")
		assert.Equal(t, "Tue, 04 Mar 2025 05:06:07 GMT", rec.Header().Get("Date"), path)
	}
}

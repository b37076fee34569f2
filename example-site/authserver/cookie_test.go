package authserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// browser is a client with a cookie jar in front of a Server on a real
// listener, as a browser tab would talk to it.
type browser struct {
	t   *testing.T
	s   *Server
	ts  *httptest.Server
	c   *http.Client
	jar *cookiejar.Jar
}

func newBrowser(t *testing.T, cfg Config, tls bool) *browser {
	t.Helper()
	s := New(cfg)
	var ts *httptest.Server
	if tls {
		ts = httptest.NewTLSServer(s)
	} else {
		ts = httptest.NewServer(s)
	}
	t.Cleanup(ts.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := ts.Client()
	c.Jar = jar
	return &browser{t: t, s: s, ts: ts, c: c, jar: jar}
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
	set    map[string]*http.Cookie // Set-Cookie by name
}

// post sends body to path; hdr holds name, value pairs. Content-Type is
// JSON unless hdr sets it.
func (b *browser) post(path, body string, hdr ...string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(body))
	require.NoError(b.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw), set: map[string]*http.Cookie{}}
	if len(raw) > 0 {
		require.NoError(b.t, json.Unmarshal(raw, &a.body), "body: %s", raw)
	}
	for _, c := range resp.Cookies() {
		a.set[c.Name] = c
	}
	return a
}

// cookie is the jar's value of the cookie name for path, "" when none.
func (b *browser) cookie(path, name string) string {
	b.t.Helper()
	u, err := url.Parse(b.ts.URL + path)
	require.NoError(b.t, err)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// xsrf is the header a page sends: the XSRF cookie's value.
func (b *browser) xsrf() []string {
	return []string{XSRFHeader, b.cookie("/", XSRFCookie)}
}

// login logs in in cookie mode and returns the access token.
func (b *browser) login() string {
	b.t.Helper()
	a := b.post("/auth/login", `{"username":"demo","password":"demo123","mode":"cookie"}`)
	require.Equal(b.t, http.StatusOK, a.status, a.raw)
	access, _ := a.body["access"].(string)
	require.NotEmpty(b.t, access)
	require.NotEmpty(b.t, b.cookie("/auth/refresh", RefreshCookie), "the jar holds the refresh cookie")
	return access
}

// refresh refreshes by cookie with the XSRF header and returns the access
// token.
func (b *browser) refresh() string {
	b.t.Helper()
	a := b.post("/auth/refresh", `{}`, b.xsrf()...)
	require.Equal(b.t, http.StatusOK, a.status, a.raw)
	access, _ := a.body["access"].(string)
	require.NotEmpty(b.t, access)
	return access
}

func TestCookieLogin(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			b := newBrowser(t, Config{RefreshTTL: time.Hour}, tls)
			a := b.post("/auth/login", `{"username":"demo","password":"demo123","mode":"cookie"}`)
			require.Equal(t, http.StatusOK, a.status, a.raw)
			assert.ElementsMatch(t, []string{"access", "expires_in"}, keys(a.body), "no refresh token in the body")
			assert.EqualValues(t, 20, a.body["expires_in"])
			assert.Equal(t, "no-store", a.header.Get("Cache-Control"))
			assert.Equal(t, http.StatusOK, me(t, b.s, a.body["access"].(string)).Code)
			assert.Equal(t, int64(1), b.s.Counters().Logins)

			rc, xc := a.set[RefreshCookie], a.set[XSRFCookie]
			require.NotNil(t, rc, "Set-Cookie %s", RefreshCookie)
			require.NotNil(t, xc, "Set-Cookie %s", XSRFCookie)
			assert.GreaterOrEqual(t, len(rc.Value), 40, "an opaque refresh token")
			assert.Equal(t, "/auth", rc.Path)
			assert.True(t, rc.HttpOnly, "refresh cookie HttpOnly")
			assert.Equal(t, http.SameSiteStrictMode, rc.SameSite)
			assert.Equal(t, tls, rc.Secure, "Secure exactly over TLS")
			assert.Equal(t, 3600, rc.MaxAge, "lives as long as the refresh token")
			assert.Empty(t, rc.Domain, "host-only")

			assert.GreaterOrEqual(t, len(xc.Value), 20)
			assert.Equal(t, "/", xc.Path)
			assert.False(t, xc.HttpOnly, "the page must read the XSRF cookie")
			assert.Equal(t, http.SameSiteStrictMode, xc.SameSite)
			assert.Equal(t, tls, xc.Secure)
			assert.NotEqual(t, rc.Value, xc.Value)

			raw := strings.Join(a.header.Values("Set-Cookie"), "\n")
			assert.Contains(t, raw, "HttpOnly")
			assert.Contains(t, raw, "SameSite=Strict")
			assert.NotContains(t, a.raw, rc.Value, "the body never holds the refresh token")
		})
	}
}

func TestCookieLoginRequests(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		status            int
		cookies           bool
	}{
		{"json cookie", "application/json", `{"username":"demo","password":"demo123","mode":"cookie"}`, 200, true},
		{"form cookie", "application/x-www-form-urlencoded", "username=demo&password=demo123&mode=cookie", 200, true},
		{"json mode json", "application/json", `{"username":"demo","password":"demo123","mode":"json"}`, 200, false},
		{"no mode", "application/json", `{"username":"demo","password":"demo123"}`, 200, false},
		{"unknown mode", "application/json", `{"username":"demo","password":"demo123","mode":"cookies"}`, 400, false},
		{"wrong password", "application/json", `{"username":"demo","password":"x","mode":"cookie"}`, 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{})
			rec := do(t, s, http.MethodPost, "/auth/login", tt.body, "Content-Type", tt.ctype)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			m := jsonBody(t, rec)
			set := rec.Result().Cookies()
			if !tt.cookies {
				assert.Empty(t, set, "no cookies")
				if tt.status == 200 {
					assert.NotEmpty(t, m["refresh"], "JSON mode: the refresh token in the body")
				}
				return
			}
			assert.Len(t, set, 2)
			assert.NotContains(t, m, "refresh")
		})
	}
}

func TestCookieRefreshRotates(t *testing.T) {
	b := newBrowser(t, Config{RecordIssued: true}, false)
	access := b.login()
	xsrf := b.cookie("/", XSRFCookie)
	seen := map[string]bool{b.cookie("/auth", RefreshCookie): true}

	// The three ways a client asks without a token in the body.
	requests := []struct {
		name, body string
		hdr        []string
		wantKeys   []string
	}{
		{"json {}", `{}`, nil, []string{"access", "expires_in"}},
		{"empty body", ``, nil, []string{"access", "expires_in"}},
		{"form", `grant_type=refresh_token&client_id=demo-app`, []string{"Content-Type", "application/x-www-form-urlencoded"},
			[]string{"access_token", "token_type", "expires_in"}},
	}
	for i, rq := range requests {
		old := b.cookie("/auth", RefreshCookie)
		a := b.post("/auth/refresh", rq.body, append(rq.hdr, b.xsrf()...)...)
		require.Equal(t, http.StatusOK, a.status, "%s: %s", rq.name, a.raw)
		assert.ElementsMatch(t, rq.wantKeys, keys(a.body), rq.name)
		rc := a.set[RefreshCookie]
		require.NotNil(t, rc, "%s: the rotated cookie is set", rq.name)
		assert.True(t, rc.HttpOnly)
		assert.Equal(t, "/auth", rc.Path)
		assert.Equal(t, http.SameSiteStrictMode, rc.SameSite)
		assert.NotEqual(t, old, rc.Value, "%s: rotated", rq.name)
		assert.False(t, seen[rc.Value], "%s: a new refresh token", rq.name)
		seen[rc.Value] = true
		assert.NotContains(t, a.raw, rc.Value, "%s: the body never holds the refresh token", rq.name)
		assert.Equal(t, xsrf, b.cookie("/", XSRFCookie), "%s: the XSRF cookie keeps its value", rq.name)
		if x := a.set[XSRFCookie]; assert.NotNil(t, x, "%s: XSRF cookie refreshed", rq.name) {
			assert.False(t, x.HttpOnly)
			assert.Equal(t, "/", x.Path)
		}
		newAccess, _ := a.body["access"].(string)
		if newAccess == "" {
			newAccess, _ = a.body["access_token"].(string)
		}
		assert.Equal(t, payload(t, access)["sid"], payload(t, newAccess)["sid"], "%s: same session", rq.name)
		assert.Equal(t, http.StatusOK, me(t, b.s, newAccess).Code)
		c := b.s.Counters()
		assert.Equal(t, int64(i+1), c.Refreshes)
		assert.Equal(t, int64(i+1), c.CookieRefreshes)
	}
	c := b.s.Counters()
	assert.Zero(t, c.RefreshFailures)
	assert.Zero(t, c.ReuseDetections)
	assert.Zero(t, c.XSRFFailures)

	issued := b.s.Issued()
	require.Len(t, issued, 4, "the login and three refreshes")
	assert.Equal(t, b.cookie("/auth", RefreshCookie), issued[3].Refresh, "Issued records what the cookie holds")
}

func TestCookieReplayRevokesTheSession(t *testing.T) {
	b := newBrowser(t, Config{}, false)
	b.login()
	old := b.cookie("/auth", RefreshCookie)
	access := b.refresh()
	current := b.cookie("/auth", RefreshCookie)
	require.NotEqual(t, old, current)

	// A stolen or stale copy of the old cookie, with a valid XSRF pair.
	xsrf := b.cookie("/", XSRFCookie)
	replay := func(token, body, ctype string) *httptest.ResponseRecorder {
		return do(t, b.s, http.MethodPost, "/auth/refresh", body,
			"Content-Type", ctype, "Cookie", RefreshCookie+"="+token+"; "+XSRFCookie+"="+xsrf, XSRFHeader, xsrf)
	}
	rec := replay(old, `{}`, "application/json")
	require.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
	assert.Equal(t, "invalid_grant", jsonBody(t, rec)["error"])
	assert.Empty(t, rec.Result().Cookies(), "a refused refresh leaves the cookies alone")
	c := b.s.Counters()
	assert.Equal(t, int64(1), c.ReuseDetections)
	assert.Equal(t, int64(1), c.RefreshFailures)

	// The whole family is revoked: the current cookie and access token too.
	a := b.post("/auth/refresh", `{}`, b.xsrf()...)
	assert.Equal(t, http.StatusUnauthorized, a.status, "the newest cookie of a revoked session")
	assert.Equal(t, "invalid_grant", a.body["error"])
	assert.Equal(t, http.StatusUnauthorized, me(t, b.s, access).Code)
	rec = replay(old, "grant_type=refresh_token", "application/x-www-form-urlencoded")
	assert.Equal(t, http.StatusBadRequest, rec.Code, "form style answers 400")
	assert.Equal(t, "invalid_grant", jsonBody(t, rec)["error"])
	assert.Equal(t, int64(1), b.s.Counters().ReuseDetections, "a revoked session is not detected twice")

	// The same family as JSON mode: a token from the body is replayed the
	// same way, and another session is unaffected.
	other := newBrowser(t, Config{}, false)
	other.login()
	other.refresh()
	assert.Zero(t, other.s.Counters().ReuseDetections)
}

func TestCookieConcurrentRefreshOfOneCookie(t *testing.T) {
	b := newBrowser(t, Config{}, false)
	b.login()
	token, xsrf := b.cookie("/auth", RefreshCookie), b.cookie("/", XSRFCookie)
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/auth/refresh", strings.NewReader(`{}`))
			req.Header.Set("Cookie", RefreshCookie+"="+token+"; "+XSRFCookie+"="+xsrf)
			req.Header.Set(XSRFHeader, xsrf)
			rec := httptest.NewRecorder()
			b.s.ServeHTTP(rec, req)
			codes[i] = rec.Code
		})
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == http.StatusOK {
			ok++
		}
	}
	assert.Equal(t, 1, ok, "codes: %v", codes)
	c := b.s.Counters()
	assert.Equal(t, int64(1), c.Refreshes)
	assert.Equal(t, int64(1), c.ReuseDetections)
}

func TestCookieRefreshXSRF(t *testing.T) {
	tests := []struct {
		name string
		hdr  func(xsrf string) []string
		// jarXSRF false: the XSRF cookie is removed from the request.
		dropCookie bool
	}{
		{"no header", func(string) []string { return nil }, false},
		{"wrong header", func(x string) []string { return []string{XSRFHeader, x + "x"} }, false},
		{"empty header", func(string) []string { return []string{XSRFHeader, ""} }, false},
		{"header of another name", func(x string) []string { return []string{"X-CSRF-Token", x} }, false},
		{"no XSRF cookie", func(x string) []string { return []string{XSRFHeader, x} }, true},
		{"no XSRF cookie, empty header", func(string) []string { return []string{XSRFHeader, ""} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, Config{}, false)
			access := b.login()
			token, xsrf := b.cookie("/auth", RefreshCookie), b.cookie("/", XSRFCookie)
			cookie := RefreshCookie + "=" + token
			if !tt.dropCookie {
				cookie += "; " + XSRFCookie + "=" + xsrf
			}
			rec := do(t, b.s, http.MethodPost, "/auth/refresh", `{}`,
				append([]string{"Content-Type", "application/json", "Cookie", cookie}, tt.hdr(xsrf)...)...)
			require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
			assert.Equal(t, map[string]any{"error": "xsrf_failed"}, jsonBody(t, rec))
			assert.Empty(t, rec.Result().Cookies(), "no cookie touched")
			c := b.s.Counters()
			assert.Equal(t, int64(1), c.XSRFFailures)
			assert.Equal(t, int64(1), c.RefreshFailures)
			assert.Equal(t, int64(1), c.RefreshRequests)
			assert.Zero(t, c.Refreshes)

			// Not consumed: the right request refreshes with the same
			// cookie, without any reuse.
			assert.Equal(t, http.StatusOK, me(t, b.s, access).Code, "the session lives")
			b.refresh()
			c = b.s.Counters()
			assert.Equal(t, int64(1), c.Refreshes)
			assert.Zero(t, c.ReuseDetections)
		})
	}
}

func TestCookieRefreshWithoutCookie(t *testing.T) {
	// As for a JSON or form request without a token: 400 invalid_request,
	// a refusal that ends the client's session.
	b := newBrowser(t, Config{}, false)
	a := b.post("/auth/refresh", `{}`, XSRFHeader, "x")
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.Equal(t, "invalid_request", a.body["error"])
	assert.Zero(t, b.s.Counters().XSRFFailures, "no cookie: nothing to protect")

	// An unknown cookie is an invalid grant.
	rec := do(t, b.s, http.MethodPost, "/auth/refresh", `{}`, "Content-Type", "application/json",
		"Cookie", RefreshCookie+"=nope; "+XSRFCookie+"=x", XSRFHeader, "x")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "invalid_grant", jsonBody(t, rec)["error"])
}

func TestCookieRefreshDebugHooks(t *testing.T) {
	b := newBrowser(t, Config{}, false)
	b.login()
	token := b.cookie("/auth", RefreshCookie)

	b.s.SetRefreshFailureOnce(http.StatusUnauthorized)
	a := b.post("/auth/refresh", `{}`, b.xsrf()...)
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.Equal(t, "invalid_grant", a.body["error"])
	assert.Equal(t, token, b.cookie("/auth", RefreshCookie), "an injected failure leaves the cookie")

	b.s.SetRefreshDelay(150 * time.Millisecond)
	start := time.Now()
	b.refresh()
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "the delay applies")
	c := b.s.Counters()
	assert.Equal(t, int64(2), c.RefreshRequests)
	assert.Equal(t, int64(1), c.RefreshFailures)
	assert.Equal(t, int64(1), c.CookieRefreshes)
	assert.Zero(t, c.ReuseDetections, "the injected failure did not use the token")
}

func TestCookieLogout(t *testing.T) {
	b := newBrowser(t, Config{}, false)
	access := b.login()
	token, xsrf := b.cookie("/auth", RefreshCookie), b.cookie("/", XSRFCookie)

	// No XSRF header needed to end one's own session.
	a := b.post("/auth/logout", "")
	require.Equal(t, http.StatusNoContent, a.status)
	assert.Empty(t, a.raw)
	for name, path := range map[string]string{RefreshCookie: "/auth", XSRFCookie: "/"} {
		c := a.set[name]
		if assert.NotNil(t, c, "%s is deleted", name) {
			assert.Equal(t, path, c.Path, "%s: deleted on its own path", name)
			assert.Equal(t, -1, c.MaxAge, "%s: Max-Age=0", name)
			assert.Empty(t, c.Value)
		}
	}
	assert.Contains(t, strings.Join(a.header.Values("Set-Cookie"), "\n"), "Max-Age=0")
	assert.Empty(t, b.cookie("/auth", RefreshCookie), "the jar dropped the refresh cookie")
	assert.Empty(t, b.cookie("/", XSRFCookie), "the jar dropped the XSRF cookie")

	c := b.s.Counters()
	assert.Equal(t, int64(1), c.Logouts)
	assert.Equal(t, http.StatusUnauthorized, me(t, b.s, access).Code, "the session is revoked")
	rec := do(t, b.s, http.MethodPost, "/auth/refresh", `{}`, "Content-Type", "application/json",
		"Cookie", RefreshCookie+"="+token+"; "+XSRFCookie+"="+xsrf, XSRFHeader, xsrf)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "the old cookie is refused")
	assert.Equal(t, "invalid_grant", jsonBody(t, rec)["error"])
	assert.Zero(t, b.s.Counters().ReuseDetections, "refused as revoked, not as reused")

	// A logout without cookies sets none.
	rec = do(t, b.s, http.MethodPost, "/auth/logout", "")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Empty(t, rec.Result().Cookies())
}

func TestCookieLogoutLeavesOtherSessions(t *testing.T) {
	b := newBrowser(t, Config{}, false)
	b.login()
	other, otherRefresh := login(t, b.s) // a JSON-mode session of the same server
	require.Equal(t, http.StatusNoContent, b.post("/auth/logout", "").status)
	assert.Equal(t, http.StatusOK, me(t, b.s, other).Code)
	assert.Equal(t, http.StatusOK, refreshJSON(t, b.s, otherRefresh).Code)
}

func TestJSONModeIgnoresCookies(t *testing.T) {
	// A JSON-mode client on an origin that also holds a refresh cookie: the
	// token in the body wins, the answer carries the rotated token and no
	// cookie is set or checked.
	b := newBrowser(t, Config{}, false)
	b.login()
	cookieToken := b.cookie("/auth", RefreshCookie)
	_, refresh := login(t, b.s)
	a := b.post("/auth/refresh", `{"refresh":"`+refresh+`"}`) // no XSRF header
	require.Equal(t, http.StatusOK, a.status, a.raw)
	assert.ElementsMatch(t, []string{"access", "refresh", "expires_in"}, keys(a.body))
	assert.Empty(t, a.set, "no Set-Cookie in JSON mode")
	assert.Equal(t, cookieToken, b.cookie("/auth", RefreshCookie), "the cookie is untouched")
	c := b.s.Counters()
	assert.Zero(t, c.CookieRefreshes)
	assert.Zero(t, c.XSRFFailures)
	b.refresh() // and the cookie session still works
}

func TestCookieCORS(t *testing.T) {
	s := New(Config{})
	const origin = "http://localhost:5173"
	rec := do(t, s, http.MethodOptions, "/auth/refresh", "",
		"Origin", origin, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type,x-xsrf-token")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	h := rec.Header()
	assert.Equal(t, origin, h.Get("Access-Control-Allow-Origin"), "credentialed CORS echoes the origin, never *")
	assert.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
	assert.Contains(t, strings.ToLower(h.Get("Access-Control-Allow-Headers")), "x-xsrf-token")

	rec = do(t, s, http.MethodPost, "/auth/login", `{"username":"demo","password":"demo123","mode":"cookie"}`,
		"Origin", origin, "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, origin, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
	assert.Len(t, rec.Result().Cookies(), 2)
}

func TestIssuedOnlyWhenRecording(t *testing.T) {
	s := New(Config{})
	login(t, s)
	assert.Nil(t, s.Issued())
	s = New(Config{RecordIssued: true})
	access, refresh := login(t, s)
	assert.Equal(t, []Issued{{Access: access, Refresh: refresh, Session: payload(t, access)["sid"].(string)}}, s.Issued())
}

func TestEchoReportsXSRFHeader(t *testing.T) {
	s := New(Config{})
	rec := do(t, s, http.MethodGet, "/public/echo", "", XSRFHeader, "abc")
	assert.Equal(t, map[string]any{"x-xsrf-token": "abc"}, jsonBody(t, rec)["headers"])
}

//go:build !js

package e2e

// Cookie mode against a second, independent server: go-oauth2/oauth2/v4 as
// oauth2_test.go sets it up (JWT access tokens, refresh-token rotation),
// behind a small adapter that delivers its refresh token as an HttpOnly
// cookie, the way Django, Rails or Laravel back ends put one in front of
// their token endpoint. go-oauth2 itself is unchanged: the adapter moves
// refresh_token between the JSON answer / form and the cookie.

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	// oauthRefreshCookie is the adapter's refresh cookie. Its path covers
	// the token endpoint and the adapter's logout endpoint.
	oauthRefreshCookie     = "oauth_refresh"
	oauthRefreshCookiePath = "/oauth"
	oauthXSRFCookie        = "XSRF-TOKEN"
	oauthXSRFHeader        = "X-XSRF-TOKEN"
)

// oauthCookieSite is the adapter in front of an oauthSite: the page, the
// token endpoint and the API on one origin of its own.
type oauthCookieSite struct {
	URL   string     // the adapter's origin, the one the page uses
	oauth *oauthSite // go-oauth2 behind it, with its counters and store
	back  *http.Client

	mu              sync.Mutex
	cookieRefreshes int // refresh grants made with the cookie, answered 200
	xsrfFailures    int // cookie refresh grants refused for the XSRF header
	logouts         int
}

func newOAuthCookieSite(t *testing.T) *oauthCookieSite {
	t.Helper()
	back := newOAuthSite(t)
	target, err := url.Parse(back.URL)
	require.NoError(t, err)
	cs := &oauthCookieSite{oauth: back, back: &http.Client{Timeout: 10 * time.Second}}
	mux := http.NewServeMux()
	mux.Handle("/", httputil.NewSingleHostReverseProxy(target)) // the page, /jsglue/, /api/me
	mux.HandleFunc("POST /oauth/token", cs.token)
	mux.HandleFunc("POST /oauth/logout", cs.logout)
	mux.HandleFunc("GET /blank.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, blankPage)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	clearOrigin(t, ts.URL)
	cs.URL = ts.URL
	return cs
}

// oauthError answers an OAuth 2 error (RFC 6749 §5.2).
func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// setOAuthCookies sets the refresh cookie (HttpOnly, SameSite=Strict, on the
// /oauth path) and the readable XSRF cookie.
func setOAuthCookies(w http.ResponseWriter, r *http.Request, refresh, xsrf string) {
	http.SetCookie(w, &http.Cookie{Name: oauthRefreshCookie, Value: refresh, Path: oauthRefreshCookiePath,
		MaxAge: 3600, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: oauthXSRFCookie, Value: xsrf, Path: "/",
		MaxAge: 3600, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// token is the adapter's token endpoint. A password grant goes to go-oauth2
// as it is; the refresh_token of a successful answer moves into the cookie.
// A refresh grant without refresh_token takes the cookie's, if the XSRF
// header repeats the XSRF cookie, and its answer's rotated refresh_token
// moves into the cookie again. Everything else passes through.
func (cs *oauthCookieSite) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	form := url.Values{}
	for k, v := range r.PostForm {
		form[k] = v
	}
	grant := form.Get("grant_type")
	byCookie := false
	xsrf := ""
	if grant == "refresh_token" && form.Get("refresh_token") == "" {
		c, err := r.Cookie(oauthRefreshCookie)
		if err != nil || c.Value == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request") // no refresh token anywhere
			return
		}
		xc, err := r.Cookie(oauthXSRFCookie)
		if err != nil || xc.Value == "" || subtle.ConstantTimeCompare([]byte(xc.Value), []byte(r.Header.Get(oauthXSRFHeader))) != 1 {
			cs.mu.Lock()
			cs.xsrfFailures++
			cs.mu.Unlock()
			oauthError(w, http.StatusForbidden, "xsrf_failed")
			return
		}
		form.Set("refresh_token", c.Value)
		byCookie, xsrf = true, xc.Value
	}

	resp, err := cs.back.PostForm(cs.oauth.URL+"/oauth/token", form)
	if err != nil {
		oauthError(w, http.StatusBadGateway, "server_error")
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		oauthError(w, http.StatusBadGateway, "server_error")
		return
	}
	if resp.StatusCode != http.StatusOK || (grant != "password" && !byCookie) {
		for _, h := range []string{"Content-Type", "Cache-Control", "Pragma", "WWW-Authenticate"} {
			if v := resp.Header.Get(h); v != "" {
				w.Header().Set(h, v)
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
		return
	}
	var answer map[string]any
	if err := json.Unmarshal(body, &answer); err != nil {
		oauthError(w, http.StatusBadGateway, "server_error")
		return
	}
	refresh, _ := answer["refresh_token"].(string)
	delete(answer, "refresh_token")
	if refresh == "" {
		oauthError(w, http.StatusBadGateway, "server_error")
		return
	}
	if !byCookie {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		xsrf = base64.RawURLEncoding.EncodeToString(b)
	} else {
		cs.mu.Lock()
		cs.cookieRefreshes++
		cs.mu.Unlock()
	}
	setOAuthCookies(w, r, refresh, xsrf)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(answer)
}

// logout revokes the cookie's refresh token and its access token in
// go-oauth2's store (which has no revocation endpoint of its own) and
// deletes both cookies.
func (cs *oauthCookieSite) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(oauthRefreshCookie); err == nil && c.Value != "" {
		ctx := context.WithoutCancel(r.Context())
		m := cs.oauth.manager
		if ti, err := m.LoadRefreshToken(ctx, c.Value); err == nil {
			_ = m.RemoveAccessToken(ctx, ti.GetAccess())
		}
		_ = m.RemoveRefreshToken(ctx, c.Value)
	}
	cs.mu.Lock()
	cs.logouts++
	cs.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: oauthRefreshCookie, Path: oauthRefreshCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: oauthXSRFCookie, Path: "/", MaxAge: -1,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// adapterCounters is what the adapter counted.
type adapterCounters struct{ CookieRefreshes, XSRFFailures, Logouts int }

func (cs *oauthCookieSite) counters() adapterCounters {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return adapterCounters{cs.cookieRefreshes, cs.xsrfFailures, cs.logouts}
}

// oauthCookieInstance is jwtfetch's config for the adapter. leeway is 0
// for go-oauth2's JWTs (exp but no iat), as in TestOAuth2Rotation.
const oauthCookieInstance = `{ baseURL: location.origin, auth: { mode: 'cookie',
	refreshURL: '/oauth/token', refreshStyle: 'oauth2', clientId: '` + oauthClientID + `',
	logoutURL: '/oauth/logout', leeway: 0, refreshTimeout: 3000 } }`

// oauthCookieLogin makes the password grant from the page and hands the
// access token to window.api; the answer must carry no refresh token.
func oauthCookieLogin(t *testing.T, tb *tab) {
	t.Helper()
	var got struct {
		Status int
		Keys   []string
		Authed bool
	}
	tb.eval(`(async () => {
		const r = await fetch('/oauth/token', { method: 'POST', body: new URLSearchParams({
			grant_type: 'password', username: '`+oauthUser+`', password: '`+oauthPassword+`', client_id: '`+oauthClientID+`' }) })
		const body = await r.json()
		api.auth.setTokens({ accessToken: body.access_token, expiresIn: body.expires_in })
		return { status: r.status, keys: Object.keys(body).sort(), authed: api.auth.isAuthenticated() }
	})()`, &got)
	require.Equal(t, 200, got.Status, "password grant")
	require.Equal(t, []string{"access_token", "expires_in", "token_type"}, got.Keys, "no refresh_token in the answer")
	require.True(t, got.Authed)
}

// requireOAuthCookie checks the browser's refresh cookie against the newest
// refresh token go-oauth2 issued.
func requireOAuthCookie(t *testing.T, tb *tab, cs *oauthCookieSite) {
	t.Helper()
	rc := tb.browserCookies(cs.URL + "/oauth/token")[oauthRefreshCookie]
	require.NotNil(t, rc, "the browser holds the refresh cookie")
	assert.True(t, rc.HTTPOnly)
	assert.Equal(t, network.CookieSameSiteStrict, rc.SameSite)
	assert.Equal(t, oauthRefreshCookiePath, rc.Path)
	assert.Equal(t, cs.oauth.tokens.last().Refresh, rc.Value, "the cookie holds go-oauth2's newest refresh token")
}

// requireNoOAuthSecret scans the tab's storage for every token go-oauth2
// issued.
func requireNoOAuthSecret(t *testing.T, tb *tab, cs *oauthCookieSite, when string) {
	t.Helper()
	places := tb.scanStorage()
	for i, p := range cs.oauth.tokens.all() {
		for _, place := range places {
			if strings.Contains(place, p.Access) || strings.Contains(place, p.Refresh) {
				t.Errorf("%s: a token of pair #%d is readable by scripts in %.40s…", when, i, place)
			}
		}
	}
	assert.Contains(t, places[len(places)-1], oauthXSRFCookie+"=", "%s: the scan sees document.cookie", when)
}

// earlyInSecond waits for the next whole second when the current one is
// more than 300 ms old: go-oauth2's exp is whole seconds, rounded down, so a
// token issued late in a second looks shorter-lived (see TestOAuth2Rotation).
func earlyInSecond() {
	if now := time.Now(); now.Sub(now.Truncate(time.Second)) > 300*time.Millisecond {
		nextSecond(now)
	}
}

// TestOAuth2CookieFlow runs cookie mode's main flow against go-oauth2 behind
// the cookie adapter: login; 30 requests after the access token expired make
// one refresh grant (by cookie) and all succeed; two tabs × 10 requests
// after each expiry make one refresh grant per round, with no reused
// refresh token; a logout in one tab logs both out and revokes the refresh
// token in go-oauth2's store.
func TestOAuth2CookieFlow(t *testing.T) {
	start := time.Now()
	cs := newOAuthCookieSite(t)
	a := openCookieTab(t, cs.URL, oauthCookieInstance)
	b := openCookieTab(t, cs.URL, oauthCookieInstance)
	oauthCookieLogin(t, a)
	b.waitTrue(`api.auth.isAuthenticated()`, "tab B sees the login")
	requireOAuthCookie(t, a, cs)
	requireNoOAuthSecret(t, a, cs, "after login")

	// One tab, 30 requests after expiry.
	cs.oauth.waitExpired()
	earlyInSecond()
	var statuses []string
	a.eval(`Promise.all(Array.from({ length: 30 }, () => api.get('/api/me').then(r => r.status + ':' + r.data.user, e => e.code)))`, &statuses)
	all200(t, statuses, 30, "30 requests after expiry")
	c := cs.oauth.counters()
	assert.Equal(t, 1, c.Refreshes, "one refresh grant")
	assert.Equal(t, 1, cs.counters().CookieRefreshes, "made with the cookie")
	assert.Zero(t, c.Reused)
	assert.Zero(t, c.FailedRefresh)
	assert.Zero(t, c.NoClientID, "client_id sent")
	assert.Zero(t, c.Unauthorized, "leeway 0: refreshed by exp before sending")
	requireOAuthCookie(t, a, cs)
	var access string
	a.eval(`api.auth.accessToken()`, &access)
	assert.Equal(t, cs.oauth.tokens.last().Access, access)

	// Two tabs, rounds after each expiry.
	const rounds, perTab = 3, 10
	for round := 1; round <= rounds; round++ {
		before := cs.oauth.counters().Refreshes
		cs.oauth.waitExpired()
		earlyInSecond()
		got := cookieBurst([]*tab{a, b}, perTab)
		for i, g := range got {
			require.Equal(t, repeat("200", perTab), g, "round %d, tab %d\n%s", round, i, cs.oauth.traced())
		}
		c := cs.oauth.counters()
		assert.Equal(t, 1, c.Refreshes-before, "round %d: one refresh grant for both tabs", round)
		require.Zero(t, c.Reused, "round %d: reused refresh tokens", round)
		require.Zero(t, c.FailedRefresh, "round %d: failed refresh grants", round)
		newest := cs.oauth.tokens.last().Access
		for i, tb := range []*tab{a, b} {
			tb.waitTrue(fmt.Sprintf(`api.auth.accessToken() === %q`, newest), fmt.Sprintf("round %d: tab %d holds the newest access token", round, i))
		}
	}
	requireOAuthCookie(t, a, cs)
	requireNoOAuthSecret(t, a, cs, "after the rounds")
	requireNoOAuthSecret(t, b, cs, "tab B after the rounds")
	c = cs.oauth.counters()
	t.Logf("go-oauth2 behind the cookie adapter: 1 + %d rounds of 2 tabs × %d requests: %d refresh grants (%d by cookie), %d reused, %d failed, %d × 401, %d API calls, in %v",
		rounds, perTab, c.Refreshes, cs.counters().CookieRefreshes, c.Reused, c.FailedRefresh, c.Unauthorized, c.APICalls, time.Since(start).Round(time.Millisecond))
	assert.Equal(t, 1+rounds, c.Refreshes)
	assert.Equal(t, 1+rounds, cs.counters().CookieRefreshes)
	assert.Zero(t, c.NotLatest, "every refresh grant presented the newest refresh token")
	assert.Zero(t, cs.counters().XSRFFailures)

	// Logout in tab A: both tabs out, the refresh token revoked.
	last := cs.oauth.tokens.last()
	a.eval(`(api.auth.clear(), true)`, nil)
	b.waitTrue(`!api.auth.isAuthenticated() && events.includes('tokens false true')`, "the logout reaches tab B")
	deadline := time.Now().Add(5 * time.Second)
	for cs.counters().Logouts == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, 1, cs.counters().Logouts, "the adapter saw the logout")
	_, err := cs.oauth.manager.LoadRefreshToken(context.Background(), last.Refresh)
	assert.Error(t, err, "the refresh token is revoked in go-oauth2's store")
	assert.Empty(t, a.browserCookies(cs.URL+"/oauth/token"), "the cookies are deleted")
	var code string
	b.eval(`api.get('/api/me').then(() => 'ok', e => e.code + ' ' + e.response?.status)`, &code)
	assert.Equal(t, "ERR_BAD_REQUEST 401", code, "B's next request is unauthenticated")
	assert.Equal(t, 1+rounds, cs.oauth.counters().Refreshes, "no refresh after the logout")
	for _, tb := range []*tab{a, b} {
		requireNoExceptions(t, tb)
	}
}

// TestOAuth2CookieAdapter checks the adapter itself with a Go client and a
// cookie jar: the refresh token only ever travels in the cookie, a refresh
// without the XSRF header is refused and leaves the cookie valid, and a
// replayed cookie is refused by go-oauth2's rotation.
func TestOAuth2CookieAdapter(t *testing.T) {
	cs := newOAuthCookieSite(t)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	tokenURL, _ := url.Parse(cs.URL + "/oauth/token")
	cookie := func(name string) string {
		for _, c := range jar.Cookies(tokenURL) {
			if c.Name == name {
				return c.Value
			}
		}
		return ""
	}
	post := func(form url.Values, hdr ...string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, tokenURL.String(), strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return resp.StatusCode, m
	}
	status, m := post(url.Values{"grant_type": {"password"}, "username": {oauthUser}, "password": {oauthPassword}, "client_id": {oauthClientID}})
	require.Equal(t, 200, status, m)
	assert.NotContains(t, m, "refresh_token")
	first := cookie(oauthRefreshCookie)
	require.Equal(t, cs.oauth.tokens.last().Refresh, first)

	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {oauthClientID}}
	status, m = post(refresh) // no XSRF header
	assert.Equal(t, 403, status)
	assert.Equal(t, "xsrf_failed", m["error"])
	assert.Equal(t, 1, cs.counters().XSRFFailures)
	assert.Zero(t, cs.oauth.counters().Refreshes+cs.oauth.counters().FailedRefresh, "go-oauth2 never saw it")

	nextSecond(time.Now()) // a different JWT than the login's
	status, m = post(refresh, oauthXSRFHeader, cookie(oauthXSRFCookie))
	require.Equal(t, 200, status, m)
	assert.NotContains(t, m, "refresh_token")
	assert.NotEqual(t, first, cookie(oauthRefreshCookie), "rotated into the cookie")
	assert.Equal(t, cs.oauth.tokens.last().Refresh, cookie(oauthRefreshCookie))

	// The old cookie, replayed with a valid XSRF pair: refused.
	req, err := http.NewRequest(http.MethodPost, tokenURL.String(), strings.NewReader(refresh.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", oauthRefreshCookie+"="+first+"; "+oauthXSRFCookie+"=x")
	req.Header.Set(oauthXSRFHeader, "x")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "go-oauth2's invalid_grant for a used refresh token")
	c := cs.oauth.counters()
	assert.Equal(t, 1, c.Refreshes)
	assert.Equal(t, 1, c.Reused)
}

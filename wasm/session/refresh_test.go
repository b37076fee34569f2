package session

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Distinctive token values, so a leak into an error message is obvious.
const (
	secretAccess  = "ACCESS-s3cr3t-7f3a9c"
	secretRefresh = "REFRESH-s3cr3t-b81d2e"
)

func TestReadRefreshResponse(t *testing.T) {
	now := int64(1_800_000_000_000) // Unix ms
	jwtAccess := mintJWT(t, gojwt.MapClaims{"iat": now/1000 - 3600, "exp": now/1000 - 3600 + 900})
	tests := []struct {
		name         string
		body         string
		wantAccess   string
		wantRefresh  string
		wantExpiry   int64 // Unix ms, 0: unknown
		wantLifetime int64 // ms
	}{
		{"access", `{"access":"A","refresh":"R"}`, "A", "R", 0, 0},
		{"access_token", `{"access_token":"A","refresh_token":"R"}`, "A", "R", 0, 0},
		{"accessToken", `{"accessToken":"A","refreshToken":"R"}`, "A", "R", 0, 0},
		{"token", `{"token":"A"}`, "A", "", 0, 0},
		{"token with refresh", `{"token":"A","refresh":"R"}`, "A", "R", 0, 0},
		{"mixed styles", `{"access_token":"A","refreshToken":"R"}`, "A", "R", 0, 0},
		{"access beats access_token", `{"access_token":"2","access":"1","accessToken":"3","token":"4"}`, "1", "", 0, 0},
		{"access_token beats accessToken", `{"token":"4","accessToken":"3","access_token":"2"}`, "2", "", 0, 0},
		{"accessToken beats token", `{"token":"4","accessToken":"3"}`, "3", "", 0, 0},
		{"refresh beats refresh_token", `{"access":"A","refreshToken":"3","refresh_token":"2","refresh":"1"}`, "A", "1", 0, 0},
		{"refresh_token beats refreshToken", `{"access":"A","refreshToken":"3","refresh_token":"2"}`, "A", "2", 0, 0},
		{"empty access falls through", `{"access":"","access_token":"A"}`, "A", "", 0, 0},
		{"non-string access falls through", `{"access":1,"accessToken":null,"token":"A"}`, "A", "", 0, 0},
		{"empty refresh falls through", `{"access":"A","refresh":"","refresh_token":"R"}`, "A", "R", 0, 0},
		{"non-string refresh is missing", `{"access":"A","refresh":{"token":"R"}}`, "A", "", 0, 0},
		{"missing refresh keeps none here", `{"access_token":"A","token_type":"Bearer"}`, "A", "", 0, 0},
		{"oauth2 with expires_in", `{"access_token":"A","token_type":"Bearer","expires_in":3600,"refresh_token":"R","scope":"openid"}`,
			"A", "R", now + msHour, msHour},
		{"expires_in fractional", `{"access":"A","expires_in":1.5}`, "A", "", now + 1500, 1500},
		{"expires_in string", `{"access":"A","expires_in":"3600"}`, "A", "", now + msHour, msHour},
		{"expires_in string with fraction ignored", `{"access":"A","expires_in":"3600.5"}`, "A", "", 0, 0},
		{"expires_in string with sign ignored", `{"access":"A","expires_in":"+60"}`, "A", "", 0, 0},
		{"expires_in string with space ignored", `{"access":"A","expires_in":" 60"}`, "A", "", 0, 0},
		{"expires_in empty string ignored", `{"access":"A","expires_in":""}`, "A", "", 0, 0},
		{"expires_in string too long ignored", `{"access":"A","expires_in":"12345678901"}`, "A", "", 0, 0},
		{"expires_in longest string is capped", `{"access":"A","expires_in":"9999999999"}`, "A", "", now + maxLifetime, maxLifetime},
		{"expires_in huge number is capped", `{"access":"A","expires_in":1e12}`, "A", "", now + maxLifetime, maxLifetime},
		{"expires_in beyond 1e15 is unknown", `{"access":"A","expires_in":1e300}`, "A", "", 0, 0},
		{"expires_in zero", `{"access":"A","expires_in":0}`, "A", "", 0, 0},
		{"expires_in negative", `{"access":"A","expires_in":-5}`, "A", "", 0, 0},
		{"expires_in null", `{"access":"A","expires_in":null}`, "A", "", 0, 0},
		{"expires_in bool", `{"access":"A","expires_in":true}`, "A", "", 0, 0},
		{"expiresIn is not read", `{"access":"A","expiresIn":60}`, "A", "", 0, 0},
		{"jwt exp beats expires_in", `{"access":"` + jwtAccess + `","expires_in":60}`, jwtAccess, "", now + 15*msMinute, 15 * msMinute},
		{"nested tokens are not read", `{"data":{"access":"X"},"access":"A"}`, "A", "", 0, 0},
		{"escaped token", `{"access":"a\/b\u002bc"}`, "a/b+c", "", 0, 0},
		{"whitespace", " \n{ \"access\" : \"A\" }\n", "A", "", 0, 0},
		{"later duplicate wins", `{"access":"old","access":"new"}`, "new", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, status := range []int{200, 201, 299} {
				got, err := ReadRefreshResponse(status, tt.body, now)
				require.NoError(t, err, "ReadRefreshResponse(%d, %q)", status, tt.body)
				assert.Equal(t, tt.wantAccess, got.Access)
				assert.Equal(t, tt.wantRefresh, got.Refresh)
				assert.Equal(t, tt.wantExpiry, got.Expiry, "Expiry")
				assert.Equal(t, tt.wantLifetime, got.Lifetime)
			}
		})
	}
}

func TestReadRefreshResponseErrors(t *testing.T) {
	tokenBody := `{"access_token":"` + secretAccess + `","refresh_token":"` + secretRefresh + `"}`
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   string
		wantStatus int
		wantMsg    string
	}{
		{"400", 400, `{"error":"invalid_grant","refresh_token":"` + secretRefresh + `"}`, CodeAuthExpired, 400, "jwtfetch: refresh refused: the refresh endpoint answered 400; the session is over"},
		{"401", 401, tokenBody, CodeAuthExpired, 401, "jwtfetch: refresh refused: the refresh endpoint answered 401; the session is over"},
		{"403", 403, tokenBody, CodeAuthExpired, 403, "jwtfetch: refresh refused: the refresh endpoint answered 403; the session is over"},
		{"404 is a wrong URL, not a refusal", 404, "not found", CodeBadResponse, 404, "jwtfetch: refresh failed: the refresh endpoint answered 404; check refreshURL (the session is kept)"},
		{"405 is a wrong URL, not a refusal", 405, "", CodeBadResponse, 405, "jwtfetch: refresh failed: the refresh endpoint answered 405; check refreshURL (the session is kept)"},
		{"409", 409, "", CodeBadResponse, 409, "jwtfetch: refresh failed: the refresh endpoint answered 409; check refreshURL (the session is kept)"},
		{"499", 499, "", CodeBadResponse, 499, "jwtfetch: refresh failed: the refresh endpoint answered 499; check refreshURL (the session is kept)"},
		{"408 is not a refusal", 408, tokenBody, CodeBadResponse, 408, "jwtfetch: refresh failed: the refresh endpoint answered 408; the session is kept"},
		{"429 is not a refusal", 429, tokenBody, CodeBadResponse, 429, "jwtfetch: refresh failed: the refresh endpoint answered 429; the session is kept"},
		{"500", 500, "<html>" + secretAccess + "</html>", CodeBadResponse, 500, "jwtfetch: refresh failed: the refresh endpoint answered 500; the session is kept"},
		{"502", 502, tokenBody, CodeBadResponse, 502, "jwtfetch: refresh failed: the refresh endpoint answered 502; the session is kept"},
		{"503", 503, "", CodeBadResponse, 503, "jwtfetch: refresh failed: the refresh endpoint answered 503; the session is kept"},
		{"599", 599, "", CodeBadResponse, 599, "jwtfetch: refresh failed: the refresh endpoint answered 599; the session is kept"},
		{"600", 600, tokenBody, CodeBadResponse, 600, "jwtfetch: refresh failed: the refresh endpoint answered 600; the session is kept"},
		{"zero status (opaque response)", 0, tokenBody, CodeBadResponse, 0, "jwtfetch: refresh failed: the refresh endpoint answered 0; check refreshURL (the session is kept)"},
		{"negative status", -1, tokenBody, CodeBadResponse, -1, "jwtfetch: refresh failed: the refresh endpoint answered -1; check refreshURL (the session is kept)"},
		{"1xx", 101, tokenBody, CodeBadResponse, 101, "jwtfetch: refresh failed: the refresh endpoint answered 101; check refreshURL (the session is kept)"},
		{"3xx redirect", 302, tokenBody, CodeBadResponse, 302, "jwtfetch: refresh failed: the refresh endpoint answered 302; check refreshURL (the session is kept)"},
		{"304", 304, tokenBody, CodeBadResponse, 304, "jwtfetch: refresh failed: the refresh endpoint answered 304; check refreshURL (the session is kept)"},
		{"empty body", 200, "", CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 with a body that is not a JSON object"},
		{"non-JSON body", 200, "access_token=" + secretAccess + "&refresh_token=" + secretRefresh, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 with a body that is not a JSON object"},
		{"HTML body", 200, "<!doctype html><p>" + secretAccess, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 with a body that is not a JSON object"},
		{"JSON string", 200, `"` + secretAccess + `"`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 with a body that is not a JSON object"},
		{"JSON array", 200, `[` + tokenBody + `]`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 with a body that is not a JSON object"},
		{"JSON null", 200, `null`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 with a body that is not a JSON object"},
		{"truncated JSON", 200, tokenBody[:len(tokenBody)-2], CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 with a body that is not a JSON object"},
		{"JSON with trailing garbage", 200, tokenBody + "x", CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 with a body that is not a JSON object"},
		{"empty object", 200, `{}`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 without an access token"},
		{"refresh token only", 200, `{"refresh_token":"` + secretRefresh + `"}`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 without an access token"},
		{"empty access token", 200, `{"access_token":"","refresh_token":"` + secretRefresh + `"}`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 without an access token"},
		{"numeric access token", 200, `{"access_token":12345}`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 without an access token"},
		{"nested access token", 200, `{"data":{"access_token":"` + secretAccess + `"}}`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 without an access token"},
		{"wrong field name", 200, `{"id_token":"` + secretAccess + `","refresh_token":"` + secretRefresh + `"}`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 without an access token"},
		{"oauth2 error with 200", 200, `{"error":"invalid_grant","error_description":"` + secretRefresh + ` was revoked"}`, CodeBadResponse, 200, "jwtfetch: refresh failed: the refresh endpoint answered 200 without an access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadRefreshResponse(tt.status, tt.body, 1_800_000_000_000)
			require.Error(t, err)
			assert.Equal(t, Tokens{}, got)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.wantCode, e.Code, "ReadRefreshResponse(%d, %q) code", tt.status, tt.body)
			assert.Equal(t, tt.wantCode, CodeOf(err))
			assert.Equal(t, tt.wantStatus, e.Status)
			assert.Equal(t, tt.wantMsg, err.Error())
			assert.Equal(t, tt.wantCode == CodeAuthExpired, refused(err))
			assertNoLeak(t, err, tt.body)
		})
	}
}

// assertNoLeak checks that err's message holds neither the body nor a
// token.
func assertNoLeak(t *testing.T, err error, body string) {
	t.Helper()
	msg := err.Error()
	for _, secret := range []string{secretAccess, secretRefresh, "s3cr3t"} {
		assert.NotContains(t, msg, secret, "error %q leaks a token", msg)
	}
	if len(body) > 8 {
		assert.NotContains(t, msg, body, "error %q holds the body", msg)
	}
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		assert.NotContains(t, e.Error(), secretRefresh, "wrapped error %q leaks a token", e.Error())
	}
}

// postCall is one request the fake Poster received.
type postCall struct {
	url, contentType, body string
}

// recordingPoster records requests and answers with a fixed response or error.
type recordingPoster struct {
	mu     sync.Mutex
	posts  []postCall
	status int
	body   string
	date   int64
	redir  bool
	err    error
	// wait, when set, blocks Post until ctx is done and returns ctx.Err().
	wait bool
}

func (p *recordingPoster) Post(ctx Ctx, url, contentType, body, _ string) (Reply, error) {
	p.mu.Lock()
	p.posts = append(p.posts, postCall{url, contentType, body})
	p.mu.Unlock()
	if p.wait {
		<-ctx.Done()
		return Reply{}, ctx.Err()
	}
	if p.err != nil {
		return Reply{}, p.err
	}
	return Reply{Status: p.status, Body: p.body, Date: p.date, Redirected: p.redir}, nil
}

func (p *recordingPoster) calls() []postCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]postCall(nil), p.posts...)
}

func TestHTTPRefresherRequestBody(t *testing.T) {
	const endpoint = "https://auth.example/token"
	tests := []struct {
		name     string
		style    string
		clientID string
		refresh  string
		wantType string
		wantBody string
	}{
		{"json default style", "", "", "r-1", "application/json", `{"refresh":"r-1"}`},
		{"json explicit", StyleJSON, "ignored", "r-1", "application/json", `{"refresh":"r-1"}`},
		{"unknown style is json", "form", "", "r-1", "application/json", `{"refresh":"r-1"}`},
		{"json escaping", StyleJSON, "", "a\"b\\c\n</script>", "application/json", `{"refresh":"a\"b\\c\n</script>"}`},
		{"json unicode", StyleJSON, "", "é😀", "application/json", `{"refresh":"é😀"}`},
		{"json empty token", StyleJSON, "", "", "application/json", `{"refresh":""}`},
		{"oauth2", StyleOAuth2, "", "r-1", "application/x-www-form-urlencoded",
			"grant_type=refresh_token&refresh_token=r-1"},
		{"oauth2 with client_id", StyleOAuth2, "my app", "r-1", "application/x-www-form-urlencoded",
			"grant_type=refresh_token&refresh_token=r-1&client_id=my+app"},
		{"oauth2 escaping", StyleOAuth2, "c&id=x", "a+b/c=d&e f%~*._-", "application/x-www-form-urlencoded",
			"grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3Dd%26e+f%25%7E*._-&client_id=c%26id%3Dx"},
		{"oauth2 unicode", StyleOAuth2, "", "é😀", "application/x-www-form-urlencoded",
			"grant_type=refresh_token&refresh_token=%C3%A9%F0%9F%98%80"},
		{"oauth2 jwt refresh token", StyleOAuth2, "", "eyJh.eyJ_-.sig", "application/x-www-form-urlencoded",
			"grant_type=refresh_token&refresh_token=eyJh.eyJ_-.sig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &recordingPoster{status: 200, body: `{"access":"A"}`}
			h := &HTTPRefresher{Poster: p, URL: endpoint, Style: tt.style, ClientID: tt.clientID}
			_, err := h.Refresh(context.Background(), tt.refresh)
			require.NoError(t, err)
			require.Len(t, p.calls(), 1)
			got := p.calls()[0]
			assert.Equal(t, endpoint, got.url)
			assert.Equal(t, tt.wantType, got.contentType)
			assert.Equal(t, tt.wantBody, got.body)

			// The body reads back to the same values with a standard parser.
			if tt.wantType == "application/x-www-form-urlencoded" {
				q, err := url.ParseQuery(got.body)
				require.NoError(t, err)
				want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tt.refresh}}
				if tt.clientID != "" {
					want["client_id"] = []string{tt.clientID}
				}
				assert.Equal(t, want, q)
			} else {
				m, err := parseObject(got.body)
				require.NoError(t, err)
				assert.Equal(t, map[string]jsonValue{"refresh": jsStr(tt.refresh)}, m)
			}
		})
	}
}

// TestHTTPRefresherCookieMode: the refresh token is a cookie the browser
// sends, so no body carries one, and one in the answer is not kept.
func TestHTTPRefresherCookieMode(t *testing.T) {
	tests := []struct {
		name, style, clientID, wantType, wantBody string
	}{
		{"json", StyleJSON, "", "application/json", `{}`},
		{"oauth2", StyleOAuth2, "", "application/x-www-form-urlencoded", "grant_type=refresh_token"},
		{"oauth2 with client_id", StyleOAuth2, "spa", "application/x-www-form-urlencoded", "grant_type=refresh_token&client_id=spa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &recordingPoster{status: 200, body: `{"access":"A","refresh":"` + secretRefresh + `","expires_in":60}`}
			h := &HTTPRefresher{Poster: p, URL: "/refresh", Style: tt.style, ClientID: tt.clientID, Cookie: true}
			g, err := h.Refresh(context.Background(), "placeholder")
			require.NoError(t, err)
			assert.Equal(t, Grant{Access: "A", ExpiresIn: 60}, g, "a refresh token in the answer is dropped")
			require.Len(t, p.calls(), 1)
			assert.Equal(t, tt.wantType, p.calls()[0].contentType)
			assert.Equal(t, tt.wantBody, p.calls()[0].body)
		})
	}
}

func TestFormEscape(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"abcXYZ019", "abcXYZ019"},
		{"-._*", "-._*"},
		{" ", "+"},
		{"+", "%2B"},
		{"~", "%7E"},
		{"!'()", "%21%27%28%29"},
		{"a b&c=d", "a+b%26c%3Dd"},
		{"/?#[]@", "%2F%3F%23%5B%5D%40"},
		{"%", "%25"},
		{"\x00\n\x7f\xff", "%00%0A%7F%FF"},
		{"é", "%C3%A9"},
	}
	for _, tt := range tests {
		if got := formEscape(tt.in); got != tt.want {
			t.Errorf("formEscape(%q) = %q; want %q", tt.in, got, tt.want)
		}
		back, err := url.QueryUnescape(formEscape(tt.in))
		if assert.NoError(t, err) {
			assert.Equal(t, tt.in, back, "QueryUnescape(formEscape(%q))", tt.in)
		}
	}
}

func TestHTTPRefresherResponse(t *testing.T) {
	now := int64(1_800_000_000_000) // Unix ms
	p := &recordingPoster{status: 200, body: `{"access_token":"opaque","refresh_token":"r-2","expires_in":"120"}`}
	h := &HTTPRefresher{Poster: p, URL: "/refresh", Style: StyleOAuth2}
	got, err := h.Refresh(context.Background(), "r-1")
	require.NoError(t, err)
	assert.Equal(t, Grant{Access: "opaque", Refresh: "r-2", ExpiresIn: 120}, got)
	tok := NewTokens(got.Access, got.Refresh, got.ExpiresIn, now)
	assert.Equal(t, Tokens{Access: "opaque", Refresh: "r-2", Expiry: now + 2*msMinute, Lifetime: 2 * msMinute}, tok)

	// A refusal goes through StatusError.
	p.status, p.body = 401, `{"error":"invalid_grant"}`
	_, err = h.Refresh(context.Background(), secretRefresh)
	assert.Equal(t, CodeAuthExpired, CodeOf(err))
	assertNoLeak(t, err, p.body)
}

func TestHTTPRefresherFailures(t *testing.T) {
	netErr := errors.New("TypeError: Failed to fetch")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	tests := []struct {
		name     string
		ctx      context.Context
		poster   *recordingPoster
		wantCode string
		wantMsg  string
		wantIs   error
	}{
		{"network error", context.Background(), &recordingPoster{err: netErr}, CodeNetwork, "jwtfetch: refresh failed: network error", netErr},
		{"poster's own deadline is a network error", context.Background(), &recordingPoster{err: context.DeadlineExceeded}, CodeNetwork, "jwtfetch: refresh failed: network error", context.DeadlineExceeded},
		{"canceled", canceled, &recordingPoster{err: context.Canceled}, CodeCanceled, "jwtfetch: refresh canceled", context.Canceled},
		{"canceled, poster reports a network error", canceled, &recordingPoster{err: netErr}, CodeCanceled, "jwtfetch: refresh canceled", context.Canceled},
		{"deadline passed", expired, &recordingPoster{err: context.DeadlineExceeded}, CodeTimeout, "jwtfetch: refresh timed out", context.DeadlineExceeded},
		{"deadline passed, poster reports abort", expired, &recordingPoster{err: errors.New("AbortError")}, CodeTimeout, "jwtfetch: refresh timed out", context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &HTTPRefresher{Poster: tt.poster, URL: "/refresh"}
			got, err := h.Refresh(tt.ctx, secretRefresh)
			require.Error(t, err)
			assert.Equal(t, Grant{}, got)
			assert.Equal(t, tt.wantCode, CodeOf(err))
			assert.Equal(t, tt.wantMsg, err.Error())
			assert.ErrorIs(t, err, tt.wantIs)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Zero(t, e.Status, "no response, no status")
			assertNoLeak(t, err, "")
		})
	}
}

// TestHTTPRefresherContextEndsWhileWaiting cancels or times out a refresh
// that is in flight.
func TestHTTPRefresherContextEndsWhileWaiting(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		p := &recordingPoster{wait: true}
		done := make(chan error, 1)
		go func() {
			_, err := (&HTTPRefresher{Poster: p, URL: "/r"}).Refresh(ctx, "r")
			done <- err
		}()
		require.Eventually(t, func() bool { return len(p.calls()) == 1 }, 5*time.Second, time.Millisecond)
		cancel()
		select {
		case err := <-done:
			assert.Equal(t, CodeCanceled, CodeOf(err))
			assert.ErrorIs(t, err, context.Canceled)
		case <-time.After(5 * time.Second):
			t.Fatal("Refresh did not return after cancel")
		}
	})
	t.Run("timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := (&HTTPRefresher{Poster: &recordingPoster{wait: true}, URL: "/r"}).Refresh(ctx, "r")
		assert.Equal(t, CodeTimeout, CodeOf(err))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestStatusError(t *testing.T) {
	for status := 100; status < 600; status++ {
		err := StatusError("POST https://api.test/refresh", status)
		want := CodeBadResponse
		if status == 400 || status == 401 || status == 403 {
			want = CodeAuthExpired
		}
		if got := CodeOf(err); got != want {
			t.Errorf("CodeOf(StatusError(%d)) = %q; want %q", status, got, want)
		}
		if !strings.Contains(err.Error(), "POST https://api.test/refresh answered "+strconv.Itoa(status)+";") {
			t.Errorf("StatusError(%d) = %q; want the request and the status", status, err.Error())
		}
		if Refusal(status) != (want == CodeAuthExpired) {
			t.Errorf("Refusal(%d) = %v", status, Refusal(status))
		}
	}
}

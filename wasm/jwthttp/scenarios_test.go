package jwthttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The session's scenarios (wasm/session's table, and the e2e tests of the
// JavaScript package) through http.Client.

// storm sends n GET requests to url at once and returns their statuses and
// errors.
func storm(client *http.Client, url string, n int) ([]int, []error) {
	statuses, errs := make([]int, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i], _, errs[i] = get(client, url) })
	}
	wg.Wait()
	return statuses, errs
}

func TestStormAfterRevocationRefreshesOnce(t *testing.T) {
	const n = 30
	e := newEnv(t)
	tr, cb := newTransport(t, e, Config{})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	for round := range 3 {
		before := e.counters(t, e.api)
		e.revoke(t, e.api) // every token in use fails at once
		statuses, errs := storm(client, e.api+"/api/me", n)
		for i := range n {
			require.NoError(t, errs[i], "round %d, request %d", round, i)
			assert.Equal(t, 200, statuses[i], "round %d, request %d", round, i)
		}
		after := e.counters(t, e.api)
		assert.EqualValues(t, 1, after.Refreshes-before.Refreshes, "refreshes in round %d", round)
		assert.EqualValues(t, 1, after.RefreshRequests-before.RefreshRequests, "refresh requests in round %d", round)
		assert.LessOrEqual(t, after.Unauthorized-before.Unauthorized, int64(n), "401s in round %d: at most one per request", round)
	}
	assert.Zero(t, e.counters(t, e.api).ReuseDetections)
	assert.Zero(t, cb.open(), "response bodies left open")
}

func TestRetriedAtMostOnce(t *testing.T) {
	e := newEnv(t)
	tr, cb := newTransport(t, e, Config{})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	before := e.counters(t, e.api)
	// /api/status/401 answers 401 to any token, the new one too.
	status, _, err := get(client, e.api+"/api/status/401")
	require.NoError(t, err)
	assert.Equal(t, 401, status, "the retry's 401 is returned as it is")
	after := e.counters(t, e.api)
	assert.EqualValues(t, 2, after.APICalls-before.APICalls, "sent twice: the request and its one retry")
	assert.EqualValues(t, 1, after.Refreshes-before.Refreshes)
	sent := cb.requests()
	require.Len(t, sent, 3, "request, refresh, retry: %v", sent)
	assert.NotEqual(t, sent[0].Authorization, sent[2].Authorization, "the retry carries the new token")
	assert.Equal(t, "Bearer "+tr.AccessToken(), sent[2].Authorization)
	assert.Zero(t, cb.open())
}

func TestRefusedRefreshEndsTheSession(t *testing.T) {
	const n = 10
	e := newEnv(t)
	var expired, expiredEvents atomic.Int32
	tr, cb := newTransport(t, e, Config{OnExpired: func() { expired.Add(1) }})
	tr.On(EventExpired, func(ev Event) {
		expiredEvents.Add(1)
		assert.False(t, ev.Authenticated, "the tokens are cleared before the event")
	})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	e.refreshFailure(t, 401)
	e.revoke(t, e.api)
	statuses, errs := storm(client, e.api+"/api/me", n)
	expiredErrs := 0
	for i, err := range errs {
		if err == nil {
			// Sent after the session had ended: without a token, and
			// its 401 returned as it is.
			assert.Equal(t, 401, statuses[i], "request %d", i)
			continue
		}
		expiredErrs++
		assert.Equal(t, CodeAuthExpired, CodeOf(err), "request %d: %v", i, err)
		var je *Error
		assert.ErrorAs(t, err, &je, "request %d", i)
	}
	assert.Positive(t, expiredErrs)
	assert.EqualValues(t, 1, e.counters(t, e.api).RefreshRequests, "one refresh for all")
	assert.EqualValues(t, 1, expired.Load(), "OnExpired once")
	assert.EqualValues(t, 1, expiredEvents.Load(), "one expired event")
	assert.False(t, tr.IsAuthenticated())
	assert.Empty(t, tr.AccessToken())

	// Without a session, requests go without a token and their 401 is
	// returned as it is: there is nothing to refresh.
	status, _, err := get(client, e.api+"/api/me")
	require.NoError(t, err)
	assert.Equal(t, 401, status)
	assert.EqualValues(t, 1, e.counters(t, e.api).RefreshRequests)
	assert.EqualValues(t, 1, expired.Load())
	assert.Zero(t, cb.open())
}

func TestFailedRefreshKeepsTheSession(t *testing.T) {
	e := newEnv(t)
	tr, _ := newTransport(t, e, Config{})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	e.refreshFailure(t, 503)
	e.revoke(t, e.api)
	_, _, err := get(client, e.api+"/api/me")
	assert.Equal(t, CodeBadResponse, CodeOf(err), "%v", err)
	assert.True(t, tr.IsAuthenticated(), "a 503 is not a refusal")

	e.refreshFailure(t, 0)
	status, _, err := get(client, e.api+"/api/me")
	require.NoError(t, err)
	assert.Equal(t, 200, status, "the next request refreshes again")
}

func TestRefreshTimeout(t *testing.T) {
	const n = 5
	e := newEnv(t)
	tr, _ := newTransport(t, e, Config{RefreshTimeout: 300 * time.Millisecond})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	e.refreshDelay(t, 3*time.Second)
	e.revoke(t, e.api)
	start := time.Now()
	_, errs := storm(client, e.api+"/api/me", n)
	took := time.Since(start)
	for i, err := range errs {
		assert.Equal(t, CodeTimeout, CodeOf(err), "request %d: %v", i, err)
	}
	assert.Less(t, took, 2*time.Second, "every waiter is released after RefreshTimeout")
	assert.True(t, tr.IsAuthenticated(), "a timeout keeps the session")

	e.refreshDelay(t, 0)
	status, _, err := get(client, e.api+"/api/me")
	require.NoError(t, err)
	assert.Equal(t, 200, status, "nothing stuck: the next request refreshes")
}

func TestContextEndsTheWaitForARefresh(t *testing.T) {
	e := newEnv(t)
	tr, _ := newTransport(t, e, Config{})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	e.refreshDelay(t, time.Second)
	e.revoke(t, e.api)

	// A patient request starts the refresh; an impatient one joins it and
	// leaves when its deadline passes, without disturbing the refresh.
	patient := make(chan int, 1)
	go func() {
		status, _, _ := get(client, e.api+"/api/me")
		patient <- status
	}()
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", e.api+"/api/me", nil)
	require.NoError(t, err)
	start := time.Now()
	resp, err := client.Do(req)
	if resp != nil {
		resp.Body.Close()
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 600*time.Millisecond, "left when its context ended")

	canceled, cancel2 := context.WithCancel(context.Background())
	req, err = http.NewRequestWithContext(canceled, "GET", e.api+"/api/me", nil)
	require.NoError(t, err)
	go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
	resp, err = client.Do(req)
	if resp != nil {
		resp.Body.Close()
	}
	assert.ErrorIs(t, err, context.Canceled)

	select {
	case status := <-patient:
		assert.Equal(t, 200, status)
	case <-time.After(5 * time.Second):
		t.Fatal("the patient request never finished")
	}
	assert.EqualValues(t, 1, e.counters(t, e.api).Refreshes)
}

// echoed is the API's /api/echo answer.
type echoed struct {
	Method     string
	Headers    map[string]string
	BodySha256 string
	BodyLen    int
}

func TestBodyIsReplayedThroughGetBody(t *testing.T) {
	e := newEnv(t)
	tr, cb := newTransport(t, e, Config{})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	body := bytes.Repeat([]byte("jwthttp \x00\xff body "), 10_000)
	sum := sha256.Sum256(body)
	e.revoke(t, e.api)

	req, err := http.NewRequest("PUT", e.api+"/api/echo", bytes.NewReader(body))
	require.NoError(t, err)
	require.NotNil(t, req.GetBody)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Test", "kept")
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var got echoed
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, "PUT", got.Method)
	assert.Equal(t, hex.EncodeToString(sum[:]), got.BodySha256, "the retry sends the same bytes")
	assert.Equal(t, len(body), got.BodyLen)
	assert.Equal(t, "kept", got.Headers["x-test"])
	assert.Equal(t, "application/octet-stream", got.Headers["content-type"])
	assert.EqualValues(t, 1, e.counters(t, e.api).Unauthorized, "one 401, then the retry")
	resp.Body.Close()
	assert.Zero(t, cb.open())
}

func TestBodyWithoutGetBodyIsSentOnce(t *testing.T) {
	e := newEnv(t)
	tr, cb := newTransport(t, e, Config{})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	e.revoke(t, e.api)

	body := newRequestBody([]byte(`{"once":true}`))
	req, err := http.NewRequest("POST", e.api+"/api/echo", body)
	require.NoError(t, err)
	require.Nil(t, req.GetBody, "a body type http.NewRequest cannot copy")
	resp, err := client.Do(req)
	require.NoError(t, err)
	assert.Equal(t, 401, resp.StatusCode, "returned as it is")
	resp.Body.Close()
	assert.Positive(t, body.closes.Load(), "request body closed")
	c := e.counters(t, e.api)
	assert.EqualValues(t, 1, c.Unauthorized)
	assert.Zero(t, c.RefreshRequests, "no retry, so no refresh")
	assert.Len(t, cb.requests(), 1)
	assert.Zero(t, cb.open())
}

func TestCallersRequestIsNotModified(t *testing.T) {
	e := newEnv(t)
	tr, _ := newTransport(t, e, Config{Header: "X-Token"})
	tr.SetTokens(login(t, e.api))
	e.revoke(t, e.api)
	body := []byte("same")
	req, err := http.NewRequest("POST", e.api+"/api/echo", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Test", "1")
	header := req.Header.Clone()
	url := req.URL.String()
	resp, err := tr.RoundTrip(req) // X-Token is not what the API reads: 401, refresh, 401
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, header, req.Header, "headers untouched")
	assert.Empty(t, req.Header.Get("X-Token"))
	assert.Equal(t, url, req.URL.String())
	assert.Equal(t, "POST", req.Method)
	assert.EqualValues(t, 1, e.counters(t, e.api).Refreshes, "the refresh happened")
}

func TestRequestBodyClosedOnEveryPath(t *testing.T) {
	e := newEnv(t)
	tr, cb := newTransport(t, e, Config{})
	client := &http.Client{Transport: tr}
	post := func(name string, getBody bool) (*requestBody, error) {
		t.Helper()
		body := newRequestBody([]byte(name))
		req, err := http.NewRequest("POST", e.api+"/api/echo", body)
		require.NoError(t, err)
		var copies []*requestBody
		if getBody {
			req.GetBody = func() (io.ReadCloser, error) {
				c := newRequestBody([]byte(name))
				copies = append(copies, c)
				return c, nil
			}
		}
		resp, err := client.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		assert.Positive(t, body.closes.Load(), "%s: request body closed", name)
		for _, c := range copies {
			assert.Positive(t, c.closes.Load(), "%s: GetBody's copy closed", name)
		}
		return body, err
	}

	_, err := post("no session", false)
	require.NoError(t, err)
	tr.SetTokens(login(t, e.api))
	_, err = post("good token", false)
	require.NoError(t, err)
	e.revoke(t, e.api)
	_, err = post("retried", true)
	require.NoError(t, err)

	// Only a refresh token: the request waits for a refresh, which fails.
	e.refreshFailure(t, 401)
	_, refresh := login(t, e.api)
	tr.SetTokens("", refresh)
	_, err = post("refused before sending", true)
	assert.Equal(t, CodeAuthExpired, CodeOf(err), "%v", err)

	// The token fails, then the refresh does.
	tr.SetTokens(login(t, e.api))
	e.revoke(t, e.api)
	_, err = post("refused after a 401", true)
	assert.Equal(t, CodeAuthExpired, CodeOf(err), "%v", err)
	assert.Zero(t, cb.open(), "response bodies left open")
}

func TestTokenGoesOnlyToAllowedOrigins(t *testing.T) {
	for _, header := range []string{"Authorization", "X-Token"} {
		t.Run(header, func(t *testing.T) {
			e := newEnv(t)
			tr, cb := newTransport(t, e, Config{Header: header})
			access, refresh := login(t, e.api)
			tr.SetTokens(access, refresh)
			client := &http.Client{Transport: tr}

			status, _, err := get(client, e.other+"/direct")
			require.NoError(t, err)
			assert.Equal(t, 200, status)

			// A redirect from an allowed origin to another one.
			status, _, err = get(client, e.api+"/redirect?to="+e.other+"/redirected")
			if browser && header != "Authorization" {
				// fetch follows redirects itself and would keep X-Token:
				// such a request follows no redirect away from its origin.
				assert.ErrorContains(t, err, "which browsers do not remove")
				assert.Equal(t, CodeNetwork, CodeOf(err))
			} else {
				require.NoError(t, err)
				assert.Equal(t, 200, status)
			}
			for _, s := range e.seen(t) {
				assert.Empty(t, s.Authorization, "%s %s got a token", s.Method, s.Path)
				assert.Empty(t, s.XToken, "%s %s got a token", s.Method, s.Path)
			}
			for _, s := range cb.requests() {
				if strings.HasPrefix(s.URL, e.other) {
					assert.Empty(t, s.Authorization+s.XToken, "sent to %s with a token", s.URL)
				}
			}
			if !browser {
				// http.Client calls RoundTrip for each hop: a redirect back
				// to an allowed origin gets the token there.
				status, _, err = get(client, e.other+"/redirect?to="+e.api+"/api/me")
				require.NoError(t, err)
				if header == "Authorization" {
					assert.Equal(t, 200, status)
				}
				hop := sentRequest{}
				for _, s := range cb.requests() {
					if s.URL == e.api+"/api/me" {
						hop = s
						break
					}
				}
				assert.Equal(t, "Bearer "+access, hop.Authorization+hop.XToken, "the hop to the API")
			}
			assert.Zero(t, cb.open())
		})
	}
}

func TestExpiringTokenIsRefreshedFirst(t *testing.T) {
	e := newEnv(t)
	tr, _ := newTransport(t, e, Config{RefreshURL: e.short + "/auth/refresh"})
	tr.SetTokens(login(t, e.short))
	client := &http.Client{Transport: tr}
	// The default leeway (30 s) is capped at half the lifetime: a refresh
	// comes first from shortTTL/2 on.
	time.Sleep(shortTTL/2 + 200*time.Millisecond)
	statuses, errs := storm(client, e.short+"/api/me", 5)
	for i := range statuses {
		require.NoError(t, errs[i])
		assert.Equal(t, 200, statuses[i])
	}
	c := e.counters(t, e.short)
	assert.EqualValues(t, 1, c.Refreshes)
	assert.Zero(t, c.Unauthorized, "no doomed token was sent")
}

func TestRefreshAndEvents(t *testing.T) {
	e := newEnv(t)
	tr, _ := newTransport(t, e, Config{})
	var mu sync.Mutex
	var got []Event
	record := func(ev Event) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}
	stopTokens := tr.On(EventTokens, record)
	tr.On(EventRefresh, record)
	events := func() []Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]Event(nil), got...)
	}

	_, err := tr.Refresh(context.Background())
	assert.Equal(t, CodeAuthExpired, CodeOf(err), "no session: %v", err)

	access, refresh := login(t, e.api)
	tr.SetTokens(access, refresh)
	assert.Equal(t, access, tr.AccessToken())
	assert.True(t, tr.IsAuthenticated())
	fresh, err := tr.Refresh(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, access, fresh)
	assert.Equal(t, fresh, tr.AccessToken())
	assert.EqualValues(t, 1, e.counters(t, e.api).Refreshes)

	stopTokens()
	tr.Clear()
	assert.False(t, tr.IsAuthenticated())
	assert.Equal(t, []Event{
		{Name: EventTokens, Authenticated: true},
		{Name: EventTokens, Authenticated: true},
		{Name: EventRefresh, Authenticated: true},
	}, events(), "login, refresh (tokens, refresh); the logout's event went to no one")
	assert.Panics(t, func() { tr.On("logout", func(Event) {}) })
}

func TestOAuth2Style(t *testing.T) {
	e := newEnv(t)
	tr, _ := newTransport(t, e, Config{RefreshStyle: StyleOAuth2, ClientID: "demo-app"})
	tr.SetTokens(login(t, e.api))
	e.revoke(t, e.api)
	status, _, err := get(&http.Client{Transport: tr}, e.api+"/api/me")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.EqualValues(t, 1, e.counters(t, e.api).Refreshes)
}

func TestRefreshFunction(t *testing.T) {
	e := newEnv(t)
	var refuse atomic.Bool
	var calls atomic.Int32
	refreshFn := func(ctx context.Context, refreshToken string) (Grant, error) {
		calls.Add(1)
		if refuse.Load() {
			return Grant{}, ErrRefused
		}
		var r struct{ Access, Refresh string }
		req, err := http.NewRequestWithContext(ctx, "POST", e.api+"/auth/refresh", strings.NewReader(`{"refresh":"`+refreshToken+`"}`))
		if err != nil {
			return Grant{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := plain.Do(req)
		if err != nil {
			return Grant{}, err
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return Grant{}, err
		}
		return Grant{AccessToken: r.Access, RefreshToken: r.Refresh}, nil
	}
	tr, _ := newTransport(t, e, Config{Refresh: refreshFn, Origins: []string{e.api}})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	e.revoke(t, e.api)
	statuses, errs := storm(client, e.api+"/api/me", 5)
	for i := range statuses {
		require.NoError(t, errs[i])
		assert.Equal(t, 200, statuses[i])
	}
	assert.EqualValues(t, 1, calls.Load())

	refuse.Store(true)
	e.revoke(t, e.api)
	_, _, err := get(client, e.api+"/api/me")
	assert.Equal(t, CodeAuthExpired, CodeOf(err))
	assert.ErrorIs(t, err, ErrRefused)
	assert.False(t, tr.IsAuthenticated())
}

func TestSkipAuthAndSkipRefresh(t *testing.T) {
	e := newEnv(t)
	tr, cb := newTransport(t, e, Config{})
	tr.SetTokens(login(t, e.api))
	client := &http.Client{Transport: tr}
	e.revoke(t, e.api)

	req, _ := http.NewRequestWithContext(SkipRefresh(context.Background()), "GET", e.api+"/api/me", nil)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	assert.NotEmpty(t, cb.requests()[0].Authorization)

	req, _ = http.NewRequestWithContext(SkipAuth(context.Background()), "GET", e.api+"/api/me", nil)
	resp, err = client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
	assert.Empty(t, cb.requests()[1].Authorization)
	assert.Zero(t, e.counters(t, e.api).RefreshRequests)
}

func TestRefreshEndpointRedirectIsNotFollowed(t *testing.T) {
	e := newEnv(t)
	tr, _ := newTransport(t, e, Config{RefreshURL: e.api + "/redirect?status=307&to=" + e.api + "/auth/refresh"})
	tr.SetTokens(login(t, e.api))
	e.revoke(t, e.api)
	_, _, err := get(&http.Client{Transport: tr}, e.api+"/api/me")
	assert.Equal(t, CodeBadResponse, CodeOf(err))
	assert.ErrorContains(t, err, "redirect")
	assert.Zero(t, e.counters(t, e.api).RefreshRequests, "the refresh token went nowhere else")
	assert.True(t, tr.IsAuthenticated())
}

func TestNoErrorQuotesAToken(t *testing.T) {
	e := newEnv(t)
	tr, _ := newTransport(t, e, Config{})
	client := &http.Client{Transport: tr}
	for _, status := range []int{500, 401} {
		access, refresh := login(t, e.api)
		tr.SetTokens(access, refresh)
		e.refreshFailure(t, status)
		e.revoke(t, e.api)
		_, _, err := get(client, e.api+"/api/me")
		require.Error(t, err)
		for _, tok := range []string{access, refresh} {
			assert.NotContains(t, err.Error(), tok)
		}
	}
}

func TestNewChecksTheConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"origin without scheme", Config{Origins: []string{"api.example.com"}}, "not an http or https origin"},
		{"refresh style", Config{RefreshURL: "https://api.example.com/r", RefreshStyle: "form"}, "RefreshStyle"},
		{"storage", Config{RefreshURL: "https://api.example.com/r", Storage: "cookies"}, "cookies"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			assert.ErrorContains(t, err, tt.want)
			assert.Equal(t, CodeBadOption, CodeOf(err))
		})
	}
	if !browser {
		// In the browser, the page's origin is allowed by default and a
		// relative RefreshURL is resolved against the page.
		_, err := New(Config{})
		assert.ErrorContains(t, err, "no origin may receive the token")
		_, err = New(Config{RefreshURL: "/auth/refresh"})
		assert.ErrorContains(t, err, "not an absolute http or https URL")
	}
}

func TestErrorsKeepTheirCause(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("boom with a token inside")
	tr, _ := newTransport(t, e, Config{
		Origins: []string{e.api},
		Refresh: func(context.Context, string) (Grant, error) { return Grant{}, boom },
	})
	tr.SetTokens("", "r")
	_, _, err := get(&http.Client{Transport: tr}, e.api+"/api/me")
	assert.Equal(t, CodeNetwork, CodeOf(err))
	assert.ErrorIs(t, err, boom, "Unwrap gives the cause")
	assert.NotContains(t, err.Error(), "boom", "its text is not shown")
	assert.True(t, tr.IsAuthenticated(), "a failed refresh keeps the session")
}

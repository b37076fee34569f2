//go:build !js

package jwthttp

// Tests that pin behaviour mutation testing (gremlins, run natively) found
// unguarded, over a fake Base. The mutants below change nothing a native
// build can observe:
//
// equivalent: sync.go s.writes++ -> s.writes-- (in Save): writes is only compared for equality with a snapshot taken before adopt, and a decrement changes it as surely as an increment.
// equivalent: sync.go s.writes++ -> s.writes-- (in Clear): same as in Save.
// equivalent: transport.go make(http.Header, len(req.Header)+1) -> len(req.Header)-1: a map's size is only a capacity hint (a negative one means none); the header holds the same entries.
// equivalent: transport.go key == "" -> key != "" (StorageKey default): natively the key reaches only openStorage, shareAcrossTabs and listenStorage, which ignore it (browser only; browser_test.go runs there).
// equivalent: transport.go browser && kind == "local" -> kind != "local": browser is the constant false natively, so the condition is never evaluated.
// equivalent: transport.go t.store != nil -> t.store == nil (before listenStorage): natively t.store is always nil and listenStorage returns a no-op stop, so the mutant only stores a no-op in t.stop.
// equivalent: transport.go browser && a.Header != "" && t.guarded -> a.Header == "": browser is the constant false natively (the guard is for fetch).

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rtFunc is a Base made of a function.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// answer is a response to r with status, body and header pairs.
func answer(r *http.Request, status int, body string, header ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{
		Status: strconv.Itoa(status) + " " + http.StatusText(status), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
	}
}

// fakeAPI is an API at https://api.test in a RoundTripper: /auth/refresh
// issues access-N (or what issue says), and any other path answers 200 to
// the access token issued last and 401 to anything else. It records what
// it is sent.
type fakeAPI struct {
	mu        sync.Mutex
	valid     string
	refreshes int
	sent      []fakeSent
	// issue, when set, answers the refresh request instead.
	issue func(r *http.Request, n int) *http.Response
	// netErr, when set, is returned for API requests (not refreshes)
	// while it returns a non-nil error.
	netErr func(r *http.Request) error
}

type fakeSent struct {
	Method, URL, Body string
	Header            http.Header
}

const fakeRefreshURL = "https://api.test/auth/refresh"

func (f *fakeAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, fakeSent{r.Method, r.URL.String(), string(body), r.Header.Clone()})
	if r.URL.Path == "/auth/refresh" {
		f.refreshes++
		if f.issue != nil {
			return f.issue(r, f.refreshes), nil
		}
		f.valid = "access-" + strconv.Itoa(f.refreshes)
		return answer(r, 200, `{"access":"`+f.valid+`","refresh":"refresh-`+strconv.Itoa(f.refreshes)+`"}`), nil
	}
	if f.netErr != nil {
		if err := f.netErr(r); err != nil {
			return nil, err
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+f.valid || f.valid == "" {
		return answer(r, 401, "refused"), nil
	}
	return answer(r, 200, "ok"), nil
}

func (f *fakeAPI) requests() []fakeSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeSent(nil), f.sent...)
}

func (f *fakeAPI) refreshCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes
}

// newFake returns a Transport over a fakeAPI, its refresh endpoint
// fakeRefreshURL unless cfg says otherwise.
func newFake(t *testing.T, cfg Config) (*Transport, *fakeAPI) {
	t.Helper()
	f := &fakeAPI{}
	if cfg.RefreshURL == "" && cfg.Refresh == nil {
		cfg.RefreshURL = fakeRefreshURL
	}
	if cfg.Origins == nil {
		cfg.Origins = []string{"https://api.test"}
	}
	cfg.Base = f
	if cfg.Warn == nil {
		cfg.Warn = func(msg string) { t.Log("warn: " + msg) }
	}
	tr, err := New(cfg)
	require.NoError(t, err)
	return tr, f
}

// jwt returns an unsigned JWT with the given claims.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + ".sig"
}

// memStore is a Store in memory that counts nothing and fails on demand.
type memStore struct {
	mu      sync.Mutex
	v       string
	saveErr error
}

func (s *memStore) Load() (string, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.v, nil }
func (s *memStore) Save(v string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saveErr != nil {
		return s.saveErr
	}
	s.v = v
	return nil
}
func (s *memStore) Clear() error { return s.Save("") }

// Natively there is no page: a RefreshURL is requested as it is written,
// not normalised (config.go resolve).
func TestRefreshURLIsRequestedAsWritten(t *testing.T) {
	const refreshURL = "https://api.test/v1/../auth/refresh"
	var posted []string
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		posted = append(posted, r.URL.String())
		return answer(r, 200, `{"access":"a2"}`), nil
	})
	tr, err := New(Config{RefreshURL: refreshURL, Base: base})
	require.NoError(t, err)
	tr.SetTokens("a1", "r1")
	tok, err := tr.Refresh(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "a2", tok)
	assert.Equal(t, []string{refreshURL}, posted)
}

func TestResolve(t *testing.T) {
	for _, tt := range []struct{ base, ref, want string }{
		{"", "/a/../b", "/a/../b"},
		{"", "https://api.test/a/../b", "https://api.test/a/../b"},
		{"https://page.test/app/index.html", "../auth/refresh", "https://page.test/auth/refresh"},
		{"https://page.test/app/", "https://api.test/r", "https://api.test/r"},
		{"https://page.test/%zz", "/r", "/r"},                    // the base cannot be parsed
		{"https://page.test/app/", "http://[::1", "http://[::1"}, // nor can ref
	} {
		assert.Equal(t, tt.want, resolve(tt.base, tt.ref), "resolve(%q, %q)", tt.base, tt.ref)
	}
}

// The refresh endpoint's status decides the error: a 3xx other than 304 is
// a redirect, which is not followed; 400 is a refusal; 304 is an answer
// without tokens.
func TestRefreshEndpointStatuses(t *testing.T) {
	tokens := `{"access":"new","refresh":"r2"}`
	for _, tt := range []struct {
		status   int
		code     string
		redirect bool
	}{
		{200, "", false},
		{299, "", false},
		{300, CodeBadResponse, true},
		{302, CodeBadResponse, true},
		{304, CodeBadResponse, false},
		{308, CodeBadResponse, true},
		{399, CodeBadResponse, true},
		{400, CodeAuthExpired, false},
		{401, CodeAuthExpired, false},
	} {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			tr, f := newFake(t, Config{})
			f.issue = func(r *http.Request, _ int) *http.Response {
				return answer(r, tt.status, tokens, "Location", "https://elsewhere.test/")
			}
			tr.SetTokens("old", "r1")
			tok, err := tr.Refresh(context.Background())
			assert.Equal(t, tt.code, CodeOf(err), "%v", err)
			if tt.code == "" {
				assert.Equal(t, "new", tok)
				return
			}
			if tt.redirect {
				assert.ErrorContains(t, err, "redirect")
			} else {
				assert.NotContains(t, err.Error(), "redirect")
				assert.ErrorContains(t, err, "answered "+strconv.Itoa(tt.status))
			}
			assert.Equal(t, tt.code != CodeAuthExpired, tr.IsAuthenticated(), "only a refusal ends the session")
		})
	}
}

// A JWT's exp is read on the server's clock when the refresh answer has a
// Date: a server two hours behind issues a token that looks expired on the
// local clock but has an hour left.
func TestRefreshUsesTheServersDate(t *testing.T) {
	for _, withDate := range []bool{true, false} {
		t.Run("date="+strconv.FormatBool(withDate), func(t *testing.T) {
			server := time.Now().Add(-2 * time.Hour)
			access := jwt(`{"sub":"demo","exp":` + strconv.FormatInt(server.Add(time.Hour).Unix(), 10) + `}`)
			tr, f := newFake(t, Config{})
			f.issue = func(r *http.Request, _ int) *http.Response {
				f.valid = access
				if !withDate {
					return answer(r, 200, `{"access":"`+access+`"}`, "Date", "not a date")
				}
				return answer(r, 200, `{"access":"`+access+`"}`, "Date", server.UTC().Format(http.TimeFormat))
			}
			tr.SetTokens("old", "r1")
			tok, err := tr.Refresh(context.Background())
			require.NoError(t, err)
			require.Equal(t, access, tok)

			status, _, err := get(&http.Client{Transport: tr}, "https://api.test/me")
			require.NoError(t, err)
			assert.Equal(t, 200, status)
			if withDate {
				assert.Equal(t, 1, f.refreshCount(), "the token has an hour left on the server's clock")
			} else {
				assert.Equal(t, 2, f.refreshCount(), "without the server's clock the token looks expired: refreshed first")
			}
		})
	}
}

// syncStore: the value the Client read at its start is its own, not a
// change made elsewhere to adopt.
func TestSyncStoreDoesNotAdoptWhatWasLoaded(t *testing.T) {
	inner := &lockedStore{v: "stored before"}
	s := &syncStore{store: inner}
	v, err := s.Load()
	require.NoError(t, err)
	require.Equal(t, "stored before", v)
	var adopted []string
	s.poll(func(raw string) { adopted = append(adopted, raw) })
	assert.Empty(t, adopted)

	require.NoError(t, inner.Save("theirs"))
	s.poll(func(raw string) { adopted = append(adopted, raw) })
	assert.Equal(t, []string{"theirs"}, adopted)
}

// With Config.Header, the token travels in that header only.
func TestHeaderCarriesTheToken(t *testing.T) {
	for _, tt := range []struct {
		cfg          Config
		header, want string
	}{
		{Config{}, "Authorization", "Bearer tok"},
		{Config{Header: "X-Token"}, "X-Token", "Bearer tok"},
		{Config{Header: "X-Token", Scheme: "Token"}, "X-Token", "Token tok"},
		{Config{Header: "X-Token", BareToken: true}, "X-Token", "tok"},
	} {
		t.Run(tt.header+"/"+tt.want, func(t *testing.T) {
			tr, f := newFake(t, tt.cfg)
			tr.SetTokens("tok", "r1")
			_, _, err := get(&http.Client{Transport: tr}, "https://api.test/me")
			require.NoError(t, err)
			sent := f.requests()
			require.NotEmpty(t, sent)
			assert.Equal(t, tt.want, sent[0].Header.Get(tt.header))
			if tt.header != "Authorization" {
				assert.Empty(t, sent[0].Header.Get("Authorization"))
			}
		})
	}
}

// Config.Warn receives what is wrong with the stored session.
func TestWarnReceivesStorageProblems(t *testing.T) {
	var mu sync.Mutex
	var warned []string
	warn := func(msg string) {
		mu.Lock()
		warned = append(warned, msg)
		mu.Unlock()
	}
	tr, _ := newFake(t, Config{Store: &memStore{v: "{not a session"}, Warn: warn})
	assert.False(t, tr.IsAuthenticated(), "an unreadable value means logged out")
	mu.Lock()
	require.Len(t, warned, 1)
	assert.Contains(t, warned[0], "starting logged out")
	mu.Unlock()

	store := &memStore{saveErr: errors.New("disk full")}
	tr, _ = newFake(t, Config{Store: store, Warn: warn})
	tr.SetTokens("tok", "r1")
	mu.Lock()
	require.Len(t, warned, 2)
	assert.Contains(t, warned[1], "cannot store the session")
	mu.Unlock()
	assert.Equal(t, "tok", tr.AccessToken(), "kept in memory")
}

// RefreshOnNetworkError: a request that carried the token and got no
// answer refreshes and is sent again.
func TestRefreshOnNetworkError(t *testing.T) {
	var failures atomic.Int32
	tr, f := newFake(t, Config{RefreshOnNetworkError: true})
	f.netErr = func(r *http.Request) error {
		if r.Header.Get("Authorization") == "Bearer old" {
			failures.Add(1)
			return errors.New("connection reset")
		}
		return nil
	}
	tr.SetTokens("old", "r1")
	status, _, err := get(&http.Client{Transport: tr}, "https://api.test/me")
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.EqualValues(t, 1, failures.Load())
	assert.Equal(t, 1, f.refreshCount())
	sent := f.requests()
	require.Len(t, sent, 3, "request, refresh, retry")
	assert.Equal(t, "Bearer access-1", sent[2].Header.Get("Authorization"))

	// Without it, the network error is returned as it is.
	tr2, f2 := newFake(t, Config{})
	f2.netErr = func(*http.Request) error { return errors.New("connection reset") }
	tr2.SetTokens("old", "r1")
	_, _, err = get(&http.Client{Transport: tr2}, "https://api.test/me")
	assert.ErrorContains(t, err, "connection reset")
	assert.Zero(t, f2.refreshCount())
}

// A request whose context ends while it is sent is not refreshed for, nor
// sent again: its error is returned.
func TestEndedRequestIsNotRetried(t *testing.T) {
	t.Run("network error", func(t *testing.T) {
		tr, f := newFake(t, Config{RefreshOnNetworkError: true})
		reset := errors.New("connection reset")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f.netErr = func(*http.Request) error { cancel(); return reset }
		tr.SetTokens("old", "r1")
		req, err := http.NewRequestWithContext(ctx, "GET", "https://api.test/me", nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		assert.Nil(t, resp)
		assert.ErrorIs(t, err, reset, "the request's own error")
		assert.Zero(t, f.refreshCount(), "no refresh")
		assert.Equal(t, "old", tr.AccessToken())
	})
	t.Run("401", func(t *testing.T) {
		tr, f := newFake(t, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var bodies []*countedBody
		var closed atomic.Int64
		tr.base = rtFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path != "/auth/refresh" {
				cancel() // the caller gives up as the 401 arrives
			}
			resp, err := f.RoundTrip(r)
			if resp != nil {
				b := &countedBody{ReadCloser: resp.Body, closed: &closed}
				bodies = append(bodies, b)
				resp.Body = b
			}
			return resp, err
		})
		tr.SetTokens("old", "r1")
		req, err := http.NewRequestWithContext(ctx, "GET", "https://api.test/me", nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		assert.Nil(t, resp)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, CodeCanceled, CodeOf(err), "%v", err)
		assert.EqualValues(t, len(bodies), closed.Load(), "the 401's body is closed")
		assert.Len(t, f.requests(), 1+f.refreshCount(), "not sent again")
	})
}

// The retry replays the body through GetBody to any Base, also one that
// reads the body itself (net/http's transport would rewind it too).
func TestRetryReplaysTheBodyToBase(t *testing.T) {
	tr, f := newFake(t, Config{})
	tr.SetTokens("old", "r1")
	req, err := http.NewRequest("PUT", "https://api.test/doc", strings.NewReader("the body"))
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	var bodies []string
	for _, s := range f.requests() {
		if s.Method == "PUT" {
			bodies = append(bodies, s.Body)
		}
	}
	assert.Equal(t, []string{"the body", "the body"}, bodies)
}

// storedSession is a Store holding tokens that expire in left and lived
// an hour, as if saved by an earlier run.
func storedSession(left time.Duration) *memStore {
	now := time.Now().UnixMilli()
	raw := session.EncodeState(session.Tokens{Access: "old", Refresh: "r1", Expiry: now + left.Milliseconds(), Lifetime: time.Hour.Milliseconds()})
	return &memStore{v: raw}
}

// Config.Leeway: a request whose token expires within it refreshes first.
func TestLeeway(t *testing.T) {
	for _, tt := range []struct {
		name           string
		leeway, left   time.Duration
		refreshesFirst bool
	}{
		{"default 30s, 20s left", 0, 20 * time.Second, true},
		{"default 30s, 40s left", 0, 40 * time.Second, false},
		{"1m, 40s left", time.Minute, 40 * time.Second, true},
		{"1m, 70s left", time.Minute, 70 * time.Second, false},
		{"none, 20s left", -1, 20 * time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr, f := newFake(t, Config{Leeway: tt.leeway, Store: storedSession(tt.left)})
			require.Equal(t, "old", tr.AccessToken())
			f.valid = "old"
			status, _, err := get(&http.Client{Transport: tr}, "https://api.test/me")
			require.NoError(t, err)
			assert.Equal(t, 200, status)
			sent := f.requests()
			if tt.refreshesFirst {
				require.Len(t, sent, 2)
				assert.Equal(t, "/auth/refresh", sent[0].URL[len("https://api.test"):])
				assert.Equal(t, "Bearer access-1", sent[1].Header.Get("Authorization"))
			} else {
				require.Len(t, sent, 1)
				assert.Equal(t, "Bearer old", sent[0].Header.Get("Authorization"))
			}
		})
	}
}

// A change adopted from elsewhere (the browser's poll calls Sync) is
// reported FromOtherTab; the Transport's own changes after it are not.
func TestAdoptedChangesAreFromOtherTab(t *testing.T) {
	tr, _ := newFake(t, Config{})
	var mu sync.Mutex
	var got []Event
	tr.On(EventTokens, func(ev Event) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	})
	tr.s.Sync(session.EncodeState(session.NewTokens("theirs", "r", 0, time.Now().UnixMilli())))
	assert.Equal(t, "theirs", tr.AccessToken())
	tr.SetTokens("mine", "r")
	tr.Clear()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []Event{
		{Name: EventTokens, Authenticated: true, FromOtherTab: true},
		{Name: EventTokens, Authenticated: true},
		{Name: EventTokens, Authenticated: false},
	}, got)
}

// Natively only "memory" exists: "local" and "session" are refused with a
// message that says where they exist, and a Store is the way to persist.
func TestBrowserStorageIsRefusedNatively(t *testing.T) {
	for _, kind := range []string{"local", "session"} {
		_, err := New(Config{RefreshURL: fakeRefreshURL, Storage: kind})
		assert.Equal(t, CodeBadOption, CodeOf(err), "%v", err)
		assert.ErrorContains(t, err, "Storage '"+kind+"' exists only in the browser")
	}
	_, err := New(Config{RefreshURL: fakeRefreshURL, Storage: "memory"})
	assert.NoError(t, err)
}

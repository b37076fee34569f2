package jwthttp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The scenarios run against the demo auth API (example-site/authserver)
// and a second origin that records what reaches it (package testserver):
// natively on httptest servers of their own, in the browser on servers
// that `make test-wasm` starts around wasmbrowsertest (see env_js_test.go).
// They control the servers only through HTTP (the API's /debug endpoints),
// so the same code runs in both places, through net/http's transport or
// through the browser's fetch.

// env is the servers of one test, by base URL.
type env struct {
	api   string // the API, access tokens live an hour
	short string // the API, access tokens live shortTTL
	other string // an origin that must never see a token
}

// shortTTL is the access token lifetime of env.short (testserver.ShortTTL).
const shortTTL = 2 * time.Second

// plain is a client without the Transport, for logins and the servers'
// test hooks.
var plain = &http.Client{Timeout: 10 * time.Second}

// call sends a request with the plain client and decodes a JSON answer
// into out (which may be nil); it fails the test on any error or a status
// that is not 2xx.
func call(t *testing.T, method, url, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := plain.Do(req)
	require.NoError(t, err, "%s %s", method, url)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.True(t, resp.StatusCode >= 200 && resp.StatusCode < 300, "%s %s: %d %s", method, url, resp.StatusCode, b)
	if out != nil {
		require.NoError(t, json.Unmarshal(b, out), "%s %s: %s", method, url, b)
	}
}

// login logs in at the API at base and returns the tokens.
func login(t *testing.T, base string) (access, refresh string) {
	t.Helper()
	var r struct{ Access, Refresh string }
	call(t, "POST", base+"/auth/login", `{"username":"demo","password":"demo123"}`, &r)
	require.NotEmpty(t, r.Access)
	return r.Access, r.Refresh
}

// counters are the API's counters (authserver.Counters).
type counters struct {
	Logins, Refreshes, RefreshFailures, RefreshRequests int64
	ReuseDetections, Unauthorized, APICalls             int64
}

func (e env) counters(t *testing.T, base string) counters {
	t.Helper()
	var c counters
	call(t, "GET", base+"/debug/counters", "", &c)
	return c
}

func (e env) revoke(t *testing.T, base string) {
	t.Helper()
	call(t, "POST", base+"/debug/revoke-access", "", nil)
}

// refreshDelay makes the API's refreshes take d.
func (e env) refreshDelay(t *testing.T, d time.Duration) {
	t.Helper()
	call(t, "POST", e.api+"/debug/refresh-delay?ms="+strconv.FormatInt(d.Milliseconds(), 10), "", nil)
}

// refreshFailure makes the API answer refreshes with status (0: normally).
func (e env) refreshFailure(t *testing.T, status int) {
	t.Helper()
	call(t, "POST", e.api+"/debug/refresh-failure?status="+strconv.Itoa(status), "", nil)
}

// seen is what the other origin has received.
type seen struct {
	Method, Path, Authorization, XToken string
}

func (e env) seen(t *testing.T) []seen {
	t.Helper()
	var r struct{ Requests []seen }
	call(t, "GET", e.other+"/seen", "", &r)
	return r.Requests
}

// reset puts the servers back to their initial behaviour, with zero
// counters and an empty record.
func (e env) reset(t *testing.T) {
	t.Helper()
	call(t, "POST", e.api+"/debug/reset", "", nil)
	call(t, "POST", e.short+"/debug/reset", "", nil)
	call(t, "POST", e.other+"/forget", "", nil)
}

// keys makes a storage key per Transport, so that tests in one browser
// page do not share sessions unless they mean to.
var keys atomic.Int64

// newTransport returns a Transport for cfg with a counting Base, for the
// API unless cfg says otherwise. The Transport is cleared at the end of
// the test.
func newTransport(t *testing.T, e env, cfg Config) (*Transport, *countingBase) {
	t.Helper()
	if cfg.RefreshURL == "" && cfg.Refresh == nil {
		cfg.RefreshURL = e.api + "/auth/refresh"
	}
	if cfg.StorageKey == "" {
		cfg.StorageKey = "jwthttp-test-" + strconv.FormatInt(keys.Add(1), 10)
	}
	cb := &countingBase{base: cfg.Base}
	if cb.base == nil {
		cb.base = http.DefaultTransport
	}
	cfg.Base = cb
	tr, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		tr.Clear()
		tr.Close()
	})
	return tr, cb
}

// countingBase is a Base that records what it sends and counts the
// response bodies it hands out and those closed since.
type countingBase struct {
	base http.RoundTripper

	mu   sync.Mutex
	sent []sentRequest

	bodies, closed atomic.Int64
}

// sentRequest is what countingBase sent.
type sentRequest struct {
	Method, URL, Authorization, XToken string
}

func (c *countingBase) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.sent = append(c.sent, sentRequest{r.Method, r.URL.String(), r.Header.Get("Authorization"), r.Header.Get("X-Token")})
	c.mu.Unlock()
	resp, err := c.base.RoundTrip(r)
	if resp != nil && resp.Body != nil {
		c.bodies.Add(1)
		resp.Body = &countedBody{ReadCloser: resp.Body, closed: &c.closed}
	}
	return resp, err
}

func (c *countingBase) requests() []sentRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentRequest(nil), c.sent...)
}

// open returns how many response bodies are not closed.
func (c *countingBase) open() int64 { return c.bodies.Load() - c.closed.Load() }

type countedBody struct {
	io.ReadCloser
	once   sync.Once
	closed *atomic.Int64
}

func (b *countedBody) Close() error {
	b.once.Do(func() { b.closed.Add(1) })
	return b.ReadCloser.Close()
}

// requestBody is a request body that counts its Close calls.
type requestBody struct {
	*bytes.Reader
	closes atomic.Int32
}

func newRequestBody(b []byte) *requestBody { return &requestBody{Reader: bytes.NewReader(b)} }

func (b *requestBody) Close() error {
	b.closes.Add(1)
	return nil
}

// get sends GET url through client and returns the status and body; err
// is the request's error.
func get(client *http.Client, url string) (int, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

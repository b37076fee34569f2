package authserver

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// do sends one request to h. hdr holds name, value pairs.
func do(t *testing.T, h http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	require.Zero(t, len(hdr)%2, "hdr must be name, value pairs")
	for i := 0; i < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// jsonBody decodes a JSON object answer, checking its Content-Type.
func jsonBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), "body: %s", rec.Body.String())
	return m
}

// login logs in as demo and returns the token pair.
func login(t *testing.T, h http.Handler) (access, refresh string) {
	t.Helper()
	rec := do(t, h, http.MethodPost, "/auth/login", `{"username":"demo","password":"demo123"}`,
		"Content-Type", "application/json")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	m := jsonBody(t, rec)
	access, _ = m["access"].(string)
	refresh, _ = m["refresh"].(string)
	require.NotEmpty(t, access)
	require.NotEmpty(t, refresh)
	return access, refresh
}

// refreshJSON refreshes JSON-style.
func refreshJSON(t *testing.T, h http.Handler, refresh string) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(map[string]string{"refresh": refresh})
	require.NoError(t, err)
	return do(t, h, http.MethodPost, "/auth/refresh", string(body), "Content-Type", "application/json")
}

// me calls /api/me with a bearer token.
func me(t *testing.T, h http.Handler, access string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, h, http.MethodGet, "/api/me", "", "Authorization", "Bearer "+access)
}

// payload decodes a JWT's claims without verifying it.
func payload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

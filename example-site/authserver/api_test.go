package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEcho(t *testing.T) {
	s := New(Config{})
	access, _ := login(t, s)
	big := strings.Repeat("0123456789abcdef", 300) // 4800 bytes
	sum := func(b string) string { h := sha256.Sum256([]byte(b)); return hex.EncodeToString(h[:]) }

	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		hdr        []string
		wantStatus int
		want       map[string]any
	}{
		{
			name: "public post", method: http.MethodPost, target: "/public/echo?a=1&b=two",
			body: `{"x":1}`,
			hdr:  []string{"Content-Type", "application/json", "X-Test", "yes", "X-Other", "no", "X-Request-Id", "r1"},
			want: map[string]any{
				"method": "POST", "path": "/public/echo", "query": "a=1&b=two",
				"headers":    map[string]any{"content-type": "application/json", "x-test": "yes", "x-request-id": "r1"},
				"bodySha256": sum(`{"x":1}`), "bodyLen": float64(7), "body": `{"x":1}`,
			},
		},
		{
			name: "public reports authorization", method: http.MethodGet, target: "/public/echo",
			hdr: []string{"Authorization", "Bearer abc"},
			want: map[string]any{
				"method": "GET", "path": "/public/echo", "query": "",
				"headers":    map[string]any{"authorization": "Bearer abc"},
				"bodySha256": sum(""), "bodyLen": float64(0), "body": "",
			},
		},
		{
			name: "api put with big body", method: http.MethodPut, target: "/api/echo",
			body: big,
			hdr:  []string{"Authorization", "Bearer " + access},
			want: map[string]any{
				"method": "PUT", "path": "/api/echo", "query": "",
				"headers":    map[string]any{"authorization": "Bearer " + access},
				"bodySha256": sum(big), "bodyLen": float64(len(big)), "body": big[:4096],
			},
		},
		{
			name: "api without token", method: http.MethodPost, target: "/api/echo", body: "x",
			wantStatus: http.StatusUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, s, tt.method, tt.target, tt.body, tt.hdr...)
			m := jsonBody(t, rec)
			if tt.wantStatus != 0 {
				assert.Equal(t, tt.wantStatus, rec.Code)
				return
			}
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tt.want, m)
		})
	}
}

func TestStatusEndpoint(t *testing.T) {
	s := New(Config{})
	access, _ := login(t, s)
	tests := []struct {
		path       string
		auth       bool
		wantStatus int
		wantBody   string
	}{
		{"/api/status/200", true, 200, `{"status":200}`},
		{"/api/status/418", true, 418, `{"status":418}`},
		{"/api/status/503", true, 503, `{"status":503}`},
		{"/api/status/401", true, 401, `{"status":401}`},
		{"/api/status/204", true, 204, ``},
		{"/api/status/abc", true, 400, `{"error":"invalid_status"}`},
		{"/api/status/99", true, 400, `{"error":"invalid_status"}`},
		{"/api/status/600", true, 400, `{"error":"invalid_status"}`},
		{"/api/status/500", false, 401, `{"error":"invalid_token"}`},
		{"/api/nothing", true, 404, `{"error":"not_found"}`},
		{"/api/nothing", false, 401, `{"error":"invalid_token"}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var hdr []string
			if tt.auth {
				hdr = []string{"Authorization", "Bearer " + access}
			}
			rec := do(t, s, http.MethodGet, tt.path, "", hdr...)
			assert.Equal(t, tt.wantStatus, rec.Code)
			if tt.wantBody == "" {
				assert.Empty(t, rec.Body.String())
			} else {
				assert.JSONEq(t, tt.wantBody, rec.Body.String())
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestPublicText(t *testing.T) {
	s := New(Config{})
	rec := do(t, s, http.MethodGet, "/public/text", "")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "hello", rec.Body.String())
	assert.Zero(t, s.Counters())
}

func TestPublicSlow(t *testing.T) {
	s := New(Config{})
	start := time.Now()
	rec := do(t, s, http.MethodGet, "/public/slow?ms=60", "")
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"slept":60}`, rec.Body.String())

	for _, bad := range []string{"", "?ms=-1", "?ms=x", "?ms=99999999999999"} {
		assert.Equal(t, http.StatusBadRequest, do(t, s, http.MethodGet, "/public/slow"+bad, "").Code, bad)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/public/slow?ms=60000", nil)
	start = time.Now()
	s.ServeHTTP(httptest.NewRecorder(), req)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestRequestIDEchoed(t *testing.T) {
	s := New(Config{})
	rec := do(t, s, http.MethodGet, "/public/text", "", "X-Request-Id", "abc-123")
	assert.Equal(t, "abc-123", rec.Header().Get("X-Request-Id"))
	rec = do(t, s, http.MethodGet, "/public/text", "")
	assert.Empty(t, rec.Header().Values("X-Request-Id"))
}

func TestDebugDisabled(t *testing.T) {
	s := New(Config{})
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/debug/counters"},
		{http.MethodPost, "/debug/reset"},
		{http.MethodPost, "/debug/revoke-access"},
		{http.MethodPost, "/debug/refresh-delay?ms=10"},
		{http.MethodPost, "/debug/refresh-failure?status=500"},
	} {
		assert.Equal(t, http.StatusNotFound, do(t, s, tt.method, tt.path, "").Code, tt.path)
	}
	// Also with a web root that could serve the path.
	s = New(Config{WebDir: t.TempDir()})
	assert.Equal(t, http.StatusNotFound, do(t, s, http.MethodGet, "/debug/counters", "").Code)
}

func TestDebugEndpoints(t *testing.T) {
	s := New(Config{Debug: true})
	access, refresh := login(t, s)
	me(t, s, access)
	me(t, s, "bad")

	rec := do(t, s, http.MethodGet, "/debug/counters", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"logins":1,"refreshes":0,"refreshFailures":0,"refreshRequests":0,"reuseDetections":0,
		"unauthorized":1,"logouts":0,"apiCalls":1}`, rec.Body.String())

	// refresh-failure and refresh-delay, then reset clears them and the counters.
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/refresh-failure?status=503", "").Code)
	require.Equal(t, http.StatusServiceUnavailable, refreshJSON(t, s, refresh).Code)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/refresh-delay?ms=40", "").Code)
	start := time.Now()
	require.Equal(t, http.StatusServiceUnavailable, refreshJSON(t, s, refresh).Code)
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
	c := s.Counters()
	assert.EqualValues(t, 2, c.RefreshRequests, "every refresh request is counted on arrival")
	assert.EqualValues(t, 2, c.RefreshFailures)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/refresh-failure?status=0", "").Code)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/refresh-failure?status=502", "").Code)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/reset", "").Code)
	assert.Zero(t, s.Counters())
	delay, failure := s.refreshSettings()
	assert.Zero(t, delay)
	assert.Zero(t, failure)
	rec = refreshJSON(t, s, refresh)
	require.Equal(t, http.StatusOK, rec.Code)
	access = jsonBody(t, rec)["access"].(string)

	require.Equal(t, http.StatusOK, me(t, s, access).Code)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/revoke-access", "").Code)
	require.Equal(t, http.StatusUnauthorized, me(t, s, access).Code)

	for _, bad := range []string{
		"/debug/refresh-delay", "/debug/refresh-delay?ms=-5", "/debug/refresh-delay?ms=x",
		"/debug/refresh-failure", "/debug/refresh-failure?status=99", "/debug/refresh-failure?status=600",
	} {
		assert.Equal(t, http.StatusBadRequest, do(t, s, http.MethodPost, bad, "").Code, bad)
	}
	assert.Equal(t, http.StatusMethodNotAllowed, do(t, s, http.MethodGet, "/debug/reset", "").Code)
	assert.Equal(t, http.StatusNotFound, do(t, s, http.MethodGet, "/debug/nothing", "").Code)
}

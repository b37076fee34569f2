package authserver

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCORS(t *testing.T) {
	type want struct {
		status    int
		allowed   bool
		preflight bool
	}
	tests := []struct {
		name   string
		method string
		path   string
		hdr    []string
		want   want
	}{
		{"normal", http.MethodGet, "/public/text", []string{"Origin", "http://localhost:5173"}, want{200, true, false}},
		{"127.0.0.1", http.MethodGet, "/public/text", []string{"Origin", "http://127.0.0.1:8080"}, want{200, true, false}},
		{"no port", http.MethodGet, "/public/text", []string{"Origin", "http://localhost"}, want{200, true, false}},
		{"401", http.MethodGet, "/api/me", []string{"Origin", "http://localhost:5173"}, want{401, true, false}},
		{"login failure", http.MethodPost, "/auth/login", []string{"Origin", "http://localhost:5173"}, want{401, true, false}},
		{"preflight", http.MethodOptions, "/api/me", []string{
			"Origin", "http://localhost:5173",
			"Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", "authorization,content-type",
		}, want{204, true, true}},
		{"disallowed origin", http.MethodGet, "/public/text", []string{"Origin", "http://evil.example"}, want{200, false, false}},
		{"https localhost not allowed", http.MethodGet, "/public/text", []string{"Origin", "https://localhost:5173"}, want{200, false, false}},
		{"null origin", http.MethodGet, "/public/text", []string{"Origin", "null"}, want{200, false, false}},
		{"disallowed 401", http.MethodGet, "/api/me", []string{"Origin", "http://evil.example"}, want{401, false, false}},
		{"disallowed preflight", http.MethodOptions, "/api/me", []string{
			"Origin", "http://evil.example", "Access-Control-Request-Method", "GET",
		}, want{204, false, false}},
		{"no origin", http.MethodGet, "/public/text", nil, want{200, false, false}},
	}
	s := New(Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, s, tt.method, tt.path, "", tt.hdr...)
			h := rec.Header()
			assert.Equal(t, tt.want.status, rec.Code)
			assert.Contains(t, h.Values("Vary"), "Origin")
			if !tt.want.allowed {
				for name := range h {
					assert.NotContains(t, name, "Access-Control-", "header %s", name)
				}
				return
			}
			assert.Equal(t, tt.hdr[1], h.Get("Access-Control-Allow-Origin"))
			assert.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
			assert.Equal(t, "WWW-Authenticate, X-Request-Id, Date, DPoP-Nonce", h.Get("Access-Control-Expose-Headers"))
			if tt.want.preflight {
				assert.Equal(t, "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS", h.Get("Access-Control-Allow-Methods"))
				assert.Equal(t, "authorization,content-type", h.Get("Access-Control-Allow-Headers"))
				assert.Equal(t, "600", h.Get("Access-Control-Max-Age"))
				assert.Empty(t, rec.Body.String())
			} else {
				assert.Empty(t, h.Get("Access-Control-Allow-Methods"))
			}
			if tt.want.status == http.StatusUnauthorized && tt.path == "/api/me" {
				assert.Equal(t, `Bearer error="invalid_token"`, h.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestCORSCustomAllowOrigins(t *testing.T) {
	s := New(Config{AllowOrigins: func(o string) bool { return o == "https://app.example" }})
	rec := do(t, s, http.MethodGet, "/public/text", "", "Origin", "https://app.example")
	assert.Equal(t, "https://app.example", rec.Header().Get("Access-Control-Allow-Origin"))
	rec = do(t, s, http.MethodGet, "/public/text", "", "Origin", "http://localhost:5173")
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestDefaultAllowOrigins(t *testing.T) {
	tests := []struct {
		origin string
		want   bool
	}{
		{"http://localhost", true},
		{"http://localhost:8080", true},
		{"http://127.0.0.1:3000", true},
		{"http://127.0.0.1", true},
		{"https://localhost:8080", false},
		{"http://localhost.evil.example", false},
		{"http://127.0.0.2:80", false},
		{"http://[::1]:8080", false},
		{"http://user@localhost:8080", false},
		{"http://localhost:8080/path", false},
		{"null", false},
		{"", false},
		{"localhost:8080", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, DefaultAllowOrigins(tt.origin), tt.origin)
	}
}

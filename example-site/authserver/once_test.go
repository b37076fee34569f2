package authserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefreshFailureOnce checks that a failure set for one request is used
// up by the next refresh request, whatever its outcome, and that the
// refresh token it refused stays good.
func TestRefreshFailureOnce(t *testing.T) {
	s := New(Config{})
	_, refresh := login(t, s)

	s.SetRefreshFailureOnce(http.StatusUnauthorized)
	rec := refreshJSON(t, s, refresh)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "invalid_grant", jsonBody(t, rec)["error"])

	rec = refreshJSON(t, s, refresh)
	require.Equal(t, http.StatusOK, rec.Code, "the second refresh is answered normally, with the same token")
	refresh = jsonBody(t, rec)["refresh"].(string)
	rec = refreshJSON(t, s, refresh)
	require.Equal(t, http.StatusOK, rec.Code)
	refresh = jsonBody(t, rec)["refresh"].(string)

	c := s.Counters()
	assert.EqualValues(t, 3, c.RefreshRequests)
	assert.EqualValues(t, 2, c.Refreshes)
	assert.EqualValues(t, 1, c.RefreshFailures)
	assert.Zero(t, c.ReuseDetections)

	// A persistent failure set later is not undone by one request, nor is
	// one set after a one-time failure.
	s.SetRefreshFailureOnce(http.StatusServiceUnavailable)
	s.SetRefreshFailure(http.StatusInternalServerError)
	for range 2 {
		assert.Equal(t, http.StatusInternalServerError, refreshJSON(t, s, refresh).Code)
	}
	s.SetRefreshFailure(0)
	assert.Equal(t, http.StatusOK, refreshJSON(t, s, refresh).Code)
}

// TestRefreshDelayOnce checks that a delay set for one request delays only
// the next refresh request, also when its client gives up waiting, which
// leaves the refresh token unused.
func TestRefreshDelayOnce(t *testing.T) {
	s := New(Config{})
	_, refresh := login(t, s)

	s.SetRefreshDelayOnce(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/auth/refresh",
		strings.NewReader(`{"refresh":"`+refresh+`"}`))
	start := time.Now()
	s.ServeHTTP(httptest.NewRecorder(), req)
	assert.Less(t, time.Since(start), 5*time.Second, "the abandoned request stops waiting")

	start = time.Now()
	rec := refreshJSON(t, s, refresh)
	require.Equal(t, http.StatusOK, rec.Code, "the abandoned refresh left the token unused")
	assert.Less(t, time.Since(start), 5*time.Second, "the second request is not delayed")

	c := s.Counters()
	assert.EqualValues(t, 2, c.RefreshRequests)
	assert.EqualValues(t, 1, c.Refreshes)
	assert.EqualValues(t, 1, c.RefreshFailures)
	assert.Zero(t, c.ReuseDetections)

	s.SetRefreshDelayOnce(0)
	delay, failure := s.refreshSettings()
	assert.Zero(t, delay)
	assert.Zero(t, failure)
}

func TestDebugOnceEndpoints(t *testing.T) {
	s := New(Config{Debug: true})
	_, refresh := login(t, s)

	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/refresh-failure?status=401&once=1", "").Code)
	assert.Equal(t, http.StatusUnauthorized, refreshJSON(t, s, refresh).Code)
	rec := refreshJSON(t, s, refresh)
	require.Equal(t, http.StatusOK, rec.Code)
	refresh = jsonBody(t, rec)["refresh"].(string)

	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/refresh-delay?ms=60&once=true", "").Code)
	start := time.Now()
	rec = refreshJSON(t, s, refresh)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond, "the first refresh waits")
	refresh = jsonBody(t, rec)["refresh"].(string)
	delay, _ := s.refreshSettings()
	assert.Zero(t, delay, "and uses the delay up")

	// once=0 is the persistent setting; reset clears a pending one.
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/refresh-failure?status=503&once=0", "").Code)
	for range 2 {
		assert.Equal(t, http.StatusServiceUnavailable, refreshJSON(t, s, refresh).Code)
	}
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/refresh-failure?status=401&once=1", "").Code)
	require.Equal(t, http.StatusNoContent, do(t, s, http.MethodPost, "/debug/reset", "").Code)
	assert.Equal(t, http.StatusOK, refreshJSON(t, s, refresh).Code)

	for _, bad := range []string{"/debug/refresh-delay?ms=5&once=maybe", "/debug/refresh-failure?status=401&once=2"} {
		assert.Equal(t, http.StatusBadRequest, do(t, s, http.MethodPost, bad, "").Code, bad)
	}
}

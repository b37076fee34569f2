//go:build !js

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The scenario suite: one test per failure people hit with hand-written
// refresh interceptors (README, "Guarantees"), grouped in scenarios_*_test.go.
// This file has what the groups share: a site with extra endpoints that
// misbehave on purpose.

// scenarioSite is the demo API plus:
//
//	/record        an authenticated echo that records every attempt, 401s
//	               included: the body's hash and the Authorization header
//	/slow-me?ms=N  /api/me answered after N ms (a 401 that arrives late)
//	/flaky-refresh a refresh endpoint whose failure mode the test sets
//	/redirect?to=U a 307 to U (or ?code=N, a 30N)
//	/trace         answers the SHA-256 of the X-Trace and Authorization
//	               headers it received
type scenarioSite struct {
	*site
	mu       sync.Mutex
	attempts []attempt
	mode     string // flaky-refresh: "", "hang", "500", "nonjson", "notoken", "drop"
}

type attempt struct {
	Auth   string
	SHA256 string
	Len    int
	Status int
}

func newScenarioSite(t *testing.T, accessTTL time.Duration) *scenarioSite {
	t.Helper()
	ss := &scenarioSite{}
	ss.site = newSiteWith(t, accessTTL, map[string]http.Handler{
		"/record":        http.HandlerFunc(ss.record),
		"/slow-me":       http.HandlerFunc(ss.slowMe),
		"/flaky-refresh": http.HandlerFunc(ss.flakyRefresh),
		"/redirect":      http.HandlerFunc(redirect),
		"/trace":         http.HandlerFunc(trace),
	})
	return ss
}

// authorized asks the demo API whether the request's token is good.
func (ss *scenarioSite) authorized(r *http.Request) bool {
	probe := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	probe.Header.Set("Authorization", r.Header.Get("Authorization"))
	rec := httptest.NewRecorder()
	ss.Server.ServeHTTP(rec, probe)
	return rec.Code == http.StatusOK
}

func (ss *scenarioSite) record(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	a := attempt{Auth: r.Header.Get("Authorization"), SHA256: hex.EncodeToString(sum[:]), Len: len(body), Status: 200}
	if !ss.authorized(r) {
		a.Status = http.StatusUnauthorized
	}
	ss.mu.Lock()
	ss.attempts = append(ss.attempts, a)
	ss.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_ = json.NewEncoder(w).Encode(a)
}

func (ss *scenarioSite) recorded() []attempt {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]attempt(nil), ss.attempts...)
}

func (ss *scenarioSite) resetRecorded() {
	ss.mu.Lock()
	ss.attempts = nil
	ss.mu.Unlock()
}

func (ss *scenarioSite) slowMe(w http.ResponseWriter, r *http.Request) {
	ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawQuery, r2.RequestURI = "/api/me", "", ""
	ss.Server.ServeHTTP(w, r2)
}

func (ss *scenarioSite) setMode(m string) {
	ss.mu.Lock()
	ss.mode = m
	ss.mu.Unlock()
}

func (ss *scenarioSite) flakyRefresh(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	mode := ss.mode
	ss.mu.Unlock()
	switch mode {
	case "hang":
		// Read the body first: only then does the server watch the
		// connection and end the context when the client goes away.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	case "500":
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
	case "nonjson":
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>maintenance</html>")
	case "notoken":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	case "drop":
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "no hijack", http.StatusInternalServerError)
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			_ = conn.Close()
		}
	default:
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.RequestURI = "/auth/refresh", ""
		ss.Server.ServeHTTP(w, r2)
	}
}

// otherOrigin is a second server, on another port and so another origin,
// that echoes the Authorization header it received, with CORS for anyone.
func otherOrigin(t *testing.T) (url string, seen func() []string) {
	t.Helper()
	var mu sync.Mutex
	var auths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), auths...)
	}
}

// codes is the JavaScript that fires n requests made by call (an
// expression using i) at once and resolves with each one's status or error
// code.
func codes(n int, call string) string {
	return `Promise.all(Array.from({length: ` + strconv.Itoa(n) + `}, (_, i) => ` + call +
		`.then(r => String(r.status), e => e.code)))`
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func requireNoExceptions(t *testing.T, tb *tab) {
	t.Helper()
	_, thrown := tb.logs()
	require.Empty(t, thrown, "uncaught exceptions in the page")
}

// redirect answers /redirect?to=U[&code=N] with a redirect to U, 307 unless
// N says another.
func redirect(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.URL.Query().Get("code"))
	if err != nil || code < 300 || code > 399 {
		code = http.StatusTemporaryRedirect
	}
	http.Redirect(w, r, r.URL.Query().Get("to"), code)
}

// trace answers the SHA-256 of the token headers it received ("" for a
// missing header), so a test can tell which token arrived without the
// token itself going anywhere.
func trace(w http.ResponseWriter, r *http.Request) {
	hash := func(v string) string {
		if v == "" {
			return ""
		}
		return sha(v)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"xtrace": hash(r.Header.Get("X-Trace")),
		"auth":   hash(r.Header.Get("Authorization")),
	})
}

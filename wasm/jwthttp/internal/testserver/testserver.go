//go:build !js

// Package testserver is the server side of jwthttp's tests, natively and in
// the browser: the demo auth API of package authserver (with its /debug
// endpoints) twice, once with long-lived access tokens and once with
// short-lived ones, and a second origin that records what reaches it. All
// three answer CORS requests from http://localhost and http://127.0.0.1 on
// any port, the origin of a wasmbrowsertest page.
package testserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/jwtfetch/jwtfetch/example-site/authserver"
)

// ShortTTL is the access token lifetime of the Short server.
const ShortTTL = 2 * time.Second

// Servers are the test servers.
type Servers struct {
	// API is the demo auth API (access tokens live an hour) plus
	// /redirect?to=URL[&status=307], which answers a redirect to URL.
	API *httptest.Server
	// Short is the same with access tokens that live ShortTTL.
	Short *httptest.Server
	// Other is another origin, which must never see a token. It answers
	// every request with 200 {"ok":true} and records it; GET /seen
	// answers the record ({"requests":[{"method","path","authorization","xToken"}]}),
	// POST /forget clears it; /redirect works as on API.
	Other *httptest.Server
}

// Start starts the servers on loopback ports.
func Start() *Servers {
	return &Servers{
		API:   httptest.NewServer(apiHandler(time.Hour)),
		Short: httptest.NewServer(apiHandler(ShortTTL)),
		Other: httptest.NewServer(newRecorder()),
	}
}

// Close stops the servers.
func (s *Servers) Close() {
	s.API.Close()
	s.Short.Close()
	s.Other.Close()
}

func apiHandler(ttl time.Duration) http.Handler {
	api := authserver.New(authserver.Config{AccessTTL: ttl, Debug: true})
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("/redirect", withCORS(http.HandlerFunc(redirect)))
	return mux
}

// redirect answers a redirect to ?to= with ?status= (default 302).
func redirect(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	to, err := url.Parse(r.URL.Query().Get("to"))
	if err != nil || !to.IsAbs() {
		http.Error(w, "bad to", http.StatusBadRequest)
		return
	}
	status, _ := strconv.Atoi(r.URL.Query().Get("status"))
	if status == 0 {
		status = http.StatusFound
	}
	http.Redirect(w, r, to.String(), status)
}

// withCORS adds the CORS answer of authserver's allowed origins, and of
// "null": the origin of a request that a redirect has sent on to another
// origin.
func withCORS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o == "null" || (o != "" && authserver.DefaultAllowOrigins(o)) {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				w.Header().Set("Access-Control-Allow-Headers", req)
			}
			w.Header().Add("Vary", "Origin")
		}
		h.ServeHTTP(w, r)
	})
}

// Seen is a request the Other server received.
type Seen struct {
	Method        string `json:"method"`
	Path          string `json:"path"`
	Authorization string `json:"authorization"`
	XToken        string `json:"xToken"`
}

type recorder struct {
	mu   sync.Mutex
	seen []Seen
}

func newRecorder() http.Handler {
	rec := &recorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /seen", func(w http.ResponseWriter, _ *http.Request) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"requests": append([]Seen{}, rec.seen...)})
	})
	mux.HandleFunc("POST /forget", func(w http.ResponseWriter, _ *http.Request) {
		rec.mu.Lock()
		rec.seen = nil
		rec.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/redirect", redirect)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		rec.mu.Lock()
		rec.seen = append(rec.seen, Seen{Method: r.Method, Path: r.URL.Path,
			Authorization: r.Header.Get("Authorization"), XToken: r.Header.Get("X-Token")})
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	return withCORS(mux)
}

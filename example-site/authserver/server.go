// Package authserver is the demo authentication API behind the jwtfetch
// example site and its browser tests.
//
// It issues short-lived HS256 JWT access tokens and opaque, rotating refresh
// tokens, in the JSON body or, in cookie mode (cookie.go), as an HttpOnly
// cookie guarded by an XSRF cookie and header; it protects a few /api/*
// endpoints with them, offers unauthenticated /public/* helpers, and can
// serve the example site's static files. All state lives in memory. Test
// hooks (counters, revocation, slow or failing refreshes) are available as
// methods and, when Config.Debug is set, as /debug/* endpoints.
//
// It verifies DPoP proofs (RFC 9449, dpop.go): a login with a valid proof
// (header DPoP: an ES256 JWT with its public key) binds the session to that
// key. Its access tokens carry cnf.jkt and are accepted only as
// "Authorization: DPoP" with a proof of the same key, and its refresh
// tokens only with such a proof, so a stolen token is useless without the
// key; tokens of sessions without DPoP work as bearer tokens as before. In
// nonce mode (Config.DPoPNonce) proofs must also carry a nonce the server
// gave in its DPoP-Nonce header.
//
// The server never logs: tokens must not end up in logs.
package authserver

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults used for zero Config fields.
const (
	DefaultAccessTTL  = 20 * time.Second
	DefaultRefreshTTL = 24 * time.Hour
)

// Config configures a Server. The zero value is usable: every zero field
// takes its documented default.
type Config struct {
	// AccessTTL is the lifetime of access tokens; default 20s. Expiry is
	// enforced with millisecond precision, so sub-second and 1 s lifetimes
	// behave as expected.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of each refresh token; default 24h. Every
	// rotation issues a token with a fresh lifetime.
	RefreshTTL time.Duration
	// Secret is the HMAC key for signing access tokens; default 32 random
	// bytes, so tokens do not survive a restart.
	Secret []byte
	// Users maps user names to passwords; default {"demo": "demo123"}. The
	// map is copied.
	Users map[string]string
	// AllowOrigins reports whether a cross-origin request from origin may
	// read responses (CORS). Default: DefaultAllowOrigins.
	AllowOrigins func(origin string) bool
	// Debug enables the /debug/* endpoints.
	Debug bool
	// JSGlueDir, if set, is served at /jsglue/.
	JSGlueDir string
	// WebDir, if set, is served at /.
	WebDir string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// RecordIssued keeps every issued token pair in memory for Issued.
	// For tests only: the server otherwise keeps no token, only hashes.
	RecordIssued bool
	// DPoPNonce starts the server in DPoP nonce mode (SetDPoPNonce).
	DPoPNonce bool
}

// DefaultAllowOrigins allows http://localhost and http://127.0.0.1 origins
// on any port.
func DefaultAllowOrigins(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1":
		return true
	}
	return false
}

// Counters counts what the server did since it started or since the last
// ResetCounters. The JSON names are the ones /debug/counters answers with.
type Counters struct {
	Logins          int64 `json:"logins"`          // successful logins
	Refreshes       int64 `json:"refreshes"`       // successful refreshes
	RefreshFailures int64 `json:"refreshFailures"` // refreshes answered with an error, or abandoned by the client
	RefreshRequests int64 `json:"refreshRequests"` // refresh requests received (counted on arrival, before any delay)
	ReuseDetections int64 `json:"reuseDetections"` // already-used refresh tokens presented
	Unauthorized    int64 `json:"unauthorized"`    // /api/* requests rejected with 401
	Logouts         int64 `json:"logouts"`         // calls to /auth/logout
	APICalls        int64 `json:"apiCalls"`        // authorized /api/* requests
	// Cookie mode's counters are left out of the JSON while they are zero,
	// so that /debug/counters reads as before for the other modes.
	CookieRefreshes int64 `json:"cookieRefreshes,omitempty"` // of Refreshes, those made with the refresh cookie
	XSRFFailures    int64 `json:"xsrfFailures,omitempty"`    // cookie refreshes refused for a missing or wrong XSRF header
	// DPoP's counters, too, are left out while they are zero. Every
	// request refused because of DPoP counts once, in DPoPRejected or, if
	// only the nonce was missing or stale, in DPoPNonceChallenges.
	DPoPProofs          int64 `json:"dpopProofs,omitempty"`          // proofs accepted (login, refresh, /api/*)
	DPoPRejected        int64 `json:"dpopRejected,omitempty"`        // requests refused for their proof or for a token used with the wrong scheme (see DPoPRejections)
	DPoPNonceChallenges int64 `json:"dpopNonceChallenges,omitempty"` // requests answered use_dpop_nonce
}

// Server is the demo auth API. It implements http.Handler and is safe for
// concurrent use. Create it with New.
type Server struct {
	accessTTL   time.Duration
	refreshTTL  time.Duration
	secret      []byte
	users       map[string]string
	allowOrigin func(string) bool
	now         func() time.Time
	mux         *http.ServeMux

	mu             sync.Mutex
	counters       Counters
	refreshTokens  map[[32]byte]*refreshEntry // keyed by SHA-256 of the token
	families       map[string]*family
	generation     uint64 // access tokens of older generations are revoked
	refreshDelay   time.Duration
	refreshFailure int
	delayOnce      bool // refreshDelay applies to the next refresh request only
	failureOnce    bool // refreshFailure applies to the next refresh request only
	copyIat        bool
	lastPrune      time.Time
	recordIssued   bool
	issued         []Issued // with Config.RecordIssued
	dpop           dpopState
}

// New returns a Server configured by cfg, with defaults for zero fields.
func New(cfg Config) *Server {
	s := &Server{
		accessTTL:     cfg.AccessTTL,
		refreshTTL:    cfg.RefreshTTL,
		allowOrigin:   cfg.AllowOrigins,
		now:           cfg.Now,
		recordIssued:  cfg.RecordIssued,
		refreshTokens: make(map[[32]byte]*refreshEntry),
		families:      make(map[string]*family),
		dpop:          newDPoPState(cfg.DPoPNonce),
	}
	if s.accessTTL <= 0 {
		s.accessTTL = DefaultAccessTTL
	}
	if s.refreshTTL <= 0 {
		s.refreshTTL = DefaultRefreshTTL
	}
	if len(cfg.Secret) > 0 {
		s.secret = append([]byte(nil), cfg.Secret...)
	} else {
		s.secret = make([]byte, 32)
		_, _ = rand.Read(s.secret) // never fails since Go 1.24
	}
	if cfg.Users != nil {
		s.users = make(map[string]string, len(cfg.Users))
		for u, p := range cfg.Users {
			s.users[u] = p
		}
	} else {
		s.users = map[string]string{"demo": "demo123"}
	}
	if s.allowOrigin == nil {
		s.allowOrigin = DefaultAllowOrigins
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.mux = s.routes(cfg)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 200 {
		w.Header().Set("X-Request-Id", id)
	}
	// The Date header comes from the server's own clock, so a server
	// whose clock is off (Config.Now) says so consistently.
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	if len(r.Header.Values(DPoPHeader)) > 0 {
		if n := s.dpopNonce(); n != "" {
			w.Header().Set(DPoPNonceHeader, n)
		}
	}
	if s.cors(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Counters returns a snapshot of the counters.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}

// ResetCounters sets all counters to zero, DPoPRejections and DPoPKeys
// included.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters = Counters{}
	s.dpop.resetCounts()
}

// RevokeAccessTokens makes every access token issued so far fail with 401.
// Refresh tokens keep working, so clients recover by refreshing.
func (s *Server) RevokeAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.generation++
}

// SetRefreshDelay makes /auth/refresh wait d before answering; 0 disables
// the delay. A request whose context ends while waiting is abandoned without
// touching its refresh token.
func (s *Server) SetRefreshDelay(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshDelay, s.delayOnce = d, false
}

// SetRefreshDelayOnce is SetRefreshDelay for the next refresh request only;
// the one after it is answered at once again. A demo page uses it to show a
// refresh that hangs without leaving the server hanging for later clicks.
func (s *Server) SetRefreshDelayOnce(d time.Duration) {
	s.SetRefreshDelay(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delayOnce = s.refreshDelay > 0
}

// SetRefreshFailure makes /auth/refresh answer status with a JSON error body
// instead of refreshing; 0 restores normal refreshes. Statuses outside
// 200..599 are treated as 500.
func (s *Server) SetRefreshFailure(status int) {
	if status != 0 && (status < 200 || status > 599) {
		status = http.StatusInternalServerError
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshFailure, s.failureOnce = status, false
}

// SetRefreshFailureOnce is SetRefreshFailure for the next refresh request
// only; later ones refresh normally again.
func (s *Server) SetRefreshFailureOnce(status int) {
	s.SetRefreshFailure(status)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failureOnce = s.refreshFailure != 0
}

// SetCopyIssuedAt makes every access token carry the iat of its session's
// login instead of its own, as some real back ends do: a client that
// trusts exp-iat then thinks refreshed tokens live longer than they do.
func (s *Server) SetCopyIssuedAt(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.copyIat = on
}

func (s *Server) refreshSettings() (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshDelay, s.refreshFailure
}

// takeRefreshSettings is refreshSettings for a refresh request that is
// about to be answered: a delay or failure set for one request only is
// used up.
func (s *Server) takeRefreshSettings() (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delay, failure := s.refreshDelay, s.refreshFailure
	if s.delayOnce {
		s.refreshDelay, s.delayOnce = 0, false
	}
	if s.failureOnce {
		s.refreshFailure, s.failureOnce = 0, false
	}
	return delay, failure
}

// routes builds the request router.
func (s *Server) routes(cfg Config) *http.ServeMux {
	mux := http.NewServeMux()

	mux.HandleFunc("/auth/login", only(s.handleLogin, http.MethodPost))
	mux.HandleFunc("/auth/refresh", only(s.handleRefresh, http.MethodPost))
	mux.HandleFunc("/auth/logout", only(s.handleLogout, http.MethodPost))

	mux.HandleFunc("/api/me", only(s.authed(s.handleMe), http.MethodGet, http.MethodHead))
	mux.HandleFunc("/api/echo", s.authed(s.handleEcho))
	mux.HandleFunc("/api/status/{code}", s.authed(s.handleStatus))
	mux.HandleFunc("/api/", s.authed(func(w http.ResponseWriter, _ *http.Request, _ principal) {
		writeError(w, http.StatusNotFound, "not_found")
	}))

	mux.HandleFunc("/public/echo", func(w http.ResponseWriter, r *http.Request) { s.handleEcho(w, r, principal{}) })
	mux.HandleFunc("/public/text", only(handleText, http.MethodGet, http.MethodHead))
	mux.HandleFunc("/public/slow", handleSlow)

	if cfg.Debug {
		mux.HandleFunc("/debug/counters", only(s.handleDebugCounters, http.MethodGet, http.MethodHead))
		mux.HandleFunc("/debug/reset", only(s.handleDebugReset, http.MethodPost))
		mux.HandleFunc("/debug/revoke-access", only(s.handleDebugRevokeAccess, http.MethodPost))
		mux.HandleFunc("/debug/refresh-delay", only(s.handleDebugRefreshDelay, http.MethodPost))
		mux.HandleFunc("/debug/refresh-failure", only(s.handleDebugRefreshFailure, http.MethodPost))
		mux.HandleFunc("/debug/copy-iat", only(s.handleDebugCopyIat, http.MethodPost))
		mux.HandleFunc("/debug/dpop-nonce", only(s.handleDebugDPoPNonce, http.MethodPost))
		mux.HandleFunc("/debug/", func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusNotFound, "not_found")
		})
	}

	if cfg.JSGlueDir != "" {
		mux.Handle("/jsglue/", staticDir{prefix: "/jsglue/", dir: cfg.JSGlueDir})
	}
	if cfg.WebDir != "" {
		mux.Handle("/", staticDir{prefix: "/", dir: cfg.WebDir})
	}
	return mux
}

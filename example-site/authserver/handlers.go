package authserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	maxAuthBody    = 64 << 10 // bodies of /auth/* requests
	maxEchoBody    = 8 << 20  // bodies of echo requests
	echoBodyPrefix = 4 << 10  // how much of an echoed body is returned
	maxSleep       = 2 * time.Minute
)

// echoedHeaders are the request headers the echo endpoints report.
var echoedHeaders = []string{"authorization", "content-type", "x-test", "x-request-id", "x-xsrf-token"}

// writeJSON answers status with v as JSON. Answers are never cached: some
// carry tokens (RFC 6749 section 5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers status with {"error": code}.
func writeError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

// only restricts h to the given methods, answering others with 405.
func only(h http.HandlerFunc, methods ...string) http.HandlerFunc {
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		for _, m := range methods {
			if r.Method == m {
				h(w, r)
				return
			}
		}
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed")
	}
}

// authed runs h only for requests with a valid access token and answers
// the others 401 invalid_token (RFC 6750 section 3), or, for DPoP, 401 with
// a DPoP challenge (RFC 9449 section 7.1).
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authorize(r)
		var pe *proofError
		switch {
		case errors.As(err, &pe):
			s.resourceError(w, pe)
		case err != nil:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid_token")
		default:
			h(w, r, p)
		}
	}
}

// isForm reports whether r has an application/x-www-form-urlencoded body.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// readBody reads a JSON object or form body into fields. An empty JSON body
// yields no fields and no error.
func readBody(w http.ResponseWriter, r *http.Request, fields map[string]*string) (form bool, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthBody)
	if isForm(r) {
		if err := r.ParseForm(); err != nil {
			return true, err
		}
		for name, dst := range fields {
			*dst = r.PostForm.Get(name)
		}
		return true, nil
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return false, err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return false, nil
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return false, err
	}
	for name, dst := range fields {
		if v, ok := m[name].(string); ok {
			*dst = v
		}
	}
	return false, nil
}

// checkPassword compares credentials in constant time.
func (s *Server) checkPassword(user, password string) bool {
	want, ok := s.users[user]
	a, b := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && ok && user != ""
}

// handleLogin checks a user's password and starts a session. Its answer
// carries both tokens, or, with "mode": "cookie", only the access token,
// the refresh token going into the HttpOnly refresh cookie (see cookie.go).
//
// A login with a DPoP proof starts a session bound to the proof's key, and
// its answer says "token_type": "DPoP"; a bad proof is answered 400
// invalid_dpop_proof, and in nonce mode one without the nonce 400
// use_dpop_nonce, whatever the credentials.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var user, password, mode string
	if _, err := readBody(w, r, map[string]*string{"username": &user, "password": &password, "mode": &mode}); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if mode != "" && mode != "cookie" && mode != "json" {
		writeError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	proof, proofErr := s.parseProof(r, "")
	now := s.now()
	s.mu.Lock()
	if proofErr == nil {
		proofErr = s.checkProofLocked(proof, "", now)
	}
	s.countProofLocked(proof, proofErr)
	s.mu.Unlock()
	var pe *proofError
	if errors.As(proofErr, &pe) {
		s.tokenEndpointError(w, pe)
		return
	}
	if !s.checkPassword(user, password) {
		writeError(w, http.StatusUnauthorized, "invalid_credentials")
		return
	}
	s.mu.Lock()
	s.pruneLocked(now)
	id := randomString(16)
	fam := &family{user: user}
	if proof != nil {
		fam.jkt = proof.jkt
	}
	s.families[id] = fam
	pair, err := s.issueLocked(id, fam, now)
	if err == nil {
		s.counters.Logins++
	}
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "server_error")
		return
	}
	answer := map[string]any{
		"access":     pair.access,
		"refresh":    pair.refresh,
		"expires_in": pair.expiresIn,
	}
	if pair.bound() {
		answer["token_type"] = pair.tokenType
	}
	if mode == "cookie" {
		s.setSessionCookies(w, r, pair.refresh, randomString(24))
		delete(answer, "refresh")
	}
	writeJSON(w, http.StatusOK, answer)
}

// sleep waits d or until ctx is done, reporting whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// injectedError is the error code answered for a status set with
// SetRefreshFailure: a refusal for client errors, a server error otherwise.
func injectedError(status int) string {
	switch {
	case status == http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	case status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
		return "invalid_grant"
	default:
		return "server_error"
	}
}

// handleRefresh rotates a refresh token. JSON requests ({"refresh": ...})
// get {"access","refresh","expires_in"}; form requests (RFC 6749 section 6)
// get the OAuth 2 token response, and 400 rather than 401 for invalid_grant.
//
// A request whose body has no refresh token uses the refresh cookie's
// (cookie mode), if its XSRF header repeats the XSRF cookie (else 403
// xsrf_failed, and the token is not used); the rotated token goes back as
// the new cookie and the answer carries none. A failed cookie refresh leaves
// the cookies alone: the answer may be a late one, racing a logout and a
// new login whose cookie it must not delete.
//
// A DPoP-bound session is refreshed only with a proof made with its key
// (without ath); else the answer is 400 invalid_dpop_proof, or in nonce
// mode 400 use_dpop_nonce, and the token stays as it was (see rotateLocked).
// Answers with bound tokens say "token_type": "DPoP".
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	var token, refreshToken, grantType string
	form, parseErr := readBody(w, r, map[string]*string{
		"refresh": &token, "refresh_token": &refreshToken, "grant_type": &grantType,
	})
	if form {
		token = refreshToken
	}
	byCookie := false
	if token == "" && parseErr == nil {
		if c := cookieValue(r, RefreshCookie); c != "" {
			token, byCookie = c, true
		}
	}

	fail := func(status int, code string) {
		s.mu.Lock()
		s.counters.RefreshFailures++
		s.mu.Unlock()
		if status != 0 {
			writeError(w, status, code)
		}
	}

	s.mu.Lock()
	s.counters.RefreshRequests++
	s.mu.Unlock()
	delay, failure := s.takeRefreshSettings()
	if !sleep(r.Context(), delay) {
		fail(0, "") // the client is gone; its refresh token stays valid
		return
	}
	switch {
	case parseErr != nil:
		fail(http.StatusBadRequest, "invalid_request")
		return
	case byCookie && !validXSRF(r):
		s.mu.Lock()
		s.counters.XSRFFailures++
		s.mu.Unlock()
		fail(http.StatusForbidden, "xsrf_failed")
		return
	case failure != 0:
		fail(failure, injectedError(failure))
		return
	case form && grantType != "refresh_token":
		fail(http.StatusBadRequest, "unsupported_grant_type")
		return
	case token == "":
		fail(http.StatusBadRequest, "invalid_request")
		return
	}
	proof, err := s.parseProof(r, "")
	var pe *proofError
	if errors.As(err, &pe) {
		s.mu.Lock()
		s.countProofLocked(nil, pe)
		s.counters.RefreshFailures++
		s.mu.Unlock()
		s.tokenEndpointError(w, pe)
		return
	}

	now := s.now()
	s.mu.Lock()
	s.pruneLocked(now)
	pair, err := s.rotateLocked(token, proof, now)
	if err == nil {
		s.counters.Refreshes++
		if byCookie {
			s.counters.CookieRefreshes++
		}
	} else {
		s.counters.RefreshFailures++
	}
	s.mu.Unlock()

	if err == nil && byCookie {
		s.setSessionCookies(w, r, pair.refresh, cookieValue(r, XSRFCookie))
	}
	switch {
	case errors.As(err, &pe):
		s.tokenEndpointError(w, pe)
	case errors.Is(err, errInvalidGrant) && form:
		writeError(w, http.StatusBadRequest, "invalid_grant")
	case errors.Is(err, errInvalidGrant):
		writeError(w, http.StatusUnauthorized, "invalid_grant")
	case err != nil:
		writeError(w, http.StatusInternalServerError, "server_error")
	case form:
		answer := map[string]any{
			"access_token":  pair.access,
			"refresh_token": pair.refresh,
			"token_type":    pair.tokenType,
			"expires_in":    pair.expiresIn,
		}
		if byCookie {
			delete(answer, "refresh_token")
		}
		writeJSON(w, http.StatusOK, answer)
	default:
		answer := map[string]any{
			"access":     pair.access,
			"refresh":    pair.refresh,
			"expires_in": pair.expiresIn,
		}
		if pair.bound() {
			answer["token_type"] = pair.tokenType
		}
		if byCookie {
			delete(answer, "refresh")
		}
		writeJSON(w, http.StatusOK, answer)
	}
}

// handleLogout ends the session of the refresh token in the body
// ({"refresh": ...}, or form refresh / refresh_token), or else of the
// access token (Bearer or DPoP scheme), and the session of the refresh
// cookie; when the request had the cookie mode's cookies, it deletes them.
// It always answers 204. It asks for no XSRF header: a forged logout can
// only end a session, and SameSite=Strict keeps the cookie from other
// sites' requests anyway. For the same reason it checks no DPoP proof: a
// client must be able to log out whatever state its key or nonce is in.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	var token, refreshToken string
	_, _ = readBody(w, r, map[string]*string{"refresh": &token, "refresh_token": &refreshToken})
	if token == "" {
		token = refreshToken
	}
	cookie := cookieValue(r, RefreshCookie)
	var session string
	if token == "" && cookie == "" {
		_, access := authorization(r.Header.Get("Authorization"))
		if claims, err := s.parseAccess(access); err == nil {
			session = claims.Session
		}
	}
	s.mu.Lock()
	sessions := []string{session}
	for _, t := range []string{token, cookie} {
		if e := s.refreshTokens[hashToken(t)]; t != "" && e != nil {
			sessions = append(sessions, e.family)
		}
	}
	for _, id := range sessions {
		if fam := s.families[id]; fam != nil {
			fam.revoked = true
		}
	}
	s.counters.Logouts++
	s.mu.Unlock()
	if cookie != "" || cookieValue(r, XSRFCookie) != "" {
		clearSessionCookies(w, r)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, _ *http.Request, p principal) {
	writeJSON(w, http.StatusOK, map[string]any{
		"user":  p.user,
		"sub":   p.user,
		"exp":   p.expires.Unix(),
		"calls": p.calls,
	})
}

// prefixWriter keeps the first n bytes written to it.
type prefixWriter struct {
	buf []byte
	n   int
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if room := p.n - len(p.buf); room > 0 {
		p.buf = append(p.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

// handleEcho describes the request: method, path, query, a few headers and
// the body; and "dpop": true when it had a DPoP header, whose value it does
// not repeat (the field is left out otherwise, as it was before DPoP).
func (s *Server) handleEcho(w http.ResponseWriter, r *http.Request, _ principal) {
	hash := sha256.New()
	prefix := &prefixWriter{n: echoBodyPrefix}
	n, err := io.Copy(io.MultiWriter(hash, prefix), http.MaxBytesReader(w, r.Body, maxEchoBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large")
		} else {
			writeError(w, http.StatusBadRequest, "invalid_request")
		}
		return
	}
	headers := map[string]string{}
	for _, name := range echoedHeaders {
		if v := r.Header.Values(name); len(v) > 0 {
			headers[name] = strings.Join(v, ", ")
		}
	}
	answer := map[string]any{
		"method":     r.Method,
		"path":       r.URL.Path,
		"query":      r.URL.RawQuery,
		"headers":    headers,
		"bodySha256": hex.EncodeToString(hash.Sum(nil)),
		"bodyLen":    n,
		"body":       string(prefix.buf),
	}
	if len(r.Header.Values(DPoPHeader)) > 0 {
		answer["dpop"] = true
	}
	writeJSON(w, http.StatusOK, answer)
}

// handleStatus answers the status code in the path, 200..599.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, _ principal) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 200 || code > 599 {
		writeError(w, http.StatusBadRequest, "invalid_status")
		return
	}
	if code == http.StatusNoContent || code == http.StatusNotModified {
		w.WriteHeader(code)
		return
	}
	writeJSON(w, code, map[string]int{"status": code})
}

func handleText(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "hello")
}

// handleSlow waits ?ms=N milliseconds, then answers {"slept": N}.
func handleSlow(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || ms > int(maxSleep/time.Millisecond) {
		writeError(w, http.StatusBadRequest, "invalid_ms")
		return
	}
	if !sleep(r.Context(), time.Duration(ms)*time.Millisecond) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"slept": ms})
}

func (s *Server) handleDebugCounters(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Counters())
}

// handleDebugReset zeroes the counters, clears the refresh delay and
// failure and copied iat, and puts DPoP nonce mode back as configured.
func (s *Server) handleDebugReset(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.counters = Counters{}
	s.dpop.resetCounts()
	s.refreshDelay, s.delayOnce = 0, false
	s.refreshFailure, s.failureOnce = 0, false
	s.copyIat = false
	s.dpop.setNonceMode(s.dpop.nonceDefault)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDebugRevokeAccess(w http.ResponseWriter, _ *http.Request) {
	s.RevokeAccessTokens()
	w.WriteHeader(http.StatusNoContent)
}

// debugOnce reads the optional ?once=1 of the refresh-delay and
// refresh-failure endpoints: the setting then applies to the next refresh
// request only.
func debugOnce(w http.ResponseWriter, r *http.Request) (once, ok bool) {
	return debugFlag(w, r, "once")
}

// debugFlag reads the optional boolean query parameter name, false when
// absent, answering 400 invalid_<name> when it is not a boolean.
func debugFlag(w http.ResponseWriter, r *http.Request, name string) (v, ok bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, true
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_"+name)
		return false, false
	}
	return v, true
}

// handleDebugRefreshDelay sets SetRefreshDelay: ?ms=N, and with &once=1
// SetRefreshDelayOnce.
func (s *Server) handleDebugRefreshDelay(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || ms > int(maxSleep/time.Millisecond) {
		writeError(w, http.StatusBadRequest, "invalid_ms")
		return
	}
	once, ok := debugOnce(w, r)
	if !ok {
		return
	}
	if once {
		s.SetRefreshDelayOnce(time.Duration(ms) * time.Millisecond)
	} else {
		s.SetRefreshDelay(time.Duration(ms) * time.Millisecond)
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleDebugRefreshFailure sets SetRefreshFailure: ?status=N, and with
// &once=1 SetRefreshFailureOnce.
func (s *Server) handleDebugRefreshFailure(w http.ResponseWriter, r *http.Request) {
	status, err := strconv.Atoi(r.URL.Query().Get("status"))
	if err != nil || (status != 0 && (status < 200 || status > 599)) {
		writeError(w, http.StatusBadRequest, "invalid_status")
		return
	}
	once, ok := debugOnce(w, r)
	if !ok {
		return
	}
	if once {
		s.SetRefreshFailureOnce(status)
	} else {
		s.SetRefreshFailure(status)
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleDebugCopyIat switches SetCopyIssuedAt: ?on=1 or ?on=0.
func (s *Server) handleDebugCopyIat(w http.ResponseWriter, r *http.Request) {
	on, err := strconv.ParseBool(r.URL.Query().Get("on"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_on")
		return
	}
	s.SetCopyIssuedAt(on)
	w.WriteHeader(http.StatusNoContent)
}

// handleDebugDPoPNonce switches DPoP nonce mode, SetDPoPNonce: ?on=1 or
// ?on=0; with &rotate=1 it also makes a new nonce (RotateDPoPNonce).
func (s *Server) handleDebugDPoPNonce(w http.ResponseWriter, r *http.Request) {
	on, err := strconv.ParseBool(r.URL.Query().Get("on"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_on")
		return
	}
	rotate, ok := debugFlag(w, r, "rotate")
	if !ok {
		return
	}
	s.SetDPoPNonce(on)
	if rotate {
		s.RotateDPoPNonce()
	}
	w.WriteHeader(http.StatusNoContent)
}

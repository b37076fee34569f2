package authserver

// Cookie mode: the refresh token travels in an HttpOnly cookie that no
// script can read, and a readable XSRF cookie guards the endpoints that use
// it (the double-submit pattern axios implements on the client side:
// https://owasp.org/www-community/attacks/csrf).
//
// A login with "mode": "cookie" answers only the access token and sets both
// cookies. A refresh without a refresh token in its body takes the cookie's,
// provided the X-XSRF-TOKEN header equals the XSRF-TOKEN cookie, and sets
// the rotated token as the new cookie. A logout with the cookie revokes its
// session and deletes both cookies. Rotation and reuse detection are the
// same as for tokens sent in the body: one family per login.

import (
	"crypto/subtle"
	"net/http"
	"time"
)

// Names of cookie mode's cookies and header.
const (
	// RefreshCookie holds the refresh token: HttpOnly, SameSite=Strict,
	// Path=RefreshCookiePath, Secure over TLS.
	RefreshCookie = "jwtfetch_refresh"
	// RefreshCookiePath is the refresh cookie's path: the browser sends it
	// to /auth/refresh and /auth/logout and to nothing else.
	RefreshCookiePath = "/auth"
	// XSRFCookie is the readable CSRF cookie (Path=/, not HttpOnly), the
	// name axios and jwtfetch read by default.
	XSRFCookie = "XSRF-TOKEN"
	// XSRFHeader must repeat the XSRFCookie's value on a cookie refresh.
	XSRFHeader = "X-XSRF-TOKEN"
)

// cookieValue returns the value of r's cookie name, "" when there is none.
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// validXSRF reports whether r's XSRF header repeats its XSRF cookie. A page
// of another site can make the browser send the cookies, but it cannot read
// the XSRF cookie to put its value in the header.
func validXSRF(r *http.Request) bool {
	cookie, header := cookieValue(r, XSRFCookie), r.Header.Get(XSRFHeader)
	return cookie != "" && subtle.ConstantTimeCompare([]byte(cookie), []byte(header)) == 1
}

// setSessionCookies sets the refresh cookie to refresh and the XSRF cookie
// to xsrf, both for the refresh token's lifetime. They are Secure when the
// request came over TLS: a browser drops a Secure cookie set over plain
// http:// (and the demo runs on http://localhost).
func (s *Server) setSessionCookies(w http.ResponseWriter, r *http.Request, refresh, xsrf string) {
	maxAge := int(s.refreshTTL / time.Second)
	http.SetCookie(w, &http.Cookie{
		Name:     RefreshCookie,
		Value:    refresh,
		Path:     RefreshCookiePath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
	http.SetCookie(w, &http.Cookie{
		Name:     XSRFCookie,
		Value:    xsrf,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// clearSessionCookies deletes both cookies: the same name, path and
// attributes, with Max-Age=0.
func clearSessionCookies(w http.ResponseWriter, r *http.Request) {
	for _, c := range []*http.Cookie{
		{Name: RefreshCookie, Path: RefreshCookiePath, HttpOnly: true},
		{Name: XSRFCookie, Path: "/"},
	} {
		c.MaxAge = -1 // net/http writes Max-Age=0
		c.Secure = r.TLS != nil
		c.SameSite = http.SameSiteStrictMode
		http.SetCookie(w, c)
	}
}

// Issued is a token pair the server issued, as Server.Issued reports it.
type Issued struct {
	Access, Refresh string
	Session         string // the login session (refresh token family)
}

// Issued returns every token pair issued so far, oldest first, when
// Config.RecordIssued is set; else nil. Tests use it to look for the
// tokens where they must not be (browser storage, logs); it is never
// reachable over HTTP.
func (s *Server) Issued() []Issued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Issued(nil), s.issued...)
}

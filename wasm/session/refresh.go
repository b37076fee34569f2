package session

import (
	"strconv"
)

// Refresher exchanges a refresh token for new tokens. The Client calls it at
// most once at a time and bounds it with RefreshTimeout, whether or not the
// implementation honours ctx.
type Refresher interface {
	Refresh(ctx Ctx, refreshToken string) (Grant, error)
}

// Grant is what a refresh returns: the new access token, a rotated refresh
// token ("" keeps the current one) and, for access tokens that are not JWTs,
// the seconds until it expires (0 when unknown).
type Grant struct {
	Access, Refresh string
	ExpiresIn       float64
	// ServerTime is the server's clock when it answered (the Date header
	// of the refresh response) in Unix milliseconds; 0 when unknown. It
	// places a JWT's exp on the local clock without trusting iat, which
	// some servers do not set honestly.
	ServerTime int64
}

// Reply is the answer to a refresh request.
type Reply struct {
	Status int
	Body   string
	// Date is the response's Date header in Unix milliseconds, 0 when it
	// is absent or cannot be read (cross-origin without
	// Access-Control-Expose-Headers: Date).
	Date int64
	// Redirected reports that the endpoint answered with a redirect, which
	// was not followed.
	Redirected bool
	// Nonce is the response's DPoP-Nonce header ("" when absent).
	Nonce string
}

// Poster sends one refresh request. It never follows a redirect (a POST
// turned into a GET, or a refresh token re-sent elsewhere): it reports it
// as Reply.Redirected. It returns an error only when there is no response
// (network failure or ctx done). A proof that is not empty is sent as the
// DPoP header.
type Poster interface {
	Post(ctx Ctx, url, contentType, body, proof string) (Reply, error)
}

// Prover makes the DPoP proofs of refresh requests (see DPoP).
type Prover interface {
	// Prove returns the proof for one request of method to url carrying
	// the access token ("" for none), and the nonce the proof carries.
	Prove(ctx Ctx, method, url, token string) (proof, nonce string, err error)
	// Remember keeps a response's DPoP-Nonce for the next proofs to url's
	// origin and reports whether it changed.
	Remember(url, nonce string) bool
}

// Refresh styles for HTTPRefresher.Style.
const (
	StyleJSON   = "json"   // POST {"refresh": token}
	StyleOAuth2 = "oauth2" // POST grant_type=refresh_token form, RFC 6749 section 6
)

// HTTPRefresher refreshes by POSTing to an endpoint.
type HTTPRefresher struct {
	Poster   Poster
	URL      string
	Style    string // StyleJSON (default) or StyleOAuth2
	ClientID string // sent with StyleOAuth2 when not empty
	// Cookie is cookie mode: the refresh token is an HttpOnly cookie the
	// browser sends, so the body carries none ({} or a grant_type form),
	// and a refresh token in the answer is ignored: it is kept nowhere.
	Cookie bool
	// DPoP, when set, signs each refresh request with a DPoP proof, and
	// one answered with a nonce challenge (400 use_dpop_nonce and a new
	// DPoP-Nonce) is sent once more with a proof carrying that nonce.
	DPoP Prover
}

// Refresh implements Refresher.
func (h *HTTPRefresher) Refresh(ctx Ctx, refreshToken string) (Grant, error) {
	contentType, body := "application/json", `{"refresh":`+quote(refreshToken)+`}`
	if h.Cookie {
		body = "{}"
	}
	if h.Style == StyleOAuth2 {
		contentType = "application/x-www-form-urlencoded"
		body = "grant_type=refresh_token"
		if !h.Cookie {
			body += "&refresh_token=" + formEscape(refreshToken)
		}
		if h.ClientID != "" {
			body += "&client_id=" + formEscape(h.ClientID)
		}
	}
	r, err := h.post(ctx, contentType, body, true)
	if err != nil {
		return Grant{}, err
	}
	what := "POST " + h.URL
	if r.Redirected {
		return Grant{}, &Error{Code: CodeBadResponse, Message: "refresh failed: " + what +
			" answered with a redirect, which is not followed; set refreshURL to the final URL (a missing trailing slash?). The session is kept"}
	}
	g, err := readGrant(what, r.Status, r.Body)
	g.ServerTime = r.Date
	if h.Cookie {
		g.Refresh = ""
	}
	return g, err
}

// post sends the refresh request, with a DPoP proof when h.DPoP is set;
// again, once, when first is set and the answer is a nonce challenge.
func (h *HTTPRefresher) post(ctx Ctx, contentType, body string, first bool) (Reply, error) {
	proof, used := "", ""
	if h.DPoP != nil {
		var err error
		if proof, used, err = h.DPoP.Prove(ctx, "POST", h.URL, ""); err != nil {
			if ctx.Err() != nil {
				return Reply{}, contextError(ctx, "refresh")
			}
			if e := AsError(err); e != nil {
				return Reply{}, e
			}
			return Reply{}, &Error{Code: CodeNetwork, Message: "refresh failed: no DPoP proof could be made", Err: err}
		}
	}
	r, err := h.Poster.Post(ctx, h.URL, contentType, body, proof)
	if err != nil {
		if ctx.Err() != nil {
			return Reply{}, contextError(ctx, "refresh")
		}
		return Reply{}, &Error{Code: CodeNetwork, Message: "refresh failed: network error", Err: err}
	}
	if h.DPoP != nil && r.Nonce != "" {
		h.DPoP.Remember(h.URL, r.Nonce)
		if first && r.Nonce != used && refreshNonceError(r.Status, r.Body) {
			return h.post(ctx, contentType, body, false)
		}
	}
	return r, nil
}

// ReadGrant interprets a refresh endpoint's answer. 400, 401 and 403 are a
// refusal (CodeAuthExpired, see Refusal); other failures are
// CodeBadResponse. The body is read leniently: the access token from
// access, access_token, accessToken or token; the rotated refresh token from
// refresh, refresh_token or refreshToken (absent means keep the old one,
// which the Client does); expires_in as a number or a string of digits.
// Error messages never include the body, which may hold tokens.
func ReadGrant(status int, body string) (Grant, error) {
	return readGrant("the refresh endpoint", status, body)
}

// readGrant is ReadGrant with what naming the endpoint in messages.
func readGrant(what string, status int, body string) (Grant, error) {
	if status < 200 || status > 299 {
		return Grant{}, StatusError(what, status)
	}
	answered := "refresh failed: " + what + " answered " + strconv.Itoa(status)
	m, err := parseObject(body)
	if err != nil {
		return Grant{}, &Error{Code: CodeBadResponse, Status: status, Message: answered + " with a body that is not a JSON object"}
	}
	g := Grant{
		Access:  firstString(m, "access", "access_token", "accessToken", "token"),
		Refresh: firstString(m, "refresh", "refresh_token", "refreshToken"),
	}
	if g.Access == "" {
		return Grant{}, &Error{Code: CodeBadResponse, Status: status, Message: answered + " without an access token"}
	}
	if v := m["expires_in"]; v.isNum {
		g.ExpiresIn = v.num
	} else if v.isStr {
		g.ExpiresIn = parseSeconds(v.str)
	}
	return g, nil
}

// ReadRefreshResponse is ReadGrant followed by NewTokens at now (Unix
// milliseconds).
func ReadRefreshResponse(status int, body string, now int64) (Tokens, error) {
	g, err := ReadGrant(status, body)
	if err != nil {
		return Tokens{}, err
	}
	return grantTokens(g, now), nil
}

func firstString(m map[string]jsonValue, names ...string) string {
	for _, n := range names {
		if v := m[n]; v.isStr && v.str != "" {
			return v.str
		}
	}
	return ""
}

// parseSeconds reads a non-negative integer number of seconds; some servers
// send expires_in as a string.
func parseSeconds(s string) float64 {
	if s == "" || len(s) > 10 {
		return 0
	}
	var n float64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + float64(c-'0')
	}
	return n
}

// formEscape encodes s for application/x-www-form-urlencoded, as
// URLSearchParams does (space becomes '+').
func formEscape(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s))
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '*':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&0xf])
		}
	}
	return string(b)
}

package jwthttp

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// Config configures a Transport. It carries the auth options of the
// JavaScript package with Go names and types; the zero value of a field
// means its default.
type Config struct {
	// RefreshURL is the endpoint that exchanges a refresh token for new
	// tokens. In the browser it may be relative to the page. Without
	// RefreshURL and Refresh nothing is refreshed: a 401 is returned as it
	// is.
	RefreshURL string
	// RefreshStyle is how the refresh request is made: StyleJSON (the
	// default) POSTs {"refresh": token}, StyleOAuth2 POSTs the form
	// grant_type=refresh_token&refresh_token=…[&client_id=…] of RFC 6749
	// section 6.
	RefreshStyle string
	// ClientID is sent with StyleOAuth2 when it is not empty.
	ClientID string
	// Refresh, when set, gets new tokens instead of a request to
	// RefreshURL. It refuses the refresh token, which ends the session,
	// by returning an error that wraps ErrRefused; any other error is a
	// failed refresh that keeps the session. Its ctx ends after
	// RefreshTimeout.
	Refresh func(ctx context.Context, refreshToken string) (Grant, error)
	// RefreshOn lists the response statuses that mean "access token no
	// longer good"; nil means 401 only.
	RefreshOn []int
	// RefreshOnNetworkError also treats a network error of a request that
	// carried the token as a refused token. It is for servers whose 401s
	// lack CORS headers, which browsers turn into network errors.
	RefreshOnNetworkError bool
	// Leeway is how long before the access token's exp (a JWT claim, or
	// the login's expires_in) a request refreshes first instead of sending
	// a doomed token; 0 means 30 s, a negative value none. It is capped at
	// half the token's lifetime.
	Leeway time.Duration
	// RefreshTimeout bounds a refresh, the wait for another tab's refresh
	// included; 0 means 10 s.
	RefreshTimeout time.Duration
	// Storage is where the session lives when Store is nil: "local"
	// (localStorage, the default in the browser), "session"
	// (sessionStorage) or "memory" (the default, and the only choice,
	// natively).
	Storage string
	// Store, when set, keeps the session instead of Storage.
	Store Store
	// StorageKey is the key (namespace) of the session in storage, and of
	// its lock and shared record in the browser; "" means "jwtfetch", the
	// JavaScript package's default, so that both share a session.
	StorageKey string
	// Header is the request header that carries the token; "" means
	// Authorization.
	Header string
	// Scheme goes before the token in Header; "" means "Bearer".
	Scheme string
	// BareToken sends the token without a scheme (the JavaScript
	// package's scheme: '').
	BareToken bool
	// Origins lists the origins (scheme://host[:port]) that may receive
	// the token, and no other ever does. nil means the origin of
	// RefreshURL and, in the browser, the page's origin. New fails when
	// that leaves none.
	Origins []string
	// NoCrossTab keeps the session to this Transport in the browser (the
	// JavaScript package's crossTab: false): no Web Lock, no IndexedDB
	// record, no storage events. Tabs share a session only through
	// localStorage, so other storage is never shared.
	NoCrossTab bool
	// OnExpired is called once each time the session is lost: the refresh
	// was refused or is impossible. The tokens are cleared by then.
	OnExpired func()
	// Warn receives problems that are not errors of any request (storage
	// failing, for one); nil means log.Print natively and console.warn in
	// the browser. A message never contains a token.
	Warn func(msg string)
	// Base sends the requests, the refresh request included; nil means
	// http.DefaultTransport (in the browser, net/http's fetch transport).
	Base http.RoundTripper
}

// Refresh styles for Config.RefreshStyle.
const (
	StyleJSON   = session.StyleJSON   // POST {"refresh": token}
	StyleOAuth2 = session.StyleOAuth2 // POST grant_type=refresh_token form
)

// Grant is what a refresh gives: the access token, a rotated refresh token
// ("" keeps the current one) and, for an access token that is not a JWT
// with exp, how long it lives (0 when unknown).
type Grant struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

// Store keeps the session's single entry, the persisted form of the
// JavaScript package (a small JSON document). The Transport serialises its
// calls. Implementations: FileStore here; memory, localStorage and
// sessionStorage through Config.Storage.
type Store interface {
	// Load returns the stored value, or "" when there is none.
	Load() (string, error)
	// Save replaces the stored value.
	Save(value string) error
	// Clear removes the stored value.
	Clear() error
}

// Error is the error of a request that could not get a token, or of a
// refresh: the session's error type, shared with the JavaScript package.
// Code says what happened (CodeAuthExpired, CodeTimeout, ...); Error's text
// never contains a token, nor any text from outside (a server's answer, an
// error of Config.Refresh), which may quote one: Unwrap gives the cause.
// http.Client wraps it in a *url.Error; errors.As finds it.
type Error = session.Error

// Error codes, those of the JavaScript package.
const (
	// CodeAuthExpired: the session is over (no refresh token, the refresh
	// was refused, or a logout came while it ran). The tokens are cleared.
	CodeAuthExpired = session.CodeAuthExpired
	// CodeNetwork: the refresh request got no answer, or Config.Refresh
	// failed. The session is kept.
	CodeNetwork = session.CodeNetwork
	// CodeBadResponse: the refresh endpoint answered 5xx, a redirect, or
	// something without an access token. The session is kept.
	CodeBadResponse = session.CodeBadResponse
	// CodeTimeout: the refresh took longer than RefreshTimeout, or the
	// request's deadline passed while it waited.
	CodeTimeout = session.CodeTimeout
	// CodeCanceled: the request's context was canceled while it waited.
	CodeCanceled = session.CodeCanceled
	// CodeBadOption: a Config value cannot be used.
	CodeBadOption = session.CodeBadOption
)

// ErrRefused is what Config.Refresh returns (or wraps) to refuse a refresh
// token, which ends the session.
var ErrRefused = errors.New("jwthttp: refresh token refused")

// CodeOf returns the Code of the first *Error in err's chain, or "".
func CodeOf(err error) string { return session.CodeOf(err) }

// Event is what a listener registered with Transport.On is told.
type Event struct {
	// Name is EventTokens, EventRefresh or EventExpired.
	Name string
	// Authenticated reports whether there is a session after the change,
	// so a listener can tell a login from a logout.
	Authenticated bool
	// FromOtherTab reports that the change was made elsewhere: in another
	// tab, or by the JavaScript code or another Transport of this page.
	FromOtherTab bool
}

// Event names, those of the JavaScript package's auth.on.
const (
	EventTokens  = "tokens"  // the tokens changed: set, refreshed, cleared, or changed elsewhere
	EventRefresh = "refresh" // a refresh succeeded
	EventExpired = "expired" // the session was lost: the refresh was refused or is impossible
)

// badOption returns the error of a Config value that cannot be used.
func badOption(msg string) error {
	return &Error{Code: CodeBadOption, Message: msg}
}

// options are the per-request switches of SkipAuth and SkipRefresh.
type options struct{ skipAuth, skipRefresh bool }

type optionsKey struct{}

// SkipAuth returns a copy of ctx with which a request carries no token and
// never waits for a refresh (the JavaScript package's skipAuth: true). It
// is for requests such as the login.
func SkipAuth(ctx context.Context) context.Context {
	o := optionsOf(ctx)
	o.skipAuth = true
	return context.WithValue(ctx, optionsKey{}, o)
}

// SkipRefresh returns a copy of ctx with which a request carries the token
// but gets a refused token's answer (a 401) back as it is, with no refresh
// and no retry (the JavaScript package's skipRefresh: true).
func SkipRefresh(ctx context.Context) context.Context {
	o := optionsOf(ctx)
	o.skipRefresh = true
	return context.WithValue(ctx, optionsKey{}, o)
}

func optionsOf(ctx context.Context) options {
	o, _ := ctx.Value(optionsKey{}).(options)
	return o
}

// origin returns the origin of an absolute http or https URL, or "".
func origin(rawURL string) string { return session.Origin(rawURL) }

// resolve returns ref resolved against base; ref when base is "" or either
// cannot be parsed.
func resolve(base, ref string) string {
	if base == "" {
		return ref
	}
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := b.Parse(ref)
	if err != nil {
		return ref
	}
	return r.String()
}

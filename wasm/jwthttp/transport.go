package jwthttp

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// Transport is an http.RoundTripper that sends the session's access token
// to the allowed origins and refreshes it when a server refuses it (see
// the package documentation). Create it with New; it is safe for
// concurrent use.
type Transport struct {
	base   http.RoundTripper
	s      *session.Client
	header string
	// guarded is set when the token travels in a header that browsers
	// keep at a redirect to another origin: in the browser, such requests
	// follow no redirect away from their origin.
	guarded bool
	page    string // the page's origin in the browser, else ""
	pageURL string // the page's URL, against which relative URLs resolve
	// store is the storage shared with other tabs and the page, nil when
	// the session is not shared.
	store     *syncStore
	stop      func()
	onExpired func()

	mu        sync.Mutex
	listeners map[string][]*listener
}

type listener struct{ fn func(Event) }

// New returns a Transport configured by cfg, with the session restored
// from storage (a stored value that cannot be read means logged out).
func New(cfg Config) (*Transport, error) {
	t := &Transport{base: cfg.Base, onExpired: cfg.OnExpired, pageURL: pageURL()}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	t.page = origin(t.pageURL)
	sc := session.Config{
		RefreshOn:             cfg.RefreshOn,
		RefreshOnNetworkError: cfg.RefreshOnNetworkError,
		Header:                cfg.Header,
		Scheme:                "Bearer",
		Leeway:                30 * session.Second,
		RefreshTimeout:        session.Duration(cfg.RefreshTimeout),
		Clock:                 platformClock(),
		Warn:                  cfg.Warn,
	}
	if sc.Header == "" {
		sc.Header = "Authorization"
	}
	t.header = sc.Header
	t.guarded = !strings.EqualFold(sc.Header, "Authorization")
	if cfg.Scheme != "" {
		sc.Scheme = cfg.Scheme
	}
	if cfg.BareToken {
		sc.Scheme = ""
	}
	switch {
	case cfg.Leeway > 0:
		sc.Leeway = session.Duration(cfg.Leeway)
	case cfg.Leeway < 0:
		sc.Leeway = 0
	}
	if sc.Warn == nil {
		sc.Warn = platformWarn
	}

	refreshURL := ""
	if cfg.RefreshURL != "" {
		refreshURL = resolve(t.pageURL, cfg.RefreshURL)
		if origin(refreshURL) == "" {
			return nil, badOption("jwthttp: RefreshURL '" + cfg.RefreshURL + "' is not an absolute http or https URL")
		}
	}
	switch cfg.RefreshStyle {
	case "", StyleJSON, StyleOAuth2:
	default:
		return nil, badOption("jwthttp: RefreshStyle must be StyleJSON or StyleOAuth2, not '" + cfg.RefreshStyle + "'")
	}
	switch {
	case cfg.Refresh != nil:
		sc.Refresher = funcRefresher(cfg.Refresh)
	case refreshURL != "":
		sc.Refresher = &session.HTTPRefresher{Poster: poster{t.base}, URL: refreshURL, Style: cfg.RefreshStyle, ClientID: cfg.ClientID}
	}

	sc.Origins = cfg.Origins
	for _, o := range sc.Origins {
		if origin(o) == "" {
			return nil, badOption("jwthttp: Origins: '" + o + "' is not an http or https origin; write it with its scheme, like https://api.example.com")
		}
	}
	if sc.Origins == nil {
		for _, o := range []string{origin(refreshURL), t.page} {
			if o != "" {
				sc.Origins = append(sc.Origins, o)
			}
		}
	}
	if len(sc.Origins) == 0 {
		return nil, badOption("jwthttp: no origin may receive the token; set Config.Origins (by default the origin of RefreshURL and, in the browser, of the page)")
	}

	key := cfg.StorageKey
	if key == "" {
		key = "jwtfetch"
	}
	kind := cfg.Storage
	switch kind {
	case "":
		kind = defaultStorage
	case "local", "session", "memory":
	default:
		return nil, badOption("jwthttp: Storage must be \"local\", \"session\" or \"memory\", not '" + kind + "'")
	}
	switch {
	case cfg.Store != nil:
		sc.Store = cfg.Store
	default:
		store, err := openStorage(kind, key)
		if err != nil {
			return nil, err
		}
		sc.Store = store
		if browser && kind == "local" && !cfg.NoCrossTab {
			t.store = &syncStore{store: store}
			shareAcrossTabs(key, &sc, t.store)
			sc.Store = t.store
		}
	}
	sc.OnEvent = t.event
	t.s = session.New(sc, nil)
	if t.store != nil {
		t.stop = listenStorage(key, t.poll)
	}
	return t, nil
}

// RoundTrip implements http.RoundTripper: it sends req with the token when
// req's origin is allowed, after the refresh when one must come first, and
// when the answer says that the token was refused, once more with its
// successor. The request is never modified; a request with a body and
// without GetBody is not sent again (its 401 is returned).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	opt := optionsOf(ctx)
	if opt.skipAuth {
		return t.base.RoundTrip(req)
	}
	t.poll()
	url := req.URL.String()
	if !req.URL.IsAbs() {
		url = resolve(t.pageURL, url)
	}
	a, w := t.s.Authorize(url)
	if w != nil {
		var err error
		if a, err = w.Wait(ctx); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	if a.Header == "" {
		return t.base.RoundTrip(req)
	}
	resp, err := t.send(req, req.Body, a, url)
	if opt.skipRefresh || !t.s.Retry(statusOf(resp, err)) || !replayable(req) {
		return resp, err
	}
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	// The token was refused: send the request again, once, with its
	// successor (the result of the refresh this joins or starts, or the
	// token another request has already refreshed).
	discard(resp)
	if a, err = t.s.Successor(ctx, a.Token); err != nil {
		return nil, err
	}
	body := req.Body
	if body != nil && body != http.NoBody {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.send(req, body, a, url)
}

// send sends a copy of req with body and the header of a. In the browser,
// a request whose token travels in a header that browsers keep at a
// redirect to another origin follows no redirect away from its origin: to
// the page's origin it goes with fetch's mode 'same-origin' (the browser
// fails at a hop to another origin before sending anything), elsewhere
// with redirect 'manual' (a redirect comes back as an opaque response,
// which becomes an error). A caller's own redirect mode is kept.
func (t *Transport) send(req *http.Request, body io.ReadCloser, a session.Auth, url string) (*http.Response, error) {
	r := new(http.Request)
	*r = *req
	r.Body = body
	r.Header = make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		r.Header[k] = v
	}
	if a.Header != "" {
		r.Header.Set(a.Header, a.Value)
	}
	guard := ""
	if browser && a.Header != "" && t.guarded {
		if mode := r.Header.Get("js.fetch:redirect"); mode == "" || mode == "follow" {
			guard = "redirect"
			r.Header.Del("js.fetch:redirect")
			if o := origin(url); o != "" && o == t.page {
				guard = "mode"
			}
			if guard == "mode" {
				setFetchOption(r.Header, "mode", "same-origin")
			} else {
				setFetchOption(r.Header, "redirect", "manual")
			}
		}
	}
	resp, err := t.base.RoundTrip(r)
	switch {
	case guard == "mode" && err != nil && req.Context().Err() == nil:
		return nil, &Error{Code: CodeNetwork, Err: err, Message: t.redirectMessage("network error, or a redirect to another origin, which is not followed")}
	case guard == "redirect" && err == nil && resp.StatusCode == 0:
		discard(resp)
		return nil, &Error{Code: CodeNetwork, Message: t.redirectMessage("the response is a redirect, which is not followed")}
	}
	return resp, err
}

func (t *Transport) redirectMessage(what string) string {
	return what + ": the token travels in " + t.header + ", which browsers do not remove when a redirect leads to another origin," +
		" so such requests follow no redirect away from their origin. Request the final URL, or send the token in Authorization"
}

// statusOf is the status the session judges an answer by: 0 for no
// response (a network error).
func statusOf(resp *http.Response, err error) int {
	if err != nil || resp == nil {
		return 0
	}
	return resp.StatusCode
}

// replayable reports whether req can be sent again: it has no body, or
// GetBody gives a new copy of it.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// discard closes the body of a response that is not returned, after
// reading a little of it so that the connection can be reused.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

// poll adopts a change of the stored session made elsewhere in the page
// (see syncStore).
func (t *Transport) poll() {
	if t.store != nil {
		t.store.poll(t.s.Sync)
	}
}

// SetTokens starts a session with the tokens of a login. Either may be
// empty: a refresh token alone gets an access token before the first
// request. A refresh in flight is discarded.
func (t *Transport) SetTokens(access, refresh string) {
	t.SetGrant(Grant{AccessToken: access, RefreshToken: refresh})
}

// SetGrant is SetTokens with the lifetime of an access token that is not a
// JWT (a login response's expires_in), so that it is refreshed before it
// expires.
func (t *Transport) SetGrant(g Grant) {
	t.s.SetTokens(g.AccessToken, g.RefreshToken, g.ExpiresIn.Seconds())
}

// Clear ends the session (logout), in every tab and program that shares
// it. A refresh in flight is discarded: its tokens are stored nowhere and
// the requests waiting for it fail with CodeAuthExpired.
func (t *Transport) Clear() {
	t.s.Clear()
}

// AccessToken returns the current access token, or "".
func (t *Transport) AccessToken() string {
	t.poll()
	return t.s.AccessToken()
}

// IsAuthenticated reports whether there is a session: an access token, or
// a refresh token that can get one.
func (t *Transport) IsAuthenticated() bool {
	t.poll()
	return t.s.IsAuthenticated()
}

// Refresh refreshes now (or joins the refresh in flight) and returns the
// new access token. ctx bounds only this caller's wait.
func (t *Transport) Refresh(ctx context.Context) (string, error) {
	t.poll()
	return t.s.Refresh(ctx)
}

// On calls fn after each event named name (EventTokens, EventRefresh,
// EventExpired), in the goroutine that caused it, and returns the function
// that removes it. fn may call the Transport. On panics for another name.
func (t *Transport) On(name string, fn func(Event)) (remove func()) {
	switch name {
	case EventTokens, EventRefresh, EventExpired:
	default:
		panic("jwthttp: unknown event " + name + "; use EventTokens, EventRefresh or EventExpired")
	}
	l := &listener{fn: fn}
	t.mu.Lock()
	if t.listeners == nil {
		t.listeners = map[string][]*listener{}
	}
	t.listeners[name] = append(t.listeners[name], l)
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		list := t.listeners[name]
		for i, x := range list {
			if x == l {
				t.listeners[name] = append(list[:i:i], list[i+1:]...)
				return
			}
		}
	}
}

// event passes a session event to OnExpired and the listeners.
func (t *Transport) event(e session.Event, d session.Detail) {
	ev := Event{Name: e.String(), Authenticated: d.Authenticated, FromOtherTab: d.FromOtherTab}
	if e == session.EventExpired && t.onExpired != nil {
		t.onExpired()
	}
	t.mu.Lock()
	list := t.listeners[ev.Name]
	t.mu.Unlock()
	for _, l := range list {
		l.fn(ev)
	}
}

// CloseIdleConnections closes the idle connections of Base, when it has
// that method; http.Client.CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Close stops listening for changes made in other tabs (in the browser, it
// releases the storage event listener). The Transport keeps working, but
// sees such changes only when it next refreshes. Natively it does nothing.
func (t *Transport) Close() {
	if t.stop != nil {
		t.stop()
	}
}

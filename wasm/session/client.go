package session

import (
	"sync"
)

// Request is one application request as the session sees it. Doer.Do may
// be called with it twice (the retry), so it must be able to send its body
// again.
type Request interface {
	// URL is the absolute URL the request goes to.
	URL() string
}

// Response is what the session needs of a response: only its status. The
// body goes back to the caller untouched.
type Response interface {
	Status() int
}

// Doer sends application requests for Client.Do.
type Doer interface {
	// Do sends req. When header is not empty, the request carries
	// header: value; the caller's request itself is never modified.
	Do(ctx Ctx, req Request, header, value string) (Response, error)
}

// Options are per-request switches.
type Options struct {
	SkipAuth    bool // send no token and never refresh
	SkipRefresh bool // send the token but hand a refreshOn status back as is
}

// Event is a change the Client reports through Config.OnEvent.
type Event int

// Events. Their String forms are the names used by auth.on in JavaScript.
const (
	EventTokens  Event = iota + 1 // the tokens changed (set, refreshed, cleared)
	EventRefresh                  // a refresh succeeded
	EventExpired                  // the session was lost: refresh refused or impossible
)

// Detail describes the change an Event reports: whether the Client holds
// a session after it, and whether it was made elsewhere (another tab, or
// another instance or runtime sharing the storage) rather than by this
// Client's own calls and refreshes.
type Detail struct {
	Authenticated bool
	FromOtherTab  bool
}

func (e Event) String() string {
	switch e {
	case EventTokens:
		return "tokens"
	case EventRefresh:
		return "refresh"
	case EventExpired:
		return "expired"
	}
	return "unknown"
}

// Config configures a Client. The bridge fills in the defaults documented in
// API.md; here zero values mean what their comments say.
type Config struct {
	// Origins may receive the access token. Requests to any other origin
	// are sent without it.
	Origins []string
	// RefreshOn lists the statuses that mean "access token no longer good";
	// nil means 401 only.
	RefreshOn []int
	// RefreshOnNetworkError also treats a network error of a request that
	// carried a token as "token no longer good". It is for servers that
	// forget CORS headers on their 401s, which browsers then hide as
	// network errors; off by default, since a real network failure would
	// then cost a refresh attempt too.
	RefreshOnNetworkError bool
	// Header and Scheme say how the token is sent: Header: Scheme+" "+token,
	// or the bare token when Scheme is empty. Header "" means Authorization.
	Header, Scheme string
	// Leeway: a request whose token expires within Leeway refreshes first.
	Leeway Duration
	// RefreshTimeout bounds a refresh; 0 means 10 s.
	RefreshTimeout Duration
	// Refresher gets new tokens; nil means tokens are never refreshed and a
	// refreshOn status is handed back as is.
	Refresher Refresher
	// Store persists the session; nil means memory only.
	Store Store
	// Clock tells the time and runs the timers; nil means SystemClock,
	// which js/wasm builds do not have (the bridge sets its own).
	Clock Clock
	// OnEvent is called after each change, never with the Client's lock
	// held, so it may call back into the Client. Detail tells what the
	// change left and where it came from.
	OnEvent func(Event, Detail)
	// Warn receives problems that are not errors of any request (storage
	// failing, for one). Never called with a token in the message.
	Warn func(msg string)
	// Locker, when set, makes refreshes exclusive across tabs: a refresh
	// runs only while holding it, and waits for it at most RefreshTimeout.
	Locker Locker
	// OnChange is called, with the Client's lock held, each time an answer
	// of Authorize may change (tokens set, refreshed, synced or cleared, a
	// token found bad), with the new state version (see Auth.Version). It
	// must neither block nor call the Client.
	OnChange func(version uint64)
	// Shared, when set with Locker, is read under the lock before calling
	// the Refresher: when another tab has refreshed since this one last got
	// tokens, its result is used and no refresh request is made. Each
	// refresh made here is published to it before the lock is released.
	Shared Shared
}

// Locker is a lock shared by every tab of the origin (Web Locks in the
// browser).
type Locker interface {
	// Lock waits for the lock until ctx ends and returns the function that
	// releases it.
	Lock(ctx Ctx) (unlock func(), err error)
}

// Shared holds the latest refresh result for every tab, in the persisted
// form (EncodeState), with the time it was stored in Unix milliseconds. It
// must be read-your-writes consistent across tabs the moment Save returns
// (IndexedDB is; localStorage is not: see DESIGN.md), and apply writes in
// the order they were made.
type Shared interface {
	// Load returns the stored state and when it was stored; ok is false
	// when nothing is stored.
	Load(ctx Ctx) (state string, atMilli int64, ok bool, err error)
	// Save stores state as obtained at atMilli.
	Save(ctx Ctx, state string, atMilli int64) error
	// Delete removes the stored state (the session ended).
	Delete(ctx Ctx) error
}

// sharedWriteTimeout bounds a write to the Shared store. It runs after the
// waiters have their answer, so it delays no request.
const sharedWriteTimeout = 5 * Second

// defaultClock is SystemClock where package time may be linked (see
// clock_time.go); nil in js/wasm.
var defaultClock Clock

// Client holds one session: the tokens, the refresh in flight and the
// requests waiting for it. It is safe for concurrent use.
//
// Its request API is made of decisions, so that whoever sends (the
// JavaScript shim with the page's fetch, or Do here) carries them out:
// Authorize says what a request carries, Retry whether an answer means
// the token failed, and Successor gives the token to retry with.
type Client struct {
	cfg     Config
	doer    Doer
	origins originSet

	mu  sync.Mutex
	tok Tokens
	// bad is an access token a server has rejected; requests wait for the
	// refresh instead of sending it again.
	bad string
	// gen counts changes made from outside (SetTokens, Clear). A refresh
	// that started under an older gen is discarded: a logout (or a new
	// login) during a refresh wins.
	gen    uint64
	flight *flight
	// since is when tok was obtained here (login, refresh, sync), in Unix
	// milliseconds; a shared refresh result is newer than tok when it was
	// stored after since.
	since int64
	// firstLife is the access token lifetime (ms) first seen in this
	// session; a refreshed token is never expected to live longer (see
	// capLife).
	firstLife int64
	// version counts the changes that may change what Authorize answers.
	version uint64
}

// flight is a refresh in progress. done is closed once tok and err are set.
type flight struct {
	done chan struct{}
	tok  Tokens
	err  error
}

// New returns a Client that restores the session from cfg.Store (a stored
// value that cannot be read means logged out). doer sends the requests of
// Do; it may be nil when Do is not used (the browser's shim sends its own).
func New(cfg Config, doer Doer) *Client {
	if cfg.Header == "" {
		cfg.Header = "Authorization"
	}
	if cfg.RefreshOn == nil {
		cfg.RefreshOn = []int{401}
	}
	if cfg.RefreshTimeout <= 0 {
		cfg.RefreshTimeout = 10 * Second
	}
	if cfg.Clock == nil {
		if defaultClock == nil {
			panic("jwtfetch: session.Config.Clock is required on js/wasm")
		}
		cfg.Clock = defaultClock
	}
	if cfg.Store == nil {
		cfg.Store = &MemStore{}
	}
	c := &Client{cfg: cfg, doer: doer, origins: newOriginSet(cfg.Origins)}
	c.tok = c.load()
	c.firstLife = c.tok.Lifetime
	return c
}

func (c *Client) load() Tokens {
	raw, err := c.cfg.Store.Load()
	if err != nil {
		c.warn("jwtfetch: cannot read the stored session" + Because(err) + "; starting logged out")
		return Tokens{}
	}
	if raw == "" {
		return Tokens{}
	}
	t, err := DecodeState(raw)
	if err != nil {
		c.warn(ErrState.Error() + "; starting logged out")
		return Tokens{}
	}
	return t
}

func (c *Client) now() int64 { return c.cfg.Clock.Now() }

// Auth is what a request carries: Header: Value, or nothing when Header is
// "". Token is the access token in Value, what Successor is told failed.
//
// An answer of Authorize also says how long it holds: for requests to the
// same origin, until Until (Unix ms; 0 means no time limit) as long as the
// Client's state is still at Version (Config.OnChange reports each new
// one). A sender may reuse it in that time without asking again: crossing
// into the wasm costs more than a local request's 5 %.
type Auth struct {
	Header, Value, Token string
	Until                int64
	Version              uint64
}

// authFor returns the Auth that sends access; c.mu must be held.
func (c *Client) authFor(access string) Auth {
	if access == "" {
		return Auth{}
	}
	value := access
	if c.cfg.Scheme != "" {
		value = c.cfg.Scheme + " " + access
	}
	return Auth{Header: c.cfg.Header, Value: value, Token: access}
}

// Wait is a refresh that a request must wait for before it is sent.
type Wait struct {
	c *Client
	f *flight
}

// Done is closed when the refresh has ended; Wait then returns at once.
func (w *Wait) Done() <-chan struct{} { return w.f.done }

// Wait returns what the request carries once the refresh has ended, or its
// error (the session is over: CodeAuthExpired; the refresh failed: its
// code). ctx bounds only this caller's wait.
func (w *Wait) Wait(ctx Ctx) (Auth, error) {
	select {
	case <-w.f.done:
	case <-ctx.Done():
		return Auth{}, contextError(ctx, "request")
	}
	if w.f.err != nil {
		return Auth{}, w.f.err
	}
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.authFor(w.f.tok.Access), nil
}

// Authorize says what a request to url carries, without blocking: the
// access token when url's origin is allowed and the token is good, nothing
// when the origin is not allowed or there is no session. When a refresh
// must come first (the token is about to expire, a server has refused it,
// or only a refresh token is known), it starts or joins that refresh and
// returns it as a Wait instead.
func (c *Client) Authorize(url string) (Auth, *Wait) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.origins.allows(url) {
		return Auth{Version: c.version}, nil
	}
	t := c.tok
	if c.cfg.Refresher == nil || t.Refresh == "" {
		a := c.authFor(t.Access)
		a.Version = c.version
		return a, nil
	}
	if t.Access != "" && t.Access != c.bad {
		at := t.refreshAt(c.cfg.Leeway)
		if at == 0 || c.now() < at {
			a := c.authFor(t.Access)
			a.Until, a.Version = at, c.version
			return a, nil
		}
	}
	return Auth{}, &Wait{c: c, f: c.joinLocked(t.Access)}
}

// changedLocked records a change that may change what Authorize answers.
// c.mu must be held.
func (c *Client) changedLocked() {
	c.version++
	if c.cfg.OnChange != nil {
		c.cfg.OnChange(c.version)
	}
}

// Retry reports whether an answer to a request that carried a token means
// that the token failed, so the request should get the token's Successor
// and be sent again: a status in RefreshOn, or status 0 (no response: a
// network error) with RefreshOnNetworkError. Without a Refresher nothing
// is retried.
func (c *Client) Retry(status int) bool {
	if c.cfg.Refresher == nil {
		return false
	}
	if status == 0 {
		return c.cfg.RefreshOnNetworkError
	}
	for _, s := range c.cfg.RefreshOn {
		if s == status {
			return true
		}
	}
	return false
}

// RetryOn returns what Retry answers true to, for a sender that checks
// answers itself before asking: the statuses, and whether a network error
// counts. Without a Refresher both are empty.
func (c *Client) RetryOn() (statuses []int, networkError bool) {
	if c.cfg.Refresher == nil {
		return nil, false
	}
	return append([]int(nil), c.cfg.RefreshOn...), c.cfg.RefreshOnNetworkError
}

// Successor is "this token failed: give me its successor". failed is the
// Auth.Token a request carried when Retry said its answer means the token
// failed. When the current token is already another one (some other
// request refreshed meanwhile), that one is returned at once; otherwise the
// caller joins the refresh in flight or starts it. ctx bounds only this
// caller's wait: leaving does not disturb the refresh or other waiters.
func (c *Client) Successor(ctx Ctx, failed string) (Auth, error) {
	t, err := c.refresh(ctx, failed)
	if err != nil {
		return Auth{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authFor(t.Access), nil
}

// Do sends req through the Doer, carrying out the decisions above: the
// token when its origin is allowed (after the refresh when one must come
// first), and when the answer says the token failed, one retry with its
// successor.
func (c *Client) Do(ctx Ctx, req Request, opt Options) (Response, error) {
	var a Auth
	if !opt.SkipAuth {
		var w *Wait
		if a, w = c.Authorize(req.URL()); w != nil {
			var err error
			if a, err = w.Wait(ctx); err != nil {
				return nil, err
			}
		}
	}
	resp, err := c.doer.Do(ctx, req, a.Header, a.Value)
	if a.Token == "" || opt.SkipRefresh {
		return resp, err
	}
	status := 0
	if err == nil {
		status = resp.Status()
	} else if ctx.Err() != nil {
		return nil, err
	}
	if !c.Retry(status) {
		return resp, err
	}
	if a, err = c.Successor(ctx, a.Token); err != nil {
		return nil, err
	}
	return c.doer.Do(ctx, req, a.Header, a.Value)
}

// refresh returns tokens that replace failed, the access token a request
// found (or predicted) to be no longer good. When the current token is
// already another one, some other request has refreshed and that token is
// returned at once; otherwise the caller joins the refresh in flight or
// starts it. ctx bounds only this caller's wait.
func (c *Client) refresh(ctx Ctx, failed string) (Tokens, error) {
	c.mu.Lock()
	if c.tok.Access != "" && c.tok.Access != failed && c.tok.Access != c.bad {
		t := c.tok
		c.mu.Unlock()
		return t, nil
	}
	if c.cfg.Refresher == nil {
		c.mu.Unlock()
		return Tokens{}, errNoRefresher
	}
	if c.tok.Refresh == "" {
		var events []Event
		if c.tok.Valid() {
			// An access token was refused and nothing can renew it: the
			// session is over.
			events = c.endLocked()
		}
		c.mu.Unlock()
		c.emit(events, Detail{})
		return Tokens{}, errNoSession
	}
	f := c.joinLocked(failed)
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return Tokens{}, contextError(ctx, "request")
	}
}

// joinLocked marks failed as bad (when it is the current token) and returns
// the refresh in flight, starting it if there is none. c.mu must be held,
// and there must be a Refresher and a refresh token.
func (c *Client) joinLocked(failed string) *flight {
	if failed != "" && failed == c.tok.Access && c.bad != failed {
		c.bad = failed
		c.changedLocked()
	}
	if c.flight == nil {
		c.flight = &flight{done: make(chan struct{})}
		go c.run(c.flight, start{refresh: c.tok.Refresh, access: c.tok.Access, gen: c.gen, since: c.since})
	}
	return c.flight
}

// Refresh forces a refresh (or joins the one in flight) and returns the new
// access token.
func (c *Client) Refresh(ctx Ctx) (string, error) {
	c.mu.Lock()
	failed := c.tok.Access
	c.mu.Unlock()
	t, err := c.refresh(ctx, failed)
	return t.Access, err
}

// start is the state a refresh begins from.
type start struct {
	refresh, access string
	gen             uint64
	since           int64
}

// run performs one refresh and wakes every waiter with its result. The new
// tokens are stored before anyone is woken, so a rotated refresh token is
// persisted before it can be needed again. One time budget, RefreshTimeout,
// covers the wait for the cross-tab lock and the refresh request together.
func (c *Client) run(f *flight, st start) {
	ctx := withTimeout(c.cfg.Clock, c.cfg.RefreshTimeout)
	defer ctx.cancel()
	unlock := func() {}
	t, fresh, err := c.obtain(ctx, st, &unlock)
	defer unlock()
	var events []Event
	committed := false
	c.mu.Lock()
	switch {
	case c.gen != st.gen:
		// SetTokens, Clear or another tab's tokens came meanwhile and win
		// over this result, which is written nowhere.
		t, err = c.tok, nil
		if t.Access == "" {
			err = errLoggedOut
		}
	case err == nil:
		t = capLife(t, c.firstLife)
		if c.firstLife == 0 {
			c.firstLife = t.Lifetime
		}
		c.tok, c.bad, c.since = t, "", c.now()
		c.changedLocked()
		c.persistLocked()
		committed = true
		events = []Event{EventTokens, EventRefresh}
	case refused(err):
		events = c.endLocked()
	}
	c.flight = nil
	f.tok, f.err = t, err
	// A rotation another tab made and this one read from the Shared store
	// is that tab's change.
	detail := Detail{Authenticated: c.tok.Valid(), FromOtherTab: committed && !fresh}
	c.mu.Unlock()
	// Listeners hear of the change before the waiters go on.
	c.emit(events, detail)
	close(f.done)
	if committed && fresh && c.cfg.Locker != nil && c.cfg.Shared != nil {
		// Still holding the cross-tab lock: the next tab to take it
		// reads this rotation.
		c.publish(st.gen, t)
	}
}

// obtain gets the tokens for a refresh: under the cross-tab lock when there
// is one (its release function is left in *unlock), from another tab's
// fresh result when there is one, else from the Refresher. fresh reports
// that the tokens come from this Client's own request to the Refresher, not
// from another tab.
func (c *Client) obtain(ctx Ctx, st start, unlock *func()) (t Tokens, fresh bool, err error) {
	if c.cfg.Locker == nil {
		// No lock, no sharing: each tab refreshes on its own.
		t, err = c.refreshWith(ctx, st.refresh)
		return t, true, err
	}
	release, err := c.cfg.Locker.Lock(ctx)
	if err != nil {
		return Tokens{}, false, &Error{Code: CodeTimeout, Message: "timed out waiting for another tab's refresh", Err: err}
	}
	*unlock = release
	if ctx.Err() != nil {
		// Granted as the budget ran out: too late to start a request.
		return Tokens{}, false, &Error{Code: CodeTimeout, Message: "timed out waiting for another tab's refresh", Err: ctx.Err()}
	}
	c.mu.Lock()
	moved := c.gen != st.gen
	c.mu.Unlock()
	if moved {
		// Another tab's tokens arrived (or a logout) while we waited; run
		// discards this result for them.
		return Tokens{}, false, nil
	}
	if c.cfg.Shared != nil {
		raw, at, ok, err := c.cfg.Shared.Load(ctx)
		var t Tokens
		if err == nil && ok {
			t, err = DecodeState(raw)
		}
		switch {
		case err != nil:
			c.warn("jwtfetch: cannot read the shared session" + Because(err))
		case ok && at > st.since && t.Access != "" && t.Access != st.access:
			return t, false, nil // another tab refreshed: no request needed
		}
	}
	t, err = c.refreshWith(ctx, st.refresh)
	return t, true, err
}

// publish writes a refresh result to the Shared store for the other tabs,
// unless the session has moved on (gen changed): then, and when it moves on
// while the write runs, the shared copy is deleted, so that a logout during
// a refresh leaves the refreshed tokens nowhere.
func (c *Client) publish(gen uint64, t Tokens) {
	ctx := withTimeout(c.cfg.Clock, sharedWriteTimeout)
	defer ctx.cancel()
	if err := c.cfg.Shared.Save(ctx, EncodeState(t), c.now()); err != nil {
		c.warn("jwtfetch: cannot share the refreshed session" + Because(err))
	}
	c.mu.Lock()
	moved := c.gen != gen
	c.mu.Unlock()
	if moved {
		c.deleteShared(ctx)
	}
}

// deleteShared removes the Shared copy of the session, if there is one.
func (c *Client) deleteShared(ctx Ctx) {
	if c.cfg.Shared == nil {
		return
	}
	if err := c.cfg.Shared.Delete(ctx); err != nil {
		c.warn("jwtfetch: cannot remove the shared session" + Because(err))
	}
}

// refreshWith calls the Refresher and keeps the old refresh token when the
// answer has none (no rotation).
func (c *Client) refreshWith(ctx Ctx, refreshToken string) (Tokens, error) {
	t, err := c.callRefresher(ctx, refreshToken)
	if err == nil && t.Refresh == "" {
		t.Refresh = refreshToken
	}
	return t, err
}

// callRefresher runs the Refresher until ctx (the refresh's time budget)
// ends. The bound holds even for a Refresher that ignores its context (a
// user function that never settles): the waiters are woken and the next
// request may try again.
func (c *Client) callRefresher(ctx Ctx, refreshToken string) (Tokens, error) {
	type result struct {
		t   Tokens
		err error
	}
	ch := make(chan result, 1)
	go func() {
		g, err := c.cfg.Refresher.Refresh(ctx, refreshToken)
		ch <- result{grantTokens(g, c.now()), err}
	}()
	select {
	case r := <-ch:
		if r.err == nil && r.t.Access == "" {
			r.err = &Error{Code: CodeBadResponse, Message: "refresh returned no access token"}
		}
		return r.t, r.err
	case <-ctx.Done():
		return Tokens{}, &Error{Code: CodeTimeout, Message: "refresh timed out after " + c.cfg.RefreshTimeout.String(), Err: ctx.Err()}
	}
}

// endLocked clears a lost session and reports it. c.mu must be held.
func (c *Client) endLocked() []Event {
	c.tok, c.bad = Tokens{}, ""
	c.gen++
	c.changedLocked()
	c.persistLocked()
	return []Event{EventTokens, EventExpired}
}

// persistLocked writes the session to the Store; a session that ended is
// also removed from the Shared store. c.mu must be held.
func (c *Client) persistLocked() {
	var err error
	if c.tok.Valid() {
		err = c.cfg.Store.Save(EncodeState(c.tok))
	} else {
		err = c.cfg.Store.Clear()
		if c.cfg.Shared != nil {
			go func() {
				ctx := withTimeout(c.cfg.Clock, sharedWriteTimeout)
				defer ctx.cancel()
				c.deleteShared(ctx)
			}()
		}
	}
	if err != nil {
		c.warn("jwtfetch: cannot store the session" + Because(err))
	}
}

// SetTokens starts a session (after a login). expiresIn is in seconds, 0 if
// unknown; a JWT's own exp takes precedence. A refresh in flight is
// discarded and its waiters get these tokens.
func (c *Client) SetTokens(access, refresh string, expiresIn float64) {
	c.mu.Lock()
	now := c.now()
	c.tok, c.bad, c.since = NewTokens(access, refresh, expiresIn, now), "", now
	c.firstLife = c.tok.Lifetime
	c.gen++
	c.changedLocked()
	c.persistLocked()
	detail := Detail{Authenticated: c.tok.Valid()}
	c.mu.Unlock()
	c.emit([]Event{EventTokens}, detail)
}

// Clear ends the session (logout). A refresh in flight is discarded: its
// tokens are never stored and its waiters fail with CodeAuthExpired.
func (c *Client) Clear() {
	c.mu.Lock()
	c.tok, c.bad = Tokens{}, ""
	c.gen++
	c.changedLocked()
	c.persistLocked()
	c.mu.Unlock()
	c.emit([]Event{EventTokens}, Detail{})
}

// Sync adopts a session value another tab (or another instance in this
// page) has stored: raw is the persisted form, "" for a logout. It does not
// write to the Store, which already holds raw. A refresh in flight is
// discarded in favour of the synced tokens. Unreadable values are ignored.
func (c *Client) Sync(raw string) {
	var t Tokens
	if raw != "" {
		var err error
		if t, err = DecodeState(raw); err != nil {
			c.warn(ErrState.Error() + "; ignoring the change made elsewhere")
			return
		}
	}
	c.mu.Lock()
	if t.Access == c.tok.Access && t.Refresh == c.tok.Refresh {
		c.mu.Unlock()
		return
	}
	c.tok, c.bad, c.since = t, "", c.now()
	c.firstLife = t.Lifetime
	c.gen++
	c.changedLocked()
	detail := Detail{Authenticated: c.tok.Valid(), FromOtherTab: true}
	c.mu.Unlock()
	c.emit([]Event{EventTokens}, detail)
}

// AccessToken returns the current access token, or "".
func (c *Client) AccessToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok.Access
}

// IsAuthenticated reports whether the client holds a session: an access
// token, or a refresh token that can get one.
func (c *Client) IsAuthenticated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok.Valid()
}

func (c *Client) emit(events []Event, d Detail) {
	if c.cfg.OnEvent == nil {
		return
	}
	for _, e := range events {
		c.cfg.OnEvent(e, d)
	}
}

func (c *Client) warn(msg string) {
	if c.cfg.Warn != nil {
		c.cfg.Warn(msg)
	}
}

//go:build js && wasm

package jsbridge

import (
	"errors"
	"sync"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// client is one instance created by the shim.
type client struct {
	s *session.Client
	// tabs is set when the client shares its session with other tabs and
	// instances.
	tabs *tabStore
	// stop ends the storage event subscription.
	stop func()
	// cookie is set in cookie mode; ch is then the channel to the other
	// tabs (nil without cross-tab sharing).
	cookie bool
	ch     *channel
	// dpop is set with auth.dpop.
	dpop *prover
	// f sends the refresh requests; it knows the allowed origins.
	f *Fetcher
	// ctl is the object the shim reads the session's state version from
	// ({v}): an answer to authorize holds while v is what it was.
	ctl js.Value
	// page is the page's origin; guarded is set when the token travels in
	// a header other than Authorization (see guard).
	page    string
	guarded bool
	scheme  string

	mu sync.Mutex
	// answers are the answers to authorize for token: [0] for requests to
	// the page's origin, [1] for the others. They are made once per token,
	// so that the answer to a request costs no conversion.
	token   string
	answers [2]js.Value
}

var (
	clientsMu sync.Mutex
	clients   = map[int]*client{}
	nextID    = 1
)

func clientCount() int {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	return len(clients)
}

func lookup(id js.Value) (*client, error) {
	if id.Type() != js.TypeNumber {
		return nil, errors.New("jwtfetch: bad instance id")
	}
	clientsMu.Lock()
	defer clientsMu.Unlock()
	c := clients[id.Int()]
	if c == nil {
		return nil, &session.Error{Code: "ERR_DESTROYED", Message: "instance destroyed"}
	}
	return c, nil
}

// Install puts the exported functions on ns, the namespace object the shim
// passes in. The shim's ns.fetch, when set, is the page's original fetch,
// which refresh requests use. The functions take an instance id first (from
// newClient) so that their number stays fixed however many instances a
// page creates.
//
// A Go callback cannot throw into JavaScript (a panic would end the Go
// program), so a synchronous function that fails returns the Error object
// instead of its result and the shim throws it.
//
// The shim sends each request itself and asks first what it carries:
//
//	newClient(config) → [id, retryStatuses, retryOnNetworkError, ctl]
//	authorize(id, url) → [answer, key, until, version] | Promise<answer>
//	successor(id, url, value) → Promise<answer>
//
// An answer is null (send without a token) or [header, value, guard],
// guard being the redirect guard (guardNone, guardSameOrigin, guardManual)
// for a request whose redirect mode is 'follow'. authorize answers at once
// (no Promise, no goroutine) unless a refresh must come first, and then
// says how long its answer holds: for URLs that start with key (the
// origin and a slash; "" for a URL that is not http or https), until the
// time until (Unix ms, 0 for no limit), while ctl.v is still version. The
// shim keeps answers for that long: a call into the wasm costs ~150-200 µs
// when it is not hot, more than 5 % of a local request. When a request
// that carried value is answered with one of retryStatuses (or fails with
// a network error and retryOnNetworkError is set), the shim asks successor
// for what the retry carries: Go decides whether a refresh is needed and
// runs the only one.
//
//	setTokens(id, access, refresh, expiresIn); clear(id)
//	accessToken(id) → string | null; isAuthenticated(id) → boolean
//	refresh(id) → Promise<string>; destroy(id); stats() → {funcs, clients}
func Install(ns js.Value) {
	fetch := ns.Get("fetch")
	if fetch.Type() != js.TypeFunction {
		fetch = global.Get("fetch")
	}
	sign, dpopKey := ns.Get("sign"), ns.Get("dpopKey")
	export := func(name string, fn func(args []js.Value) (any, error)) {
		// These functions live as long as the page: not counted as leaks.
		ns.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any {
			var v any
			var err error
			if perr := catch(func() { v, err = fn(args) }); perr != nil {
				err = perr
			}
			if err != nil {
				return ToJSError(err) // the shim throws it
			}
			return v
		}))
	}
	export("newClient", func(args []js.Value) (any, error) {
		c, err := newClient(arg(args, 0), fetch, sign, dpopKey)
		if err != nil {
			return nil, err
		}
		clientsMu.Lock()
		defer clientsMu.Unlock()
		id := nextID
		nextID++
		clients[id] = c
		statuses, network := c.s.RetryOn()
		list := make([]any, len(statuses))
		for i, s := range statuses {
			list[i] = s
		}
		return []any{id, list, network, c.ctl}, nil
	})
	export("authorize", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return nil, err
		}
		url := arg(args, 1).String()
		a, w := c.s.Authorize(url)
		origin := session.Origin(url)
		if w == nil {
			key := ""
			if origin != "" {
				key = origin + "/"
			}
			return []any{c.answer(a, origin), key, float64(a.Until), float64(a.Version)}, nil
		}
		return NewPromise(func() (any, error) {
			a, err := w.Wait(session.Background)
			if err != nil {
				return nil, err
			}
			return c.answer(a, origin), nil
		}), nil
	})
	export("successor", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return Rejected(err), nil
		}
		origin, failed := session.Origin(arg(args, 1).String()), c.tokenOf(arg(args, 2))
		return NewPromise(func() (any, error) {
			a, err := c.s.Successor(session.Background, failed)
			if err != nil {
				return nil, err
			}
			return c.answer(a, origin), nil
		}), nil
	})
	export("proof", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return nil, err
		}
		url := arg(args, 2).String()
		if c.dpop == nil || !c.f.allowed(url) {
			return nil, nil
		}
		return c.dpop.proof(arg(args, 1).String(), url, c.tokenOf(arg(args, 3))), nil
	})
	export("dpopResponse", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil || c.dpop == nil {
			return false, err
		}
		www := arg(args, 3)
		return c.dpop.d.Challenged(arg(args, 1).String(), arg(args, 2).Int(), optString(www),
			optString(arg(args, 4)), optString(arg(args, 5)), www.Type() != js.TypeString, optString(arg(args, 6))), nil
	})
	export("setTokens", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return nil, err
		}
		access, refresh := optString(arg(args, 1)), optString(arg(args, 2))
		if c.cookie {
			// The refresh token is the server's cookie: one given here
			// is kept nowhere.
			refresh = cookieRefresh
		}
		if access == "" && refresh == "" {
			return nil, errors.New("jwtfetch: setTokens needs an accessToken or a refreshToken")
		}
		expiresIn := 0.0
		if v := arg(args, 3); v.Type() == js.TypeNumber {
			expiresIn = v.Float()
		}
		c.s.SetTokens(access, refresh, expiresIn)
		return nil, nil
	})
	export("clear", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return nil, err
		}
		c.s.Clear()
		if c.dpop != nil {
			c.dpop.clear() // a new key for the next session
		}
		return nil, nil
	})
	export("accessToken", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return nil, err
		}
		if t := c.s.AccessToken(); t != "" {
			return t, nil
		}
		return nil, nil
	})
	export("isAuthenticated", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return nil, err
		}
		return c.s.IsAuthenticated(), nil
	})
	export("refresh", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return Rejected(err), nil
		}
		return NewPromise(func() (any, error) {
			return c.s.Refresh(session.Background)
		}), nil
	})
	export("destroy", func(args []js.Value) (any, error) {
		if id := arg(args, 0); id.Type() == js.TypeNumber {
			clientsMu.Lock()
			c := clients[id.Int()]
			delete(clients, id.Int())
			clientsMu.Unlock()
			if c != nil {
				c.destroy()
			}
		}
		return nil, nil
	})
	export("stats", func([]js.Value) (any, error) {
		return Stats(), nil
	})
}

// answer is what authorize and successor give the shim for a, for a
// request to origin: null (send no token) or [header, value, guard], made
// once per token and origin kind.
func (c *client) answer(a session.Auth, origin string) js.Value {
	if a.Header == "" {
		return js.Null()
	}
	i := 0
	if c.guarded && (c.page == "" || origin != c.page) {
		i = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != a.Token {
		c.token, c.answers = a.Token, [2]js.Value{}
	}
	if c.answers[i].IsUndefined() {
		g := guardNone
		if c.guarded {
			g = guard(a.Header, origin, c.page)
		}
		c.answers[i] = js.ValueOf([]any{a.Header, a.Value, g})
	}
	return c.answers[i]
}

// tokenOf returns the access token in value, a header value an answer
// gave.
func (c *client) tokenOf(value js.Value) string {
	if value.Type() != js.TypeString {
		return ""
	}
	v := value.String()
	if c.scheme != "" && len(v) > len(c.scheme) && v[:len(c.scheme)+1] == c.scheme+" " {
		return v[len(c.scheme)+1:]
	}
	return v
}

func optString(v js.Value) string {
	if v.Type() == js.TypeString {
		return v.String()
	}
	return ""
}

func (c *client) destroy() {
	if c.tabs != nil {
		c.tabs.unregister()
	}
	c.ch.close()
	if c.stop != nil {
		c.stop()
	}
}

// newClient reads the shim's config object. The shim has already applied
// the documented defaults and resolved URLs; this checks types.
func newClient(cfg, fetch, sign, dpopKey js.Value) (*client, error) {
	if cfg.Type() != js.TypeObject {
		return nil, errors.New("jwtfetch: config must be an object")
	}
	c := &client{}
	f := &Fetcher{Fetch: fetch, Credentials: optString(cfg.Get("credentials"))}
	c.f = f
	_ = catch(func() { c.page = session.Origin(global.Get("location").Get("origin").String()) })
	sc := session.Config{
		Header: optString(cfg.Get("header")),
		Scheme: "Bearer",
		Leeway: 30 * session.Second,
		Warn:   warn,
		Clock:  Clock{},
	}
	dpop := cfg.Get("dpop").Truthy()
	if dpop {
		sc.Scheme = "DPoP"
	}
	if s := cfg.Get("scheme"); s.Type() == js.TypeString {
		sc.Scheme = s.String()
	}
	sc.RefreshOnNetworkError = cfg.Get("refreshOnNetworkError").Truthy()
	if v := cfg.Get("leeway"); v.Type() == js.TypeNumber && v.Float() >= 0 {
		sc.Leeway = session.Duration(v.Float() * float64(session.Second))
	}
	if v := cfg.Get("refreshTimeout"); v.Type() == js.TypeNumber && v.Float() > 0 {
		sc.RefreshTimeout = session.Duration(v.Float() * float64(session.Millisecond))
	}
	var err error
	if sc.Origins, err = stringList(cfg.Get("origins"), "origins"); err != nil {
		return nil, err
	}
	if err := session.CheckOrigins(sc.Origins); err != nil {
		return nil, err
	}
	if on := cfg.Get("refreshOn"); !on.IsUndefined() && !on.IsNull() {
		if !isArray(on) {
			return nil, errors.New("jwtfetch: refreshOn must be an array of statuses")
		}
		sc.RefreshOn = []int{}
		for i := range on.Length() {
			if on.Index(i).Type() != js.TypeNumber {
				return nil, errors.New("jwtfetch: refreshOn must be an array of statuses")
			}
			sc.RefreshOn = append(sc.RefreshOn, on.Index(i).Int())
		}
	}
	key := optString(cfg.Get("storageKey"))
	if key == "" {
		key = "jwtfetch"
	}
	var cookie bool
	switch optString(cfg.Get("mode")) {
	case "", "storage":
	case "cookie":
		cookie = true
		c.cookie = true
		f.Credentials = "include"
	default:
		return nil, errors.New("jwtfetch: mode must be 'storage' or 'cookie'")
	}
	f.xsrf = &xsrf{header: optString(cfg.Get("xsrfHeaderName")), read: cfg.Get("xsrfValue")}
	f.origins = sc.Origins
	storage := cfg.Get("storage")
	if sc.Store, err = newStore(storage, key); err != nil {
		return nil, err
	}
	// Tabs share the session through localStorage, so only that storage
	// is shared; sessionStorage is per tab and memory per instance.
	local := storage.IsUndefined() || storage.IsNull() || (storage.Type() == js.TypeString && storage.String() == "local")
	crossTab := cfg.Get("crossTab")
	shareTabs := local && (crossTab.Type() != js.TypeBoolean || crossTab.Bool())
	switch {
	case cookie:
		cs := &cookieStore{area: sc.Store}
		if shareTabs {
			sc.Locker = newWebLock(lockName(key))
			c.ch = newChannel(key, func(state string) { c.s.Sync(state) })
			cs.tabs = c.ch
			if idb := newIDBShared(key); idb != nil && c.ch != nil {
				sc.Shared = &cookieShared{idb: idb, tabs: c.ch}
			}
		}
		sc.Store = cs
	case shareTabs:
		sc.Locker = newWebLock(lockName(key))
		if shared := newIDBShared(key); shared != nil {
			sc.Shared = shared
		}
		c.tabs = &tabStore{Store: sc.Store, key: key}
		sc.Store = c.tabs
	}
	if dpop {
		// The key lives as long as the tokens do: for the tabs and across
		// reloads, but for memory storage with the instance only. clear()
		// replaces it where the session it ends is the only one bound to
		// it: not with per-tab storage (sessionStorage, or the app's), whose
		// other tabs keep their sessions and so the shared key.
		memory := storage.Type() == js.TypeString && storage.String() == "memory"
		if c.dpop, err = newProver(key, !memory, sign, dpopKey); err != nil {
			return nil, err
		}
		c.dpop.renewOnClear = memory || local
	}
	if fn := cfg.Get("refresh"); fn.Type() == js.TypeFunction {
		sc.Refresher = FuncRefresher{Fn: fn}
		if cookie {
			sc.Refresher = cookieRefresher{Refresher: sc.Refresher}
		}
	} else if u := optString(cfg.Get("refreshURL")); u != "" {
		style := optString(cfg.Get("refreshStyle"))
		switch style {
		case "", session.StyleJSON, session.StyleOAuth2:
		default:
			return nil, errors.New("jwtfetch: refreshStyle must be 'json' or 'oauth2'")
		}
		hr := &session.HTTPRefresher{Poster: f, URL: u, Style: style, ClientID: optString(cfg.Get("clientId")), Cookie: cookie}
		if c.dpop != nil {
			hr.DPoP = c.dpop
		}
		sc.Refresher = hr
		if cookie {
			sc.Refresher = cookieRefresher{Refresher: sc.Refresher, xsrf: f.xsrf}
		}
	}
	if on := cfg.Get("onEvent"); on.Type() == js.TypeFunction {
		sc.OnEvent = func(e session.Event, d session.Detail) {
			_ = catch(func() { on.Invoke(e.String(), d.Authenticated, d.FromOtherTab) })
		}
	}
	if p := c.dpop; p != nil {
		// Another tab's change may come with a key it made (a login after
		// its logout): read the stored key again before the next proof.
		on := sc.OnEvent
		sc.OnEvent = func(e session.Event, d session.Detail) {
			if d.FromOtherTab && e == session.EventTokens {
				p.drop(false)
			}
			if on != nil {
				on(e, d)
			}
		}
	}
	c.scheme = sc.Scheme
	c.guarded = sc.Header != "" && !isAuthorization(sc.Header)
	c.ctl = global.Get("Object").New()
	c.ctl.Set("v", 0)
	sc.OnChange = func(v uint64) { c.ctl.Set("v", float64(v)) }
	c.s = session.New(sc, nil)
	if c.tabs != nil {
		c.tabs.sync = c.s.Sync
		c.tabs.register()
		c.stop = listenStorage(key, c.s.Sync)
	}
	return c, nil
}

func isArray(v js.Value) bool {
	return global.Get("Array").Call("isArray", v).Bool()
}

func stringList(v js.Value, name string) ([]string, error) {
	if v.IsUndefined() || v.IsNull() {
		return nil, nil
	}
	if !isArray(v) {
		return nil, errors.New("jwtfetch: " + name + " must be an array of strings")
	}
	out := make([]string, 0, v.Length())
	for i := range v.Length() {
		s := v.Index(i)
		if s.Type() != js.TypeString {
			return nil, errors.New("jwtfetch: " + name + " must be an array of strings")
		}
		out = append(out, s.String())
	}
	return out, nil
}

//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"sync"
	"syscall/js"
	"time"

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
// passes in. The shim's ns.fetch, when set, is the page's original fetch.
// The functions take an instance id first (from newClient) so that their
// number stays fixed however many instances a page creates.
//
// A Go callback cannot throw into JavaScript (a panic would end the Go
// program), so a synchronous function that fails returns the Error object
// instead of its result and the shim throws it.
//
//	newClient(config) → id
//	fetch(id, input, init, {skipAuth, skipRefresh}) → Promise<Response>
//	setTokens(id, access, refresh, expiresIn); clear(id)
//	accessToken(id) → string | null; isAuthenticated(id) → boolean
//	refresh(id) → Promise<string>; destroy(id); stats() → {funcs, clients}
func Install(ns js.Value) {
	fetch := ns.Get("fetch")
	if fetch.Type() != js.TypeFunction {
		fetch = global.Get("fetch")
	}
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
		c, err := newClient(arg(args, 0), fetch)
		if err != nil {
			return nil, err
		}
		clientsMu.Lock()
		defer clientsMu.Unlock()
		id := nextID
		nextID++
		clients[id] = c
		return id, nil
	})
	export("fetch", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return Rejected(err), nil
		}
		return c.fetch(arg(args, 1), arg(args, 2), arg(args, 3)), nil
	})
	export("setTokens", func(args []js.Value) (any, error) {
		c, err := lookup(arg(args, 0))
		if err != nil {
			return nil, err
		}
		access, refresh := optString(arg(args, 1)), optString(arg(args, 2))
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
			return c.s.Refresh(context.Background())
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

// fetch sends one request through the session. The Request is built at
// once, while the caller's init is as they passed it; the rest runs behind
// a Promise. Aborting the request's signal rejects with the signal's reason
// at any stage, also while the request waits for a refresh.
func (c *client) fetch(input, init, opts js.Value) js.Value {
	req, err := NewRequest(input, init)
	if err != nil {
		return Rejected(err)
	}
	var opt session.Options
	if opts.Type() == js.TypeObject { // the shim's own object
		opt.SkipAuth = opts.Get("skipAuth").Truthy()
		opt.SkipRefresh = opts.Get("skipRefresh").Truthy()
	}
	// init is the caller's: a getter may throw.
	var withSignal bool
	if err := catch(func() { withSignal = get(init, "signal").Truthy() || input.InstanceOf(jsRequest) }); err != nil {
		return Rejected(pass(err))
	}
	// Only a caller's signal can abort: one in init, or the Request's own
	// when input is a Request. Without one, no listener is needed.
	do := func(ctx context.Context) (any, error) {
		resp, err := c.s.Do(ctx, req, opt)
		if err != nil {
			return nil, err
		}
		return resp.(*Response).Value, nil
	}
	if !withSignal {
		return NewPromise(func() (any, error) { return do(context.Background()) })
	}
	signal := req.Signal()
	if signal.Get("aborted").Bool() {
		return Rejected(&passError{Value: signal.Get("reason")})
	}
	ctx, cancel := context.WithCancel(context.Background())
	onAbort := newFunc(func(js.Value, []js.Value) any {
		cancel()
		return nil
	})
	signal.Call("addEventListener", "abort", onAbort)
	return NewPromise(func() (any, error) {
		defer func() {
			signal.Call("removeEventListener", "abort", onAbort)
			release(onAbort)
			cancel()
		}()
		v, err := do(ctx)
		if err != nil && signal.Get("aborted").Bool() {
			return nil, &passError{Value: signal.Get("reason")}
		}
		return v, err
	})
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
	if c.stop != nil {
		c.stop()
	}
}

// newClient reads the shim's config object. The shim has already applied
// the documented defaults and resolved URLs; this checks types.
func newClient(cfg, fetch js.Value) (*client, error) {
	if cfg.Type() != js.TypeObject {
		return nil, errors.New("jwtfetch: config must be an object")
	}
	c := &client{}
	f := &Fetcher{Fetch: fetch, Credentials: optString(cfg.Get("credentials"))}
	_ = catch(func() { f.Page = session.Origin(global.Get("location").Get("origin").String()) })
	sc := session.Config{
		Header: optString(cfg.Get("header")),
		Scheme: "Bearer",
		Leeway: 30 * time.Second,
		Warn:   warn,
	}
	if s := cfg.Get("scheme"); s.Type() == js.TypeString {
		sc.Scheme = s.String()
	}
	sc.RefreshOnNetworkError = cfg.Get("refreshOnNetworkError").Truthy()
	if v := cfg.Get("leeway"); v.Type() == js.TypeNumber && v.Float() >= 0 {
		sc.Leeway = time.Duration(v.Float() * float64(time.Second))
	}
	if v := cfg.Get("refreshTimeout"); v.Type() == js.TypeNumber && v.Float() > 0 {
		sc.RefreshTimeout = time.Duration(v.Float() * float64(time.Millisecond))
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
	storage := cfg.Get("storage")
	if sc.Store, err = newStore(storage, key); err != nil {
		return nil, err
	}
	// Tabs share the session through localStorage, so only that storage
	// is shared; sessionStorage is per tab and memory per instance.
	local := storage.IsUndefined() || storage.IsNull() || (storage.Type() == js.TypeString && storage.String() == "local")
	crossTab := cfg.Get("crossTab")
	if local && (crossTab.Type() != js.TypeBoolean || crossTab.Bool()) {
		sc.Locker = newWebLock(lockName(key))
		if shared := newIDBShared(key); shared != nil {
			sc.Shared = shared
		}
		c.tabs = &tabStore{Store: sc.Store, key: key}
		sc.Store = c.tabs
	}
	if fn := cfg.Get("refresh"); fn.Type() == js.TypeFunction {
		sc.Refresher = FuncRefresher{Fn: fn}
	} else if u := optString(cfg.Get("refreshURL")); u != "" {
		style := optString(cfg.Get("refreshStyle"))
		switch style {
		case "", session.StyleJSON, session.StyleOAuth2:
		default:
			return nil, errors.New("jwtfetch: refreshStyle must be 'json' or 'oauth2'")
		}
		sc.Refresher = &session.HTTPRefresher{Poster: f, URL: u, Style: style, ClientID: optString(cfg.Get("clientId"))}
	}
	if on := cfg.Get("onEvent"); on.Type() == js.TypeFunction {
		sc.OnEvent = func(e session.Event) {
			_ = catch(func() { on.Invoke(e.String()) })
		}
	}
	c.s = session.New(sc, f)
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

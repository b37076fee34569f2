//go:build js && wasm

package jsbridge

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"syscall/js"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run in headless Chromium (wasmbrowsertest): real Promise,
// Request, Response, Headers, AbortController and Web Storage. Where a
// server is needed, a JavaScript function stands in for the network: the
// bridge is handed it as "the page's original fetch", exactly as the shim
// hands it window.fetch. End-to-end tests against a real server live in
// example-site/e2e.

// jsFunc compiles a JavaScript function from source.
func jsFunc(params, body string) js.Value {
	return global.Get("Function").New(params, body)
}

func jwt(exp time.Time) string { return jwtIssued(time.Now(), exp) }

func jwtIssued(iat, exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload := `{"sub":"demo","iat":` + strconv.FormatInt(iat.Unix(), 10) + `,"exp":` + strconv.FormatInt(exp.Unix(), 10) + `}`
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".sig"
}

func await(t *testing.T, p js.Value) (js.Value, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := Await(ctx, p)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "promise still pending after 5 s")
	return v, err
}

func TestAwait(t *testing.T) {
	before := liveFuncs.Load()
	v, err := await(t, jsPromise.Call("resolve", 42))
	require.NoError(t, err)
	assert.Equal(t, 42, v.Int())

	v, err = await(t, js.ValueOf("plain value"))
	require.NoError(t, err)
	assert.Equal(t, "plain value", v.String())

	boom := jsError.New("boom")
	_, err = await(t, jsPromise.Call("reject", boom))
	var je *JSError
	require.ErrorAs(t, err, &je)
	assert.True(t, je.Value.Equal(boom), "the original rejection value is kept")
	assert.Equal(t, "jwtfetch: JavaScript Error", err.Error(), "the name, never the message")
	assert.Equal(t, before, liveFuncs.Load(), "callbacks released once settled")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = Await(ctx, jsFunc("", "return new Promise(() => {})").Invoke())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestCatchTurnsExceptionsIntoErrors(t *testing.T) {
	err := catch(func() { jsFunc("", "throw new RangeError('nope')").Invoke() })
	var je *JSError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "RangeError", je.Value.Get("name").String())
	assert.NoError(t, catch(func() {}))
	err = catch(func() {
		var m map[string]int
		m["x"] = 1 // a Go panic is caught as well
	})
	assert.ErrorContains(t, err, "internal error")
}

func TestNewPromise(t *testing.T) {
	before := liveFuncs.Load()
	v, err := await(t, NewPromise(func() (any, error) { return "done", nil }))
	require.NoError(t, err)
	assert.Equal(t, "done", v.String())

	_, err = await(t, NewPromise(func() (any, error) {
		return nil, &session.Error{Code: session.CodeAuthExpired, Message: "refresh refused: 401", Status: 401}
	}))
	var je *JSError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "JwtFetchError", je.Value.Get("name").String())
	assert.Equal(t, "ERR_AUTH_EXPIRED", je.Value.Get("code").String())
	assert.Equal(t, 401, je.Value.Get("status").Int())
	assert.Equal(t, "jwtfetch: refresh refused: 401", je.Value.Get("message").String())

	_, err = await(t, NewPromise(func() (any, error) { panic("bug") }))
	require.ErrorAs(t, err, &je, "a panic rejects instead of crashing the runtime")
	assert.Equal(t, "ERR_INTERNAL", je.Value.Get("code").String())
	assert.Equal(t, before, liveFuncs.Load())
}

// captureWarnings replaces console.warn for the test.
func captureWarnings(t *testing.T) *[]string {
	var got []string
	orig := jsConsole.Get("warn")
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		got = append(got, arg(args, 0).String())
		return nil
	})
	jsConsole.Set("warn", f)
	t.Cleanup(func() {
		jsConsole.Set("warn", orig)
		f.Release()
	})
	return &got
}

func TestStorage(t *testing.T) {
	for _, kind := range []string{"local", "session"} {
		t.Run(kind, func(t *testing.T) {
			area := global.Get(kind + "Storage")
			area.Call("clear")
			s, err := newStore(js.ValueOf(kind), "test:"+kind)
			require.NoError(t, err)
			v, err := s.Load()
			require.NoError(t, err)
			assert.Empty(t, v)
			require.NoError(t, s.Save(`{"v":1}`))
			assert.Equal(t, `{"v":1}`, area.Call("getItem", "test:"+kind).String(), "written to the real storage")
			v, err = s.Load()
			require.NoError(t, err)
			assert.Equal(t, `{"v":1}`, v)
			require.NoError(t, s.Clear())
			assert.True(t, area.Call("getItem", "test:"+kind).IsNull())
		})
	}
	t.Run("unknown kind", func(t *testing.T) {
		_, err := newStore(js.ValueOf("cookie"), "k")
		assert.ErrorContains(t, err, "unknown storage 'cookie'")
	})
}

func TestThrowingStorageFallsBackToMemoryWithOneWarning(t *testing.T) {
	warnings := captureWarnings(t)
	area := jsFunc("", `return {
		getItem() { throw new DOMException('storage disabled', 'SecurityError') },
		setItem() { throw new DOMException('quota', 'QuotaExceededError') },
		removeItem() { throw new DOMException('storage disabled', 'SecurityError') },
	}`).Invoke()
	s, err := newStore(area, "k")
	require.NoError(t, err)
	v, err := s.Load()
	require.NoError(t, err)
	assert.Empty(t, v)
	require.NoError(t, s.Save("x"))
	v, err = s.Load()
	require.NoError(t, err)
	assert.Equal(t, "x", v, "kept in memory")
	require.NoError(t, s.Clear())
	require.Len(t, *warnings, 1)
	assert.Contains(t, (*warnings)[0], "SecurityError")
}

// fakeServer is a JavaScript fetch that answers like a small API:
// /me needs "Bearer <current>", /refresh rotates. It can hold refreshes
// (state.hold), for at most holdLimit: then it answers 503 and the test
// fails, so a test that never lets go cannot hang.
type fakeServer struct {
	fetch js.Value
	state js.Value
}

const holdLimit = 3 * time.Second

func newFakeServer(t *testing.T) *fakeServer {
	state := js.ValueOf(map[string]any{"current": "", "next": "", "refreshes": 0, "calls": 0, "hold": false, "refreshStatus": 200,
		"holdLimitMs": holdLimit.Milliseconds(), "heldTooLong": 0})
	fetch := jsFunc("state", `
		return async (input, init) => {
			const req = new Request(input, init)
			const path = new URL(req.url).pathname
			if (path === '/refresh') {
				state.refreshes++
				const body = await req.json()
				const until = Date.now() + state.holdLimitMs
				while (state.hold) {
					if (Date.now() > until) {
						state.heldTooLong++
						return new Response('{"error":"held too long"}', { status: 503 })
					}
					await new Promise(r => setTimeout(r, 5))
				}
				if (state.refreshStatus !== 200 || body.refresh !== 'r1') {
					return new Response('{"error":"invalid_grant"}', { status: state.refreshStatus === 200 ? 401 : state.refreshStatus })
				}
				state.current = state.next
				return Response.json({ access: state.next })
			}
			state.calls++
			const body = req.method === 'POST' ? await req.text() : ''
			if (req.headers.get('authorization') !== 'Bearer ' + state.current) {
				return new Response('', { status: 401 })
			}
			return Response.json({ ok: true, body })
		}`).Invoke(state)
	t.Cleanup(func() {
		if n := state.Get("heldTooLong").Int(); n > 0 {
			t.Errorf("fake server: %d refresh(es) held for more than %v and answered 503: the test set state.hold and never released it", n, holdLimit)
		}
	})
	return &fakeServer{fetch: fetch, state: state}
}

// newTestClient installs the exports on a fresh namespace whose fetch is the
// fake server, and creates a client.
func newTestClient(t *testing.T, srv *fakeServer, cfg map[string]any) (ns js.Value, id js.Value) {
	ns = js.ValueOf(map[string]any{})
	ns.Set("fetch", srv.fetch)
	Install(ns)
	base := map[string]any{
		"origins":    []any{"https://api.test"},
		"refreshURL": "https://api.test/refresh",
		"storage":    "memory",
	}
	for k, v := range cfg {
		base[k] = v
	}
	r := ns.Call("newClient", base)
	require.True(t, isArray(r), "newClient answers [id, retryStatuses, retryOnNetworkError, ctl]")
	id = r.Index(0)
	ctls[id.Int()] = r.Index(3)
	t.Cleanup(func() { ns.Call("destroy", id) })
	return ns, id
}

// ctls holds each test client's ctl object, by id.
var ctls = map[int]js.Value{}

// authorize calls the export and returns its answer when it answered at
// once, or else what it returned (a Promise).
func authorize(ns, id js.Value, url string) js.Value {
	r := ns.Call("authorize", id, url)
	if isArray(r) {
		return r.Index(0)
	}
	return r
}

// answer checks that v is an answer to authorize or successor and returns
// its header, value and guard.
func answer(t *testing.T, v js.Value) (header, value string, guard int) {
	t.Helper()
	require.True(t, isArray(v), "an answer is [header, value, guard], got %s", v.Type())
	require.Equal(t, 3, v.Length())
	return v.Index(0).String(), v.Index(1).String(), v.Index(2).Int()
}

func TestNewClientTellsWhenToAskForASuccessor(t *testing.T) {
	srv := newFakeServer(t)
	for _, tt := range []struct {
		name     string
		cfg      map[string]any
		statuses []int
		network  bool
	}{
		{"defaults", nil, []int{401}, false},
		{"refreshOn and network errors", map[string]any{"refreshOn": []any{401, 419}, "refreshOnNetworkError": true}, []int{401, 419}, true},
		{"no way to refresh: never", map[string]any{"refreshURL": nil, "refreshOnNetworkError": true}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := js.ValueOf(map[string]any{"fetch": srv.fetch})
			Install(ns)
			cfg := map[string]any{"origins": []any{"https://api.test"}, "refreshURL": "https://api.test/refresh", "storage": "memory"}
			for k, v := range tt.cfg {
				cfg[k] = v
			}
			r := ns.Call("newClient", cfg)
			defer ns.Call("destroy", r.Index(0))
			var statuses []int
			for i := range r.Index(1).Length() {
				statuses = append(statuses, r.Index(1).Index(i).Int())
			}
			assert.Equal(t, tt.statuses, statuses)
			assert.Equal(t, tt.network, r.Index(2).Bool())
		})
	}
}

func TestAuthorizeAnswersAtOnceWithAGoodToken(t *testing.T) {
	srv := newFakeServer(t)
	ns, id := newTestClient(t, srv, nil)
	ctl := ctls[id.Int()]
	assert.True(t, authorize(ns, id, "https://api.test/me").IsNull(), "no session: no token")

	tok := jwt(time.Now().Add(time.Hour))
	ns.Call("setTokens", id, tok, "r1")
	before := liveFuncs.Load()
	reply := ns.Call("authorize", id, "https://api.test/me")
	require.True(t, isArray(reply), "answered at once: [answer, key, until, version]")
	first := reply.Index(0)
	assert.Equal(t, "https://api.test/", reply.Index(1).String(), "it holds for this origin")
	assert.InDelta(t, time.Now().Add(time.Hour-30*time.Second).UnixMilli(), reply.Index(2).Float(), 2000, "until the leeway starts")
	version := reply.Index(3).Float()
	assert.Equal(t, version, ctl.Get("v").Float(), "at the state version ctl shows")
	h, v, g := answer(t, first)
	assert.Equal(t, "Authorization", h)
	assert.Equal(t, "Bearer "+tok, v)
	assert.Equal(t, guardNone, g, "browsers remove Authorization at a redirect elsewhere")
	assert.True(t, first.Equal(authorize(ns, id, "https://api.test/other?q=1")), "one answer object per token")
	assert.Equal(t, before, liveFuncs.Load(), "no callback, no Promise")
	assert.Equal(t, 0, srv.state.Get("refreshes").Int())

	ns.Call("setTokens", id, "opaque", "")
	assert.Greater(t, ctl.Get("v").Float(), version, "a change moves the version the shim checks")
	reply = ns.Call("authorize", id, "https://api.test/me")
	_, v, _ = answer(t, reply.Index(0))
	assert.Equal(t, "Bearer opaque", v, "a new token, a new answer")
	assert.Zero(t, reply.Index(2).Float(), "an opaque token: no time limit")
	assert.Equal(t, "", ns.Call("authorize", id, "data:,x").Index(1).String(), "not http: nothing to keep")
}

func TestTokenOnlyToAllowedOrigins(t *testing.T) {
	srv := newFakeServer(t)
	ns, id := newTestClient(t, srv, map[string]any{"refreshURL": nil})
	ns.Call("setTokens", id, "opaque-token", "")
	_, v, _ := answer(t, authorize(ns, id, "https://api.test/a"))
	assert.Equal(t, "Bearer opaque-token", v)
	for _, u := range []string{"https://evil.test/a", "http://api.test/a", "https://api.test:8443/a", "https://api.test@evil.test/a", "data:,x", "not a url"} {
		assert.True(t, authorize(ns, id, u).IsNull(), "%s would get a token", u)
	}
}

func TestHeaderSchemeAndGuard(t *testing.T) {
	srv := newFakeServer(t)
	page := global.Get("location").Get("origin").String()
	ns, id := newTestClient(t, srv, map[string]any{"origins": []any{"https://api.test", page}, "header": "X-Trace", "scheme": ""})
	ns.Call("setTokens", id, "opaque", "")
	h, v, g := answer(t, authorize(ns, id, "https://api.test/a"))
	assert.Equal(t, []any{"X-Trace", "opaque", guardManual}, []any{h, v, g}, "another origin: no redirect is followed")
	h, v, g = answer(t, authorize(ns, id, page+"/a"))
	assert.Equal(t, []any{"X-Trace", "opaque", guardSameOrigin}, []any{h, v, g}, "the page's origin: same-origin hops only")

	ns2, id2 := newTestClient(t, srv, map[string]any{"header": "authorization", "scheme": "Token"})
	ns2.Call("setTokens", id2, "opaque", "")
	h, v, g = answer(t, authorize(ns2, id2, "https://api.test/a"))
	assert.Equal(t, []any{"authorization", "Token opaque", guardNone}, []any{h, v, g})
}

func TestSuccessorRefreshesOnceForConcurrentFailures(t *testing.T) {
	srv := newFakeServer(t)
	old := jwt(time.Now().Add(time.Hour))
	srv.state.Set("current", "revoked")
	srv.state.Set("next", jwt(time.Now().Add(2*time.Hour)))
	ns, id := newTestClient(t, srv, nil)
	ns.Call("setTokens", id, old, "r1")
	_, value, _ := answer(t, authorize(ns, id, "https://api.test/me"))
	before := liveFuncs.Load()

	const n = 20
	promises := make([]js.Value, n)
	for i := range promises {
		promises[i] = ns.Call("successor", id, "https://api.test/me", value)
	}
	pending := authorize(ns, id, "https://api.test/me")
	assert.True(t, pending.InstanceOf(jsPromise), "while the token is known bad, requests wait for the refresh")
	promises = append(promises, pending)
	for _, p := range promises {
		v, err := await(t, p)
		require.NoError(t, err)
		_, got, _ := answer(t, v)
		assert.Equal(t, "Bearer "+srv.state.Get("next").String(), got)
	}
	assert.Equal(t, 1, srv.state.Get("refreshes").Int(), "one refresh")
	assert.Equal(t, srv.state.Get("next").String(), ns.Call("accessToken", id).String())
	assert.Equal(t, before, liveFuncs.Load(), "no js.Func left behind")

	v, err := await(t, ns.Call("successor", id, "https://api.test/me", value))
	require.NoError(t, err)
	_, got, _ := answer(t, v)
	assert.Equal(t, "Bearer "+srv.state.Get("next").String(), got, "a late failure of the old token gets the new one")
	assert.Equal(t, 1, srv.state.Get("refreshes").Int(), "without another refresh")
}

func TestAuthorizeRefreshesFirstWhenTheTokenIsAboutToExpire(t *testing.T) {
	srv := newFakeServer(t)
	srv.state.Set("next", jwt(time.Now().Add(time.Hour)))
	ns, id := newTestClient(t, srv, map[string]any{"leeway": 60})
	// A token of 2 s: refreshed ahead from half-way through its life (the
	// leeway is capped at half of it).
	ns.Call("setTokens", id, jwt(time.Now().Add(2*time.Second)), "r1")
	_, _, _ = answer(t, authorize(ns, id, "https://api.test/me"))
	time.Sleep(1100 * time.Millisecond)
	var ps []js.Value
	for range 3 {
		p := authorize(ns, id, "https://api.test/me")
		require.True(t, p.InstanceOf(jsPromise), "a token within the leeway is not sent")
		ps = append(ps, p)
	}
	for _, p := range ps {
		v, err := await(t, p)
		require.NoError(t, err)
		_, got, _ := answer(t, v)
		assert.Equal(t, "Bearer "+srv.state.Get("next").String(), got)
	}
	assert.Equal(t, 1, srv.state.Get("refreshes").Int())
	_, got, _ := answer(t, authorize(ns, id, "https://api.test/me"))
	assert.Equal(t, "Bearer "+srv.state.Get("next").String(), got, "then at once")
}

func TestRefusedRefreshRejectsAllAndClears(t *testing.T) {
	srv := newFakeServer(t)
	srv.state.Set("refreshStatus", 400)
	var events []string
	onEvent := js.FuncOf(func(_ js.Value, args []js.Value) any {
		events = append(events, fmt.Sprintf("%s %v %v", args[0].String(), args[1].Bool(), args[2].Bool()))
		return nil
	})
	defer onEvent.Release()
	ns, id := newTestClient(t, srv, map[string]any{"onEvent": onEvent})
	ns.Call("setTokens", id, jwt(time.Now().Add(time.Hour)), "r1")
	assert.Equal(t, []string{"tokens true false"}, events, "a login, made here")
	_, value, _ := answer(t, authorize(ns, id, "https://api.test/me"))
	events = nil
	var ps []js.Value
	for range 5 {
		ps = append(ps, ns.Call("successor", id, "https://api.test/me", value))
	}
	for _, p := range ps {
		_, err := await(t, p)
		var je *JSError
		require.ErrorAs(t, err, &je)
		assert.Equal(t, "ERR_AUTH_EXPIRED", je.Value.Get("code").String())
	}
	assert.Equal(t, 1, srv.state.Get("refreshes").Int())
	assert.False(t, ns.Call("isAuthenticated", id).Bool())
	assert.True(t, ns.Call("accessToken", id).IsNull())
	assert.True(t, authorize(ns, id, "https://api.test/me").IsNull(), "logged out: no token")
	assert.Equal(t, []string{"tokens false false", "expired false false"}, events)
}

func TestOriginalFetchIsKept(t *testing.T) {
	// The shim captures window.fetch at load; replacing it afterwards (the
	// drop-in use) must not route the refresh through it.
	srv := newFakeServer(t)
	srv.state.Set("next", jwt(time.Now().Add(time.Hour)))
	ns, id := newTestClient(t, srv, nil)
	ns.Call("setTokens", id, "", "r1")
	orig := global.Get("fetch")
	global.Set("fetch", jsFunc("", "throw new Error('window.fetch must not be called')"))
	defer global.Set("fetch", orig)
	v, err := await(t, authorize(ns, id, "https://api.test/me"))
	require.NoError(t, err)
	_, got, _ := answer(t, v)
	assert.Equal(t, "Bearer "+srv.state.Get("next").String(), got)
}

func TestClock(t *testing.T) {
	now := time.Now().UnixMilli()
	assert.InDelta(t, now, Clock{}.Now(), 1000)
	before := liveFuncs.Load()
	fired := make(chan struct{})
	start := time.Now()
	Clock{}.AfterFunc(20*session.Millisecond, func() { close(fired) })
	select {
	case <-fired:
		assert.GreaterOrEqual(t, time.Since(start), 15*time.Millisecond)
	case <-time.After(2 * time.Second):
		t.Fatal("AfterFunc never fired")
	}
	stop := Clock{}.AfterFunc(10*session.Millisecond, func() { t.Error("a stopped timer fired") })
	stop()
	stop()
	time.Sleep(30 * time.Millisecond)
	assert.Equal(t, before, liveFuncs.Load(), "timer callbacks released")
}

func TestExportErrors(t *testing.T) {
	ns := js.ValueOf(map[string]any{})
	Install(ns)
	// call invokes a synchronous export, which returns an Error on failure.
	call := func(name string, args ...any) (js.Value, error) {
		v := ns.Call(name, args...)
		if v.InstanceOf(jsError) {
			return v, &JSError{Value: v}
		}
		return v, nil
	}
	for _, cfg := range []any{
		"not an object",
		map[string]any{"storage": "cookie"},
		map[string]any{"origins": "https://a.test"},
		map[string]any{"refreshURL": "https://a.test/r", "refreshStyle": "xml"},
		map[string]any{"refreshOn": []any{"401"}},
	} {
		_, err := call("newClient", cfg)
		var je *JSError
		require.ErrorAs(t, err, &je, "newClient(%v) must fail", cfg)
		assert.Equal(t, "JwtFetchError", je.Value.Get("name").String())
	}
	id := ns.Call("newClient", map[string]any{"storage": "memory"}).Index(0)
	ns.Call("destroy", id)
	var je *JSError
	_, err := call("authorize", id, "https://a.test/")
	require.ErrorAs(t, err, &je, "authorize on a destroyed instance fails")
	assert.Equal(t, "ERR_DESTROYED", je.Value.Get("code").String())
	_, err = await(t, ns.Call("successor", id, "https://a.test/", "Bearer x"))
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "ERR_DESTROYED", je.Value.Get("code").String())
	_, err = call("clear", id)
	assert.True(t, errors.As(err, &je), "calls on a destroyed instance fail")
	assert.Equal(t, "ERR_DESTROYED", je.Value.Get("code").String())
}

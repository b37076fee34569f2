//go:build js && wasm

package jsbridge

import (
	"context"
	"encoding/base64"
	"errors"
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

func jwt(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload := `{"sub":"demo","iat":` + strconv.FormatInt(time.Now().Unix(), 10) + `,"exp":` + strconv.FormatInt(exp.Unix(), 10) + `}`
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
// /me needs "Bearer <current>", /refresh rotates. It can hold refreshes.
type fakeServer struct {
	fetch js.Value
	state js.Value
}

func newFakeServer(t *testing.T) *fakeServer {
	state := js.ValueOf(map[string]any{"current": "", "next": "", "refreshes": 0, "calls": 0, "hold": false, "refreshStatus": 200})
	fetch := jsFunc("state", `
		return async (input, init) => {
			const req = new Request(input, init)
			const path = new URL(req.url).pathname
			if (path === '/refresh') {
				state.refreshes++
				const body = await req.json()
				while (state.hold) await new Promise(r => setTimeout(r, 5))
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
	return &fakeServer{fetch: fetch, state: state}
}

// newTestClient installs the exports on a fresh namespace whose fetch is the
// fake server, and creates a client with tokens.
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
	id = ns.Call("newClient", base)
	t.Cleanup(func() { ns.Call("destroy", id) })
	return ns, id
}

func TestFetchRefreshesOnceForConcurrent401s(t *testing.T) {
	srv := newFakeServer(t)
	old := jwt(time.Now().Add(time.Hour))
	srv.state.Set("current", "revoked")
	srv.state.Set("next", jwt(time.Now().Add(2*time.Hour)))
	ns, id := newTestClient(t, srv, nil)
	ns.Call("setTokens", id, old, "r1")
	before := liveFuncs.Load()

	const n = 20
	promises := make([]js.Value, n)
	for i := range promises {
		promises[i] = ns.Call("fetch", id, "https://api.test/me", map[string]any{"method": "POST", "body": "payload " + strconv.Itoa(i)})
	}
	for i, p := range promises {
		resp, err := await(t, p)
		require.NoError(t, err)
		require.Equal(t, 200, resp.Get("status").Int())
		body, err := await(t, resp.Call("json"))
		require.NoError(t, err)
		assert.Equal(t, "payload "+strconv.Itoa(i), body.Get("body").String(), "the retry sends the same body")
	}
	assert.Equal(t, 1, srv.state.Get("refreshes").Int(), "one refresh")
	assert.Equal(t, 2*n, srv.state.Get("calls").Int(), "each request sent once and retried once")
	assert.Equal(t, srv.state.Get("next").String(), ns.Call("accessToken", id).String())
	assert.Equal(t, before, liveFuncs.Load(), "no js.Func left behind")
}

func TestFetchNeverMutatesCallerRequest(t *testing.T) {
	srv := newFakeServer(t)
	tok := jwt(time.Now().Add(time.Hour))
	srv.state.Set("current", tok)
	ns, id := newTestClient(t, srv, nil)
	ns.Call("setTokens", id, tok, "r1")
	req := global.Get("Request").New("https://api.test/me", map[string]any{"headers": map[string]any{"X-Test": "1"}})
	resp, err := await(t, ns.Call("fetch", id, req))
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Get("status").Int())
	assert.True(t, req.Get("headers").Call("get", "authorization").IsNull(), "the caller's Request has no token")
	assert.False(t, req.Get("bodyUsed").Bool())
}

func TestTokenOnlyToAllowedOrigins(t *testing.T) {
	seen := js.ValueOf(map[string]any{})
	fetch := jsFunc("seen", `return async (req) => { seen[req.url] = req.headers.get('authorization'); return new Response('ok') }`).Invoke(seen)
	ns := js.ValueOf(map[string]any{"fetch": fetch})
	Install(ns)
	id := ns.Call("newClient", map[string]any{"origins": []any{"https://api.test"}, "storage": "memory"})
	defer ns.Call("destroy", id)
	ns.Call("setTokens", id, "opaque-token", "")
	for _, u := range []string{"https://api.test/a", "https://evil.test/a", "http://api.test/a", "https://api.test:8443/a"} {
		_, err := await(t, ns.Call("fetch", id, u))
		require.NoError(t, err)
	}
	assert.Equal(t, "Bearer opaque-token", seen.Get("https://api.test/a").String())
	for _, u := range []string{"https://evil.test/a", "http://api.test/a", "https://api.test:8443/a"} {
		assert.True(t, seen.Get(u).IsNull(), "%s got a token", u)
	}
}

func TestRefusedRefreshRejectsAllAndClears(t *testing.T) {
	srv := newFakeServer(t)
	srv.state.Set("current", "other")
	srv.state.Set("refreshStatus", 400)
	var events []string
	onEvent := js.FuncOf(func(_ js.Value, args []js.Value) any {
		events = append(events, args[0].String())
		return nil
	})
	defer onEvent.Release()
	ns, id := newTestClient(t, srv, map[string]any{"onEvent": onEvent})
	ns.Call("setTokens", id, jwt(time.Now().Add(time.Hour)), "r1")
	events = nil
	var ps []js.Value
	for range 5 {
		ps = append(ps, ns.Call("fetch", id, "https://api.test/me"))
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
	assert.Equal(t, []string{"tokens", "expired"}, events)
}

func TestAbortWhileWaitingForRefresh(t *testing.T) {
	srv := newFakeServer(t)
	srv.state.Set("current", "revoked")
	srv.state.Set("next", jwt(time.Now().Add(time.Hour)))
	srv.state.Set("hold", true)
	ns, id := newTestClient(t, srv, nil)
	ns.Call("setTokens", id, jwt(time.Now().Add(time.Hour)), "r1")
	ac := global.Get("AbortController").New()
	aborted := ns.Call("fetch", id, "https://api.test/me", map[string]any{"signal": ac.Get("signal")})
	other := ns.Call("fetch", id, "https://api.test/me")
	// Let both reach the refresh, then abort one of them.
	for srv.state.Get("refreshes").Int() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	ac.Call("abort")
	_, err := await(t, aborted)
	var je *JSError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "AbortError", je.Value.Get("name").String(), "rejects like fetch does")
	srv.state.Set("hold", false)
	resp, err := await(t, other)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Get("status").Int())
	assert.Equal(t, 3, srv.state.Get("calls").Int(), "the aborted request is not sent again")

	_, err = await(t, ns.Call("fetch", id, "https://api.test/me", map[string]any{"signal": ac.Get("signal")}))
	require.ErrorAs(t, err, &je, "an already aborted signal rejects at once")
	assert.Equal(t, "AbortError", je.Value.Get("name").String())
}

func TestOriginalFetchIsKept(t *testing.T) {
	// The shim captures window.fetch at load; replacing it afterwards (the
	// drop-in use) must not route the bridge's own requests through it.
	srv := newFakeServer(t)
	tok := jwt(time.Now().Add(time.Hour))
	srv.state.Set("current", tok)
	ns, id := newTestClient(t, srv, nil)
	ns.Call("setTokens", id, tok, "r1")
	orig := global.Get("fetch")
	global.Set("fetch", jsFunc("", "throw new Error('window.fetch must not be called')"))
	defer global.Set("fetch", orig)
	resp, err := await(t, ns.Call("fetch", id, "https://api.test/me"))
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Get("status").Int())
}

func TestRealNetworkFetch(t *testing.T) {
	// The browser's own fetch, on a URL that needs no server.
	ns := js.ValueOf(map[string]any{})
	Install(ns)
	id := ns.Call("newClient", map[string]any{"storage": "memory"})
	defer ns.Call("destroy", id)
	resp, err := await(t, ns.Call("fetch", id, "data:text/plain,hello"))
	require.NoError(t, err)
	text, err := await(t, resp.Call("text"))
	require.NoError(t, err)
	assert.Equal(t, "hello", text.String())

	_, err = await(t, ns.Call("fetch", id, "http://[bad"))
	var je *JSError
	require.ErrorAs(t, err, &je, "a bad URL gives the browser's TypeError")
	assert.Equal(t, "TypeError", je.Value.Get("name").String())
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
	id := ns.Call("newClient", map[string]any{"storage": "memory"})
	ns.Call("destroy", id)
	_, err := await(t, ns.Call("fetch", id, "data:,x"))
	var je *JSError
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "ERR_DESTROYED", je.Value.Get("code").String())
	_, err = call("clear", id)
	assert.True(t, errors.As(err, &je), "calls on a destroyed instance fail")
	assert.Equal(t, "ERR_DESTROYED", je.Value.Get("code").String())
}

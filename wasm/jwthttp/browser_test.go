//go:build js && wasm

package jwthttp

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of what only the browser has: localStorage, storage events, the
// Web Lock and the IndexedDB record, shared with other Transports and with
// JavaScript in the page. The scenarios of scenarios_test.go run here too,
// through the browser's fetch.

var localStorage = js.Global().Get("localStorage")

// TestMain lets the browser finish what the last tests started (the
// IndexedDB writes of their logouts) before the program exits: a callback
// that arrives afterwards only logs "Go program has already exited".
func TestMain(m *testing.M) {
	code := m.Run()
	time.Sleep(300 * time.Millisecond)
	os.Exit(code)
}

// jwtFor returns an unsigned JWT that expires in an hour.
func jwtFor(sub string) string {
	now := time.Now().Unix()
	enc := func(s string) string {
		return strings.TrimRight(js.Global().Call("btoa", s).String(), "=")
	}
	return enc(`{"alg":"none"}`) + "." + enc(`{"sub":"`+sub+`","iat":`+itoa(now)+`,"exp":`+itoa(now+3600)+`}`) + ".sig"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pageTransport returns a Transport under key, with no server (its refresh
// URL is never called).
func pageTransport(t *testing.T, key string) *Transport {
	t.Helper()
	tr, err := New(Config{RefreshURL: "/auth/refresh", StorageKey: key})
	require.NoError(t, err)
	t.Cleanup(tr.Close)
	return tr
}

func TestSessionLivesInLocalStorage(t *testing.T) {
	const key = "jwthttp-browser-persist"
	localStorage.Call("removeItem", key)
	tr := pageTransport(t, key)
	access := jwtFor("persist")
	tr.SetTokens(access, "refresh-1")
	stored := localStorage.Call("getItem", key).String()
	tok, err := session.DecodeState(stored)
	require.NoError(t, err, "the JavaScript instance's format: %s", stored)
	assert.Equal(t, access, tok.Access)
	assert.Equal(t, "refresh-1", tok.Refresh)

	again := pageTransport(t, key)
	assert.Equal(t, access, again.AccessToken(), "a reload restores the session")
	tr.Clear()
	assert.True(t, localStorage.Call("getItem", key).IsNull())
}

func TestTransportsOfOnePageShareTheSession(t *testing.T) {
	const key = "jwthttp-browser-share"
	localStorage.Call("removeItem", key)
	a, b := pageTransport(t, key), pageTransport(t, key)
	var mu sync.Mutex
	var seen []Event
	b.On(EventTokens, func(e Event) {
		mu.Lock()
		seen = append(seen, e)
		mu.Unlock()
	})
	events := func() []Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]Event(nil), seen...)
	}

	access := jwtFor("share")
	a.SetTokens(access, "refresh-1")
	// b hears of it from the storage event a dispatches in the page,
	// without being asked.
	require.Eventually(t, func() bool { return len(events()) == 1 }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, Event{Name: EventTokens, Authenticated: true, FromOtherTab: true}, events()[0])
	assert.Equal(t, access, b.AccessToken())

	a.Clear()
	require.Eventually(t, func() bool { return len(events()) == 2 }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, Event{Name: EventTokens, Authenticated: false, FromOtherTab: true}, events()[1])
	assert.False(t, b.IsAuthenticated())
}

func TestChangeMadeByJavaScriptIsSeenAtTheNextCall(t *testing.T) {
	const key = "jwthttp-browser-js"
	localStorage.Call("removeItem", key)
	tr := pageTransport(t, key)
	// What a JavaScript jwtfetch instance of the page writes: the page
	// gets no storage event for it.
	access := jwtFor("js")
	localStorage.Call("setItem", key, session.EncodeState(session.NewTokens(access, "refresh-js", 0, time.Now().UnixMilli())))
	assert.Equal(t, access, tr.AccessToken())
	assert.True(t, tr.IsAuthenticated())
	localStorage.Call("removeItem", key)
	assert.False(t, tr.IsAuthenticated(), "a logout in JavaScript")
}

func TestChangesAreAnnouncedToThePage(t *testing.T) {
	const key = "jwthttp-browser-announce"
	localStorage.Call("removeItem", key)
	var mu sync.Mutex
	var got []string
	onStorage := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ev := args[0]
		if ev.Get("key").String() != key {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		v := "<removed>"
		if nv := ev.Get("newValue"); nv.Type() == js.TypeString {
			v = nv.String()
		}
		got = append(got, v)
		return nil
	})
	js.Global().Call("addEventListener", "storage", onStorage)
	defer func() {
		js.Global().Call("removeEventListener", "storage", onStorage)
		onStorage.Release()
	}()

	tr := pageTransport(t, key)
	tr.SetTokens(jwtFor("announce"), "refresh-1")
	tr.Clear()
	events := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
	// The events come from a microtask, once this goroutine yields.
	require.Eventually(t, func() bool { return len(events()) >= 2 }, 2*time.Second, 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	require.Len(t, events(), 2, "a storage event for each change, as another tab would get: %q", events())
	assert.Equal(t, "refresh-1", localStorageValue(t, events()[0]), "in the order of the changes")
	assert.Equal(t, "<removed>", events()[1])
}

func localStorageValue(t *testing.T, raw string) string {
	t.Helper()
	tok, err := session.DecodeState(raw)
	require.NoError(t, err)
	return tok.Refresh
}

func TestNoCrossTabKeepsTheSessionToItself(t *testing.T) {
	const key = "jwthttp-browser-alone"
	localStorage.Call("removeItem", key)
	alone, err := New(Config{RefreshURL: "/auth/refresh", StorageKey: key, NoCrossTab: true})
	require.NoError(t, err)
	access := jwtFor("alone")
	alone.SetTokens(access, "r")
	assert.Equal(t, "r", localStorageValue(t, localStorage.Call("getItem", key).String()), "still kept in localStorage")
	localStorage.Call("setItem", key, session.EncodeState(session.NewTokens(jwtFor("elsewhere"), "r2", 0, time.Now().UnixMilli())))
	assert.Equal(t, access, alone.AccessToken(), "a change made elsewhere is not adopted")
	alone.Clear()
}

// TestTransportsOfOnePageRefreshOnce: two Transports that share a key make
// one refresh for both after a revocation (the Web Lock and the IndexedDB
// record at work, as between a Go program and a JavaScript instance).
func TestTransportsOfOnePageRefreshOnce(t *testing.T) {
	const perTransport = 10
	e := newEnv(t)
	cfg := Config{RefreshURL: e.api + "/auth/refresh", StorageKey: "jwthttp-browser-storm"}
	a, _ := newTransport(t, e, cfg)
	b, _ := newTransport(t, e, cfg)
	a.SetTokens(login(t, e.api))
	require.Eventually(t, b.IsAuthenticated, 2*time.Second, 5*time.Millisecond)
	for round := range 3 {
		before := e.counters(t, e.api)
		e.revoke(t, e.api)
		var wg sync.WaitGroup
		for _, tr := range []*Transport{a, b} {
			wg.Go(func() {
				statuses, errs := storm(&http.Client{Transport: tr}, e.api+"/api/me", perTransport)
				for i := range statuses {
					assert.NoError(t, errs[i], "round %d", round)
					assert.Equal(t, 200, statuses[i], "round %d", round)
				}
			})
		}
		wg.Wait()
		after := e.counters(t, e.api)
		assert.EqualValues(t, 1, after.Refreshes-before.Refreshes, "refreshes in round %d", round)
	}
	assert.Zero(t, e.counters(t, e.api).ReuseDetections)
	assert.Equal(t, a.AccessToken(), b.AccessToken())
}

// TestCustomHeaderToThePageOrigin: a request to the page's own origin
// whose token travels in a header other than Authorization goes with
// fetch's mode 'same-origin' (no redirect away from the origin), which
// leaves an ordinary request as it is.
func TestCustomHeaderToThePageOrigin(t *testing.T) {
	const key = "jwthttp-browser-same-origin"
	localStorage.Call("removeItem", key)
	tr, err := New(Config{RefreshURL: "/auth/refresh", StorageKey: key, Header: "X-Token"})
	require.NoError(t, err)
	defer tr.Close()
	tr.SetTokens(jwtFor("same-origin"), "r")
	defer tr.Clear()
	resp, err := (&http.Client{Transport: tr}).Get(js.Global().Get("location").Get("origin").String() + "/wasm_exec.js")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

//go:build js && wasm

package jsbridge

import (
	"context"
	"syscall/js"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWebLockIsExclusiveAndBounded(t *testing.T) {
	before := liveFuncs.Load()
	l := newWebLock("test:lock")
	require.NotNil(t, l, "Chromium has Web Locks")
	unlock, err := l.Lock(context.Background())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = l.Lock(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a held lock is not granted twice")
	assert.Less(t, time.Since(start), time.Second)

	// The request that timed out is gone from the queue; a new one waits
	// there while the lock is held, and cannot be granted before unlock:
	// the waiter checks that released, closed just before, is closed.
	waitLockRequests(t, "test:lock", 0)
	got := make(chan func(), 1)
	released := make(chan struct{})
	go func() {
		u, err := l.Lock(context.Background())
		assert.NoError(t, err)
		select {
		case <-released:
		default:
			t.Error("the lock was granted to a second holder before the first released it")
		}
		got <- u
	}()
	waitLockRequests(t, "test:lock", 1)
	assert.Empty(t, got, "waits while held")
	close(released)
	unlock()
	unlock() // twice is harmless
	select {
	case u := <-got:
		u()
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter never got the lock")
	}
	require.Eventually(t, func() bool { return liveFuncs.Load() == before }, time.Second, 5*time.Millisecond, "callbacks released")
}

// waitLockRequests waits until n requests for the Web Lock name are
// waiting (navigator.locks.query), or fails the test after a while.
func waitLockRequests(t *testing.T, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		q, err := await(t, global.Get("navigator").Get("locks").Call("query"))
		require.NoError(t, err)
		pending, got := q.Get("pending"), 0
		for i := range pending.Length() {
			if pending.Index(i).Get("name").String() == name {
				got++
			}
		}
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait for the lock %q, want %d", got, name, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestIndexedDBShared(t *testing.T) {
	s := newIDBShared("test:shared")
	require.NotNil(t, s)
	ctx := context.Background()
	require.NoError(t, s.Delete(ctx))
	_, _, ok, err := s.Load(ctx)
	require.NoError(t, err)
	assert.False(t, ok)
	tok := session.NewTokens(jwt(time.Now().Add(time.Hour)), "r-1", 0, time.Now().UnixMilli())
	at := time.Now().UnixMilli()
	require.NoError(t, s.Save(ctx, session.EncodeState(tok), at))
	raw, gotAt, ok, err := (&idbShared{key: "test:shared"}).Load(ctx) // a fresh connection
	require.NoError(t, err)
	require.True(t, ok)
	got, err := session.DecodeState(raw)
	require.NoError(t, err)
	assert.Equal(t, tok.Access, got.Access)
	assert.Equal(t, "r-1", got.Refresh)
	assert.Equal(t, at, gotAt)
	require.NoError(t, s.Delete(ctx))
	_, _, ok, err = s.Load(ctx)
	require.NoError(t, err)
	assert.False(t, ok, "deleted")
}

func TestInstancesWithOneKeyShareTheSession(t *testing.T) {
	global.Get("localStorage").Call("removeItem", "shared-key")
	require.NoError(t, newIDBShared("shared-key").Delete(context.Background()))
	srv := newFakeServer(t)
	srv.state.Set("current", "revoked")
	srv.state.Set("next", jwt(time.Now().Add(2*time.Hour)))
	ns := js.ValueOf(map[string]any{"fetch": srv.fetch})
	Install(ns)
	cfg := map[string]any{"origins": []any{"https://api.test"}, "refreshURL": "https://api.test/refresh", "storageKey": "shared-key"}
	a, b := ns.Call("newClient", cfg).Index(0), ns.Call("newClient", cfg).Index(0)
	defer ns.Call("destroy", a)
	defer ns.Call("destroy", b)

	ns.Call("setTokens", a, jwt(time.Now().Add(time.Hour)), "r1")
	require.Eventually(t, func() bool { return ns.Call("isAuthenticated", b).Bool() }, time.Second, 5*time.Millisecond, "a login reaches the other instance")

	value := authorize(ns, a, "https://api.test/me").Index(1)
	assert.Equal(t, value.String(), authorize(ns, b, "https://api.test/me").Index(1).String(), "one token")
	var ps []js.Value
	for range 5 {
		ps = append(ps, ns.Call("successor", a, "https://api.test/me", value), ns.Call("successor", b, "https://api.test/me", value))
	}
	for _, p := range ps {
		v, err := await(t, p)
		require.NoError(t, err)
		assert.Equal(t, "Bearer "+srv.state.Get("next").String(), v.Index(1).String())
	}
	assert.Equal(t, 1, srv.state.Get("refreshes").Int(), "one refresh for both instances")

	ns.Call("clear", b)
	require.Eventually(t, func() bool { return !ns.Call("isAuthenticated", a).Bool() }, time.Second, 5*time.Millisecond, "a logout too")
	require.Eventually(t, func() bool {
		_, _, ok, err := newIDBShared("shared-key").Load(context.Background())
		return err == nil && !ok
	}, time.Second, 5*time.Millisecond, "no token left in IndexedDB after logout")
}

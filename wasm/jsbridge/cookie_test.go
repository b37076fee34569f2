//go:build js && wasm

package jsbridge

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncLog records what a channel hands to sync.
type syncLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *syncLog) add(s string) {
	l.mu.Lock()
	l.seen = append(l.seen, s)
	l.mu.Unlock()
}

func (l *syncLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

// TestCookieSharedWaitsForTheMessage: a tab that takes the refresh lock
// after another tab refreshed finds the refresh in IndexedDB and waits for
// its message, which may come after the lock did; it never refreshes with
// a cookie the other tab has already rotated.
func TestCookieSharedWaitsForTheMessage(t *testing.T) {
	const key = "test:cookie-shared"
	before := liveFuncs.Load()
	var logA, logB syncLog
	a, b := newChannel(key, logA.add), newChannel(key, logB.add)
	require.NotNil(t, a, "Chromium has BroadcastChannel")
	idb := newIDBShared(key)
	require.NotNil(t, idb)
	sharedA, sharedB := &cookieShared{idb: idb, tabs: a}, &cookieShared{idb: idb, tabs: b}
	ctx := context.Background()

	// Nothing shared yet: no wait.
	start := time.Now()
	_, _, ok, err := sharedB.Load(ctx)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Less(t, time.Since(start), time.Second)

	// Tab A publishes a refresh: B reads it, with the token from the message.
	state := session.EncodeState(session.Tokens{Access: "access-1", Refresh: cookieRefresh})
	at := Clock{}.Now()
	a.store(state) // the session stores its tokens before it publishes them
	require.NoError(t, sharedA.Save(ctx, state, at))
	got, gotAt, ok, err := sharedB.Load(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, state, got)
	assert.Equal(t, at, gotAt)
	require.Eventually(t, func() bool { return len(logB.get()) == 2 }, time.Second, 5*time.Millisecond)
	assert.Equal(t, []string{state, state}, logB.get(), "the messages (stored, published) reach the other tab's session")
	assert.Empty(t, logA.get(), "not the sender's own")

	// The last refresh was A's own: A does not wait for a message it
	// will never hear.
	start = time.Now()
	got, _, ok, err = sharedA.Load(ctx)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, state, got)
	assert.Less(t, time.Since(start), 150*time.Millisecond)

	// IndexedDB knows of a newer refresh whose message is late: B waits
	// for it.
	state2 := session.EncodeState(session.Tokens{Access: "access-2", Refresh: cookieRefresh})
	at2 := at + 1
	require.NoError(t, idb.Save(ctx, "", at2))
	loaded := make(chan string, 1)
	go func() {
		got, _, ok, err := sharedB.Load(ctx)
		assert.NoError(t, err)
		assert.True(t, ok)
		loaded <- got
	}()
	time.Sleep(100 * time.Millisecond) // B is waiting now
	assert.Empty(t, loaded, "B waits for the message")
	a.store(state2)
	a.publish(state2, at2)
	select {
	case got := <-loaded:
		assert.Equal(t, state2, got)
	case <-time.After(2 * time.Second):
		t.Fatal("B never got the late message")
	}

	// A message that never comes: B gives up after messageWait and
	// refreshes itself (the browser holds the rotated cookie).
	defer func(w session.Duration) { messageWait = w }(messageWait)
	messageWait = 200 * session.Millisecond
	require.NoError(t, idb.Save(ctx, "", at2+1))
	start = time.Now()
	_, _, ok, err = sharedB.Load(ctx)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)

	// A refresh from before B listened is not waited for.
	require.NoError(t, idb.Save(ctx, "", b.since-1))
	start = time.Now()
	_, _, ok, err = sharedB.Load(ctx)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Less(t, time.Since(start), 150*time.Millisecond)

	// Nothing secret is in IndexedDB: the record holds no state.
	raw, _, _, err := idb.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, raw)
	require.NoError(t, idb.Delete(ctx))
	a.close()
	b.close()
	require.Eventually(t, func() bool { return liveFuncs.Load() == before }, time.Second, 5*time.Millisecond, "callbacks released")
}

// TestCookieLogoutWinsOverAPublishedRefresh: a logout stored after a
// refresh was committed, but before the refresh was published, stays the
// last word in the other tabs.
func TestCookieLogoutWinsOverAPublishedRefresh(t *testing.T) {
	const key = "test:cookie-logout-wins"
	var log syncLog
	other := newChannel(key, log.add)
	defer other.close()
	mine := newChannel(key, func(string) {})
	defer mine.close()
	idb := newIDBShared(key)
	store := &cookieStore{area: &session.MemStore{}, tabs: mine}
	shared := &cookieShared{idb: idb, tabs: mine}
	state := session.EncodeState(session.Tokens{Access: "refreshed", Refresh: cookieRefresh})
	require.NoError(t, store.Save(state)) // the refresh commits
	require.NoError(t, store.Clear())     // a logout comes
	require.NoError(t, shared.Save(context.Background(), state, Clock{}.Now()))
	assert.False(t, mine.publish(state, Clock{}.Now()), "nothing published after the logout")
	require.Eventually(t, func() bool { return len(log.get()) >= 2 }, time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // a late message would arrive by now
	assert.Equal(t, []string{state, ""}, log.get(), "the logout is the last word")
	require.NoError(t, idb.Delete(context.Background()))
}

// TestCookieStoreKeepsOnlyAMarker: storage gets "signed in", never a token,
// and reads back as a session that must refresh first.
func TestCookieStoreKeepsOnlyAMarker(t *testing.T) {
	area := &session.MemStore{}
	var log syncLog
	other := newChannel("test:cookie-store", log.add)
	defer other.close()
	mine := newChannel("test:cookie-store", func(string) {})
	defer mine.close()
	s := &cookieStore{area: area, tabs: mine}
	state := session.EncodeState(session.Tokens{Access: "secret-access", Refresh: cookieRefresh})
	require.NoError(t, s.Save(state))
	raw, _ := area.Load()
	assert.Equal(t, cookieMarker, raw)
	loaded, err := s.Load()
	require.NoError(t, err)
	tok, err := session.DecodeState(loaded)
	require.NoError(t, err)
	assert.Equal(t, session.Tokens{Refresh: cookieRefresh}, tok, "no access token after a reload: refresh first")
	require.NoError(t, s.Clear())
	raw, _ = area.Load()
	assert.Empty(t, raw)
	require.Eventually(t, func() bool { return len(log.get()) == 2 }, time.Second, 5*time.Millisecond)
	assert.Equal(t, []string{state, ""}, log.get(), "the other tabs hear of the login and the logout")

	// Anything else in storage is no session.
	require.NoError(t, area.Save(state))
	loaded, err = s.Load()
	require.NoError(t, err)
	assert.Empty(t, loaded)
}

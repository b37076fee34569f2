package session

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tabs are simulated by Clients that share a lock, a Shared store and a
// server, each with its own view of localStorage that learns of the others'
// writes late, as storage events arrive in a browser.

// fakeLock is a Locker: a semaphore that honours ctx while waiting.
type fakeLock struct{ sem chan struct{} }

func newLock() *fakeLock { return &fakeLock{sem: make(chan struct{}, 1)} }

func (l *fakeLock) Lock(ctx Ctx) (func(), error) {
	select {
	case l.sem <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-l.sem }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fakeShared is a Shared store.
type fakeShared struct {
	mu sync.Mutex
	t  string
	at int64
	ok bool
}

func (s *fakeShared) Load(Ctx) (string, int64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t, s.at, s.ok, nil
}

func (s *fakeShared) Save(_ Ctx, t string, at int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t, s.at, s.ok = t, at, true
	return nil
}

func (s *fakeShared) Delete(Ctx) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t, s.at, s.ok = "", 0, false
	return nil
}

// rotatingServer is a Refresher that behaves like a server with single-use
// refresh tokens and reuse detection: presenting a used one fails (401) and
// is counted.
type rotatingServer struct {
	api   *fakeAPI
	mu    sync.Mutex
	valid map[string]bool
	n     int
	calls atomic.Int32
	reuse atomic.Int32
}

func (s *rotatingServer) Refresh(_ Ctx, refreshToken string) (Grant, error) {
	s.calls.Add(1)
	time.Sleep(2 * time.Millisecond) // a network round trip
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.valid[refreshToken] {
		s.reuse.Add(1)
		return Grant{}, StatusError("POST /refresh", 401)
	}
	delete(s.valid, refreshToken)
	s.n++
	access := jwtAt(time.Now(), time.Hour, 5000+s.n)
	refresh := "rt-" + strconv.Itoa(s.n)
	s.valid[refresh] = true
	s.api.accept(access)
	return Grant{Access: access, Refresh: refresh}, nil
}

// tabStore is one tab's localStorage: writes reach the other tabs after a
// random delay, through their Sync, like storage events.
type tabStore struct {
	MemStore
	others func() []*Client
}

func (s *tabStore) broadcast(v string) {
	for _, c := range s.others() {
		go func() {
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
			c.Sync(v)
		}()
	}
}

func (s *tabStore) Save(v string) error { s.MemStore.Save(v); s.broadcast(v); return nil }
func (s *tabStore) Clear() error        { s.MemStore.Clear(); s.broadcast(""); return nil }

type tabs struct {
	api    *fakeAPI
	server *rotatingServer
	lock   *fakeLock
	shared *fakeShared
	c      []*Client
	events []*eventLog
}

func newTabs(t *testing.T, n int, mod func(*Config)) *tabs {
	t.Helper()
	ts := &tabs{api: newAPI(), lock: newLock(), shared: &fakeShared{}}
	ts.server = &rotatingServer{api: ts.api, valid: map[string]bool{"rt-0": true}}
	access := jwtAt(time.Now(), time.Hour, 1)
	ts.api.accept(access)
	raw := EncodeState(NewTokens(access, "rt-0", 0, time.Now().UnixMilli()))
	for i := range n {
		store := &tabStore{}
		store.MemStore.Save(raw) // every tab starts from the same stored session
		store.others = func() []*Client {
			var o []*Client
			for j, c := range ts.c {
				if j != i {
					o = append(o, c)
				}
			}
			return o
		}
		ev := &eventLog{}
		cfg := Config{
			Origins:        []string{"https://api.test"},
			Scheme:         "Bearer",
			RefreshTimeout: 2 * Second,
			Refresher:      ts.server,
			Store:          store,
			Locker:         ts.lock,
			Shared:         ts.shared,
			OnEvent:        ev.add,
		}
		if mod != nil {
			mod(&cfg)
		}
		ts.c = append(ts.c, New(cfg, ts.api))
		ts.events = append(ts.events, ev)
	}
	return ts
}

// revokeAll makes the API refuse every access token issued so far.
func (ts *tabs) revokeAll() {
	ts.api.mu.Lock()
	clear(ts.api.accepted)
	ts.api.mu.Unlock()
}

func TestTabsRefreshOnceWithRotation(t *testing.T) {
	const nTabs, perTab, rounds = 3, 10, 20
	ts := newTabs(t, nTabs, nil)
	for round := range rounds {
		ts.revokeAll()
		before := ts.server.calls.Load()
		var wg sync.WaitGroup
		errs := make(chan error, nTabs*perTab)
		for _, c := range ts.c {
			for range perTab {
				wg.Go(func() {
					resp, err := c.Do(context.Background(), fakeReq{apiURL}, Options{})
					if err == nil && resp.Status() != 200 {
						err = &Error{Message: "status " + strconv.Itoa(resp.Status())}
					}
					errs <- err
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err, "round %d", round)
		}
		assert.EqualValues(t, 1, ts.server.calls.Load()-before, "refresh requests in round %d", round)
		time.Sleep(5 * time.Millisecond) // let the storage events land
	}
	assert.Zero(t, ts.server.reuse.Load(), "reuse detections")
}

func TestTabsStuckLockHolderIsBounded(t *testing.T) {
	ts := newTabs(t, 1, func(c *Config) { c.RefreshTimeout = 100 * Millisecond })
	unlock, err := ts.lock.Lock(context.Background()) // a frozen tab holds the lock
	require.NoError(t, err)
	ts.revokeAll()
	start := time.Now()
	_, err = ts.c[0].Do(context.Background(), fakeReq{apiURL}, Options{})
	assert.Equal(t, CodeTimeout, CodeOf(err), "%v", err)
	assert.Less(t, time.Since(start), time.Second)
	assert.True(t, ts.c[0].IsAuthenticated(), "waiting for the lock is not a logout")
	assert.Zero(t, ts.server.calls.Load())

	unlock()
	resp, err := ts.c[0].Do(context.Background(), fakeReq{apiURL}, Options{})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status(), "recovers once the lock is free")
}

func TestTabsAdoptAnotherTabsRefresh(t *testing.T) {
	// Tab 1 refreshes while tab 0 waits for the lock; tab 0 then finds the
	// newer tokens in Shared (its storage event has not arrived) and makes
	// no request.
	ts := newTabs(t, 2, nil)
	ts.c[1].cfg.Store.(*tabStore).others = func() []*Client { return nil } // no storage event
	ts.revokeAll()
	resp, err := ts.c[1].Do(context.Background(), fakeReq{apiURL}, Options{})
	require.NoError(t, err)
	require.Equal(t, 200, resp.Status())
	resp, err = ts.c[0].Do(context.Background(), fakeReq{apiURL}, Options{})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status())
	assert.EqualValues(t, 1, ts.server.calls.Load())
	assert.Equal(t, ts.c[1].AccessToken(), ts.c[0].AccessToken())
	assert.Equal(t, []string{"tokens true false", "refresh true false"}, ts.events[1].seen(), "the tab that refreshed")
	assert.Equal(t, []string{"tokens true true", "refresh true true"}, ts.events[0].seen(), "the tab that adopted its result")
}

func TestSync(t *testing.T) {
	ts := newTabs(t, 2, nil)
	a, b := ts.c[0], ts.c[1]
	a.Clear()
	require.Eventually(t, func() bool { return !b.IsAuthenticated() }, time.Second, time.Millisecond, "logout reaches the other tab")
	assert.Equal(t, 1, ts.events[1].count(EventTokens))

	access := jwtAt(time.Now(), time.Hour, 77)
	ts.api.accept(access)
	a.SetTokens(access, "rt-x", 0)
	require.Eventually(t, func() bool { return b.AccessToken() == access }, time.Second, time.Millisecond, "login too")
	assert.Equal(t, 2, ts.events[1].count(EventTokens))

	b.Sync("{garbage")
	assert.Equal(t, access, b.AccessToken(), "unreadable values are ignored")
	b.Sync(EncodeState(NewTokens(access, "rt-x", 0, time.Now().UnixMilli())))
	assert.Equal(t, 2, ts.events[1].count(EventTokens), "no event when nothing changed")
}

func TestSyncDuringRefreshWins(t *testing.T) {
	// Tab 0 waits for the lock to refresh; tab 1's new tokens arrive by
	// storage event meanwhile: tab 0's waiters get them, no request is made.
	ts := newTabs(t, 2, nil)
	unlock, err := ts.lock.Lock(context.Background())
	require.NoError(t, err)
	ts.revokeAll()
	done := make(chan error, 1)
	go func() {
		resp, err := ts.c[0].Do(context.Background(), fakeReq{apiURL}, Options{})
		if err == nil && resp.Status() != 200 {
			err = &Error{Message: "status " + strconv.Itoa(resp.Status())}
		}
		done <- err
	}()
	require.Eventually(t, func() bool {
		ts.c[0].mu.Lock()
		defer ts.c[0].mu.Unlock()
		return ts.c[0].flight != nil
	}, time.Second, time.Millisecond)
	access := jwtAt(time.Now(), time.Hour, 99)
	ts.api.accept(access)
	ts.c[0].Sync(EncodeState(NewTokens(access, "rt-99", 0, time.Now().UnixMilli())))
	unlock()
	require.NoError(t, <-done)
	assert.Zero(t, ts.server.calls.Load())
	assert.Equal(t, access, ts.c[0].AccessToken())
}

//go:build js && wasm

package jsbridge

import (
	"errors"
	"sync"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// One session across tabs: Web Locks make refreshes exclusive, IndexedDB
// carries the latest refresh result to the tab that takes the lock next,
// and storage events tell every tab of logins, refreshes and logouts.

// webLock is a session.Locker over the Web Locks API.
// https://developer.mozilla.org/docs/Web/API/LockManager/request
type webLock struct {
	locks js.Value
	name  string
}

// newWebLock returns nil when the browser has no Web Locks (older browsers,
// some webviews): refreshes are then single-flight per tab only.
func newWebLock(name string) session.Locker {
	var locks js.Value
	if err := catch(func() { locks = global.Get("navigator").Get("locks") }); err != nil || locks.Type() != js.TypeObject {
		return nil
	}
	return &webLock{locks: locks, name: name}
}

// Lock implements session.Locker. The lock is held while the promise our
// callback returns is pending; unlock resolves it.
func (l *webLock) Lock(ctx session.Ctx) (func(), error) {
	granted := make(chan js.Value, 1)
	var onGrant js.Func
	onGrant = newFunc(func(js.Value, []js.Value) any {
		var resolve js.Value
		exec := newFunc(func(_ js.Value, args []js.Value) any {
			resolve = arg(args, 0)
			return nil
		})
		p := jsPromise.New(exec)
		release(exec)
		granted <- resolve
		return p
	})
	var ac, req js.Value
	err := catch(func() {
		ac = global.Get("AbortController").New()
		req = l.locks.Call("request", l.name, map[string]any{"signal": ac.Get("signal")}, onGrant)
	})
	if err != nil {
		release(onGrant)
		return nil, err
	}
	// The request's promise settles once the lock is released again, or
	// rejects when the wait is aborted.
	settled := make(chan error, 1)
	go func() {
		_, err := awaitPromise(session.Background, req)
		settled <- err
	}()
	finish := func() {
		<-settled
		release(onGrant)
	}
	select {
	case resolve := <-granted:
		var once sync.Once
		return func() {
			once.Do(func() {
				resolve.Invoke()
				go finish()
			})
		}, nil
	case err := <-settled:
		release(onGrant)
		return nil, err
	case <-ctx.Done():
	}
	_ = catch(func() { ac.Call("abort") })
	select {
	case resolve := <-granted: // granted just before the abort
		resolve.Invoke()
		finish()
	case <-settled:
		release(onGrant)
	}
	return nil, ctx.Err()
}

// idbShared is a session.Shared in IndexedDB: a committed transaction is
// visible to every tab at once, which localStorage is not.
// https://developer.mozilla.org/docs/Web/API/IndexedDB_API
type idbShared struct {
	key string

	mu sync.Mutex
	db js.Value
	// wmu keeps writes in the order they were made: a transaction is
	// created in call order, and IndexedDB runs overlapping readwrite
	// transactions in the order they were created.
	wmu sync.Mutex
}

const (
	idbName  = "jwtfetch"
	idbStore = "sessions"
)

// newIDBShared returns nil when the browser has no IndexedDB.
func newIDBShared(key string) *idbShared {
	var idb js.Value
	if err := catch(func() { idb = global.Get("indexedDB") }); err != nil || idb.Type() != js.TypeObject {
		return nil
	}
	return &idbShared{key: key}
}

// wait waits for one of the events ok or bad on target.
func wait(ctx session.Ctx, target js.Value, ok, bad string) error {
	done := make(chan error, 2)
	var onOK, onBad js.Func
	cleanup := func() {
		target.Call("removeEventListener", ok, onOK)
		target.Call("removeEventListener", bad, onBad)
		release(onOK)
		release(onBad)
	}
	onOK = newFunc(func(js.Value, []js.Value) any {
		cleanup()
		done <- nil
		return nil
	})
	onBad = newFunc(func(js.Value, []js.Value) any {
		cleanup()
		done <- errors.New("jwtfetch: IndexedDB request failed")
		return nil
	})
	target.Call("addEventListener", ok, onOK)
	target.Call("addEventListener", bad, onBad)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The listeners are released when the request settles, which
		// IndexedDB requests always do.
		return ctx.Err()
	}
}

func (s *idbShared) open(ctx session.Ctx) (js.Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.db.IsUndefined() {
		return s.db, nil
	}
	var req js.Value
	var upgrade js.Func
	upgrade = newFunc(func(js.Value, []js.Value) any {
		_ = catch(func() { req.Get("result").Call("createObjectStore", idbStore) })
		return nil
	})
	defer release(upgrade)
	err := catch(func() {
		req = global.Get("indexedDB").Call("open", idbName, 1)
		req.Call("addEventListener", "upgradeneeded", upgrade)
	})
	if err == nil {
		err = wait(ctx, req, "success", "error")
	}
	if err != nil {
		return js.Undefined(), err
	}
	s.db = req.Get("result")
	return s.db, nil
}

// Load implements session.Shared.
func (s *idbShared) Load(ctx session.Ctx) (string, int64, bool, error) {
	db, err := s.open(ctx)
	if err != nil {
		return "", 0, false, err
	}
	var req js.Value
	if err := catch(func() {
		req = db.Call("transaction", idbStore, "readonly").Call("objectStore", idbStore).Call("get", s.key)
	}); err != nil {
		return "", 0, false, err
	}
	if err := wait(ctx, req, "success", "error"); err != nil {
		return "", 0, false, err
	}
	v := req.Get("result")
	if v.Type() != js.TypeObject || v.Get("state").Type() != js.TypeString || v.Get("at").Type() != js.TypeNumber {
		return "", 0, false, nil
	}
	return v.Get("state").String(), int64(v.Get("at").Float()), true, nil
}

// Save implements session.Shared. It returns once the transaction has
// committed, so the next tab to take the lock reads this value.
func (s *idbShared) Save(ctx session.Ctx, state string, atMilli int64) error {
	return s.write(ctx, func(store js.Value) {
		store.Call("put", map[string]any{"state": state, "at": atMilli}, s.key)
	})
}

// Delete removes the shared value (logout), so no token stays behind.
func (s *idbShared) Delete(ctx session.Ctx) error {
	return s.write(ctx, func(store js.Value) { store.Call("delete", s.key) })
}

func (s *idbShared) write(ctx session.Ctx, op func(store js.Value)) error {
	s.wmu.Lock()
	db, err := s.open(ctx)
	if err != nil {
		s.wmu.Unlock()
		return err
	}
	var tx js.Value
	err = catch(func() {
		tx = db.Call("transaction", idbStore, "readwrite")
		op(tx.Call("objectStore", idbStore))
	})
	s.wmu.Unlock()
	if err != nil {
		return err
	}
	return wait(ctx, tx, "complete", "error")
}

// pages lists the cross-tab stores of this page by storage key, so that
// instances in one page that share a key share the session: storage events
// reach only other pages.
var (
	pagesMu sync.Mutex
	pages   = map[string][]*tabStore{}
)

func (s *tabStore) register() {
	pagesMu.Lock()
	pages[s.key] = append(pages[s.key], s)
	pagesMu.Unlock()
}

func (s *tabStore) unregister() {
	pagesMu.Lock()
	defer pagesMu.Unlock()
	list := pages[s.key]
	for i, x := range list {
		if x == s {
			pages[s.key] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(pages[s.key]) == 0 {
		delete(pages, s.key)
	}
}

// siblings returns the other stores of this page with the same key.
func (s *tabStore) siblings() []*tabStore {
	pagesMu.Lock()
	defer pagesMu.Unlock()
	var out []*tabStore
	for _, x := range pages[s.key] {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// tabStore wraps the localStorage store of a cross-tab client: what it
// writes reaches the page's other instances with the same key. (The shared
// IndexedDB copy is the session's to write and delete: see session.Shared.)
//
// It holds its client's Sync as a func, not the client: a Store is kept in
// an interface, and the linker keeps the String methods of every type
// reachable from such a value's fields; through the client that would link
// time's formatting code (tens of KB of wasm).
type tabStore struct {
	session.Store
	key  string
	sync func(raw string)
}

func (s *tabStore) Save(v string) error {
	err := s.Store.Save(v)
	s.tell(v)
	return err
}

func (s *tabStore) Clear() error {
	err := s.Store.Clear()
	s.tell("")
	return err
}

// tell hands v to the siblings. It runs with the writer's lock held, so the
// siblings are told in goroutines.
func (s *tabStore) tell(v string) {
	for _, sib := range s.siblings() {
		go sib.sync(v)
	}
}

// listenStorage passes storage events for key to sync and returns the
// function that unsubscribes.
// https://developer.mozilla.org/docs/Web/API/Window/storage_event
func listenStorage(key string, sync func(raw string)) func() {
	var area js.Value
	if err := catch(func() { area = global.Get("localStorage") }); err != nil {
		return func() {}
	}
	onStorage := newFunc(func(_ js.Value, args []js.Value) any {
		ev := arg(args, 0)
		k := ev.Get("key")
		if !ev.Get("storageArea").Equal(area) || (!k.IsNull() && k.String() != key) {
			return nil
		}
		v := ev.Get("newValue")
		if k.IsNull() { // localStorage.clear() elsewhere
			v = area.Call("getItem", key)
		}
		raw := ""
		if v.Type() == js.TypeString {
			raw = v.String()
		}
		go sync(raw)
		return nil
	})
	global.Call("addEventListener", "storage", onStorage)
	return func() {
		global.Call("removeEventListener", "storage", onStorage)
		release(onStorage)
	}
}

// lockName is the Web Locks name for refreshes of the session under key.
func lockName(key string) string { return key + ":refresh" }

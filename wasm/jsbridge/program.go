//go:build js && wasm

package jsbridge

import (
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// Pieces for Go programs compiled to wasm (package jwthttp): the same
// browser storage, lock and shared record that newClient gives the
// JavaScript instance, so that a Go program and the JavaScript code of its
// page keep one session under one storage key. Nothing in jwtfetch.wasm
// calls them, so the linker leaves them out of it.

// PageStorage returns the session.Store for the storage option kind:
// "local" (localStorage), "session" (sessionStorage) or "memory", under
// key, made as for the JavaScript instance: browser storage falls back to
// memory, with one console warning, when it throws.
func PageStorage(kind, key string) (session.Store, error) {
	return newStore(js.ValueOf(kind), key)
}

// WebLock returns the Web Lock that makes refreshes of the session under
// key exclusive across tabs and programs (the JavaScript instance takes
// the same one), or nil when the browser has no Web Locks.
func WebLock(key string) session.Locker {
	return newWebLock(lockName(key))
}

// IndexedDBShared returns the IndexedDB record through which refreshes of
// the session under key are shared (see session.Shared), or nil when the
// browser has no IndexedDB.
func IndexedDBShared(key string) session.Shared {
	if s := newIDBShared(key); s != nil {
		return s
	}
	return nil
}

// ListenStorage calls fn, in a goroutine, with the new value (or "" for a
// removal) of each storage event for key in localStorage, and returns the
// function that stops listening. Browsers send a storage event only to the
// other documents of the origin, never to the one that wrote; see
// AnnounceStorage.
// https://developer.mozilla.org/docs/Web/API/Window/storage_event
func ListenStorage(key string, fn func(raw string)) (stop func()) {
	return listenStorage(key, fn)
}

// AnnounceStorage dispatches, in this document, the storage event that
// browsers send only to the other documents of the origin: key in
// localStorage now holds value, or was removed when removed is set. The
// listeners of the page (a JavaScript jwtfetch instance among them) learn
// of a change that a Go program made next to them. The event is not
// trusted (isTrusted is false); errors are ignored, as there may be no
// window (a worker).
//
// The event is dispatched from a microtask, in the order of the calls: the
// caller may hold a lock (the session's, while it stores), and the page's
// listeners may call back into the program, which would then wait for
// that lock on the very goroutine that holds it.
func AnnounceStorage(key, value string, removed bool) {
	_ = catch(func() {
		init := map[string]any{
			"key":         key,
			"newValue":    value,
			"storageArea": global.Get("localStorage"),
			"url":         global.Get("location").Get("href"),
		}
		if removed {
			init["newValue"] = nil
		}
		ev := global.Get("StorageEvent").New("storage", init)
		global.Call("queueMicrotask", global.Get("dispatchEvent").Call("bind", global, ev))
	})
}

// PageURL returns the document's URL (location.href), or "" when there is
// none.
func PageURL() string {
	href := ""
	_ = catch(func() {
		if v := global.Get("location").Get("href"); v.Type() == js.TypeString {
			href = v.String()
		}
	})
	return href
}

// Warn writes msg to the console as a warning, as the JavaScript instance
// reports problems that are not errors of any request.
func Warn(msg string) { warn(msg) }

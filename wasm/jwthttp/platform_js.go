//go:build js && wasm

package jwthttp

import (
	"net/http"

	"github.com/jwtfetch/jwtfetch/wasm/jsbridge"
	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// In the browser the session lives where the JavaScript instances keep it
// (localStorage by default), under the same key, lock and IndexedDB record;
// package jsbridge provides them.

const (
	browser        = true
	defaultStorage = "local"
)

// pageURL returns the document's URL.
func pageURL() string { return jsbridge.PageURL() }

// platformClock returns the clock of the JavaScript instances (Date.now
// and setTimeout); js/wasm builds of the session have no default clock.
func platformClock() session.Clock { return jsbridge.Clock{} }

func platformWarn(msg string) { jsbridge.Warn(msg) }

// openStorage returns the store for Config.Storage: "local", "session" or
// "memory".
func openStorage(kind, key string) (session.Store, error) {
	return jsbridge.PageStorage(kind, key)
}

// shareAcrossTabs sets what a JavaScript instance with crossTab sets: the
// Web Lock and the IndexedDB record under key, and tells the page of each
// value s writes, with a storage event.
func shareAcrossTabs(key string, sc *session.Config, s *syncStore) {
	sc.Locker = jsbridge.WebLock(key)
	sc.Shared = jsbridge.IndexedDBShared(key)
	s.notify = func(value string, removed bool) { jsbridge.AnnounceStorage(key, value, removed) }
}

// listenStorage calls poll after each storage event for key, from another
// tab or announced in this page.
func listenStorage(key string, poll func()) (stop func()) {
	return jsbridge.ListenStorage(key, func(string) { poll() })
}

// setFetchOption sets an option of the fetch that net/http's transport
// makes (the js.fetch: header convention of net/http), unless the caller
// has set it.
func setFetchOption(h http.Header, name, value string) {
	if h.Get("js.fetch:"+name) == "" {
		h.Set("js.fetch:"+name, value)
	}
}

//go:build !js

package jwthttp

import (
	"log"
	"net/http"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// Natively there is no page, no browser storage and no other tab: the
// session lives in memory or in the Config's Store.

const (
	browser        = false
	defaultStorage = "memory"
)

// pageURL returns the document's URL in the browser, "" natively.
func pageURL() string { return "" }

// platformClock returns nil: the session's default clock is package time's.
func platformClock() session.Clock { return nil }

func platformWarn(msg string) { log.Print(msg) }

// openStorage returns the store for Config.Storage.
func openStorage(kind, _ string) (session.Store, error) {
	if kind != "memory" {
		return nil, badOption("jwthttp: Storage '" + kind + "' exists only in the browser; use \"memory\" or pass a Store (FileStore keeps the session in a file)")
	}
	return &session.MemStore{}, nil
}

// shareAcrossTabs is a no-op natively: there are no tabs.
func shareAcrossTabs(string, *session.Config, *syncStore) {}

// listenStorage listens to nothing natively.
func listenStorage(string, func()) (stop func()) { return func() {} }

// setFetchOption sets an option of the browser's fetch; natively there is
// none.
func setFetchOption(http.Header, string, string) {}

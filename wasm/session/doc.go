// Package session holds jwtfetch's token state and decides everything about
// it: which requests carry the access token, when to refresh, how concurrent
// failures share one refresh, and what is persisted.
//
// It never imports syscall/js. It talks to the world through small interfaces
// (Doer, Refresher, Poster, Store) that package jsbridge implements over
// browser APIs and that tests implement in Go, so every decision is tested
// natively with -race.
//
// The package also avoids fmt, encoding/json and net/url: it is linked into
// the WebAssembly module that every page downloads, and each of those costs
// more than the little JSON and URL handling done here (see DESIGN.md).
package session

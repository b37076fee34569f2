//go:build js && wasm

// Package jsbridge is the only package of jwtfetch that imports syscall/js.
// It implements the session package's interfaces over browser APIs (the
// refresh request with the page's fetch, localStorage, Web Locks,
// IndexedDB, Date.now and setTimeout as the clock) and exports a small set
// of functions to the JavaScript shim, which sends the application's
// requests itself and asks these functions what they carry (see Install).
// Every file carries the js && wasm build constraint; tags_test.go checks
// that.
//
// Two rules hold throughout: a js.FuncOf callback never blocks (authorize
// answers from the session's state at once; whatever has to wait, a refresh,
// runs in a goroutine behind a Promise, see the syscall/js FuncOf
// documentation), and every js.Func made here is released.
package jsbridge

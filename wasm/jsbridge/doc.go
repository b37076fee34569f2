//go:build js && wasm

// Package jsbridge is the only package of jwtfetch that imports syscall/js.
// It implements the session package's interfaces over browser APIs (fetch,
// Request, localStorage) and exports a small set of functions to the
// JavaScript shim. Every file carries the js && wasm build constraint;
// tags_test.go checks that.
//
// Two rules hold throughout: a js.FuncOf callback never blocks (the work of
// every exported function runs in a goroutine behind a Promise, see the
// syscall/js FuncOf documentation), and every js.Func made here is
// released.
package jsbridge

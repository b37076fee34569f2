//go:build js && wasm

// Command jwtfetch is the WebAssembly side of jwtfetch. It is loaded by
// jsglue/jwtfetch.js, which leaves a namespace object in
// globalThis.__jwtfetch; main installs the bridge's functions on it, calls
// its ready function and then waits for calls from JavaScript.
package main

import (
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/jsbridge"
)

const nsName = "__jwtfetch"

func main() {
	g := js.Global()
	ns := g.Get(nsName)
	if ns.Type() != js.TypeObject {
		g.Get("console").Call("error", "jwtfetch: load jwtfetch.wasm through jwtfetch.js")
		return
	}
	g.Delete(nsName)
	jsbridge.Install(ns)
	ns.Call("ready")
	select {} // serve calls from JavaScript for the life of the page
}

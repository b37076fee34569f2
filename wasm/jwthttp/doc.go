// Package jwthttp keeps a JWT session for Go programs as an
// http.RoundTripper: the access token goes on requests to the allowed
// origins, and a request that the server answers with 401 (a status in
// Config.RefreshOn) waits for the session's single refresh and is sent
// again, once, with the new token. It is the jwtfetch session of the
// JavaScript package, for Go front ends compiled to wasm (go-app, vugu,
// plain syscall/js programs), command-line programs and tests.
//
//	t, err := jwthttp.New(jwthttp.Config{RefreshURL: "https://api.example.com/auth/refresh"})
//	if err != nil { ... }
//	client := &http.Client{Transport: t}
//	t.SetTokens(access, refresh) // after the login
//	resp, err := client.Get("https://api.example.com/me")
//
// Unlike golang.org/x/oauth2's Transport, which refreshes by expiry only, it
// also refreshes when a server refuses a token (revoked, or a clock that is
// off), and any number of requests that fail together cause one refresh.
// The decisions are those of package session, which the JavaScript
// package's wasm makes too; this package carries them out with net/http.
//
// # The RoundTripper contract
//
// RoundTrip never modifies the caller's request: the token goes on a copy.
// It closes the request body on every path, and the body of a response it
// does not return (the 401 it retries). While a request waits for a
// refresh, its context still ends the wait. A request is sent again at
// most once, with the same method, headers and body: the body is replayed
// through Request.GetBody, which http.NewRequest sets for the usual body
// types (bytes.Buffer, bytes.Reader, strings.Reader). A request with a body
// and without GetBody is sent once, and its 401 is returned as it is.
//
// Redirects: http.Client follows a redirect by calling RoundTrip again for
// the new URL, with the caller's headers, so each hop carries the token
// only when its origin is allowed. In the browser, fetch follows redirects
// itself; it removes Authorization at a hop to another origin, but no other
// header, so when the token travels in another header (Config.Header) a
// request follows no redirect away from its origin (the request fails with
// an error that says so).
//
// # In the browser
//
// Compiled with GOOS=js GOARCH=wasm, the session lives in localStorage
// under Config.StorageKey, refreshes run under the Web Lock that the
// JavaScript instances take, and each refresh result is shared through the
// same IndexedDB record. So a Go program, the JavaScript jwtfetch instances
// of its page and the other tabs of the origin share one session, and
// requests that fail together in any of them cause one refresh.
//
// Browsers send the storage event only to the other documents of the
// origin, and a Go program and the JavaScript package's wasm are separate
// runtimes. Within a page the Transport therefore (a) dispatches a storage
// event in its own page after each change it stores, which the page's
// JavaScript instances (and other Transports) take like one from another
// tab, and (b) reads the stored session before each request and each call
// of its methods, and adopts a change made by the page's JavaScript. A
// logout or login in JavaScript is seen by the Transport at its next request
// or call; its own changes reach JavaScript at once.
//
// Natively, the session is kept in memory, or in a Store the program passes
// (FileStore keeps it in a file between runs of a command-line program).
//
// # Size
//
// The JavaScript package's jwtfetch.wasm links neither this package nor
// net/http. To a Go program compiled to wasm that already uses net/http
// (about 1.97 MB of brotli for a minimal one with Go 1.26), this package
// adds about 77 KB of brotli (360 KB raw): the session, the bridge to
// localStorage, Web Locks and IndexedDB, and the Transport.
package jwthttp

// Package e2e holds the end-to-end tests: jwtfetch.js and the wasm, built
// fresh from this checkout, driven in headless Chromium (chromedp) against
// the demo auth API running in the test process. They drive a browser from
// the host, so they build for native targets only.
package e2e

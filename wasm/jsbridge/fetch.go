//go:build js && wasm

package jsbridge

import (
	"sync"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// The shim sends the application's requests itself, with the page's
// original fetch; Go decides what they carry (see exports.go). Go sends
// only the refresh request, with Fetcher.

// Fetcher sends refresh requests with a fetch function: the page's
// original fetch, captured before anyone could replace window.fetch with
// ours, so a page that does `window.fetch = api.fetch` cannot make a
// request loop.
type Fetcher struct {
	Fetch js.Value
	// Credentials is the RequestInit credentials mode of refresh requests.
	Credentials string
	// xsrf, when set, is sent on refresh requests with credentials
	// ("include") to one of origins.
	xsrf    *xsrf
	origins []string
}

// Redirect guards, the third element of an answer to authorize (see
// exports.go). Browsers remove Authorization from a request that a redirect
// sends to another origin, but no other header: a token in X-Whatever
// would follow a 30x anywhere. So a request that carries the token in
// another header never follows a redirect away from where it was allowed to
// go. To the page's own origin the shim sends it with mode 'same-origin':
// the browser follows same-origin hops (with the token) and fails with a
// network error, before sending anything, at a hop to another origin. To
// another allowed origin it sends it with redirect 'manual': a redirect
// comes back as an opaque response whose target cannot be read, and is
// rejected. The caller's own 'manual' or 'error' is kept as it is.
const (
	guardNone = iota
	guardSameOrigin
	guardManual
)

// guard returns the redirect guard for a request to origin (session.Origin
// form) carrying the token in header, from a page at page.
func guard(header, origin, page string) int {
	if isAuthorization(header) {
		return guardNone
	}
	if page != "" && origin == page {
		return guardSameOrigin
	}
	return guardManual
}

// isAuthorization reports whether the header name is Authorization, in any
// case (ASCII only, as header names are; strings.EqualFold would link
// unicode's tables).
func isAuthorization(h string) bool {
	const a = "authorization"
	if len(h) != len(a) {
		return false
	}
	for i := range len(a) {
		if h[i]|0x20 != a[i] {
			return false
		}
	}
	return true
}

// Post implements session.Poster for the refresh request. The request is
// aborted when ctx ends (the refresh's time budget). It follows no
// redirect: a 307 would send the refresh token wherever it points, a 301
// would turn the POST into a GET.
func (f *Fetcher) Post(ctx session.Ctx, url, contentType, body, proof string) (session.Reply, error) {
	var ac, p js.Value
	err := catch(func() {
		ac = global.Get("AbortController").New()
		creds := f.Credentials
		if creds == "" {
			creds = "same-origin"
		}
		headers := map[string]any{"Content-Type": contentType, "Accept": "application/json"}
		if creds == "include" && f.allowed(url) {
			if v := f.xsrf.value(); v != "" {
				headers[f.xsrf.header] = v
			}
		}
		if proof != "" {
			headers["DPoP"] = proof
		}
		p = f.Fetch.Invoke(url, map[string]any{
			"method":      "POST",
			"headers":     headers,
			"body":        body,
			"signal":      ac.Get("signal"),
			"cache":       "no-store",
			"credentials": creds,
			"redirect":    "manual",
		})
	})
	if err != nil {
		return session.Reply{}, err
	}
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
			_ = catch(func() { ac.Call("abort") })
		case <-finished:
		}
	}()
	resp, err := awaitPromise(ctx, p)
	if err != nil {
		return session.Reply{}, err
	}
	var r session.Reply
	var text js.Value
	err = catch(func() {
		if resp.Get("type").String() == "opaqueredirect" {
			r.Redirected = true
			return
		}
		r.Status = resp.Get("status").Int()
		h := resp.Get("headers")
		r.Date = httpDate(h.Call("get", "date"))
		if n := h.Call("get", "dpop-nonce"); n.Type() == js.TypeString {
			r.Nonce = n.String()
		}
		text = resp.Call("text")
	})
	if err != nil || r.Redirected {
		return r, err
	}
	b, err := awaitPromise(ctx, text)
	if err != nil {
		return session.Reply{}, err
	}
	r.Body = b.String()
	return r, nil
}

// allowed reports whether url is on one of f.origins.
func (f *Fetcher) allowed(url string) bool {
	o := session.Origin(url)
	for _, a := range f.origins {
		if o != "" && session.Origin(a) == o {
			return true
		}
	}
	return false
}

// httpDate reads a Date header (null when absent or not exposed by CORS)
// into Unix milliseconds, 0 when it cannot be read. JavaScript's Date.parse
// does the parsing: the wasm does not link package time.
func httpDate(h js.Value) int64 {
	if h.Type() != js.TypeString {
		return 0
	}
	ms := jsDate.Call("parse", h).Float()
	if ms != ms || ms <= 0 { // NaN: unreadable
		return 0
	}
	return int64(ms)
}

// Clock is a session.Clock over Date.now and setTimeout: package time
// would add about 37 KB of brotli to the wasm.
type Clock struct{}

// Now implements session.Clock.
func (Clock) Now() int64 { return int64(jsDate.Call("now").Float()) }

// AfterFunc implements session.Clock. The timer's callback is released
// when it fires or is stopped.
func (Clock) AfterFunc(d session.Duration, f func()) func() {
	var mu sync.Mutex
	done := false
	var fn js.Func
	fn = newFunc(func(js.Value, []js.Value) any {
		mu.Lock()
		fire := !done
		if fire {
			done = true
			release(fn)
		}
		mu.Unlock()
		if fire {
			go f()
		}
		return nil
	})
	id := global.Call("setTimeout", fn, float64(d)/float64(session.Millisecond))
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			done = true
			global.Call("clearTimeout", id)
			release(fn)
		}
	}
}

//go:build js && wasm

package jsbridge

import (
	"context"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// Request is an application request: a browser Request that is never sent
// itself. Each attempt sends a clone, so the retry after a refresh has the
// same method, headers and body bytes as the first try.
// https://developer.mozilla.org/docs/Web/API/Request/clone
type Request struct {
	base     js.Value
	url      string
	redirect string // the caller's redirect mode: follow, manual or error
}

// NewRequest builds a Request the way fetch(input, init) would. A bad input
// gives the browser's own TypeError.
func NewRequest(input, init js.Value) (*Request, error) {
	var r Request
	err := catch(func() {
		if init.IsUndefined() || init.IsNull() {
			r.base = jsRequest.New(input)
		} else {
			r.base = jsRequest.New(input, init)
		}
		r.url = r.base.Get("url").String()
		r.redirect = r.base.Get("redirect").String()
	})
	if err != nil {
		return nil, pass(err)
	}
	return &r, nil
}

// URL implements session.Request.
func (r *Request) URL() string { return r.url }

// Signal returns the request's AbortSignal.
func (r *Request) Signal() js.Value { return r.base.Get("signal") }

// Response is a browser Response; only its status crosses into Go.
type Response struct {
	Value  js.Value
	status int
}

// Status implements session.Response.
func (r *Response) Status() int { return r.status }

// Fetcher sends requests with a fetch function: the page's original fetch,
// captured before anyone could replace window.fetch with ours, so a page
// that does `window.fetch = api.fetch` cannot make a request loop.
type Fetcher struct {
	Fetch js.Value
	// Credentials is the RequestInit credentials mode of refresh requests.
	Credentials string
	// Page is the origin of the page (session.Origin form).
	Page string
}

// Redirect guards. Browsers remove Authorization from a request that a
// redirect sends to another origin, but no other header: a token in
// X-Whatever would follow a 30x anywhere. So a request that carries the
// token in another header never follows a redirect away from where it was
// allowed to go. To the page's own origin it is sent with mode
// 'same-origin': the browser follows same-origin hops (with the token) and
// fails with a network error, before sending anything, at a hop to another
// origin. To another allowed origin it is sent with redirect 'manual': a
// redirect comes back as an opaque response whose target cannot be read,
// and is rejected. The caller's own 'manual' or 'error' is kept as it is.
const (
	guardNone = iota
	guardSameOrigin
	guardManual
)

func (f *Fetcher) guard(r *Request, header string) int {
	if header == "" || isAuthorization(header) || r.redirect != "follow" {
		return guardNone
	}
	if f.Page != "" && session.Origin(r.url) == f.Page {
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

// Do implements session.Doer. Its errors are the request's own (passError):
// the browser's TypeError or AbortError, as fetch would reject.
func (f *Fetcher) Do(ctx context.Context, req session.Request, header, value string) (session.Response, error) {
	r := req.(*Request)
	guard := f.guard(r, header)
	var p js.Value
	err := catch(func() {
		attempt := r.base.Call("clone")
		switch guard {
		case guardSameOrigin:
			attempt = jsRequest.New(attempt, map[string]any{"mode": "same-origin"})
		case guardManual:
			attempt = jsRequest.New(attempt, map[string]any{"redirect": "manual"})
		}
		if header != "" {
			attempt.Get("headers").Call("set", header, value)
		}
		p = f.Fetch.Invoke(attempt)
	})
	if err != nil {
		return nil, pass(err)
	}
	v, err := awaitPromise(ctx, p)
	if err != nil {
		if je, ok := err.(*JSError); ok && guard == guardSameOrigin && errorName(je.Value) == "TypeError" {
			return nil, redirectError(header, "network error, or a redirect to another origin, which is not followed")
		}
		return nil, pass(err)
	}
	if guard == guardManual && v.Get("type").String() == "opaqueredirect" {
		return nil, redirectError(header, "the response is a redirect, which is not followed")
	}
	return &Response{Value: v, status: v.Get("status").Int()}, nil
}

// redirectError is the TypeError (a network error, as fetch reports a
// redirect it may not follow) for a redirect a guard stopped.
func redirectError(header, what string) error {
	return &passError{Value: jsTypeError.New("jwtfetch: " + what + ": the token travels in " + header +
		", which browsers do not remove when a redirect leads to another origin, so such requests follow no redirect away from their origin." +
		" Request the final URL, or send the token in Authorization")}
}

// Post implements session.Poster for the refresh request. The request is
// aborted when ctx ends (the refresh's time budget). It follows no
// redirect: a 307 would send the refresh token wherever it points, a 301
// would turn the POST into a GET.
func (f *Fetcher) Post(ctx context.Context, url, contentType, body string) (session.Reply, error) {
	var ac, p js.Value
	err := catch(func() {
		ac = global.Get("AbortController").New()
		creds := f.Credentials
		if creds == "" {
			creds = "same-origin"
		}
		p = f.Fetch.Invoke(url, map[string]any{
			"method":      "POST",
			"headers":     map[string]any{"Content-Type": contentType, "Accept": "application/json"},
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
	stop := context.AfterFunc(ctx, func() { _ = catch(func() { ac.Call("abort") }) })
	defer stop()
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
		r.Date = httpDate(resp.Get("headers").Call("get", "date"))
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

// httpDate reads a Date header (null when absent or not exposed by CORS)
// into Unix milliseconds, 0 when it cannot be read. JavaScript's Date.parse
// does the parsing: time's own parser would link its formatting code into
// the wasm.
func httpDate(h js.Value) int64 {
	if h.Type() != js.TypeString {
		return 0
	}
	ms := global.Get("Date").Call("parse", h).Float()
	if ms != ms || ms <= 0 { // NaN: unreadable
		return 0
	}
	return int64(ms)
}

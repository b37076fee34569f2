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
	base js.Value
	url  string
}

// NewRequest builds a Request the way fetch(input, init) would. A bad input
// gives the browser's own TypeError.
func NewRequest(input, init js.Value) (*Request, error) {
	var r Request
	err := catch(func() {
		if init.IsUndefined() || init.IsNull() {
			r.base = global.Get("Request").New(input)
		} else {
			r.base = global.Get("Request").New(input, init)
		}
		r.url = r.base.Get("url").String()
	})
	if err != nil {
		return nil, err
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
}

// Do implements session.Doer.
func (f *Fetcher) Do(ctx context.Context, req session.Request, header, value string) (session.Response, error) {
	r := req.(*Request)
	var p js.Value
	err := catch(func() {
		attempt := r.base.Call("clone")
		if header != "" {
			attempt.Get("headers").Call("set", header, value)
		}
		p = f.Fetch.Invoke(attempt)
	})
	if err != nil {
		return nil, err
	}
	v, err := awaitPromise(ctx, p)
	if err != nil {
		return nil, err
	}
	return &Response{Value: v, status: v.Get("status").Int()}, nil
}

// Post implements session.Poster for the refresh request. The request is
// aborted when ctx ends (the refresh timeout).
func (f *Fetcher) Post(ctx context.Context, url, contentType, body string) (int, string, error) {
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
		})
	})
	if err != nil {
		return 0, "", err
	}
	stop := context.AfterFunc(ctx, func() { _ = catch(func() { ac.Call("abort") }) })
	defer stop()
	resp, err := awaitPromise(ctx, p)
	if err != nil {
		return 0, "", err
	}
	status := resp.Get("status").Int()
	var text js.Value
	if err := catch(func() { text = resp.Call("text") }); err != nil {
		return 0, "", err
	}
	b, err := awaitPromise(ctx, text)
	if err != nil {
		return 0, "", err
	}
	return status, b.String(), nil
}

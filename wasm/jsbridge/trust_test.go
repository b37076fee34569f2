//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"syscall/js"
	"testing"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "rt-SECRET-7f3a"

func TestGetSurvivesThrowingGetters(t *testing.T) {
	obj := jsFunc("", `return { get boom() { throw new Error('getter `+secret+`') }, fine: 7 }`).Invoke()
	var v js.Value
	err := catch(func() { v = get(obj, "boom") })
	var je *JSError
	require.ErrorAs(t, err, &je, "the getter's exception is an error, not a torn goroutine")
	assert.Equal(t, "jwtfetch: JavaScript Error", err.Error())
	require.NoError(t, catch(func() { v = get(obj, "fine") }))
	assert.Equal(t, 7, v.Int())
	assert.True(t, get(js.ValueOf("a string"), "length").IsUndefined(), "non-objects read as undefined")
	assert.True(t, get(js.Null(), "x").IsUndefined())
}

func TestErrorTextNeverLeavesJavaScript(t *testing.T) {
	for _, src := range []string{
		`return new Error('failed for ` + secret + `')`,
		`return new DOMException('quota for ` + secret + `', 'QuotaExceededError')`,
		`return '` + secret + `'`,
		`return { name: '` + secret + `', message: '` + secret + `' }`,
		`return { get name() { throw new Error('` + secret + `') } }`,
	} {
		v := jsFunc("", src).Invoke()
		err := &JSError{Value: v}
		assert.NotContains(t, err.Error(), secret, "%s", src)
		assert.NotContains(t, err.Describe(), secret, "%s", src)
		// Only the request's own errors go back as they are.
		assert.False(t, ToJSError(err).Equal(v), "a JSError is not handed back: %s", src)
		assert.NotContains(t, ToJSError(fmtErr(err)).Get("message").String(), secret)
		assert.True(t, ToJSError(&passError{Value: v}).Equal(v), "a passError is")
	}
	assert.Equal(t, "QuotaExceededError", (&JSError{Value: jsFunc("", `return new DOMException('x', 'QuotaExceededError')`).Invoke()}).Describe())
}

// fmtErr wraps err the way the session wraps causes.
func fmtErr(err error) error {
	return &session.Error{Code: session.CodeNetwork, Message: "refresh failed", Err: err}
}

func TestFuncRefresherNeverQuotes(t *testing.T) {
	tests := []struct {
		name, body, code string
	}{
		{"Error", `throw new Error('failed for ' + rt)`, session.CodeNetwork},
		{"string", `throw rt`, session.CodeNetwork},
		{"refusal with status", `throw Object.assign(new Error(rt), { status: 401 })`, session.CodeAuthExpired},
		{"axios-like 404", `throw { message: rt, response: { status: 404, data: rt } }`, session.CodeBadResponse},
		{"throwing status getter", `throw { get status() { throw new Error(rt) } }`, session.CodeNetwork},
		{"throwing getter in the result", `return { get accessToken() { throw new Error(rt) } }`, session.CodeBadResponse},
		{"no access token", `return { refreshToken: rt }`, session.CodeBadResponse},
		{"null", `return null`, session.CodeAuthExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := FuncRefresher{Fn: jsFunc("rt", "return (async () => { "+tt.body+" })()")}
			_, err := r.Refresh(context.Background(), secret)
			require.Error(t, err)
			assert.Equal(t, tt.code, session.CodeOf(err))
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				assert.NotContains(t, e.Error(), secret)
			}
			assert.NotContains(t, ToJSError(err).Get("message").String(), secret)
		})
	}
}

func TestPostFollowsNoRedirectAndReadsDate(t *testing.T) {
	// The browser's own fetch against data: and blob: URLs cannot redirect;
	// a fetch function stands in for the server and checks the init.
	seen := js.ValueOf(map[string]any{})
	fetch := jsFunc("seen", `return async (url, init) => {
		seen.redirect = init.redirect
		if (url.endsWith('/moved')) return Response.redirect('https://api.test/elsewhere', 301)
		return new Response('{"access":"a"}', { headers: { 'Date': 'Tue, 04 Mar 2025 05:06:07 GMT' } })
	}`).Invoke(seen)
	f := &Fetcher{Fetch: fetch}
	r, err := f.Post(context.Background(), "https://api.test/refresh", "application/json", "{}", "")
	require.NoError(t, err)
	assert.Equal(t, "manual", seen.Get("redirect").String())
	assert.Equal(t, time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC).UnixMilli(), r.Date)
	assert.Equal(t, 200, r.Status)
	assert.False(t, r.Redirected)
	assert.Equal(t, int64(0), httpDate(js.Null()))
	assert.Equal(t, int64(0), httpDate(js.ValueOf("not a date")))
}

func TestRedirectGuard(t *testing.T) {
	const page = "https://app.test"
	tests := []struct {
		name, header, origin, page string
		want                       int
	}{
		{"Authorization is stripped by browsers", "Authorization", "https://api.test", page, guardNone},
		{"any case", "authorization", "https://api.test", page, guardNone},
		{"other header, page origin", "X-Trace", page, page, guardSameOrigin},
		{"other header, other origin", "X-Trace", "https://api.test", page, guardManual},
		{"other header, page origin unknown", "X-Trace", page, "", guardManual},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, guard(tt.header, tt.origin, tt.page), tt.name)
	}
}

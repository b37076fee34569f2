package jwthttp

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// maxRefreshBody bounds what is read of a refresh response: a token
// response is a few KB.
const maxRefreshBody = 1 << 20

// poster sends the refresh request through the Transport's Base
// (session.Poster). A RoundTripper follows no redirect, and neither does
// poster: a redirect (in the browser, fetch's opaque redirect) is reported
// as session.Reply.Redirected, so the refresh token is never re-sent
// elsewhere and a POST never turns into a GET.
type poster struct {
	base http.RoundTripper
}

func (p poster) Post(ctx session.Ctx, url, contentType, body, proof string) (session.Reply, error) {
	req, err := http.NewRequestWithContext(contextOf(ctx), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return session.Reply{}, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	setFetchOption(req.Header, "redirect", "manual")
	resp, err := p.base.RoundTrip(req)
	if err != nil {
		return session.Reply{}, err
	}
	defer resp.Body.Close()
	// Status 0 is fetch's opaque redirect (redirect: 'manual').
	if resp.StatusCode == 0 || (resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified) {
		return session.Reply{Status: resp.StatusCode, Redirected: true}, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRefreshBody))
	if err != nil {
		return session.Reply{}, err
	}
	r := session.Reply{Status: resp.StatusCode, Body: string(b), Nonce: resp.Header.Get("DPoP-Nonce")}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		r.Date = d.UnixMilli()
	}
	return r, nil
}

// funcRefresher is a session.Refresher over Config.Refresh.
type funcRefresher func(ctx context.Context, refreshToken string) (Grant, error)

func (f funcRefresher) Refresh(ctx session.Ctx, refreshToken string) (session.Grant, error) {
	g, err := f(contextOf(ctx), refreshToken)
	switch {
	case err == nil:
		return session.Grant{Access: g.AccessToken, Refresh: g.RefreshToken, ExpiresIn: g.ExpiresIn.Seconds()}, nil
	case refusedBy(err):
		return session.Grant{}, &Error{Code: CodeAuthExpired, Err: err,
			Message: "refresh refused by Config.Refresh; the session is over"}
	}
	if session.AsError(err) != nil {
		return session.Grant{}, err
	}
	if err := ctx.Err(); err != nil {
		if session.IsTimeout(err) {
			return session.Grant{}, &Error{Code: CodeTimeout, Message: "refresh timed out", Err: err}
		}
		return session.Grant{}, &Error{Code: CodeCanceled, Message: "refresh canceled", Err: err}
	}
	return session.Grant{}, &Error{Code: CodeNetwork, Err: err,
		Message: "refresh failed: Config.Refresh returned an error; its text is not shown, as it may quote a token (errors.Unwrap gives it); the session is kept"}
}

// refusedBy reports whether err's chain holds ErrRefused. It is errors.Is
// for this one value: errors.Is and errors.As link internal/reflectlite,
// which would add about 25 KB to a wasm program.
func refusedBy(err error) bool {
	for err != nil {
		if err == ErrRefused {
			return true
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if refusedBy(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// sessionCtx is a context.Context over a session.Ctx, for the refresh: its
// Err is context's own, so errors.Is(err, context.DeadlineExceeded) holds
// when the refresh's time runs out.
type sessionCtx struct{ c session.Ctx }

// contextOf returns c as a context.Context.
func contextOf(c session.Ctx) context.Context {
	if ctx, ok := c.(context.Context); ok {
		return ctx
	}
	return sessionCtx{c}
}

func (s sessionCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (s sessionCtx) Done() <-chan struct{}       { return s.c.Done() }
func (s sessionCtx) Value(any) any               { return nil }

func (s sessionCtx) Err() error {
	switch err := s.c.Err(); {
	case err == nil:
		return nil
	case session.IsTimeout(err):
		return context.DeadlineExceeded
	default:
		return context.Canceled
	}
}

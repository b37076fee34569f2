//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// FuncRefresher refreshes with the app's own async function
// (refreshToken) => ({ accessToken, refreshToken?, expiresIn? }).
//
// Resolving with null or undefined, or rejecting with an error whose status
// (or response.status, as axios errors have) is a 4xx, or whose code is
// ERR_AUTH_EXPIRED, refuses the refresh and ends the session. Any other
// rejection is a failed refresh that keeps the tokens (ERR_NETWORK).
type FuncRefresher struct {
	Fn js.Value
}

// Refresh implements session.Refresher.
func (r FuncRefresher) Refresh(ctx context.Context, refreshToken string) (session.Grant, error) {
	var p js.Value
	err := catch(func() { p = r.Fn.Invoke(refreshToken) })
	if err == nil {
		p, err = Await(ctx, p)
	}
	if err != nil {
		if ctx.Err() != nil {
			return session.Grant{}, ctx.Err()
		}
		return session.Grant{}, funcError(err)
	}
	if p.Type() != js.TypeObject {
		return session.Grant{}, &session.Error{Code: session.CodeAuthExpired, Message: "refresh function returned no tokens"}
	}
	access := firstString(p, "accessToken", "access", "access_token", "token")
	if access == "" {
		return session.Grant{}, &session.Error{Code: session.CodeBadResponse, Message: "refresh function returned no access token"}
	}
	refresh := firstString(p, "refreshToken", "refresh", "refresh_token")
	expiresIn := 0.0
	for _, name := range []string{"expiresIn", "expires_in"} {
		if v := p.Get(name); v.Type() == js.TypeNumber {
			expiresIn = v.Float()
			break
		}
	}
	return session.Grant{Access: access, Refresh: refresh, ExpiresIn: expiresIn}, nil
}

func firstString(v js.Value, names ...string) string {
	for _, n := range names {
		if s := v.Get(n); s.Type() == js.TypeString && s.String() != "" {
			return s.String()
		}
	}
	return ""
}

// funcError classifies a rejection of the refresh function. Its message is
// not copied: it may quote a token.
func funcError(err error) error {
	var je *JSError
	if errors.As(err, &je) && je.Value.Type() == js.TypeObject {
		v := je.Value
		if c := v.Get("code"); c.Type() == js.TypeString && c.String() == session.CodeAuthExpired {
			return &session.Error{Code: session.CodeAuthExpired, Message: "refresh refused by the refresh function"}
		}
		status := v.Get("status")
		if status.Type() != js.TypeNumber {
			if resp := v.Get("response"); resp.Type() == js.TypeObject {
				status = resp.Get("status")
			}
		}
		if status.Type() == js.TypeNumber && status.Int() >= 400 {
			return session.StatusError(status.Int())
		}
	}
	return &session.Error{Code: session.CodeNetwork, Message: "refresh function failed", Err: err}
}

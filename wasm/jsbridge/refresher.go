//go:build js && wasm

package jsbridge

import (
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

// Refresh implements session.Refresher. Nothing the function returns or
// throws can crash the runtime (a throwing getter included), and none of
// its text reaches a message.
func (r FuncRefresher) Refresh(ctx session.Ctx, refreshToken string) (session.Grant, error) {
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
		return session.Grant{}, &session.Error{Code: session.CodeAuthExpired, Message: "refresh refused: the refresh function returned no tokens; the session is over"}
	}
	var g session.Grant
	if err := catch(func() { g = readGrant(p) }); err != nil {
		return session.Grant{}, &session.Error{Code: session.CodeBadResponse, Message: "refresh failed: the refresh function's result cannot be read" + session.Because(err)}
	}
	if g.Access == "" {
		return session.Grant{}, &session.Error{Code: session.CodeBadResponse, Message: "refresh failed: the refresh function returned no access token"}
	}
	return g, nil
}

// readGrant reads { accessToken, refreshToken?, expiresIn? } (or the
// server-style names) from the refresh function's result.
func readGrant(p js.Value) session.Grant {
	g := session.Grant{
		Access:  firstString(p, "accessToken", "access", "access_token", "token"),
		Refresh: firstString(p, "refreshToken", "refresh", "refresh_token"),
	}
	for _, name := range []string{"expiresIn", "expires_in"} {
		if v := get(p, name); v.Type() == js.TypeNumber {
			g.ExpiresIn = v.Float()
			break
		}
	}
	return g
}

func firstString(v js.Value, names ...string) string {
	for _, n := range names {
		if s := get(v, n); s.Type() == js.TypeString && s.String() != "" {
			return s.String()
		}
	}
	return ""
}

// funcError classifies a rejection of the refresh function: a code of
// ERR_AUTH_EXPIRED or a status (or response.status, as axios errors have)
// that is a refusal ends the session. Its text is never copied: it may
// quote the refresh token.
func funcError(err error) error {
	if je, ok := err.(*JSError); ok {
		var refused bool
		status := 0
		_ = catch(func() {
			v := je.Value
			if c := get(v, "code"); c.Type() == js.TypeString && c.String() == session.CodeAuthExpired {
				refused = true
				return
			}
			st := get(v, "status")
			if st.Type() != js.TypeNumber {
				st = get(get(v, "response"), "status")
			}
			if st.Type() == js.TypeNumber {
				status = st.Int()
			}
		})
		if refused {
			return &session.Error{Code: session.CodeAuthExpired, Message: "refresh refused by the refresh function; the session is over"}
		}
		if status >= 400 {
			return session.StatusError("the refresh function", status)
		}
	}
	return &session.Error{Code: session.CodeNetwork, Err: err, Message: "refresh failed: the refresh function threw" + session.Because(err) +
		"; its text is not shown, as it may quote a token (log it inside the function to see it)"}
}

package session

import (
	"strconv"
)

// Error codes. They match the axios codes the JavaScript side exposes, so the
// bridge can pass them through unchanged.
const (
	// CodeAuthExpired means the session is over: there is no refresh token,
	// the refresh was refused, or the user logged out while it ran.
	CodeAuthExpired = "ERR_AUTH_EXPIRED"
	// CodeNetwork means a request or the refresh could not reach the server.
	CodeNetwork = "ERR_NETWORK"
	// CodeBadResponse means the refresh endpoint answered 5xx or something
	// that is not a usable token response.
	CodeBadResponse = "ERR_BAD_RESPONSE"
	// CodeTimeout means the refresh took longer than RefreshTimeout, or the
	// caller's deadline passed.
	CodeTimeout = "ECONNABORTED"
	// CodeCanceled means the caller cancelled (AbortSignal).
	CodeCanceled = "ERR_CANCELED"
	// CodeBadOption means a configuration value cannot be used (axios's
	// ERR_BAD_OPTION_VALUE).
	CodeBadOption = "ERR_BAD_OPTION_VALUE"
)

// Error is the error type of this package. Callers branch on Code; Message
// never contains a token.
type Error struct {
	Code    string
	Message string // lower-case, without the "jwtfetch: " prefix
	Status  int    // HTTP status of the refresh response, 0 when there was none
	Err     error  // underlying cause, may be nil
}

func (e *Error) Error() string { return "jwtfetch: " + e.Message }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the Code of the first *Error in err's chain, or "".
func CodeOf(err error) string {
	if e := AsError(err); e != nil {
		return e.Code
	}
	return ""
}

// AsError returns the first *Error in err's chain (following Unwrap), or
// nil. It is errors.As for this one type: errors.As and errors.Is link
// reflectlite into the wasm.
func AsError(err error) *Error {
	for err != nil {
		switch x := err.(type) {
		case *Error:
			return x
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if found := AsError(e); found != nil {
					return found
				}
			}
			return nil
		default:
			return nil
		}
	}
	return nil
}

// Refused reports whether err means the refresh endpoint rejected the
// refresh token, which ends the session.
func refused(err error) bool { return CodeOf(err) == CodeAuthExpired }

var (
	errNoSession   = &Error{Code: CodeAuthExpired, Message: "session expired: no refresh token"}
	errNoRefresher = &Error{Code: CodeAuthExpired, Message: "no refresh is configured (refreshURL or refresh)"}
	errLoggedOut   = &Error{Code: CodeAuthExpired, Message: "session ended while the refresh was running"}
)

// contextError turns a finished Ctx into an *Error with the matching code.
func contextError(ctx Ctx, what string) error {
	err := ctx.Err()
	if IsTimeout(err) {
		return &Error{Code: CodeTimeout, Message: what + " timed out", Err: err}
	}
	return &Error{Code: CodeCanceled, Message: what + " canceled", Err: err}
}

// Refusal reports whether a refresh answered with status means the refresh
// token was refused, which ends the session: 400 (OAuth 2's invalid_grant),
// 401 and 403. Any other status (404 or 405 from a wrong URL, 408, 429,
// 5xx) is a failed refresh that keeps the session.
func Refusal(status int) bool {
	return status == 400 || status == 401 || status == 403
}

// StatusError is the error for a refresh answered with a status that is
// not a success; what names who answered ("the refresh function", or the
// method and URL of the refresh request). A refusal (see Refusal) is
// CodeAuthExpired, anything else CodeBadResponse.
func StatusError(what string, status int) error {
	s := strconv.Itoa(status)
	if Refusal(status) {
		return &Error{Code: CodeAuthExpired, Status: status, Message: "refresh refused: " + what + " answered " + s + "; the session is over"}
	}
	hint := "; the session is kept"
	if status < 500 && status != 408 && status != 429 {
		hint = "; check refreshURL (the session is kept)"
	}
	return &Error{Code: CodeBadResponse, Status: status, Message: "refresh failed: " + what + " answered " + s + hint}
}

// Because describes err for a message or warning, as " (reason)", or "" when
// err carries no text known to be free of tokens. Text from outside (a
// storage object's exception, a server's answer) never gets in: only this
// package's own messages, what an error's Describe method says (the bridge
// describes a JavaScript exception by its standard name only), and a Ctx
// that timed out or was canceled.
func Because(err error) string {
	for e := err; e != nil; {
		if why := reason(e); why != "" {
			return " (" + why + ")"
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return ""
		}
		e = u.Unwrap()
	}
	return ""
}

// reason is what Because may say of err itself, without its causes.
func reason(err error) string {
	switch x := err.(type) {
	case *Error:
		return x.Message
	case interface{ Describe() string }:
		return x.Describe()
	}
	switch {
	case IsTimeout(err):
		return "timed out"
	case isCanceled(err):
		return "canceled"
	}
	return ""
}

package session

import (
	"context"
	"errors"
	"strconv"
	"time"
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
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Refused reports whether err means the refresh endpoint rejected the
// refresh token, which ends the session.
func refused(err error) bool { return CodeOf(err) == CodeAuthExpired }

var (
	errNoSession   = &Error{Code: CodeAuthExpired, Message: "session expired: no refresh token"}
	errNoRefresher = &Error{Code: CodeAuthExpired, Message: "no refresh is configured"}
	errLoggedOut   = &Error{Code: CodeAuthExpired, Message: "session ended while the refresh was running"}
)

// contextError turns a finished context into an *Error with the matching
// code. It reads the cause, which WithTimeout below sets.
func contextError(ctx context.Context, what string) error {
	err := context.Cause(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
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
// describes a JavaScript exception by its standard name only), and the
// context errors.
func Because(err error) string {
	var e *Error
	var d interface{ Describe() string }
	var why string
	switch {
	case errors.As(err, &e):
		why = e.Message
	case errors.As(err, &d):
		why = d.Describe()
	case errors.Is(err, context.DeadlineExceeded):
		why = "timed out"
	case errors.Is(err, context.Canceled):
		why = "canceled"
	}
	if why == "" {
		return ""
	}
	return " (" + why + ")"
}

// WithTimeout is context.WithTimeout for the wasm build. The standard one
// makes a timerCtx whose String method (kept because the runtime can print
// any Stringer) links time's formatting and time zone code: about 45 KB of
// wasm. This one is a cancel context whose cause is DeadlineExceeded when the
// time runs out; read it with context.Cause, as contextError does.
func WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	t := time.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return ctx, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

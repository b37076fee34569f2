package session

import (
	"strconv"
	"sync"
)

// This package imports neither time nor context. Importing time alone adds
// about 37 KB of brotli to the wasm (its init links internal/godebug and
// bisect), and context links time's formatting and reflectlite through the
// String methods of its context types. So times here are Unix milliseconds,
// durations are a Duration, the clock is a Clock, and blocking calls take a
// Ctx: the two methods of context.Context that the session uses, so any
// context.Context is a Ctx.

// Duration is a span of time in nanoseconds, as time.Duration: convert with
// session.Duration(d).
type Duration int64

// Units of Duration.
const (
	Millisecond Duration = 1_000_000
	Second               = 1000 * Millisecond
)

// ms returns d in whole milliseconds.
func (d Duration) ms() int64 { return int64(d / Millisecond) }

// String formats d for messages: "10s" for whole seconds, else "250ms".
func (d Duration) String() string {
	if d%Second == 0 {
		return strconv.FormatInt(int64(d/Second), 10) + "s"
	}
	return strconv.FormatInt(d.ms(), 10) + "ms"
}

// Clock is the session's time source.
type Clock interface {
	// Now returns the current time in Unix milliseconds.
	Now() int64
	// AfterFunc calls f in its own goroutine once d has passed, unless
	// stop is called first.
	AfterFunc(d Duration, f func()) (stop func())
}

// Ctx is what blocking calls take: Done is closed when the caller stops
// waiting, and Err then says why. A context.Context is a Ctx.
type Ctx interface {
	Done() <-chan struct{}
	Err() error
}

// Background is a Ctx that never ends.
var Background Ctx = background{}

type background struct{}

func (background) Done() <-chan struct{} { return nil }
func (background) Err() error            { return nil }

// ErrDeadline and ErrCanceled are the Err of the session's own Ctx values.
// ErrDeadline, like context.DeadlineExceeded, has a Timeout method that
// returns true: IsTimeout recognises both.
var (
	ErrDeadline error = timeoutError{}
	ErrCanceled error = canceledError{}
)

type timeoutError struct{}

func (timeoutError) Error() string { return "deadline exceeded" }
func (timeoutError) Timeout() bool { return true }

type canceledError struct{}

func (canceledError) Error() string { return "canceled" }

// IsTimeout reports whether err is a Ctx's deadline passing: ErrDeadline,
// context.DeadlineExceeded, or another error whose Timeout method says so.
func IsTimeout(err error) bool {
	t, ok := err.(interface{ Timeout() bool })
	return ok && t.Timeout()
}

// isCanceled reports whether err is a Ctx canceled by its caller (ours or
// context.Canceled, known by its fixed text).
func isCanceled(err error) bool {
	return err == ErrCanceled || (err != nil && err.Error() == "context canceled")
}

// deadline is a Ctx that ends after a time, or when cancel is called.
type deadline struct {
	done chan struct{}
	stop func()

	mu  sync.Mutex
	err error
}

// withTimeout returns a Ctx that ends with ErrDeadline after d; call its
// cancel when the work is done.
func withTimeout(clock Clock, d Duration) *deadline {
	dl := &deadline{done: make(chan struct{})}
	dl.stop = clock.AfterFunc(d, func() { dl.end(ErrDeadline) })
	return dl
}

// WithTimeout returns a Ctx that ends with ErrDeadline after d on clock,
// and the function that ends it early and stops its timer (call it when
// the work is done).
func WithTimeout(clock Clock, d Duration) (Ctx, func()) {
	dl := withTimeout(clock, d)
	return dl, dl.cancel
}

func (dl *deadline) Done() <-chan struct{} { return dl.done }

func (dl *deadline) Err() error {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	return dl.err
}

func (dl *deadline) end(err error) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if dl.err == nil {
		dl.err = err
		close(dl.done)
	}
}

// cancel ends dl (if the time has not run out yet) and stops its timer.
func (dl *deadline) cancel() {
	dl.stop()
	dl.end(ErrCanceled)
}

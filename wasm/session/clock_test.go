package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDurationUnits(t *testing.T) {
	assert.Equal(t, Duration(time.Millisecond), Millisecond)
	assert.Equal(t, Duration(time.Second), Second)
	assert.Equal(t, int64(1500), (1500 * Millisecond).ms())
	assert.Equal(t, int64(1), Duration(1999*time.Microsecond).ms(), "ms truncates")
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		d    Duration
		want string
	}{
		{10 * Second, "10s"},
		{250 * Millisecond, "250ms"},
		{Second, "1s"},
		{1500 * Millisecond, "1500ms"},
		{0, "0s"},
		{Duration(2 * time.Minute), "120s"},
		{Duration(time.Hour), "3600s"},
		{Duration(1500 * time.Microsecond), "1ms"},
		{Duration(time.Microsecond), "0ms"},
		{-2 * Second, "-2s"},
		{-5 * Millisecond, "-5ms"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.d.String(), "Duration(%d).String()", int64(tt.d))
	}
}

// manualClock is a Clock whose timers fire only when the test says.
type manualClock struct {
	mu      sync.Mutex
	d       []Duration
	f       []func()
	stopped []bool
}

func (c *manualClock) Now() int64 { return 1_800_000_000_000 }

func (c *manualClock) AfterFunc(d Duration, f func()) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := len(c.f)
	c.d, c.f, c.stopped = append(c.d, d), append(c.f, f), append(c.stopped, false)
	return func() {
		c.mu.Lock()
		c.stopped[i] = true
		c.mu.Unlock()
	}
}

// fire runs the i-th timer's function, as its time has come.
func (c *manualClock) fire(i int) {
	c.mu.Lock()
	f := c.f[i]
	c.mu.Unlock()
	f()
}

func (c *manualClock) isStopped(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped[i]
}

func TestWithTimeoutEndsWithErrDeadline(t *testing.T) {
	clock := &manualClock{}
	dl := withTimeout(clock, 5*Second)
	var ctx Ctx = dl
	require.Len(t, clock.d, 1)
	assert.Equal(t, 5*Second, clock.d[0], "the timer is set for the timeout")
	assert.False(t, isClosed(ctx.Done()))
	assert.NoError(t, ctx.Err())

	clock.fire(0)
	assert.True(t, isClosed(ctx.Done()), "Done is closed when the time is up")
	assert.Equal(t, ErrDeadline, ctx.Err())
	assert.True(t, IsTimeout(ctx.Err()))
	assert.Equal(t, CodeTimeout, CodeOf(contextError(ctx, "refresh")))
	assert.Equal(t, "jwtfetch: refresh timed out", contextError(ctx, "refresh").Error())

	dl.cancel()
	assert.True(t, clock.isStopped(0), "cancel stops the timer")
	assert.Equal(t, ErrDeadline, ctx.Err(), "the first end wins")
	clock.fire(0)
	assert.Equal(t, ErrDeadline, ctx.Err())
}

func TestWithTimeoutCancel(t *testing.T) {
	clock := &manualClock{}
	dl := withTimeout(clock, Second)
	dl.cancel()
	assert.True(t, clock.isStopped(0), "cancel stops the timer")
	assert.True(t, isClosed(dl.Done()))
	assert.Equal(t, ErrCanceled, dl.Err())
	assert.False(t, IsTimeout(dl.Err()))
	assert.True(t, isCanceled(dl.Err()))
	assert.Equal(t, CodeCanceled, CodeOf(contextError(dl, "request")))
	assert.Equal(t, "jwtfetch: request canceled", contextError(dl, "request").Error())

	clock.fire(0) // a timer that fires anyway changes nothing
	assert.Equal(t, ErrCanceled, dl.Err())
	require.NotPanics(t, dl.cancel, "cancel twice")
	assert.Equal(t, ErrCanceled, dl.Err())
}

func TestWithTimeoutRace(t *testing.T) {
	// The timer and cancel may end the Ctx at once: Done is closed once,
	// and Err is one of the two.
	for range 200 {
		clock := &manualClock{}
		dl := withTimeout(clock, Second)
		var wg sync.WaitGroup
		wg.Go(func() { clock.fire(0) })
		wg.Go(dl.cancel)
		wg.Go(func() { <-dl.Done(); _ = dl.Err() })
		wg.Wait()
		err := dl.Err()
		assert.True(t, err == ErrDeadline || err == ErrCanceled, "Err = %v", err)
	}
}

func TestBackground(t *testing.T) {
	assert.Nil(t, Background.Done(), "never ends")
	assert.NoError(t, Background.Err())
	var _ Ctx = context.Background() // a context.Context is a Ctx
}

// timeoutErr is an error with a Timeout method, like a net.Error.
type timeoutErr bool

func (e timeoutErr) Error() string { return "i/o" }
func (e timeoutErr) Timeout() bool { return bool(e) }

func TestIsTimeoutAndIsCanceled(t *testing.T) {
	tests := []struct {
		name              string
		err               error
		timeout, canceled bool
	}{
		{"ErrDeadline", ErrDeadline, true, false},
		{"context.DeadlineExceeded", context.DeadlineExceeded, true, false},
		{"an error whose Timeout says so", timeoutErr(true), true, false},
		{"an error whose Timeout says no", timeoutErr(false), false, false},
		{"ErrCanceled", ErrCanceled, false, true},
		{"context.Canceled", context.Canceled, false, true},
		{"nil", nil, false, false},
		{"other", errors.New("boom"), false, false},
		{"an *Error", &Error{Code: CodeTimeout, Message: "refresh timed out"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.timeout, IsTimeout(tt.err), "IsTimeout")
			assert.Equal(t, tt.canceled, isCanceled(tt.err), "isCanceled")
		})
	}
	assert.Equal(t, "deadline exceeded", ErrDeadline.Error())
	assert.Equal(t, "canceled", ErrCanceled.Error())
}

func TestContextErrorWithContexts(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	err := contextError(canceled, "request")
	assert.Equal(t, CodeCanceled, CodeOf(err))
	assert.ErrorIs(t, err, context.Canceled)
	err = contextError(expired, "request")
	assert.Equal(t, CodeTimeout, CodeOf(err))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestBecauseOfCtxErrors(t *testing.T) {
	const secret = "REFRESH-s3cr3t-b81d2e"
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ErrDeadline", ErrDeadline, " (timed out)"},
		{"ErrCanceled", ErrCanceled, " (canceled)"},
		{"context.Canceled", context.Canceled, " (canceled)"},
		{"context.DeadlineExceeded", context.DeadlineExceeded, " (timed out)"},
		{"wrapped ErrDeadline, the wrapper's text left out", fmt.Errorf("lock %s: %w", secret, ErrDeadline), " (timed out)"},
		{"wrapped context.Canceled", fmt.Errorf("%s: %w", secret, context.Canceled), " (canceled)"},
		{"an *Error's message wins over its cause", &Error{Code: CodeTimeout, Message: "refresh timed out after 2s", Err: ErrDeadline}, " (refresh timed out after 2s)"},
		{"a wrapped *Error", fmt.Errorf("%s: %w", secret, &Error{Message: "refresh canceled", Err: ErrCanceled}), " (refresh canceled)"},
		{"a described error deep in the chain", fmt.Errorf("a: %w", fmt.Errorf("b %s: %w", secret, describedError{"AbortError", secret})), " (AbortError)"},
		{"an error that says nothing safe", fmt.Errorf("%s: %w", secret, errors.New(secret)), ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Because(tt.err)
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, got, secret)
		})
	}
}

// wrapper is an error type with its own Unwrap, not made by fmt.
type wrapper struct{ err error }

func (w wrapper) Error() string { return "wrapped" }
func (w wrapper) Unwrap() error { return w.err }

func TestAsError(t *testing.T) {
	inner := &Error{Code: CodeNetwork, Message: "refresh failed: network error", Err: errors.New("TypeError")}
	outer := &Error{Code: CodeTimeout, Message: "timed out waiting for another tab's refresh", Err: inner}
	tests := []struct {
		name string
		err  error
		want *Error
	}{
		{"nil", nil, nil},
		{"not an *Error", errors.New("x"), nil},
		{"context error", context.Canceled, nil},
		{"the *Error itself", inner, inner},
		{"through fmt wraps", fmt.Errorf("a: %w", fmt.Errorf("b: %w", inner)), inner},
		{"through another wrapper type", wrapper{fmt.Errorf("a: %w", wrapper{inner})}, inner},
		{"the first *Error of the chain", fmt.Errorf("a: %w", outer), outer},
		{"a chain without one", fmt.Errorf("a: %w", wrapper{ErrDeadline}), nil},
		{"a wrapper of nil", wrapper{nil}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AsError(tt.err)
			assert.True(t, got == tt.want, "AsError = %v; want %v", got, tt.want)
			// It agrees with errors.As, which it stands in for.
			var e *Error
			if errors.As(tt.err, &e) {
				assert.True(t, e == got, "errors.As found %v", e)
			} else {
				assert.Nil(t, got)
			}
			wantCode := ""
			if tt.want != nil {
				wantCode = tt.want.Code
			}
			assert.Equal(t, wantCode, CodeOf(tt.err))
		})
	}
}

//go:build !js

package session

import "time"

// SystemClock is the Clock of package time. It is the default everywhere
// but in js/wasm, where importing time would cost the wasm tens of KB: the
// bridge sets a clock made of Date.now and setTimeout there.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() int64 { return time.Now().UnixMilli() }

// AfterFunc implements Clock.
func (SystemClock) AfterFunc(d Duration, f func()) func() {
	t := time.AfterFunc(time.Duration(d), f)
	return func() { t.Stop() }
}

func init() { defaultClock = SystemClock{} }

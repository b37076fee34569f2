//go:build js

package session

import "time"

// In js/wasm the session has no default clock (the bridge sets Date.now and
// setTimeout); the tests, which run there too, use package time's.
type testTimeClock struct{}

func (testTimeClock) Now() int64 { return time.Now().UnixMilli() }

func (testTimeClock) AfterFunc(d Duration, f func()) func() {
	t := time.AfterFunc(time.Duration(d), f)
	return func() { t.Stop() }
}

func init() { defaultClock = testTimeClock{} }

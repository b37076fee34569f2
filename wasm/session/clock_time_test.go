//go:build !js

package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDefaultClockIsTheSystemClock(t *testing.T) {
	c := New(Config{}, nil)
	assert.Equal(t, SystemClock{}, c.cfg.Clock)
	now := time.Now().UnixMilli()
	assert.InDelta(t, now, c.now(), 1000, "Now is Unix milliseconds")
	fired := make(chan struct{})
	stop := c.cfg.Clock.AfterFunc(Millisecond, func() { close(fired) })
	defer stop()
	select {
	case <-fired:
	case <-time.After(2 * time.Second):
		t.Fatal("AfterFunc never fired")
	}
	stopped := c.cfg.Clock.AfterFunc(20*Millisecond, func() { t.Error("stopped timer fired") })
	stopped()
	time.Sleep(50 * time.Millisecond)
}

func TestWithTimeoutRealTimer(t *testing.T) {
	start := time.Now()
	dl := withTimeout(SystemClock{}, 20*Millisecond)
	defer dl.cancel()
	select {
	case <-dl.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the deadline never passed")
	}
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	assert.Equal(t, ErrDeadline, dl.Err())
}

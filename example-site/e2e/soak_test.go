//go:build !js

package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type runtimeStats struct {
	Funcs      int
	Clients    int
	Goroutines int
	HeapAlloc  int // live Go heap after a collection
}

// TestSoak sends 10,000 requests, 32 at a time, with the server revoking
// the access token every 300, and checks that what the runtime holds comes
// back to where it was: live js.Func values, goroutines, the Go heap; and
// that the page's JS heap does not grow with the number of requests.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test; run without -short")
	}
	ss := newScenarioSite(t, time.Hour)
	tb := loggedIn(t, ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh' } }`)
	const script = `(async (n) => {
		let ok = 0, next = 0
		const worker = async () => {
			while (next < n) {
				const i = next++
				if (i % 300 === 299) await fetch('/debug/revoke-access', { method: 'POST' })
				const r = await api.get('/api/me?i=' + (i % 50))
				if (r.status === 200) ok++
			}
		}
		await Promise.all(Array.from({length: 32}, worker))
		return ok
	})`
	run := func(n int) {
		t.Helper()
		var ok int
		tb.eval(script+`(`+strconv.Itoa(n)+`)`, &ok)
		require.Equal(t, n, ok, "all succeeded")
	}
	stats := func() runtimeStats {
		t.Helper()
		var s runtimeStats
		tb.eval(`m.debugStats()`, &s)
		return s
	}

	run(1000) // warm up: caches, pools, JIT
	base, baseJS := stats(), jsHeap(t, tb)
	ss.ResetCounters()
	run(5000)
	mid, midJS := stats(), jsHeap(t, tb)
	run(5000)
	after, afterJS := stats(), jsHeap(t, tb)
	c := ss.Counters()
	t.Logf("10,000 requests: %d refreshes; js.Funcs %d, %d, %d; goroutines %d, %d, %d; Go heap %d, %d, %d KB; JS heap %d, %d, %d KB",
		c.Refreshes, base.Funcs, mid.Funcs, after.Funcs, base.Goroutines, mid.Goroutines, after.Goroutines,
		base.HeapAlloc/1024, mid.HeapAlloc/1024, after.HeapAlloc/1024, baseJS/1024, midJS/1024, afterJS/1024)
	assert.GreaterOrEqual(t, c.Refreshes, int64(30), "a refresh every 300 requests")
	assert.Equal(t, base.Funcs, after.Funcs, "live js.Func values")
	assert.Equal(t, base.Goroutines, after.Goroutines, "goroutines")
	// A leak grows with the number of requests: the second 5,000 would add
	// about as much as the first. (debugStats collects twice, so values
	// waiting for their finalizers are gone: seen 51, 51, 51 KB.)
	assert.Less(t, after.HeapAlloc, mid.HeapAlloc+128<<10, "the Go heap does not grow with the requests")
	assert.Less(t, after.HeapAlloc, base.HeapAlloc+1<<20, "the Go heap stays near its baseline")
	assert.Less(t, afterJS, baseJS+4<<20, "the JS heap did not grow with the requests")
	assert.Less(t, afterJS-midJS, 1<<20, "nor between the two halves")
}

// jsHeap returns the page's JS heap in use after a full collection.
func jsHeap(t *testing.T, tb *tab) int {
	t.Helper()
	var used float64
	err := chromedp.Do(tb.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
			return err
		}
		r, err := cdp.Call(ctx, tg, runtime.GetHeapUsage, cdp.Empty{})
		if err != nil {
			return err
		}
		used = r.UsedSize
		return nil
	}))
	require.NoError(t, err)
	return int(used)
}

//go:build !js

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// wasmModules are the wasm modules of the cold starts: the first cold start
// that loads each, and the path.
var wasmModules = []struct{ name, path string }{
	{"go-floor", "/gen/floor.wasm"},
	{"jwtfetch-fetch", "/jsglue/jwtfetch.wasm"},
}

// eagerJSFlags makes V8 write the wasm code cache as soon as it has new
// optimized code, instead of after 2 s without any (-wasm-cache-eager).
const eagerJSFlags = "--wasm-caching-timeout-ms=0"

const (
	// warmVisits is how many untimed visits come before the repeat visits:
	// V8 writes a script's code cache on its second load, so the third
	// load is the first to use it.
	warmVisits = 2
	// warmUse is how long the first warm visit of each wasm module keeps
	// using the library, and warmLinger how long the tab then stays open:
	// V8 optimizes the hot wasm functions while the page runs, and asks
	// for the wasm code cache to be written 2 s
	// (--wasm-caching-timeout-ms) after the last optimized function.
	warmUse    = time.Second
	warmLinger = 3 * time.Second
)

// codeCacheCheck is what traced, untimed visits saw of the wasm code cache
// of one module.
type codeCacheCheck struct {
	name, path string
	produced   int  // bytes the first warm visit cached (v8.wasm.cachedModule)
	hit        bool // a repeat visit used the cache (v8.wasm.moduleCacheHit)
	consumed   int  // bytes it used
	invalid    int  // cache entries Blink or V8 rejected
	err        error
}

// coldStarts times cold starts twice. First visits run in browserCtx, each
// in a new tab after emptying the browser's HTTP cache (a code cache entry
// belongs to an HTTP cache entry, so none can apply).
// Repeat visits run in a browser of their own (newBrowser), each in a new
// tab with the HTTP cache on, after warmVisits visits of the same page.
func coldStarts(browserCtx context.Context, newBrowser func() (context.Context, func(), error), base string, r *results) error {
	names := append([]string{"go-floor"}, candidates...)
	url := func(name string) string { return base + "/?cold=" + name }
	timed := func(ctx context.Context, runs map[string][]coldRun, name string, noCache bool) {
		res, err := visit(ctx, url(name), visitOpts{noCache: noCache})
		if err != nil {
			res = coldRes{Fails: noAnswer(name, err, 1)}
		}
		if !res.OK {
			res.MS = math.NaN()
		}
		runs[name] = append(runs[name], coldRun{ms: res.MS, ok: res.OK, fails: res.Fails, bytes: res.Bytes, transfer: res.Transfer})
	}
	for run := 1; run <= r.cfg.coldRuns; run++ {
		if run == 1 || run%5 == 0 {
			log.Printf("cold start, first visit %d/%d", run, r.cfg.coldRuns)
		}
		for _, name := range names {
			timed(browserCtx, r.cold, name, true)
		}
	}

	ctx, stop, err := newBrowser()
	if err != nil {
		return fmt.Errorf("the browser of the repeat visits: %w", err)
	}
	defer stop()
	log.Printf("cold start, repeat visit: %d warm-up visits per candidate", warmVisits)
	checks := make([]codeCacheCheck, len(wasmModules))
	long := map[string]bool{}
	for i, m := range wasmModules {
		checks[i] = codeCacheCheck{name: m.name, path: m.path}
		long[m.name] = true
	}
	// The first warm visit of each module, traced: did V8 cache its code?
	events, err := traced(ctx, codeCacheCategories, func() error {
		for _, m := range wasmModules {
			if _, err := visit(ctx, url(m.name), visitOpts{use: warmUse, linger: warmLinger}); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		return nil
	})
	for i := range checks {
		checks[i].err = err
		checks[i].produced = codeCache(events, checks[i].path).produced
	}
	for i := range warmVisits {
		for _, name := range names {
			if i == 0 && long[name] {
				continue // done above
			}
			if _, err := visit(ctx, url(name), visitOpts{linger: 200 * time.Millisecond}); err != nil {
				log.Printf("warning: %s: warm-up visit: %v", name, err)
			}
		}
	}
	for run := 1; run <= r.cfg.coldRuns; run++ {
		if run == 1 || run%5 == 0 {
			log.Printf("cold start, repeat visit %d/%d", run, r.cfg.coldRuns)
		}
		for _, name := range names {
			timed(ctx, r.repeat, name, false)
		}
	}
	// One more repeat visit of each module, traced: did it use the cache?
	events, err = traced(ctx, codeCacheCategories, func() error {
		for _, m := range wasmModules {
			if _, err := visit(ctx, url(m.name), visitOpts{}); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		return nil
	})
	for i := range checks {
		seen := codeCache(events, checks[i].path)
		checks[i].hit, checks[i].consumed, checks[i].invalid = seen.hit, seen.consumed, seen.invalid
		if checks[i].err == nil {
			checks[i].err = err
		}
	}
	r.caching = checks
	return nil
}

// visitOpts say how to make one visit.
type visitOpts struct {
	noCache bool          // a first visit: the browser's cache emptied before it
	use     time.Duration // keep using the library after the cold start (coldUse)
	linger  time.Duration // then keep the tab open
}

// visit opens url in a new tab of the browser of ctx, waits for the page's
// cold start result and closes the tab.
func visit(browserCtx context.Context, url string, o visitOpts) (coldRes, error) {
	ctx, cancel := chromedp.NewContext(browserCtx)
	defer cancel()
	// DevTools' Network domain stays off in cold start tabs: besides its
	// work per request, with it on Chromium often skipped the wasm code
	// cache that an earlier visit wrote.
	setup := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if o.noCache {
			if _, err := cdp.Call(ctx, t, network.ClearBrowserCache, cdp.Empty{}); err != nil {
				return err
			}
		}
		return quietDomains(ctx, t)
	})
	if err := chromedp.Do(ctx, setup, chromedp.Navigate(url)); err != nil {
		return coldRes{}, err
	}
	res, err := eval[coldRes](ctx, `(async () => {
		while (!globalThis.coldResult) await new Promise((r) => setTimeout(r, 5))
		return globalThis.coldResult
	})()`, 30*time.Second)
	if err != nil {
		return res, err
	}
	if o.use > 0 {
		if _, err := eval[int](ctx, fmt.Sprintf(`coldUse(%d)`, o.use.Milliseconds()), o.use+30*time.Second); err != nil {
			return res, err
		}
	}
	if o.linger > 0 {
		err = chromedp.Do(ctx, chromedp.Sleep(o.linger))
	}
	return res, err
}

// cacheSeen is what one trace shows of the wasm code cache of one module.
type cacheSeen struct {
	produced, consumed, invalid int
	hit                         bool
}

// codeCache reads Blink's wasm code cache events
// (v8_wasm_response_extensions.cc) about the module at path. Blink emits
// v8.wasm.compiledModule (with the URL) and then v8.wasm.cachedModule
// (with the size, no URL) on the same thread; v8.wasm.moduleCacheHit has
// both; v8.wasm.moduleCacheInvalid* has neither, and follows the hit on its
// thread.
func codeCache(events []traceEvent, path string) cacheSeen {
	var wasm []traceEvent
	for _, e := range events {
		if strings.HasPrefix(e.Name, "v8.wasm.") {
			wasm = append(wasm, e)
		}
	}
	slices.SortStableFunc(wasm, func(a, b traceEvent) int { return cmp.Compare(a.Ts, b.Ts) })
	type thread struct{ pid, tid int }
	last := map[thread]string{} // the URL last named on each thread
	var s cacheSeen
	for _, e := range wasm {
		var args struct {
			URL               string `json:"url"`
			ProducedCacheSize int    `json:"producedCacheSize"`
			ConsumedCacheSize int    `json:"consumedCacheSize"`
		}
		_ = json.Unmarshal(e.Args, &args)
		th := thread{e.Pid, e.Tid}
		if args.URL != "" {
			last[th] = args.URL
		}
		if !strings.HasSuffix(last[th], path) {
			continue
		}
		switch e.Name {
		case "v8.wasm.cachedModule":
			s.produced = max(s.produced, args.ProducedCacheSize) // each caching event serializes the whole module
		case "v8.wasm.moduleCacheHit":
			s.hit = true
			s.consumed += args.ConsumedCacheSize
		case "v8.wasm.moduleCacheInvalid", "v8.wasm.moduleCacheInvalidDigest":
			s.invalid++
		}
	}
	return s
}

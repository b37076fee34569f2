//go:build !js

package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// One run of each workload for one candidate.
type (
	seqRun struct {
		median, p99 float64 // ms per request
		cpu         float64 // µs of main-thread CPU time per request
		ok          int
		fails       fails
	}
	concRun struct {
		rps   float64
		cpu   float64 // µs of main-thread CPU time per request
		ok    int
		fails fails
	}
	stormRun struct {
		ms                          float64 // until every request settled
		ok                          int
		fails                       fails
		refreshes, refreshOK, reuse int // as the server counted them
	}
	// mtRun is one traced round of sequential requests: the main thread's
	// task time per request (µs, wall clock) and its tasks per request; NaN
	// when it failed.
	mtRun struct {
		wall, tasks float64
		ok          int
		fails       fails
	}
	coldRun struct {
		ms              float64
		ok              bool
		fails           fails
		bytes, transfer int // library files: encoded bodies, bytes over the wire
	}
)

type sizeRow struct {
	lib, what string
	raw, br   int
}

type env struct {
	cpu, goVersion, chromium, date string
	cores                          int
	isolated                       bool // performance.now() at 5 µs
	packages                       []string
}

type results struct {
	cfg     config
	env     env
	sizes   []sizeRow
	seq     map[string][]seqRun
	conc    map[string][]concRun
	storm   map[string][]stormRun
	cold    map[string][]coldRun // first visits
	repeat  map[string][]coldRun // repeat visits
	caching []codeCacheCheck     // what the wasm code cache did
	mt      map[string][]mtRun
	idleCPU []float64 // µs of main-thread CPU time per second of an idle page, per round
	callCPU float64   // µs of main-thread CPU time of one DevTools call that does nothing
	elapsed time.Duration
}

func numCPU() int       { return runtime.NumCPU() }
func goVersion() string { return runtime.Version() }

func packageVersion(path string) string {
	var p struct{ Version string }
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &p) == nil && p.Version != "" {
		return p.Version
	}
	return "?"
}

// percentile returns the nearest-rank p-th percentile of xs, leaving out
// NaNs (runs that failed); NaN when nothing is left.
func percentile(xs []float64, p float64) float64 {
	s := slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(xs), math.IsNaN)))
	if len(s) == 0 {
		return math.NaN()
	}
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func median(xs []float64) float64 { return percentile(xs, 50) }

// collect applies f to every run and returns the values.
func collect[R any](runs []R, f func(R) float64) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

// failText sums the failures of all runs: "HTTP 401 ×500, ERR_NETWORK ×1".
func failText(all ...fails) string {
	sum := fails{}
	for _, f := range all {
		for k, n := range f {
			sum[k] += n
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(sum)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, sum[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func ratio(v, base float64) string {
	if base == 0 || math.IsNaN(v) || math.IsNaN(base) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v/base)
}

func kb(n int) string { return fmt.Sprintf("%.1f", float64(n)/1000) }

// num formats v with format, or "—" when it is NaN (nothing succeeded).
func num(format string, v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf(format, v)
}

// seqMedian is a candidate's median over rounds of the per-round medians.
func (r *results) seqMedian(name string) float64 {
	return median(collect(r.seq[name], func(s seqRun) float64 { return s.median }))
}

func (r *results) write(out string) error {
	var b strings.Builder
	r.markdown(&b)
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(filepath.Dir(out), "overhead.svg"), []byte(r.svg()), 0o644)
}

func (r *results) markdown(w io.Writer) {
	c, e := r.cfg, r.env
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	timer := "100 µs (not cross-origin isolated)"
	if e.isolated {
		timer = "5 µs (the page is cross-origin isolated)"
	}
	p("# jwtfetch benchmarks")
	p("")
	p("Written by `make bench` (`go run ./example-site/bench`); do not edit by hand.")
	p("")
	p("- Machine: %s, %d cores", e.cpu, e.cores)
	p("- Browser: %s, headless; Go %s; %s", e.chromium, e.goVersion, e.date)
	p("- Peers: %s (bundled with esbuild)", strings.Join(e.packages, ", "))
	p("- Whole run: %s; settings: -n %d -chunk %d -inflight %d -reps %d -storm %d -storm-reps %d -cold %d -mt-n %d -mt-reps %d",
		r.elapsed.Round(time.Second), c.n, c.chunk, c.inflight, c.reps, c.storm, c.stormReps, c.coldRuns, c.mtN, c.mtReps)
	if c.quick {
		p("- **A quick run (`-quick`)**: few requests and rounds, to check the harness; not for comparisons.")
	}
	p("")
	p("The demo API (`authserver`, access tokens live 1 h) runs in the bench process on 127.0.0.1, over")
	p("HTTP/1.1, so Chromium uses at most 6 connections to it; the browser and the server share the %d cores.", e.cores)
	p("Every candidate does the same: GET `/api/me` with the access token, read and parse the JSON body,")
	p("and (all but raw fetch) refresh on a 401 and retry. The peers are wired as their READMEs show; the")
	p("ky hook is the `afterResponse` refresh from ky's readme with a shared refresh promise. jwtfetch runs")
	p("with its defaults (localStorage, cross-tab on). All candidates run in one page and take turns")
	p("(A B C … A B C …); timer resolution %s. Medians are over rounds; ratios are to raw fetch.", timer)
	p("DevTools' Network domain is off in every tab of the bench (chromedp turns it on): with it on, the")
	p("renderer reports each request to DevTools, main-thread work that users' pages do not do.")
	p("")

	r.summary(w)

	p("## Sequential requests (%d GETs one after another, %d rounds)", c.n, c.reps)
	p("")
	p("Per request, median and p99 of each round; the table shows the median round.")
	p("")
	p("| candidate | median ms | × fetch | p99 ms | × fetch | overhead per request | 200s | failures |")
	p("|---|---:|---:|---:|---:|---:|---:|---|")
	baseMed, baseP99 := r.seqMedian("fetch"), median(collect(r.seq["fetch"], func(s seqRun) float64 { return s.p99 }))
	for _, name := range candidates {
		runs := r.seq[name]
		med, p99 := r.seqMedian(name), median(collect(runs, func(s seqRun) float64 { return s.p99 }))
		over := "—"
		if name != "fetch" {
			over = num("%+.0f µs", (med-baseMed)*1000)
		}
		ok := int(sum(collect(runs, func(s seqRun) float64 { return float64(s.ok) })))
		p("| %s | %s | %s | %s | %s | %s | %d/%d | %s |", name, num("%.3f", med), ratio(med, baseMed), num("%.3f", p99), ratio(p99, baseP99), over,
			ok, c.n*len(runs), failText(failsOf(runs, func(s seqRun) fails { return s.fails })...))
	}
	p("")
	p("![Per-request overhead over raw fetch](overhead.svg)")
	p("")
	r.mainThreadSection(w)

	p("## Concurrent requests (%d GETs, %d in flight, %d rounds)", c.n, c.inflight, c.reps)
	p("")
	p("| candidate | requests/s | × fetch | 200s | failures |")
	p("|---|---:|---:|---:|---|")
	baseRPS := median(collect(r.conc["fetch"], func(s concRun) float64 { return s.rps }))
	for _, name := range candidates {
		runs := r.conc[name]
		rps := median(collect(runs, func(s concRun) float64 { return s.rps }))
		ok := int(sum(collect(runs, func(s concRun) float64 { return float64(s.ok) })))
		p("| %s | %s | %s | %d/%d | %s |", name, num("%.0f", rps), ratio(rps, baseRPS), ok, c.n*len(runs),
			failText(failsOf(runs, func(s concRun) fails { return s.fails })...))
	}
	p("")

	p("## Refresh storm (%d requests at once after the server revoked the access token, %d rounds)", c.storm, c.stormReps)
	p("")
	p("Each round gives the candidate a fresh login; the server then revokes every access token and")
	p("resets its counters. Refresh calls and reuse detections are the server's counts; one value per round.")
	p("Raw fetch has no refresh logic and is left out. Ideal: 1 refresh call, %d × 200.", c.storm)
	p("")
	p("| candidate | refresh calls | refreshes granted | reuse detected | 200s | all settled after (ms) | failures |")
	p("|---|---|---|---|---|---|---|")
	for _, name := range candidates[1:] {
		runs := r.storm[name]
		list := func(f func(stormRun) string) string {
			var s []string
			for _, run := range runs {
				s = append(s, f(run))
			}
			return strings.Join(s, ", ")
		}
		p("| %s | %s | %s | %s | %s | %s | %s |", name,
			list(func(s stormRun) string { return fmt.Sprint(s.refreshes) }),
			list(func(s stormRun) string { return fmt.Sprint(s.refreshOK) }),
			list(func(s stormRun) string { return fmt.Sprint(s.reuse) }),
			list(func(s stormRun) string { return fmt.Sprintf("%d/%d", s.ok, c.storm) }),
			list(func(s stormRun) string { return num("%.0f", s.ms) }),
			failText(failsOf(runs, func(s stormRun) fails { return s.fails })...))
	}
	p("")

	r.coldSection(w)

	p("## Transferred size (brotli, quality 11)")
	p("")
	p("| library | what | raw KB | brotli KB |")
	p("|---|---|---:|---:|")
	for _, s := range r.sizes {
		if s.raw == 0 {
			p("| %s | %s | 0 | 0 |", s.lib, s.what)
			continue
		}
		p("| %s | %s | %s | %s |", s.lib, s.what, kb(s.raw), kb(s.br))
	}
}

func sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t
}

func failsOf[R any](runs []R, f func(R) fails) []fails {
	out := make([]fails, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

// svg draws the median per-request overhead over raw fetch as bars.
func (r *results) svg() string {
	const (
		width, labelW, rowH, top = 720, 170, 34, 46
		barMax                   = width - labelW - 110
	)
	base := r.seqMedian("fetch")
	names := candidates[1:]
	vals := make([]float64, len(names))
	hi := 1.0
	for i, n := range names {
		vals[i] = (r.seqMedian(n) - base) * 1000 // µs; NaN when it failed
		if !math.IsNaN(vals[i]) {
			hi = max(hi, vals[i])
		}
	}
	height := top + rowH*len(names) + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="14">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="24" font-size="16" font-weight="bold">Per-request overhead over raw fetch (median of %d × %d sequential GETs)</text>`+"\n", r.cfg.reps, r.cfg.n)
	for i, n := range names {
		y := top + i*rowH
		w := 0
		if vals[i] > 0 {
			w = int(vals[i] / hi * barMax)
		}
		fill := "#8a99a8"
		if strings.HasPrefix(n, "jwtfetch") {
			fill = "#2f6fb0"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-10, y+18, html.EscapeString(n))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="22" fill="%s"/>`+"\n", labelW, y+4, w, fill)
		label := fmt.Sprintf("%+.0f µs", vals[i])
		if math.IsNaN(vals[i]) {
			label = "failed"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", labelW+w+6, y+19, label)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#555">raw fetch: %.0f µs per request; %s</text>`+"\n", labelW, height-10, base*1000, html.EscapeString(r.env.chromium))
	b.WriteString("</svg>\n")
	return b.String()
}

// ratios are the figures to compare between two runs (before and after a
// change), each a ratio within its run, so that the machine's speed
// cancels out.
type ratios struct {
	seq, rps, cpu, first, repeat float64
}

func (r *results) ratios(name string) ratios {
	rps := func(n string) float64 { return median(collect(r.conc[n], func(s concRun) float64 { return s.rps })) }
	return ratios{
		seq:    r.seqMedian(name) / r.seqMedian("fetch"),
		rps:    rps(name) / rps("fetch"),
		cpu:    r.seqCPU(name) / r.seqCPU("fetch"),
		first:  coldMedian(r.cold[name]) / coldMedian(r.cold["go-floor"]),
		repeat: coldMedian(r.repeat[name]) / coldMedian(r.repeat["go-floor"]),
	}
}

// seqCPU is a candidate's median over rounds of the main-thread CPU µs per
// sequential request.
func (r *results) seqCPU(name string) float64 {
	return median(collect(r.seq[name], func(s seqRun) float64 { return s.cpu }))
}

func coldMedian(runs []coldRun) float64 {
	return median(collect(runs, func(s coldRun) float64 { return s.ms }))
}

// x formats a ratio; "—" for NaN or infinity.
func x(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v)
}

// summary writes the ratios of every candidate in one table.
func (r *results) summary(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("## Summary: ratios for before/after comparisons")
	p("")
	p("Each figure is a ratio within this run, so runs on different days or machines compare: sequential")
	p("latency (median) and main-thread CPU time per request are × raw fetch (lower is better), requests/s with")
	p("%d in flight is × raw fetch (higher is better), cold starts are × the Go wasm floor (lower is better;", r.cfg.inflight)
	p("the target for jwtfetch is ≤ %.2f× on both visits).", coldTarget)
	p("")
	p("| candidate | sequential median × fetch | main-thread CPU × fetch | req/s (%d in flight) × fetch | cold, first visit × floor | cold, repeat visit × floor |", r.cfg.inflight)
	p("|---|---:|---:|---:|---:|---:|")
	for _, name := range candidates {
		q := r.ratios(name)
		p("| %s | %s | %s | %s | %s | %s |", name, x(q.seq), x(q.cpu), x(q.rps), x(q.first), x(q.repeat))
	}
	p("")
	var verdicts []string
	for _, name := range candidates {
		if !strings.HasPrefix(name, "jwtfetch") {
			continue
		}
		q := r.ratios(name)
		verdicts = append(verdicts, fmt.Sprintf("%s %s / %s", name, x(q.first), x(q.repeat)))
	}
	p("jwtfetch cold start × floor (first / repeat visit), target ≤ %.2f×: %s.", coldTarget, strings.Join(verdicts, "; "))
	p("")
}

// coldTarget is the goal for jwtfetch's cold start over the Go wasm floor.
const coldTarget = 1.15

// summaryText is the summary for the log, as plain columns.
func (r *results) summaryText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %9s %9s %9s %11s %11s\n", "candidate", "seq×fetch", "cpu×fetch", "rps×fetch", "first×floor", "repeat×floor")
	for _, name := range candidates {
		q := r.ratios(name)
		fmt.Fprintf(&b, "%-20s %9s %9s %9s %11s %11s\n", name, x(q.seq), x(q.cpu), x(q.rps), x(q.first), x(q.repeat))
	}
	return b.String()
}

// mainThreadSection writes the main-thread time per request.
func (r *results) mainThreadSection(w io.Writer) {
	c := r.cfg
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("## Main-thread time per request")
	p("")
	p("How much of the page's main thread a request takes: the renderer thread that runs the page's")
	p("JavaScript, the Go wasm (Go's runtime and its goroutines run on it), Blink's side of `fetch()`,")
	p("promise reactions and JSON parsing. It is what every other task of a busy page (input handlers,")
	p("rendering, the app's own code) waits behind. Two measurements, both of that one thread:")
	p("")
	p("- **CPU µs**: the CPU time the Linux scheduler charged to the thread (`/proc/PID/task/TID/schedstat`,")
	p("  in ns) across each call of the workload above, divided by its requests; the median of the rounds.")
	p("  No sampling and no tracing: the same requests as the latency tables. It counts everything the thread runs")
	p("  (JS, wasm, Blink, microtasks, garbage collection on the main thread) and nothing of other threads")
	p("  (network service, V8's background compilers, concurrent GC). The thread is the one that emits the")
	p("  page's `performance.mark()` in a short trace (Chromium runs unsandboxed here, so its pid and tid")
	p("  are the kernel's). Included alike for every candidate: the DevTools call that starts each turn of")
	p("  %d requests%s, and the page's background work%s.", c.chunk, r.callText(), r.idleText())
	p("- **Traced**: a separate pass, %d rounds of %d sequential requests per candidate, with Chromium", c.mtReps, c.mtN)
	p("  tracing the `toplevel` category (one slice per task the thread's message loop runs: the tasks of")
	p("  DevTools' Performance panel). Task time is the union of the thread's slices between two")
	p("  `performance.mark()`s, per request: wall-clock time, so it also holds moments the kernel ran")
	p("  something else on the core (on a loaded machine it is above the CPU figure), and tracing adds a")
	p("  little per task. Tasks per request counts the message-loop tasks: how often a request takes the")
	p("  thread, each a point where input waits.")
	p("")
	p("| candidate | sequential CPU µs | × fetch | over fetch | %d in flight CPU µs | × fetch | traced task µs | × fetch | tasks per request |", c.inflight)
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	mt := func(name string, f func(mtRun) float64) float64 { return median(collect(r.mt[name], f)) }
	concCPU := func(name string) float64 {
		return median(collect(r.conc[name], func(s concRun) float64 { return s.cpu }))
	}
	wall := func(s mtRun) float64 { return s.wall }
	tasks := func(s mtRun) float64 { return s.tasks }
	base := r.seqCPU("fetch")
	for _, name := range candidates {
		cpu := r.seqCPU(name)
		over := "—"
		if name != "fetch" {
			over = num("%+.0f", cpu-base)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", name, num("%.0f", cpu), ratio(cpu, base), over,
			num("%.0f", concCPU(name)), ratio(concCPU(name), concCPU("fetch")),
			num("%.0f", mt(name, wall)), ratio(mt(name, wall), mt("fetch", wall)), num("%.1f", mt(name, tasks)))
	}
	p("")
}

// callText describes the cost of one DevTools call.
func (r *results) callText() string {
	if math.IsNaN(r.callCPU) {
		return ""
	}
	return fmt.Sprintf(" (%.0f µs for a call that does nothing: %.1f µs per request)", r.callCPU, r.callCPU/float64(r.cfg.chunk))
}

// idleText describes the background work of the idle page.
func (r *results) idleText() string {
	v := median(r.idleCPU)
	if math.IsNaN(v) {
		return ""
	}
	return fmt.Sprintf(" (an idle page here: %.0f µs of CPU per second)", v)
}

// coldSection writes the cold start tables: first and repeat visits.
func (r *results) coldSection(w io.Writer) {
	c := r.cfg
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("## Cold start (%d runs each, first and repeat visits)", c.coldRuns)
	p("")
	p("From `import()` of the library to the first authenticated response (a 200 from `/api/me`), each")
	p("run in a new tab. The login happens before the clock starts, so the connection is already open. Raw")
	p("fetch imports nothing; the Go wasm floor row loads `wasm_exec.js`, instantiates the floor wasm and runs")
	p("it until its ready callback (no request). The wasm and the peer bundles are served brotli q11.")
	p("")
	p("- **First visit**: in the browser of the other workloads, after emptying its cache (DevTools")
	p("  `Network.clearBrowserCache`), so every file comes over the network and no code cache is used.")
	p("  \"KB fetched\": the encoded bodies the page's Resource Timing saw after the clock started.")
	p("- **Repeat visit**: in a second browser with a profile of its own (nothing cached from the other")
	p("  workloads), the HTTP cache on, after %d untimed visits of the same page per candidate; the first", warmVisits)
	p("  visit that loads each wasm module keeps using the library for %s and stays open %s more. The", warmUse, warmLinger)
	p("  bench serves the static files with `Cache-Control: %s` (the demo server says `no-cache`), as", staticCacheControl)
	p("  a site does with hashed file names, so they come from the HTTP cache without a request. \"KB over")
	p("  the wire\": Resource Timing's `transferSize` (0 from the cache).")
	if c.wasmCacheEager {
		p("  This run used `-wasm-cache-eager`: the second browser ran with `--js-flags=%s`.", eagerJSFlags)
	}
	p("")
	p("What Chromium keeps between visits: the HTTP cache, V8's code cache of each script (written on a")
	p("script's second load, used from the third) and the wasm code cache. From Blink's")
	p("`v8_wasm_response_extensions.cc` and V8's flag definitions: compiled wasm is cached only for modules")
	p("compiled with `WebAssembly.instantiateStreaming`/`compileStreaming` from an HTTP(S) response with")
	p("`Content-Type: application/wasm` (the floor and jwtfetch both load that way), and only code V8 has")
	p("optimized. With dynamic tiering, functions start in the baseline compiler and only hot ones are")
	p("recompiled with TurboFan; V8 offers the module for caching once there is 1 KB of new optimized code")
	p("and then 2 s pass without more (`--wasm-caching-threshold`, `--wasm-caching-timeout-ms`), or at once")
	p("past 1 MB (`--wasm-caching-hard-threshold`). Functions not in the cache compile lazily again. Blink")
	p("stores a SHA-256 of the module bytes with the entry and drops it when they differ, and the entry")
	p("belongs to the HTTP cache entry, so a changed file or a fresh download starts over. (When the cache")
	p("came in, in 2019, it also required modules above 128 KB; both modules here are far larger.) Traced,")
	p("untimed visits in the second browser show what this run did:")
	p("")
	written := false
	for _, k := range r.caching {
		p("- %s", k.text())
		written = written || k.produced > 0
	}
	if len(r.caching) > 0 {
		p("")
	}
	if len(r.caching) > 0 && !written && !c.wasmCacheEager {
		p("So these repeat visits measure the HTTP cache and the JS code cache, and compile the wasm again:")
		p("V8's 2 s quiet period after the last optimized function did not end in a write while the tab")
		p("stayed open (in our tests with this Chromium, not within 12 s either, nor with a 500 ms period;")
		p("with the period off it writes). `-wasm-cache-eager` runs the second browser with")
		p("`--js-flags=%s`, so V8 writes the cache as it optimizes: what the cache can do at best.", eagerJSFlags)
		p("")
	}
	p("Two things made Chromium skip a wasm code cache that an earlier visit had written, in our tests:")
	p("DevTools' Network domain (off here) and `Cache-Control: no-cache` (after a few visits that")
	p("revalidated the module, a 304 each, the cache was no longer used); hence the bench's `%s`.", staticCacheControl)
	p("")
	p("| candidate | first visit median ms | min–max | × floor | KB fetched | repeat visit median ms | min–max | × floor | KB over the wire | repeat ÷ first | 200s | failures |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	floorFirst, floorRepeat := coldMedian(r.cold["go-floor"]), coldMedian(r.repeat["go-floor"])
	okCount := func(runs []coldRun) string {
		ok := 0
		for _, s := range runs {
			if s.ok {
				ok++
			}
		}
		return fmt.Sprintf("%d/%d", ok, len(runs))
	}
	rng := func(runs []coldRun) string {
		ms := collect(runs, func(s coldRun) float64 { return s.ms })
		return num("%.1f", percentile(ms, 0)) + "–" + num("%.1f", percentile(ms, 100))
	}
	for _, name := range append([]string{"go-floor"}, candidates...) {
		first, repeat := r.cold[name], r.repeat[name]
		label := name
		if name == "go-floor" {
			label = "Go wasm floor (no request)"
		}
		mf, mr := coldMedian(first), coldMedian(repeat)
		fetched := kb(int(median(collect(first, func(s coldRun) float64 { return float64(s.bytes) }))))
		wire := kb(int(median(collect(repeat, func(s coldRun) float64 { return float64(s.transfer) }))))
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s, %s | %s |", label,
			num("%.1f", mf), rng(first), ratio(mf, floorFirst), fetched,
			num("%.1f", mr), rng(repeat), ratio(mr, floorRepeat), wire, ratio(mr, mf),
			okCount(first), okCount(repeat),
			failText(append(failsOf(first, func(s coldRun) fails { return s.fails }), failsOf(repeat, func(s coldRun) fails { return s.fails })...)...))
	}
	p("")
}

// text describes one code cache check.
func (k codeCacheCheck) text() string {
	s := fmt.Sprintf("`%s` (first loaded by %s): ", k.path, k.name)
	if k.produced > 0 {
		s += fmt.Sprintf("the first warm-up visit wrote %s KB of optimized code to the wasm code cache", kb(k.produced))
	} else {
		s += "the first warm-up visit wrote no wasm code cache"
	}
	if k.hit {
		s += fmt.Sprintf("; a repeat visit used it (%s KB)", kb(k.consumed))
	} else {
		s += "; a repeat visit compiled the module again"
	}
	if k.invalid > 0 {
		s += fmt.Sprintf("; %d cache entries were rejected", k.invalid)
	}
	if k.err != nil {
		s += fmt.Sprintf(" (a traced visit failed: %v)", k.err)
	}
	return s + "."
}

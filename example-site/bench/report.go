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
		ok          int
		fails       fails
	}
	concRun struct {
		rps   float64
		ok    int
		fails fails
	}
	stormRun struct {
		ms                          float64 // until every request settled
		ok                          int
		fails                       fails
		refreshes, refreshOK, reuse int // as the server counted them
	}
	coldRun struct {
		ms    float64
		ok    bool
		fails fails
		bytes int // library files transferred
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
	cold    map[string][]coldRun
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
	p("- Whole run: %s", r.elapsed.Round(time.Second))
	p("")
	p("The demo API (`authserver`, access tokens live 1 h) runs in the bench process on 127.0.0.1, over")
	p("HTTP/1.1, so Chromium uses at most 6 connections to it; the browser and the server share the %d cores.", e.cores)
	p("Every candidate does the same: GET `/api/me` with the access token, read and parse the JSON body,")
	p("and (all but raw fetch) refresh on a 401 and retry. The peers are wired as their READMEs show; the")
	p("ky hook is the `afterResponse` refresh from ky's readme with a shared refresh promise. jwtfetch runs")
	p("with its defaults (localStorage, cross-tab on). All candidates run in one page and take turns")
	p("(A B C … A B C …); timer resolution %s. Medians are over rounds; ratios are to raw fetch.", timer)
	p("")

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

	p("## Cold start (%d runs each)", c.coldRuns)
	p("")
	p("From `import()` of the library to the first authenticated response (a 200 from `/api/me`),")
	p("each run in a new tab with the HTTP cache disabled (so no compiled-wasm cache either). The")
	p("login happens before the clock starts, so the connection is already open. Raw fetch imports")
	p("nothing; the Go wasm floor row loads `wasm_exec.js`, instantiates the floor wasm and runs it")
	p("until its ready callback (no request). The wasm and the peer bundles are served brotli q11;")
	p("\"KB fetched\" is what the page's Resource Timing saw transferred (encoded bodies) after the clock started.")
	p("")
	p("| candidate | median ms | × fetch | min ms | max ms | KB fetched | 200s | failures |")
	p("|---|---:|---:|---:|---:|---:|---:|---|")
	baseCold := median(collect(r.cold["fetch"], func(s coldRun) float64 { return s.ms }))
	for _, name := range append([]string{"go-floor"}, candidates...) {
		runs := r.cold[name]
		ms := collect(runs, func(s coldRun) float64 { return s.ms })
		ok := int(sum(collect(runs, func(s coldRun) float64 {
			if s.ok {
				return 1
			}
			return 0
		})))
		label := name
		if name == "go-floor" {
			label = "Go wasm floor (no request)"
		}
		p("| %s | %s | %s | %s | %s | %s | %d/%d | %s |", label, num("%.1f", median(ms)), ratio(median(ms), baseCold),
			num("%.1f", percentile(ms, 0)), num("%.1f", percentile(ms, 100)), kb(int(median(collect(runs, func(s coldRun) float64 { return float64(s.bytes) })))), ok, len(runs), failText(failsOf(runs, func(s coldRun) fails { return s.fails })...))
	}
	p("")

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

//go:build !js

// Command bench races jwtfetch against the JWT client libraries people use
// today (raw fetch, axios + axios-auth-refresh, axios + axios-jwt, ky with a
// refresh hook) in one headless Chromium session, against the demo API
// running in this process, and writes RESULTS.md and overhead.svg.
//
//	make build && (cd example-site/bench && npm ci)
//	go run ./example-site/bench -out example-site/bench/RESULTS.md
//	go run ./example-site/bench -quick   # a check of the harness, to a temporary directory
//
// Run it from the repository root. The peers are bundled with the esbuild
// from example-site/bench/node_modules; the Go wasm floor is built in a
// temporary directory. It drives a browser from the host, so it builds for
// native targets only.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/jwtfetch/jwtfetch/example-site/authserver"
)

// candidates in the order they run within each round.
var candidates = []string{"fetch", "axios-auth-refresh", "axios-jwt", "ky", "jwtfetch-fetch", "jwtfetch-get"}

// bundle is one esbuild bundle: name, entry (relative to the bench
// directory) and extra flags.
type bundle struct{ name, entry, flags string }

var peers = []bundle{
	{"axios-auth-refresh", "peers/axios-auth-refresh.js", ""},
	// axios-jwt require()s axios while the entry imports it; without the
	// alias esbuild bundles axios twice (its CJS and its ESM build).
	{"axios-jwt", "peers/axios-jwt.js", "--alias:axios=./node_modules/axios/index.js"},
	{"axios-jwt-naive", "peers/axios-jwt.js", ""},
	{"ky", "peers/ky.js", ""},
}

// floorSource is the Go wasm floor: a main with one js.FuncOf that it
// hands to a ready callback.
const floorSource = `package main

import "syscall/js"

func main() {
	f := js.FuncOf(func(js.Value, []js.Value) any { return nil })
	js.Global().Call("__floorReady", f)
	select {}
}
`

// config is what the command line sets.
type config struct {
	root, out                  string
	n, chunk, inflight, reps   int
	storm, stormReps, coldRuns int
	mtN, mtReps                int
	chromium                   string
	quick, wasmCacheEager      bool
}

func main() {
	var c config
	flag.StringVar(&c.out, "out", "example-site/bench/RESULTS.md", "Markdown report to write; overhead.svg goes next to it")
	flag.StringVar(&c.root, "root", ".", "repository root")
	flag.IntVar(&c.n, "n", 2000, "requests per candidate in the sequential and concurrent workloads")
	flag.IntVar(&c.chunk, "chunk", 250, "sequential requests per turn of a candidate")
	flag.IntVar(&c.inflight, "inflight", 64, "requests in flight in the concurrent workload")
	flag.IntVar(&c.reps, "reps", 3, "rounds of the sequential and concurrent workloads")
	flag.IntVar(&c.storm, "storm", 500, "requests in the refresh storm")
	flag.IntVar(&c.stormReps, "storm-reps", 3, "rounds of the refresh storm")
	flag.IntVar(&c.coldRuns, "cold", 15, "cold starts per candidate, for first and for repeat visits")
	flag.IntVar(&c.mtN, "mt-n", 300, "sequential requests per candidate per round of the traced main-thread pass (0: skip it)")
	flag.IntVar(&c.mtReps, "mt-reps", 3, "rounds of the traced main-thread pass")
	flag.StringVar(&c.chromium, "chromium", "", "Chromium binary (default: found on PATH)")
	flag.BoolVar(&c.quick, "quick", false, "a quick run to check the harness: "+quickText+
		" unless set; the report goes to a temporary directory unless -out is set")
	flag.BoolVar(&c.wasmCacheEager, "wasm-cache-eager", false, "run the repeat visits' browser with --js-flags="+eagerJSFlags+
		", so that V8 writes the wasm code cache as soon as it has optimized code: what the cache can do at best")
	flag.Parse()
	if c.quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range quickSettings {
			if !set[name] {
				flag.Set(name, v)
			}
		}
		if !set["out"] {
			c.out = filepath.Join(os.TempDir(), "jwtfetch-bench-quick", "RESULTS.md")
		}
	}
	if c.chunk <= 0 || c.chunk > c.n {
		c.chunk = c.n
	}
	log.SetFlags(0)
	log.SetOutput(&stamped{start: time.Now()})
	if err := os.MkdirAll(filepath.Dir(c.out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

// quickSettings are the flags of -quick.
var quickSettings = map[string]string{
	"n": "300", "chunk": "100", "reps": "2", "storm": "100", "storm-reps": "1",
	"cold": "4", "mt-n": "100", "mt-reps": "1",
}

var quickText = func() string {
	var s []string
	for _, k := range slices.Sorted(maps.Keys(quickSettings)) {
		s = append(s, "-"+k+" "+quickSettings[k])
	}
	return strings.Join(s, " ")
}()

func run(c config) error {
	start := time.Now()
	benchDir := filepath.Join(c.root, "example-site", "bench")
	jsglueDir := filepath.Join(c.root, "jsglue")
	tmp, err := os.MkdirTemp("", "jwtfetch-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gen := filepath.Join(tmp, "gen")
	if err := os.Mkdir(gen, 0o755); err != nil {
		return err
	}

	r := &results{cfg: c, seq: map[string][]seqRun{}, conc: map[string][]concRun{}, storm: map[string][]stormRun{}, cold: map[string][]coldRun{}, repeat: map[string][]coldRun{}, mt: map[string][]mtRun{}}
	log.Print("bundling peers, building the Go wasm floor, measuring sizes")
	if r.sizes, err = prepare(benchDir, jsglueDir, gen); err != nil {
		return err
	}
	r.env = environment(benchDir)

	// The demo API with the bench page and node_modules at /, the jsglue
	// directory at /jsglue/ and the generated files at /gen/.
	api := authserver.New(authserver.Config{AccessTTL: time.Hour, Debug: true, JSGlueDir: jsglueDir, WebDir: benchDir})
	mux := http.NewServeMux()
	mux.Handle("/gen/", http.StripPrefix("/gen", authserver.New(authserver.Config{WebDir: gen})))
	mux.Handle("/", api)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: isolated(fresh(mux)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	browserCtx, stop, err := startBrowser(c.chromium, filepath.Join(tmp, "profile"))
	if err != nil {
		return err
	}
	defer stop()
	if v, err := chromedp.CallBrowser(browserCtx, browser.GetVersion, cdp.Empty{}); err == nil {
		// "HeadlessChrome/156.0.8078.108" or "Chrome/…"
		_, ver, _ := strings.Cut(v.Product, "/")
		r.env.chromium = "Chromium " + ver
	}

	if err := mainPage(browserCtx, base, api, r); err != nil {
		return err
	}
	// The repeat visits run in a second browser with a profile of their
	// own, so that no cache holds anything of the main page or of the
	// first visits.
	repeatBrowser := func() (context.Context, func(), error) {
		var extra []chromedp.ExecAllocatorOption
		if c.wasmCacheEager {
			extra = append(extra, chromedp.Flag("js-flags", eagerJSFlags))
		}
		return startBrowser(c.chromium, filepath.Join(tmp, "profile-repeat"), extra...)
	}
	if err := coldStarts(browserCtx, repeatBrowser, base, r); err != nil {
		return err
	}
	r.elapsed = time.Since(start)
	log.Printf("done in %s; ratios (see %s):\n%s", r.elapsed.Round(time.Second), c.out, r.summaryText())
	return r.write(c.out)
}

// stamped prefixes log lines with the time since the start.
type stamped struct{ start time.Time }

func (s *stamped) Write(p []byte) (int, error) {
	fmt.Fprintf(os.Stderr, "bench [%4.0fs] %s", time.Since(s.start).Seconds(), p)
	return len(p), nil
}

// isolated makes every page cross-origin isolated, which gives
// performance.now() 5 µs resolution instead of 100 µs.
func isolated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		h.ServeHTTP(w, r)
	})
}

// fresh serves the static files (which the demo server marks
// Cache-Control: no-cache, to be revalidated on every load) as fresh for an
// hour, as a site does with hashed file names, so that repeat visits read
// them from the HTTP cache without a request. Responses marked otherwise,
// such as the API's no-store, pass unchanged. With no-cache, Chromium lost
// the wasm code cache after a few revalidating visits in our tests.
func fresh(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&freshWriter{ResponseWriter: w}, r)
	})
}

type freshWriter struct {
	http.ResponseWriter
	wrote bool
}

func (f *freshWriter) WriteHeader(code int) {
	if !f.wrote {
		f.wrote = true
		if h := f.Header(); h.Get("Cache-Control") == "no-cache" {
			h.Set("Cache-Control", staticCacheControl)
		}
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *freshWriter) Write(b []byte) (int, error) {
	if !f.wrote {
		f.WriteHeader(http.StatusOK)
	}
	return f.ResponseWriter.Write(b)
}

// staticCacheControl is what fresh sends for static files.
const staticCacheControl = "max-age=3600"

// prepare writes the peer bundles and the floor wasm into gen, each with
// a brotli q11 copy that the server sends, and returns the sizes.
func prepare(benchDir, jsglueDir, gen string) ([]sizeRow, error) {
	esbuild := filepath.Join("node_modules", ".bin", "esbuild")
	if _, err := os.Stat(filepath.Join(benchDir, esbuild)); err != nil {
		return nil, fmt.Errorf("%v; run `npm ci` in %s first", err, benchDir)
	}
	absGen, err := filepath.Abs(gen)
	if err != nil {
		return nil, err
	}
	glue, err := filepath.Abs(filepath.Join(jsglueDir, "jwtfetch.js"))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, p := range append(peers, bundle{"jwtfetch-js", glue, ""}) {
		out := filepath.Join(absGen, p.name+".js")
		args := []string{p.entry, "--bundle", "--format=esm", "--minify", "--platform=browser",
			`--define:process.env.NODE_ENV="production"`, "--log-level=warning", "--outfile=" + out}
		if p.flags != "" {
			args = append(args, p.flags)
		}
		cmd := exec.Command(esbuild, args...)
		cmd.Dir = benchDir
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("esbuild %s: %v\n%s", p.name, err, b)
		}
		if files[p.name], err = os.ReadFile(out); err != nil {
			return nil, err
		}
	}

	floorDir := filepath.Join(absGen, "floor-src")
	if err := os.Mkdir(floorDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(floorDir, "go.mod"), []byte("module floor\n\ngo 1.26\n"), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(floorDir, "main.go"), []byte(floorSource), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(absGen, "floor.wasm"), ".")
	cmd.Dir = floorDir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOFLAGS=", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the floor wasm: %v\n%s", err, b)
	}
	if files["floor"], err = os.ReadFile(filepath.Join(absGen, "floor.wasm")); err != nil {
		return nil, err
	}

	for _, name := range []string{"jwtfetch.wasm", "jwtfetch.js", "wasm_exec.js"} {
		if files[name], err = os.ReadFile(filepath.Join(jsglueDir, name)); err != nil {
			return nil, fmt.Errorf("%v (run `make build` first)", err)
		}
	}
	if w, err := os.Stat(filepath.Join(jsglueDir, "jwtfetch.wasm")); err == nil {
		if br, err := os.Stat(filepath.Join(jsglueDir, "jwtfetch.wasm.br")); err == nil && br.ModTime().Before(w.ModTime()) {
			log.Print("warning: jsglue/jwtfetch.wasm.br is older than jwtfetch.wasm and is what browsers get; run `make build`")
		}
	}

	br := map[string]int{}
	for name, b := range files {
		c, err := compress(b)
		if err != nil {
			return nil, err
		}
		br[name] = len(c)
		served := map[string]string{"floor": "floor.wasm", "axios-auth-refresh": "axios-auth-refresh.js", "axios-jwt": "axios-jwt.js", "ky": "ky.js"}
		if s, ok := served[name]; ok {
			if err := os.WriteFile(filepath.Join(absGen, s+".br"), c, 0o644); err != nil {
				return nil, err
			}
		}
	}
	row := func(lib, what string, names ...string) sizeRow {
		s := sizeRow{lib: lib, what: what}
		for _, n := range names {
			s.raw += len(files[n])
			s.br += br[n]
		}
		return s
	}
	return []sizeRow{
		{lib: "fetch", what: "built into the browser"},
		row("axios-auth-refresh", "axios + axios-auth-refresh, esbuild --minify", "axios-auth-refresh"),
		row("axios-jwt", "axios + axios-jwt + jwt-decode + ms, esbuild --minify, one axios", "axios-jwt"),
		row("", "the same without the alias: axios bundled twice", "axios-jwt-naive"),
		row("ky", "ky, esbuild --minify", "ky"),
		row("jwtfetch", "jwtfetch.wasm + jwtfetch.js + wasm_exec.js, as served", "jwtfetch.wasm", "jwtfetch.js", "wasm_exec.js"),
		row("", "of which jwtfetch.wasm", "jwtfetch.wasm"),
		row("", "of which jwtfetch.js + wasm_exec.js", "jwtfetch.js", "wasm_exec.js"),
		row("", "the JS as one esbuild --minify bundle", "jwtfetch-js"),
		row("Go wasm floor", "one js.FuncOf, -trimpath -ldflags=\"-s -w\"", "floor"),
	}, nil
}

func compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	err := w.Close()
	return buf.Bytes(), err
}

func startBrowser(path, profile string, extra ...chromedp.ExecAllocatorOption) (context.Context, func(), error) {
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			return nil, nil, errors.New("no Chromium found; `make chromium` installs it")
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stop := func() { cancel(); cancelAlloc() }
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("starting Chromium: %w", err)
	}
	return ctx, stop, nil
}

// eval evaluates a JavaScript expression in the tab, awaiting a promise,
// and decodes its value.
func eval[T any](ctx context.Context, expr string, timeout time.Duration) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("%s: %w", expr, err)
	}
	return v, nil
}

// Page results, as bench.js returns them.
type (
	fails    map[string]int
	setupRes struct {
		OK    int   `json:"ok"`
		Fails fails `json:"fails"`
	}
	seqRes struct {
		Times []float64 `json:"times"`
		OK    int       `json:"ok"`
		Fails fails     `json:"fails"`
	}
	timedRes struct {
		MS    float64 `json:"ms"`
		OK    int     `json:"ok"`
		Fails fails   `json:"fails"`
	}
	coldRes struct {
		MS       float64 `json:"ms"`
		OK       bool    `json:"ok"`
		Fails    fails   `json:"fails"`
		Bytes    int     `json:"bytes"`    // encoded bodies, as the page saw them
		Transfer int     `json:"transfer"` // over the wire (transferSize)
	}
)

// mainPage runs the sequential, concurrent and storm workloads in one
// page, the candidates interleaved in every round.
func mainPage(browserCtx context.Context, base string, api *authserver.Server, r *results) error {
	ctx, cancel := chromedp.NewContext(browserCtx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
		return fmt.Errorf("opening the bench page: %w", err)
	}
	if err := chromedp.Do(ctx, quiet); err != nil {
		return err
	}
	isolated, err := eval[bool](ctx, `crossOriginIsolated === true`, 10*time.Second)
	if err != nil {
		return err
	}
	r.env.isolated = isolated
	// The page's main thread, whose CPU time the workloads read around
	// each call.
	clock, err := pageMainThread(ctx)
	if err != nil {
		log.Printf("warning: no main-thread CPU time (only the traced figures): %v", err)
	}

	// setup's failures show in the workloads that follow.
	setup := func(name string, warm int) {
		s, err := eval[setupRes](ctx, fmt.Sprintf(`bench.setup(%q, %d)`, name, warm), time.Minute)
		if err != nil {
			log.Printf("warning: %s: %v", name, err)
		} else if s.OK != warm {
			log.Printf("warning: %s: %d of %d warm-up requests failed: %v", name, warm-s.OK, warm, s.Fails)
		}
	}
	for _, name := range candidates {
		setup(name, 50)
	}
	// What one DevTools call of the page costs its main thread, for the
	// report: every turn of the workloads is one such call.
	const calls = 20
	r.callCPU = clock.around(func() {
		for range calls {
			if _, err := eval[seqRes](ctx, `bench.sequential("fetch", 0)`, time.Minute); err != nil {
				log.Printf("warning: %v", err)
			}
		}
	}) / calls

	for rep := 1; rep <= r.cfg.reps; rep++ {
		// In chunks, the candidates taking turns, so that a slow spell of
		// the machine hits them all alike.
		log.Printf("round %d/%d: %d sequential GETs per candidate", rep, r.cfg.reps, r.cfg.n)
		// The page's background work on the main thread: CPU time over a
		// window in which nothing runs.
		idle := clock.around(func() {
			if _, err := eval[seqRes](ctx, fmt.Sprintf(`bench.idle(%d, "idle")`, idleWindowMS), time.Minute); err != nil {
				log.Printf("warning: idle window: %v", err)
			}
		})
		r.idleCPU = append(r.idleCPU, idle/idleWindowMS*1000)
		seq := map[string]*seqRes{}
		cpu := map[string]float64{} // µs
		for done := 0; done < r.cfg.n; done += r.cfg.chunk {
			for _, name := range candidates {
				k := min(r.cfg.chunk, r.cfg.n-done)
				var s seqRes
				cpu[name] += clock.around(func() {
					var err error
					s, err = eval[seqRes](ctx, fmt.Sprintf(`bench.sequential(%q, %d)`, name, k), 2*time.Minute)
					if err != nil {
						s = seqRes{Fails: noAnswer(name, err, k)}
					}
				})
				if seq[name] == nil {
					seq[name] = &seqRes{Fails: fails{}}
				}
				seq[name].Times = append(seq[name].Times, s.Times...)
				seq[name].OK += s.OK
				for k, v := range s.Fails {
					seq[name].Fails[k] += v
				}
			}
		}
		for name, s := range seq {
			r.seq[name] = append(r.seq[name], seqRun{median: percentile(s.Times, 50), p99: percentile(s.Times, 99), cpu: perRequest(cpu[name], s.OK, r.cfg.n), ok: s.OK, fails: s.Fails})
		}
		log.Printf("round %d/%d: %d GETs, %d in flight, per candidate", rep, r.cfg.reps, r.cfg.n, r.cfg.inflight)
		for _, name := range candidates {
			var s timedRes
			cpu := clock.around(func() {
				var err error
				s, err = eval[timedRes](ctx, fmt.Sprintf(`bench.concurrent(%q, %d, %d)`, name, r.cfg.n, r.cfg.inflight), 2*time.Minute)
				if err != nil {
					s = timedRes{MS: math.NaN(), Fails: noAnswer(name, err, r.cfg.n)}
				}
			})
			rps := float64(r.cfg.n) / (s.MS / 1000)
			if s.OK == 0 {
				rps = math.NaN()
			}
			r.conc[name] = append(r.conc[name], concRun{rps: rps, cpu: perRequest(cpu, s.OK, r.cfg.n), ok: s.OK, fails: s.Fails})
		}
	}

	if err := mainThread(ctx, r); err != nil {
		return err
	}

	// The storm: a fresh login and client per run, then the server revokes
	// every access token and all requests go out at once.
	for rep := 1; rep <= r.cfg.stormReps; rep++ {
		log.Printf("storm %d/%d: %d requests after revoking the access token", rep, r.cfg.stormReps, r.cfg.storm)
		for _, name := range candidates[1:] {
			setup(name, 5)
			api.RevokeAccessTokens()
			api.ResetCounters()
			s, err := eval[timedRes](ctx, fmt.Sprintf(`bench.storm(%q, %d)`, name, r.cfg.storm), 2*time.Minute)
			if err != nil {
				s = timedRes{MS: math.NaN(), Fails: noAnswer(name, err, r.cfg.storm)}
			}
			c := api.Counters()
			r.storm[name] = append(r.storm[name], stormRun{
				ms: s.MS, ok: s.OK, fails: s.Fails,
				refreshes: int(c.Refreshes + c.RefreshFailures), refreshOK: int(c.Refreshes), reuse: int(c.ReuseDetections),
			})
		}
	}
	return nil
}

// noAnswer logs a page call that failed (an exception, or no answer in
// time) and counts its n requests as failed.
func noAnswer(name string, err error, n int) fails {
	log.Printf("warning: %s: %v", name, err)
	return fails{"no answer from the page": n}
}

// environment describes the machine; chromium is filled in later.
func environment(benchDir string) env {
	e := env{cpu: "unknown", cores: numCPU(), goVersion: goVersion(), date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				e.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	for _, p := range []string{"axios", "axios-auth-refresh", "axios-jwt", "ky", "esbuild"} {
		e.packages = append(e.packages, p+" "+packageVersion(filepath.Join(benchDir, "node_modules", p, "package.json")))
	}
	return e
}

//go:build !js

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/jwtfetch/jwtfetch/example-site/authserver"
)

// Shared by every test: one browser, one freshly built jsglue directory.
var (
	browserCtx context.Context
	jsglueDir  string
	webDir     string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "jwtfetch-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if jsglueDir, err = buildJSGlue(tmp); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building jsglue:", err)
		return 1
	}
	webDir, _ = filepath.Abs("../web")

	chrome, err := findChromium()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(filepath.Join(tmp, "profile")),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // start the browser
		fmt.Fprintln(os.Stderr, "e2e: starting Chromium:", err)
		return 1
	}
	browserCtx = ctx
	return m.Run()
}

// buildJSGlue makes a jsglue directory from this checkout: the module, the
// Go toolchain's wasm_exec.js and the wasm, built as `make build` does.
func buildJSGlue(tmp string) (string, error) {
	dir := filepath.Join(tmp, "jsglue")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", err
	}
	copies := map[string]string{
		filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"): "wasm_exec.js",
		filepath.Join("..", "..", "jsglue", "jwtfetch.js"):                              "jwtfetch.js",
	}
	for from, to := range copies {
		b, err := os.ReadFile(from)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "jwtfetch.wasm"), "../../wasm/cmd/jwtfetch")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	return dir, nil
}

func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found; `make test` installs it (apt-get install chromium)")
}

// site is the demo API and pages on a loopback port of their own, so each
// test has its own origin and therefore its own localStorage.
type site struct {
	*authserver.Server
	URL string
}

func newSite(t *testing.T, accessTTL time.Duration) *site {
	return newSiteWith(t, accessTTL, nil)
}

// blankPage is a page with no script of its own, for tests that import
// jwtfetch themselves.
const blankPage = `<!doctype html><meta charset="utf-8"><title>blank</title><body data-ready="true">`

// newSiteWith is newSite with extra handlers, by ServeMux pattern, in front
// of the demo API. /blank.html is always there.
func newSiteWith(t *testing.T, accessTTL time.Duration, extra map[string]http.Handler) *site {
	t.Helper()
	return newSiteFrom(t, authserver.Config{AccessTTL: accessTTL}, extra)
}

// newSiteFrom is newSiteWith for a server configured by cfg (its Debug,
// JSGlueDir and WebDir are set here).
func newSiteFrom(t *testing.T, cfg authserver.Config, extra map[string]http.Handler) *site {
	t.Helper()
	cfg.Debug, cfg.JSGlueDir, cfg.WebDir = true, jsglueDir, webDir
	s := authserver.New(cfg)
	mux := http.NewServeMux()
	mux.Handle("/", s)
	mux.HandleFunc("GET /blank.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, blankPage)
	})
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	clearOrigin(t, ts.URL)
	return &site{Server: s, URL: ts.URL}
}

// clearOrigin removes whatever the browser keeps for origin (localStorage,
// IndexedDB, cookies, …). All tests share one browser profile, and a port
// an earlier test's server had may come again: without this, a new site's
// origin could start with that test's session.
func clearOrigin(t *testing.T, origin string) {
	t.Helper()
	err := chromedp.Do(browserCtx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: origin, StorageTypes: "all"})
		return err
	}))
	if err != nil {
		t.Fatalf("clearing the browser's data for %s: %v", origin, err)
	}
}

// tab is one browser tab with its console and uncaught exceptions recorded.
type tab struct {
	t     *testing.T
	ctx   context.Context
	close func() // closes the tab

	mu      sync.Mutex
	console []string
	thrown  []string
	syncs   int // markers written by syncedLogs
}

func newTab(t *testing.T, opts ...chromedp.ContextOption) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, opts...)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	tb := &tab{t: t, ctx: ctx, close: cancel}
	tb.do() // open the tab (and its browser context, when opts make one)
	// Record console messages and uncaught exceptions for the test's
	// checks (no exceptions, no token ever logged).
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			if m.IsException() {
				tb.thrown = append(tb.thrown, m.String())
			} else {
				tb.console = append(tb.console, string(m.Type)+": "+m.Text)
			}
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	return tb
}

// do runs browser actions in the tab.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// click clicks the element the CSS selector finds.
// click waits until the element is visible and clicks it from script.
// A mouse click at the element's coordinates (chromedp.Click) can land on
// another element when the page's layout shifts between measuring and
// pressing; the demo pages grow panels on timers, so that happened.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	tb.eval(`(document.querySelector(`+jsString(sel)+`).click(), true)`, nil)
}

// eval evaluates a JavaScript expression, awaiting it when it is a promise,
// and decodes its JSON value into out (which may be nil).
func (tb *tab) eval(expr string, out any) {
	tb.t.Helper()
	raw, err := chromedp.Run(tb.ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("eval %s: %v", expr, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.t.Fatalf("eval %s: decoding %s: %v", expr, raw, err)
		}
	}
}

// open loads a page of the site and waits until its script says it is ready.
func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// waitText waits until the element's text contains want.
func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := tb.text(sel)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s text = %q; want it to contain %q (page error: %q)", sel, got, want, tb.text("#error"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tb *tab) logs() (console, thrown []string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.console...), append([]string(nil), tb.thrown...)
}

// syncedLogs is logs once everything the page wrote to the console so far
// has been recorded: the messages arrive in order, so it writes a marker and
// waits until the marker is recorded. The marker is not returned.
func (tb *tab) syncedLogs() (console, thrown []string) {
	tb.t.Helper()
	tb.syncs++
	marker := fmt.Sprintf("debug: e2e console sync %d", tb.syncs)
	tb.eval(fmt.Sprintf(`(console.debug(%q), true)`, strings.TrimPrefix(marker, "debug: ")), nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		console, thrown = tb.logs()
		if i := slices.Index(console, marker); i >= 0 {
			return slices.Delete(console, i, i+1), thrown
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("the console marker %q was never recorded; console: %q", marker, console)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHarnessRecordsConsole keeps the console and exception checks of the
// other tests honest: they would pass vacuously if nothing were recorded.
func TestHarnessRecordsConsole(t *testing.T) {
	s := newSite(t, time.Minute)
	tb := newTab(t)
	tb.open(s.URL + "/blank.html")
	tb.eval(`(console.warn('harness', 'check'), setTimeout(() => { throw new Error('harness boom') }), true)`, nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		console, thrown := tb.logs()
		if slices.Contains(console, "warning: harness check") && len(thrown) > 0 {
			if !strings.Contains(thrown[0], "harness boom") {
				t.Fatalf("recorded %q", thrown)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing recorded: console %q, exceptions %q", console, thrown)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

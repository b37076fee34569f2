//go:build !js

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWasmSizeBudget builds jwtfetch.wasm as `make build` does and fails when
// its brotli size is over wasm/cmd/jwtfetch/size_budget.txt. Sizes are
// deterministic for a given Go version, so growth is never silent: raise
// the budget on purpose, saying why in the commit.
func TestWasmSizeBudget(t *testing.T) {
	raw, err := os.ReadFile("../jwtfetch/size_budget.txt")
	if err != nil {
		t.Fatal(err)
	}
	budget, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("size_budget.txt: %v", err)
	}
	s, err := Measure(buildWasm(t, "-trimpath", "-ldflags=-s -w"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("jwtfetch.wasm: raw %d, gzip %d, brotli %d bytes; budget %d", s.Raw, s.Gzip, s.Brotli, budget)
	if s.Brotli > budget {
		t.Errorf("jwtfetch.wasm is %d bytes brotli, over the budget of %d", s.Brotli, budget)
	}
}

func TestCodeByPackage(t *testing.T) {
	code, data, err := CodeByPackage(buildWasm(t, "-trimpath")) // with its name section
	if err != nil {
		t.Fatal(err)
	}
	if code["runtime"] == 0 || code["syscall_js"] == 0 || data == 0 {
		t.Errorf("CodeByPackage found runtime %d, syscall/js %d, data %d bytes; want all non-zero", code["runtime"], code["syscall_js"], data)
	}
	if _, _, err := CodeByPackage([]byte("not wasm")); err == nil {
		t.Error("CodeByPackage accepted a file that is not wasm")
	}
}

// buildWasm builds jwtfetch.wasm with the given flags and returns it.
func buildWasm(t *testing.T, flags ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "jwtfetch.wasm")
	args := append(append([]string{"build"}, flags...), "-o", out, "../jwtfetch")
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWasmImportsNeitherTimeNorContext keeps the two most expensive
// standard packages out of jwtfetch.wasm: importing time alone costs about
// 37 KB of brotli (its init links internal/godebug), context links time's
// formatting and reflectlite as well. The session has its own Clock, Ctx
// and Duration for that reason; this says which import brought them back.
func TestWasmImportsNeitherTimeNorContext(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}`, "../jwtfetch")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Fields(imports) {
			if imp == "time" || imp == "context" {
				t.Errorf("%s imports %s into jwtfetch.wasm", pkg, imp)
			}
		}
	}
}

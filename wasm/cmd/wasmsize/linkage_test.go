//go:build !js

package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// wasmDeps lists the packages that a js/wasm build of pkg links.
func wasmDeps(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestWasmLinksNeitherNetHTTPNorJwthttp keeps jwtfetch.wasm, which every
// page that uses the JavaScript package downloads, free of net/http (about
// 1 MB of brotli) and of package jwthttp, the RoundTripper for Go programs
// that is built on it. The example Go program, which links both, shows
// that the check sees them.
func TestWasmLinksNeitherNetHTTPNorJwthttp(t *testing.T) {
	const jwthttp = "github.com/jwtfetch/jwtfetch/wasm/jwthttp"
	banned := []string{"net/http", jwthttp}
	deps := wasmDeps(t, "../jwtfetch")
	for _, p := range banned {
		if slices.Contains(deps, p) {
			t.Errorf("jwtfetch.wasm links %s", p)
		}
	}
	example := wasmDeps(t, "../../../example-site/gowasm")
	for _, p := range banned {
		if !slices.Contains(example, p) {
			t.Errorf("the example Go program does not link %s: the check cannot see it", p)
		}
	}
}

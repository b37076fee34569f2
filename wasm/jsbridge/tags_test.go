//go:build !js

package jsbridge

import (
	"go/build/constraint"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryFileIsJSOnly keeps syscall/js code out of native builds: every Go
// file here but this one must carry the js && wasm constraint.
func TestEveryFileIsJSOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d Go files; want the bridge's files", len(files))
	}
	for _, name := range files {
		if name == "tags_test.go" {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		expr, err := constraint.Parse(first)
		if err != nil {
			t.Errorf("%s: first line %q is not a build constraint", name, first)
			continue
		}
		native := expr.Eval(func(tag string) bool { return tag == "linux" || tag == "amd64" })
		wasm := expr.Eval(func(tag string) bool { return tag == "js" || tag == "wasm" })
		if native || !wasm {
			t.Errorf("%s: constraint %q must select js && wasm only", name, first)
		}
	}
}

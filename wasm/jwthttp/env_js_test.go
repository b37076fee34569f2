//go:build js && wasm

package jwthttp

import (
	"os"
	"testing"
)

// newEnv returns the servers that `make test-wasm` starts around
// wasmbrowsertest (wasm/jwthttp/internal/testenv), reset for this test: a
// test compiled to wasm cannot listen itself, but wasmbrowsertest passes
// its environment to the program. Without them the test is skipped.
func newEnv(t *testing.T) env {
	t.Helper()
	e := env{api: os.Getenv("JWTHTTP_TEST_API"), short: os.Getenv("JWTHTTP_TEST_SHORT"), other: os.Getenv("JWTHTTP_TEST_OTHER")}
	if e.api == "" || e.short == "" || e.other == "" {
		t.Skip("no test servers: run through `make test-wasm`, or go test -exec='go run ./wasm/jwthttp/internal/testenv wasmbrowsertest'")
	}
	e.reset(t)
	return e
}

//go:build !js

package jwthttp

import (
	"testing"

	"github.com/jwtfetch/jwtfetch/wasm/jwthttp/internal/testserver"
)

// newEnv starts the test's own servers.
func newEnv(t *testing.T) env {
	t.Helper()
	s := testserver.Start()
	t.Cleanup(s.Close)
	return env{api: s.API.URL, short: s.Short.URL, other: s.Other.URL}
}

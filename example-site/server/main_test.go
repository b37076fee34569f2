package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var bannerRE = regexp.MustCompile(`^jwtfetch demo: http://(\S+)/  \(user demo / password demo123\)$`)

// startRun runs run in the background and returns its base URL and a
// channel with its result.
func startRun(t *testing.T, ctx context.Context, args ...string) (string, <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case line, ok := <-lines:
		require.True(t, ok, "run printed nothing")
		m := bannerRE.FindStringSubmatch(line)
		require.NotNil(t, m, "banner: %q", line)
		return "http://" + m[1], done
	case <-time.After(10 * time.Second):
		t.Fatal("run did not print its address")
		return "", nil
	}
}

func TestRun(t *testing.T) {
	root := t.TempDir()
	web := filepath.Join(root, "example-site", "web")
	require.NoError(t, os.MkdirAll(web, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(web, "index.html"), []byte("<h1>demo</h1>"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "jsglue"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "jsglue", "jwtfetch.js"), []byte("export {}"), 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startRun(t, ctx, "-addr", "127.0.0.1:0", "-debug", "-root", root,
		"-access-ttl", "7s", "-origins", "http://app.example:9000, https://other.example")

	get := func(path string, hdr ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	body := func(resp *http.Response) string {
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}

	assert.Equal(t, "hello", body(get("/public/text")))
	assert.Equal(t, "<h1>demo</h1>", body(get("/")))
	assert.Equal(t, "export {}", body(get("/jsglue/jwtfetch.js")))

	resp, err := http.Post(base+"/auth/login", "application/json",
		strings.NewReader(`{"username":"demo","password":"demo123"}`))
	require.NoError(t, err)
	var tokens struct {
		Access    string `json:"access"`
		ExpiresIn int    `json:"expires_in"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tokens))
	resp.Body.Close()
	assert.Equal(t, 7, tokens.ExpiresIn)
	assert.Equal(t, http.StatusOK, get("/api/me", "Authorization", "Bearer "+tokens.Access).StatusCode)
	assert.JSONEq(t, `{"logins":1,"refreshes":0,"refreshFailures":0,"refreshRequests":0,"reuseDetections":0,"unauthorized":0,"logouts":0,"apiCalls":1}`,
		body(get("/debug/counters")))

	for origin, want := range map[string]bool{
		"http://app.example:9000": true,
		"https://other.example":   true,
		"http://localhost:3000":   true,
		"http://evil.example":     false,
	} {
		got := get("/public/text", "Origin", origin).Header.Get("Access-Control-Allow-Origin")
		if want {
			assert.Equal(t, origin, got)
		} else {
			assert.Empty(t, got)
		}
	}

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	_, err = http.Get(base + "/public/text")
	assert.Error(t, err, "server still answering")
}

func TestRunWaitsForRequests(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startRun(t, ctx, "-addr", "127.0.0.1:0")

	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/public/slow?ms=600")
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{status: resp.StatusCode}
	}()
	time.Sleep(200 * time.Millisecond) // let the request arrive
	cancel()
	r := <-res
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status, "in-flight request completes during shutdown")
	assert.NoError(t, <-done)
}

func TestRunErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()

	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"bad duration", []string{"-access-ttl", "soon"}, "invalid value"},
		{"zero ttl", []string{"-access-ttl", "0s"}, "-access-ttl must be positive"},
		{"extra argument", []string{"extra"}, "unexpected arguments"},
		{"bad origin", []string{"-origins", "example.com"}, "-origins"},
		{"origin with path", []string{"-origins", "http://example.com/app"}, "-origins"},
		{"address in use", []string{"-addr", busy.Addr().String()}, "address already in use"},
		{"bad address", []string{"-addr", "nonsense"}, "missing port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), tt.args, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, out.String(), "jwtfetch demo:")
		})
	}
}

func TestRunHelp(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"-h"}, &out))
	for _, flag := range []string{"-addr", "-access-ttl", "-debug", "-root", "-origins"} {
		assert.Contains(t, out.String(), flag)
	}
}

func TestParseOrigins(t *testing.T) {
	got, err := parseOrigins(" http://A.example:1 ,https://b.example/,, ")
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"http://a.example:1": true, "https://b.example": true}, got)

	got, err = parseOrigins("")
	require.NoError(t, err)
	assert.Empty(t, got)

	for _, bad := range []string{"ftp://x", "http://", "x", "http://x?y", "http://u@x"} {
		_, err := parseOrigins(bad)
		assert.Error(t, err, bad)
	}
}

func TestDisplayAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"0.0.0.0:8080", "localhost:8080"},
		{"[::]:8080", "localhost:8080"},
		{"[::1]:8080", "[::1]:8080"},
	}
	for _, tt := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tt.in)
		require.NoError(t, err)
		assert.Equal(t, tt.want, displayAddr(addr), tt.in)
	}
}

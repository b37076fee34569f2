//go:build !js

package jwthttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/jwtfetch/jwtfetch/wasm/jwthttp"
)

// newAPI is a tiny API for the examples: /login answers tokens,
// /auth/refresh rotates them, and /me answers only the latest access
// token.
func newAPI() (*httptest.Server, *atomic.Int32) {
	var refreshes atomic.Int32
	var current atomic.Value
	current.Store("access-1")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"access":%q,"refresh":"refresh-1"}`, current.Load())
	})
	mux.HandleFunc("POST /auth/refresh", func(w http.ResponseWriter, r *http.Request) {
		n := refreshes.Add(1) + 1
		current.Store(fmt.Sprintf("access-%d", n))
		fmt.Fprintf(w, `{"access":"access-%d","refresh":"refresh-%d"}`, n, n)
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		current.Store("none")
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+current.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello, demo")
	})
	return httptest.NewServer(mux), &refreshes
}

func Example() {
	api, refreshes := newAPI()
	defer api.Close()

	t, err := jwthttp.New(jwthttp.Config{RefreshURL: api.URL + "/auth/refresh"})
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: t}

	// Log in: the login request carries no token.
	req, _ := http.NewRequestWithContext(jwthttp.SkipAuth(context.Background()), "POST", api.URL+"/login", nil)
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	var tokens struct{ Access, Refresh string }
	json.NewDecoder(resp.Body).Decode(&tokens)
	resp.Body.Close()
	t.SetTokens(tokens.Access, tokens.Refresh)

	// The server revokes the access token; the next request gets a 401,
	// which the Transport answers with a refresh and a retry.
	http.Post(api.URL+"/revoke", "", nil)
	resp, err = client.Get(api.URL + "/me")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	fmt.Println("refreshes:", refreshes.Load())
	fmt.Println("token:", t.AccessToken())
	// Output:
	// 200 hello, demo
	// refreshes: 1
	// token: access-2
}

// A command-line program keeps its session in a file between runs.
func ExampleFileStore() {
	api, _ := newAPI()
	defer api.Close()
	dir, _ := os.MkdirTemp("", "jwthttp-example")
	defer os.RemoveAll(dir)
	store := jwthttp.FileStore{Path: filepath.Join(dir, "session.json")}

	// First run: log in.
	t, err := jwthttp.New(jwthttp.Config{RefreshURL: api.URL + "/auth/refresh", Store: store})
	if err != nil {
		log.Fatal(err)
	}
	t.SetTokens("access-1", "refresh-1")

	// Next run: the session is still there.
	t, err = jwthttp.New(jwthttp.Config{RefreshURL: api.URL + "/auth/refresh", Store: store})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", t.IsAuthenticated())
	info, _ := os.Stat(store.Path)
	fmt.Println("mode:", info.Mode().Perm())

	// Logout removes the file.
	t.Clear()
	_, err = os.Stat(store.Path)
	fmt.Println("removed:", os.IsNotExist(err))
	// Output:
	// signed in: true
	// mode: -rw-------
	// removed: true
}

func ExampleTransport_On() {
	api, _ := newAPI()
	defer api.Close()
	t, err := jwthttp.New(jwthttp.Config{
		RefreshURL: api.URL + "/auth/refresh",
		OnExpired:  func() { fmt.Println("please log in again") },
	})
	if err != nil {
		log.Fatal(err)
	}
	remove := t.On(jwthttp.EventTokens, func(e jwthttp.Event) {
		fmt.Println("tokens changed; signed in:", e.Authenticated)
	})
	defer remove()
	t.On(jwthttp.EventRefresh, func(jwthttp.Event) { fmt.Println("refreshed") })

	t.SetTokens("access-1", "refresh-1")
	if _, err := t.Refresh(context.Background()); err != nil {
		log.Fatal(err)
	}
	t.Clear()
	// Output:
	// tokens changed; signed in: true
	// tokens changed; signed in: true
	// refreshed
	// tokens changed; signed in: false
}

// A refresh that the server refuses ends the session: the request fails
// with CodeAuthExpired.
func ExampleCodeOf() {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized) // every token, and every refresh
	}))
	defer refuse.Close()
	t, err := jwthttp.New(jwthttp.Config{RefreshURL: refuse.URL + "/auth/refresh"})
	if err != nil {
		log.Fatal(err)
	}
	t.SetTokens("access", "refresh")
	_, err = (&http.Client{Transport: t}).Get(refuse.URL + "/me")
	fmt.Println(jwthttp.CodeOf(err))
	fmt.Println(strings.ReplaceAll(err.Error(), refuse.URL, "http://api.test"))
	fmt.Println("signed in:", t.IsAuthenticated())
	// Output:
	// ERR_AUTH_EXPIRED
	// Get "http://api.test/me": jwtfetch: refresh refused: POST http://api.test/auth/refresh answered 401; the session is over
	// signed in: false
}

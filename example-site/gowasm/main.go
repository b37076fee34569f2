//go:build js && wasm

// Command gowasm is the Go half of the demo page /go/: a Go program
// compiled to wasm that calls the demo API with net/http through a
// jwthttp.Transport, next to a JavaScript jwtfetch instance in the same
// page. Both keep one session (localStorage under the key "jwtfetch", the
// same Web Lock and IndexedDB record), so requests of both that outlive an
// access token make one refresh.
//
//	GOOS=js GOARCH=wasm go build -o example-site/web/go/app.wasm ./example-site/gowasm
//
// The page hands it a namespace object, globalThis.goApp; the program puts
// its functions on it and calls goApp.ready(). Functions that wait for the
// network return a Promise and work in a goroutine: a syscall/js callback
// must not block.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/jwthttp"
)

func main() {
	ns := js.Global().Get("goApp")
	if ns.Type() != js.TypeObject {
		js.Global().Get("console").Call("error", "gowasm: the page must set globalThis.goApp first")
		return
	}
	// The page's origin is allowed by default; RefreshURL is relative to
	// the page.
	t, err := jwthttp.New(jwthttp.Config{
		RefreshURL: "/auth/refresh",
		OnExpired:  func() { call(ns, "onExpired") },
	})
	if err != nil {
		js.Global().Get("console").Call("error", "gowasm: "+err.Error())
		return
	}
	for _, name := range []string{jwthttp.EventTokens, jwthttp.EventRefresh, jwthttp.EventExpired} {
		t.On(name, func(e jwthttp.Event) { call(ns, "onEvent", e.Name, e.Authenticated, e.FromOtherTab) })
	}
	app := &app{t: t, client: &http.Client{Transport: t}, origin: js.Global().Get("location").Get("origin").String()}

	export(ns, "login", func(args []js.Value) any {
		user, password := arg(args, 0), arg(args, 1)
		return promise(func() (any, error) { return nil, app.login(user, password) })
	})
	export(ns, "me", func([]js.Value) any {
		return promise(func() (any, error) { return app.me() })
	})
	export(ns, "burst", func(args []js.Value) any {
		n := 20
		if len(args) > 0 && args[0].Type() == js.TypeNumber {
			n = args[0].Int()
		}
		return promise(func() (any, error) { return app.burst(n), nil })
	})
	export(ns, "logout", func([]js.Value) any {
		return promise(func() (any, error) { app.logout(); return nil, nil })
	})
	export(ns, "isAuthenticated", func([]js.Value) any { return t.IsAuthenticated() })
	call(ns, "ready")
	select {} // keep the exported functions alive
}

type app struct {
	t      *jwthttp.Transport
	client *http.Client
	origin string
}

// login posts the credentials (without a token: SkipAuth) and starts the
// session with the answer.
func (a *app) login(user, password string) error {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	req, err := http.NewRequestWithContext(jwthttp.SkipAuth(context.Background()), "POST", a.origin+"/auth/login", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("login: %s", resp.Status)
	}
	var tokens struct{ Access, Refresh string }
	if err := json.NewDecoder(resp.Body).Decode(&tokens); err != nil {
		return err
	}
	a.t.SetTokens(tokens.Access, tokens.Refresh)
	return nil
}

// me gets /api/me: {status, user} or, when the session is over, an error
// with the jwthttp code.
func (a *app) me() (any, error) {
	resp, err := a.client.Get(a.origin + "/api/me")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var me struct{ User string }
	_ = json.Unmarshal(b, &me)
	return map[string]any{"status": resp.StatusCode, "user": me.User}, nil
}

// burst sends n requests at once and returns how many answered 200.
func (a *app) burst(n int) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	good := 0
	for range n {
		wg.Go(func() {
			resp, err := a.client.Get(a.origin + "/api/me")
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				mu.Lock()
				good++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return good
}

// logout tells the server (which revokes the session of the token sent,
// and no refresh follows: SkipRefresh), then ends the session everywhere.
func (a *app) logout() {
	req, err := http.NewRequestWithContext(jwthttp.SkipRefresh(context.Background()), "POST", a.origin+"/auth/logout", nil)
	if err == nil {
		if resp, err := a.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	a.t.Clear()
}

// export puts fn on ns under name. The functions live as long as the page.
func export(ns js.Value, name string, fn func(args []js.Value) any) {
	ns.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any { return fn(args) }))
}

// call calls ns[name](args...) when the page defines it.
func call(ns js.Value, name string, args ...any) {
	if f := ns.Get(name); f.Type() == js.TypeFunction {
		f.Invoke(args...)
	}
}

func arg(args []js.Value, i int) string {
	if i < len(args) && args[i].Type() == js.TypeString {
		return args[i].String()
	}
	return ""
}

// promise returns a Promise settled by work, which runs in a goroutine. A
// rejection is an Error whose code is the jwthttp code, if any.
func promise(work func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			v, err := work()
			if err != nil {
				e := js.Global().Get("Error").New(err.Error())
				var je *jwthttp.Error
				if errors.As(err, &je) {
					e.Set("code", je.Code)
				}
				reject.Invoke(e)
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	p := js.Global().Get("Promise").New(executor)
	executor.Release()
	return p
}

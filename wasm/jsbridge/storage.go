//go:build js && wasm

package jsbridge

import (
	"errors"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// WebStorage is a session.Store over a Web Storage object (localStorage,
// sessionStorage, or any object with getItem, setItem and removeItem).
// Exceptions (storage disabled, quota exceeded) become errors.
// https://developer.mozilla.org/docs/Web/API/Storage
type WebStorage struct {
	Area js.Value
	Key  string
}

// Load implements session.Store.
func (s *WebStorage) Load() (string, error) {
	var v js.Value
	if err := catch(func() { v = s.Area.Call("getItem", s.Key) }); err != nil {
		return "", err
	}
	switch v.Type() {
	case js.TypeNull, js.TypeUndefined:
		return "", nil
	case js.TypeString:
		return v.String(), nil
	}
	return "", errors.New("jwtfetch: stored value is not a string")
}

// Save implements session.Store.
func (s *WebStorage) Save(value string) error {
	return catch(func() { s.Area.Call("setItem", s.Key, value) })
}

// Clear implements session.Store.
func (s *WebStorage) Clear() error {
	return catch(func() { s.Area.Call("removeItem", s.Key) })
}

// brokenStore is storage that could not even be reached (reading
// window.localStorage throws when storage is disabled).
type brokenStore struct{ err error }

func (b brokenStore) Load() (string, error) { return "", b.err }
func (b brokenStore) Save(string) error     { return b.err }
func (b brokenStore) Clear() error          { return b.err }

// newStore returns the store for the storage option: "local", "session",
// "memory" or an object. Browser storage falls back to memory, with one
// warning, when it throws.
func newStore(kind js.Value, key string) (session.Store, error) {
	if kind.Type() == js.TypeObject {
		return &session.FallbackStore{Primary: &WebStorage{Area: kind, Key: key}, Warn: warn}, nil
	}
	name := "local"
	if kind.Type() == js.TypeString {
		name = kind.String()
	} else if !kind.IsUndefined() && !kind.IsNull() {
		return nil, errors.New("jwtfetch: storage must be 'local', 'session', 'memory' or a Storage-like object")
	}
	var prop string
	switch name {
	case "memory":
		return &session.MemStore{}, nil
	case "local":
		prop = "localStorage"
	case "session":
		prop = "sessionStorage"
	default:
		return nil, errors.New("jwtfetch: unknown storage " + quoteJS(name) + "; use 'local', 'session' or 'memory'")
	}
	var primary session.Store
	if err := catch(func() { primary = &WebStorage{Area: global.Get(prop), Key: key} }); err != nil {
		primary = brokenStore{err}
	}
	return &session.FallbackStore{Primary: primary, Warn: warn}, nil
}

func quoteJS(s string) string { return "'" + s + "'" }

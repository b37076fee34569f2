package session

import (
	"errors"
	"strconv"
)

// The persisted form is one JSON object with a schema version:
//
//	{"v":1,"access":"…","refresh":"…","exp":1767225600,"life":900}
//
// exp is the access token's expiry in Unix seconds on the local clock (0 when
// unknown); life, optional, its whole lifetime in seconds, which bounds how
// early a refresh may start (readers of version 1 that do not know it ignore
// it). A document of another version, or one that cannot be read, means
// logged out: storage is shared with other code and other versions of this
// library, so it is never trusted to be well-formed.

// stateVersion is the schema version written by this package.
const stateVersion = 1

// ErrState is returned by DecodeState for a stored value it cannot use.
var ErrState = errors.New("jwtfetch: stored session is unreadable or of another version")

// EncodeState returns the persisted form of t.
func EncodeState(t Tokens) string {
	exp := t.Expiry / 1000
	return `{"v":` + strconv.Itoa(stateVersion) +
		`,"access":` + quote(t.Access) +
		`,"refresh":` + quote(t.Refresh) +
		`,"exp":` + strconv.FormatInt(exp, 10) + life(t) + `}`
}

// life is the optional "life" member: whole seconds, only when the lifetime
// is not what the access token's own iat and exp say.
func life(t Tokens) string {
	secs := t.Lifetime / 1000
	if secs <= 0 {
		return ""
	}
	if c, err := readClaims(t.Access); err == nil {
		if d, ok := c.lifetime(); ok && d == t.Lifetime {
			return ""
		}
	}
	return `,"life":` + strconv.FormatInt(secs, 10)
}

// DecodeState reads a value written by EncodeState. Any problem returns
// ErrState and empty Tokens.
func DecodeState(s string) (Tokens, error) {
	m, err := parseObject(s)
	if err != nil {
		return Tokens{}, ErrState
	}
	if v := m["v"]; !v.isNum || v.num != stateVersion {
		return Tokens{}, ErrState
	}
	access, refresh := m["access"], m["refresh"]
	if !access.isStr || !refresh.isStr || (access.str == "" && refresh.str == "") {
		return Tokens{}, ErrState
	}
	t := Tokens{Access: access.str, Refresh: refresh.str}
	// exp is whole seconds; a fraction below 1 would become the epoch here
	// and 0 (unknown) when written back, so it counts as unknown already.
	if e := m["exp"]; e.isNum && finite(e.num) && int64(e.num) > 0 {
		t.Expiry = clampSeconds(int64(e.num)) * 1000
	}
	if c, err := readClaims(t.Access); err == nil {
		t.Lifetime, _ = c.lifetime()
	}
	if l := m["life"]; t.Lifetime == 0 && l.isNum && finite(l.num) && l.num >= 1 {
		t.Lifetime = seconds(l.num)
	}
	return t, nil
}

// Store persists the session's single entry. Implementations: MemStore here,
// localStorage and sessionStorage in jsbridge.
type Store interface {
	// Load returns the stored value, or "" when there is none.
	Load() (string, error)
	// Save replaces the stored value.
	Save(value string) error
	// Clear removes the stored value.
	Clear() error
}

// MemStore is a Store that keeps the value in memory. Its zero value is
// ready to use; it is not safe for concurrent use on its own (the Client
// serialises access).
type MemStore struct{ v string }

// Load implements Store.
func (m *MemStore) Load() (string, error) { return m.v, nil }

// Save implements Store.
func (m *MemStore) Save(v string) error { m.v = v; return nil }

// Clear implements Store.
func (m *MemStore) Clear() error { m.v = ""; return nil }

// FallbackStore uses Primary until it fails once, then keeps the session in
// memory for the rest of the page's life and calls Warn a single time. It
// serves browser storage that throws (disabled, private mode, quota): the
// app keeps working, only persistence is lost.
type FallbackStore struct {
	Primary Store
	Warn    func(msg string)

	failed bool
	mem    MemStore
}

// Load implements Store. A Primary that cannot be read counts as empty.
func (f *FallbackStore) Load() (string, error) {
	if f.failed {
		return f.mem.Load()
	}
	v, err := f.Primary.Load()
	if err != nil {
		f.fail(err)
		return "", nil
	}
	return v, nil
}

// Save implements Store.
func (f *FallbackStore) Save(v string) error {
	if !f.failed {
		err := f.Primary.Save(v)
		if err == nil {
			return nil
		}
		f.fail(err)
	}
	return f.mem.Save(v)
}

// Clear implements Store.
func (f *FallbackStore) Clear() error {
	if !f.failed {
		err := f.Primary.Clear()
		if err == nil {
			return nil
		}
		f.fail(err)
	}
	return f.mem.Clear()
}

// Failed reports whether the store has fallen back to memory.
func (f *FallbackStore) Failed() bool { return f.failed }

func (f *FallbackStore) fail(err error) {
	f.failed = true
	if f.Warn != nil {
		f.Warn("jwtfetch: storage is not available" + Because(err) + "; the session is kept in memory only")
	}
}

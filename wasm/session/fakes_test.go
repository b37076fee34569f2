package session

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// jwt returns an unsigned compact JWT whose payload is the given JSON.
func jwt(payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString([]byte(payload)) + ".c2ln"
}

// jwtAt returns a JWT issued at iat that lives for ttl, with a serial number
// so that each one is distinct.
func jwtAt(iat time.Time, ttl time.Duration, serial int) string {
	return jwt(`{"sub":"demo","n":` + strconv.Itoa(serial) + `,"iat":` + strconv.FormatInt(iat.Unix(), 10) +
		`,"exp":` + strconv.FormatInt(iat.Add(ttl).Unix(), 10) + `}`)
}

// Milliseconds, the unit of Tokens' Expiry (Unix ms) and Lifetime.
const (
	msSecond int64 = 1000
	msMinute       = 60 * msSecond
	msHour         = 60 * msMinute
)

// fakeClock is a Clock whose time is set by the test. Its timers are real
// (time.AfterFunc), so RefreshTimeout and the other timeouts run as in
// production while Now stays where the test put it.
type fakeClock struct {
	mu  sync.Mutex
	now int64 // Unix ms
}

func newClock() *fakeClock { return &fakeClock{now: 1_800_000_000_000} }

// Now implements Clock.
func (c *fakeClock) Now() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Time is Now as a time.Time, for minting tokens.
func (c *fakeClock) Time() time.Time { return time.UnixMilli(c.Now()) }

// AfterFunc implements Clock with a real timer.
func (c *fakeClock) AfterFunc(d Duration, f func()) func() {
	t := time.AfterFunc(time.Duration(d), f)
	return func() { t.Stop() }
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now += d.Milliseconds()
	c.mu.Unlock()
}

type fakeReq struct{ url string }

func (r fakeReq) URL() string { return r.url }

type fakeResp struct{ status int }

func (r fakeResp) Status() int { return r.status }

// sent records one request as the fake server received it.
type sent struct {
	url, header, value string
}

// fakeAPI is a Doer that plays an API server: it answers 200 to requests
// that carry an accepted access token and 401 to the others, and records
// everything it receives.
type fakeAPI struct {
	mu       sync.Mutex
	accepted map[string]bool
	log      []sent
	// forbid: answer 401 whatever the token (an authorization problem).
	forbid bool
	// onDo runs before each answer, without the lock.
	onDo func(s sent)
}

func newAPI() *fakeAPI { return &fakeAPI{accepted: map[string]bool{}} }

func (a *fakeAPI) accept(token string) {
	a.mu.Lock()
	a.accepted[token] = true
	a.mu.Unlock()
}

func (a *fakeAPI) revoke(token string) {
	a.mu.Lock()
	delete(a.accepted, token)
	a.mu.Unlock()
}

func (a *fakeAPI) Do(ctx Ctx, req Request, header, value string) (Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := sent{url: req.URL(), header: header, value: value}
	if a.onDo != nil {
		a.onDo(s)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = append(a.log, s)
	token := strings.TrimPrefix(value, "Bearer ")
	if header == "" || !a.accepted[token] || a.forbid {
		return fakeResp{401}, nil
	}
	return fakeResp{200}, nil
}

func (a *fakeAPI) requests() []sent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]sent(nil), a.log...)
}

// fakeRefresher mints a new pair on each call, rotating the refresh token,
// and tells api to accept the new access token.
type fakeRefresher struct {
	api   *fakeAPI
	clock *fakeClock
	ttl   time.Duration
	calls atomic.Int32
	// gate, when set, is received from before answering, so a test can hold
	// the refresh in flight.
	gate chan struct{}
	// err, when set, is returned instead of tokens.
	err error
	// rotate off keeps the refresh token (the response has none).
	noRotate bool

	mu   sync.Mutex
	seen []string // refresh tokens presented
}

func (r *fakeRefresher) Refresh(ctx Ctx, refreshToken string) (Grant, error) {
	n := int(r.calls.Add(1))
	r.mu.Lock()
	r.seen = append(r.seen, refreshToken)
	gate, err := r.gate, r.err
	r.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return Grant{}, ctx.Err()
		}
	}
	if err != nil {
		return Grant{}, err
	}
	access := jwtAt(r.clock.Time(), r.ttl, 1000+n)
	r.api.accept(access)
	refresh := ""
	if !r.noRotate {
		refresh = "refresh-" + strconv.Itoa(n)
	}
	return Grant{Access: access, Refresh: refresh}, nil
}

// hold makes the next refreshes wait until the returned channel is closed.
func (r *fakeRefresher) hold() chan struct{} {
	g := make(chan struct{})
	r.mu.Lock()
	r.gate = g
	r.mu.Unlock()
	return g
}

// fail makes the next refreshes return err (nil: succeed again), without a
// gate.
func (r *fakeRefresher) fail(err error) {
	r.mu.Lock()
	r.gate, r.err = nil, err
	r.mu.Unlock()
}

func (r *fakeRefresher) presented() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// eventLog records events and their details.
type eventLog struct {
	mu      sync.Mutex
	events  []Event
	details []Detail
}

func (l *eventLog) add(e Event, d Detail) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.details = append(l.details, d)
	l.mu.Unlock()
}

// seen lists the events as "name authenticated fromOtherTab" strings, and
// forgets them.
func (l *eventLog) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for i, e := range l.events {
		out = append(out, fmt.Sprintf("%s %t %t", e, l.details[i].Authenticated, l.details[i].FromOtherTab))
	}
	l.events, l.details = nil, nil
	return out
}

func (l *eventLog) count(e Event) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, x := range l.events {
		if x == e {
			n++
		}
	}
	return n
}

// failingStore is a Store whose every call fails.
type failingStore struct{}

func (failingStore) Load() (string, error) { return "", errStoreDown }
func (failingStore) Save(string) error     { return errStoreDown }
func (failingStore) Clear() error          { return errStoreDown }

var errStoreDown = &Error{Message: "storage is down"}

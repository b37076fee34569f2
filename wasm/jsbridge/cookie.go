//go:build js && wasm

package jsbridge

import (
	"sync"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// Cookie mode (auth.mode 'cookie'): the server keeps the refresh token in
// an HttpOnly cookie that no script can read. The session holds the access
// token in memory only. Storage gets a marker that says "signed in, refresh
// by cookie", nothing secret; other tabs learn of new access tokens and
// logouts through a BroadcastChannel, never through storage; IndexedDB gets
// the time of the last refresh, so that a tab taking the refresh lock knows
// another one refreshed even when its message has not arrived yet.

// cookieRefresh stands for the refresh token in a cookie-mode session: the
// session refreshes only when it holds a refresh token, and this one is
// never sent anywhere (the cookie refresher ignores it).
const cookieRefresh = "(HttpOnly cookie)"

// cookieMarker is what storage holds for a signed-in cookie-mode session.
const cookieMarker = `{"v":1,"cookie":true}`

// cookieStore is the session.Store of cookie mode: area keeps the marker,
// and each change is posted to the other tabs.
type cookieStore struct {
	area session.Store
	tabs *channel // nil without cross-tab sharing
}

// Load implements session.Store: the marker restores a session that has a
// refresh token (the cookie) and no access token yet.
func (s *cookieStore) Load() (string, error) {
	v, err := s.area.Load()
	if err != nil || v != cookieMarker {
		return "", err
	}
	return session.EncodeState(session.Tokens{Refresh: cookieRefresh}), nil
}

// Save implements session.Store.
func (s *cookieStore) Save(state string) error {
	s.tabs.store(state)
	return s.area.Save(cookieMarker)
}

// Clear implements session.Store.
func (s *cookieStore) Clear() error {
	s.tabs.store("")
	return s.area.Clear()
}

// channel is a BroadcastChannel between the tabs (and the instances of
// one page) that share a storage key. A message is {state, at}: a session
// state ("" for a logout) and, for a refresh result published under the
// refresh lock, the time it was obtained.
// https://developer.mozilla.org/docs/Web/API/BroadcastChannel
type channel struct {
	bc    js.Value
	on    js.Func
	since int64 // when this page started listening

	mu   sync.Mutex
	last message   // the newest message with an at
	news chan bool // closed when last changes

	// wmu orders what this page posts: current is the state it stored
	// last, and a refresh result is published only while it is still
	// that state (a logout or login since wins; see publish).
	wmu     sync.Mutex
	current string
}

type message struct {
	state string
	at    int64
}

// newChannel opens the channel for key and passes every message's state to
// sync. It returns nil when the browser has no BroadcastChannel.
func newChannel(key string, sync func(state string)) *channel {
	ctor := global.Get("BroadcastChannel")
	if ctor.Type() != js.TypeFunction {
		return nil
	}
	c := &channel{since: Clock{}.Now(), news: make(chan bool)}
	c.on = newFunc(func(_ js.Value, args []js.Value) any {
		var m message
		ok := catch(func() {
			d := arg(args, 0).Get("data")
			if st := d.Get("state"); st.Type() == js.TypeString {
				m.state = st.String()
			}
			if at := d.Get("at"); at.Type() == js.TypeNumber {
				m.at = int64(at.Float())
			}
		}) == nil
		if !ok {
			return nil
		}
		c.note(m)
		go sync(m.state)
		return nil
	})
	if catch(func() {
		c.bc = ctor.New(key)
		c.bc.Call("addEventListener", "message", c.on)
	}) != nil {
		release(c.on)
		return nil
	}
	return c
}

// note keeps m when it is the newest refresh result seen, and wakes
// awaitAt.
func (c *channel) note(m message) {
	if m.at == 0 {
		return
	}
	c.mu.Lock()
	if m.at > c.last.at {
		c.last = m
		close(c.news)
		c.news = make(chan bool)
	}
	c.mu.Unlock()
}

// store posts a state this page stored (a login, a refresh, "" for a
// logout) to the other tabs. A nil channel posts nothing.
func (c *channel) store(state string) {
	if c == nil {
		return
	}
	c.wmu.Lock()
	c.current = state
	c.post(state, 0)
	c.wmu.Unlock()
}

// publish posts a refresh result with the time it was obtained, unless
// the session has moved on since it was stored: a logout posted after the
// refresh must stay the last word in every tab. It reports whether it
// posted.
func (c *channel) publish(state string, at int64) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if state != c.current {
		return false
	}
	c.post(state, at)
	return true
}

// post sends a state to the other tabs. A refresh result posted here is
// noted here too: the channel never hears its own messages, and the next
// tab to take the lock may be this one.
func (c *channel) post(state string, at int64) {
	c.note(message{state, at})
	_ = catch(func() {
		m := map[string]any{"state": state}
		if at > 0 {
			m["at"] = at
		}
		c.bc.Call("postMessage", m)
	})
}

func (c *channel) close() {
	if c == nil {
		return
	}
	_ = catch(func() {
		c.bc.Call("removeEventListener", "message", c.on)
		c.bc.Call("close")
	})
	release(c.on)
}

// awaitAt returns the state of the message that published a refresh made
// at at or later, waiting for it until ctx ends or maxWait has passed.
func (c *channel) awaitAt(ctx session.Ctx, at int64, maxWait session.Duration) (string, bool) {
	timeout := make(chan bool)
	stop := Clock{}.AfterFunc(maxWait, func() { close(timeout) })
	defer stop()
	for {
		c.mu.Lock()
		last, news := c.last, c.news
		c.mu.Unlock()
		if last.at >= at {
			return last.state, true
		}
		select {
		case <-news:
		case <-timeout:
			return "", false
		case <-ctx.Done():
			return "", false
		}
	}
}

// cookieShared is the session.Shared of cookie mode. IndexedDB holds only
// when the last refresh was obtained (committed before the refresh lock is
// released, so the next tab to take the lock sees it at once); the access
// token itself travels in a channel message posted at the same time. A tab
// that takes the lock after another tab refreshed waits for that message
// instead of refreshing again: messages can arrive after the lock does.
type cookieShared struct {
	idb  *idbShared
	tabs *channel
}

// messageWait bounds the wait for a refresh's message that IndexedDB says
// was posted. Should it never come (the tab closed in between), refreshing
// is safe: the browser already holds the rotated cookie.
var messageWait = 3 * session.Second

// Load implements session.Shared.
func (s *cookieShared) Load(ctx session.Ctx) (string, int64, bool, error) {
	_, at, ok, err := s.idb.Load(ctx)
	if err != nil || !ok || at < s.tabs.since {
		// Nothing shared, or a refresh from before this page listened:
		// its message is long gone, and the session is newer anyway.
		return "", 0, false, err
	}
	state, ok := s.tabs.awaitAt(ctx, at, messageWait)
	return state, at, ok, nil
}

// Save implements session.Shared. The message goes only while the session
// still holds state; otherwise the IndexedDB record is the session's to
// delete (see session.Client.publish), and a tab that read it in between
// waits messageWait at most.
func (s *cookieShared) Save(ctx session.Ctx, state string, at int64) error {
	err := s.idb.Save(ctx, "", at)
	s.tabs.publish(state, at)
	return err
}

// Delete implements session.Shared.
func (s *cookieShared) Delete(ctx session.Ctx) error { return s.idb.Delete(ctx) }

// cookieRefresher is the refresh of cookie mode over the endpoint. A 403
// while no XSRF header could be sent is a configuration mistake
// (xsrfCookieName does not name a readable cookie), not the end of the
// session: logging out would only start a loop of logins and refusals.
type cookieRefresher struct {
	session.Refresher
	xsrf *xsrf
}

// Refresh implements session.Refresher.
func (r cookieRefresher) Refresh(ctx session.Ctx, _ string) (session.Grant, error) {
	sent := r.xsrf.value() != ""
	g, err := r.Refresher.Refresh(ctx, "")
	if e, ok := err.(*session.Error); ok && e.Status == 403 && !sent {
		err = &session.Error{Code: session.CodeBadResponse, Status: 403, Message: "refresh refused with 403 and no " + r.xsrf.header +
			" header sent: the cookie xsrfCookieName names is not readable in this page; check that option and that the server sets that cookie (the session is kept)"}
	}
	return g, err
}

// xsrf is the axios-style CSRF protection: the value of a readable cookie
// sent back in a header on requests with credentials. The shim reads the
// cookie (read is its function); Go only decides where the header goes.
type xsrf struct {
	header string
	read   js.Value
}

// value returns the cookie's value, "" when it is not readable here.
func (x *xsrf) value() string {
	v := ""
	if x != nil && x.read.Type() == js.TypeFunction {
		_ = catch(func() { v = optString(x.read.Invoke()) })
	}
	return v
}

package jwthttp

import (
	"sync"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// syncStore is the browser storage of a Transport that shares its session
// with the other tabs, and with the JavaScript instances and other
// Transports of its page. Browsers send the storage event only to the
// other documents of the origin, so within a page it does both halves
// itself: after each write it tells the page (notify dispatches a storage
// event there), and poll, called before each request, adopts a value that
// someone else has written since.
type syncStore struct {
	// mu serialises every use of store (which is not safe for concurrent
	// use) with last and writes. The Client calls Save and Clear with its
	// own lock held, so poll never holds mu while it calls into the
	// Client.
	mu     sync.Mutex
	store  session.Store
	last   string // the value last written or adopted here
	writes uint64 // counts Save and Clear

	// notify, when set, tells the page of a value written here (removed:
	// the value was cleared).
	notify func(value string, removed bool)

	// polling is held by the poll that is adopting a value; another poll
	// meanwhile returns at once. It must not wait: adopting calls the
	// listeners of the Transport's events, which may call back into it
	// (in the browser, through JavaScript, on the same goroutine).
	polling sync.Mutex
}

func (s *syncStore) Load() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.store.Load()
	if err == nil {
		s.last = v
	}
	return v, err
}

func (s *syncStore) Save(v string) error {
	s.mu.Lock()
	err := s.store.Save(v)
	s.last = v
	s.writes++
	s.mu.Unlock()
	if s.notify != nil {
		s.notify(v, false)
	}
	return err
}

func (s *syncStore) Clear() error {
	s.mu.Lock()
	err := s.store.Clear()
	s.last = ""
	s.writes++
	s.mu.Unlock()
	if s.notify != nil {
		s.notify("", true)
	}
	return err
}

// poll passes the stored value to adopt (the Client's Sync) when someone
// else has written it since this store last wrote or adopted one.
//
// adopt runs without mu, so a write of ours (a refresh's result) may come
// between reading a value and adopting it; adopting would then undo the
// newer write in the Client. So when a write came meanwhile, poll adopts
// again what the store holds now, which is that write or a newer one:
// adopting the value the Client already holds changes nothing.
//
// A poll that comes while another one runs returns at once: the running
// one adopts what there is to adopt.
func (s *syncStore) poll(adopt func(raw string)) {
	if !s.polling.TryLock() {
		return
	}
	defer s.polling.Unlock()
	s.mu.Lock()
	raw, err := s.store.Load()
	if err != nil || raw == s.last {
		s.mu.Unlock()
		return
	}
	for {
		s.last = raw
		w := s.writes
		s.mu.Unlock()
		adopt(raw)
		s.mu.Lock()
		if s.writes == w {
			break
		}
		if raw, err = s.store.Load(); err != nil {
			break
		}
	}
	s.mu.Unlock()
}

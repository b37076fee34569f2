package jwthttp

import (
	"strconv"
	"sync"
	"testing"

	"github.com/jwtfetch/jwtfetch/wasm/session"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedStore is storage shared with "someone else in the page", who
// writes it directly (as the JavaScript instance writes localStorage).
type lockedStore struct {
	mu sync.Mutex
	v  string
}

func (s *lockedStore) Load() (string, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.v, nil }
func (s *lockedStore) Save(v string) error   { s.mu.Lock(); defer s.mu.Unlock(); s.v = v; return nil }
func (s *lockedStore) Clear() error          { return s.Save("") }

func TestSyncStoreAdoptsOnlyOthersWrites(t *testing.T) {
	inner := &lockedStore{}
	var told []string
	s := &syncStore{store: inner, notify: func(v string, removed bool) {
		told = append(told, v+"/"+strconv.FormatBool(removed))
	}}
	var adopted []string
	adopt := func(raw string) { adopted = append(adopted, raw) }

	require.NoError(t, s.Save("mine"))
	s.poll(adopt)
	assert.Empty(t, adopted, "its own write is not adopted")

	require.NoError(t, inner.Save("theirs"))
	s.poll(adopt)
	s.poll(adopt)
	assert.Equal(t, []string{"theirs"}, adopted, "adopted once")

	require.NoError(t, s.Clear())
	require.NoError(t, inner.Save("theirs again"))
	s.poll(adopt)
	assert.Equal(t, []string{"theirs", "theirs again"}, adopted)
	assert.Equal(t, []string{"mine/false", "/true"}, told, "the page is told of each own write")
}

func TestSyncStoreReadoptsAfterARacingWrite(t *testing.T) {
	inner := &lockedStore{}
	s := &syncStore{store: inner}
	require.NoError(t, inner.Save("theirs"))
	var adopted []string
	adopt := func(raw string) {
		adopted = append(adopted, raw)
		if len(adopted) == 1 {
			// A refresh of ours committed between the read and the adoption:
			// adopting "theirs" would undo it.
			require.NoError(t, s.Save("ours, newer"))
		}
	}
	s.poll(adopt)
	assert.Equal(t, []string{"theirs", "ours, newer"}, adopted, "what the store holds now is adopted last")
}

// TestSyncStoreConverges runs a Client over a syncStore while "the page"
// writes the storage directly and the Client writes it too; after the last
// poll, the Client holds what the storage holds.
func TestSyncStoreConverges(t *testing.T) {
	inner := &lockedStore{}
	s := &syncStore{store: inner}
	c := session.New(session.Config{Store: s, Origins: []string{"https://api.test"}, Clock: platformClock()}, nil)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 200 {
				switch (i + j) % 3 {
				case 0:
					c.SetTokens("ours-"+strconv.Itoa(i)+"-"+strconv.Itoa(j), "r", 0)
				case 1:
					tok := session.NewTokens("theirs-"+strconv.Itoa(i)+"-"+strconv.Itoa(j), "r", 0, 0)
					require.NoError(t, inner.Save(session.EncodeState(tok)))
				default:
					s.poll(c.Sync)
				}
			}
		})
	}
	wg.Wait()
	s.poll(c.Sync)
	raw, _ := inner.Load()
	want, err := session.DecodeState(raw)
	require.NoError(t, err)
	assert.Equal(t, want.Access, c.AccessToken())
}

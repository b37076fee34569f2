//go:build !js

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 5: a POST retried after a refresh sends identical bytes. The
// /record endpoint hashes every attempt, the refused first one included.
func TestScenarioRetriedBodyIsIdentical(t *testing.T) {
	ss := newScenarioSite(t, time.Minute)
	tb := loggedIn(t, ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } }`)
	bodies := []struct{ name, data string }{
		{"JSON object", `({ a: 1, nested: { b: [true, null, 'x'] } })`},
		{"string", `'plain text body'`},
		{"FormData with a file", `(() => { const f = new FormData(); f.append('n', 'v'); f.append('file', new Blob(['file bytes ' + 'x'.repeat(5000)]), 'f.bin'); return f })()`},
		{"URLSearchParams", `new URLSearchParams({ a: '1', b: 'x y&z' })`},
		{"Blob", `new Blob(['blob ', 'bytes'], { type: 'application/octet-stream' })`},
		{"ArrayBuffer", `new Uint8Array([0, 1, 2, 250, 251, 252]).buffer`},
		{"typed array", `new Uint16Array([1, 2, 65535])`},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			ss.RevokeAccessTokens()
			ss.resetRecorded()
			var status int
			tb.eval(`api.post('/record', `+b.data+`).then(r => r.status)`, &status)
			require.Equal(t, 200, status)
			got := ss.recorded()
			require.Len(t, got, 2, "the first try and one retry")
			assert.Equal(t, 401, got[0].Status)
			assert.Equal(t, 200, got[1].Status)
			assert.Positive(t, got[0].Len)
			assert.Equal(t, got[0].SHA256, got[1].SHA256, "same bytes")
			assert.Equal(t, got[0].Len, got[1].Len)
			assert.NotEqual(t, got[0].Auth, got[1].Auth, "the retry carries the new token")
		})
	}
	t.Run("ReadableStream", func(t *testing.T) {
		// Chromium streams request bodies only over HTTP/2; on HTTP/1.1 the
		// first try already fails, clearly, as a network error.
		ss.RevokeAccessTokens()
		ss.resetRecorded()
		var code string
		tb.eval(`api.post('/record', new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close() } }))
			.then(r => String(r.status), e => e.code)`, &code)
		assert.Equal(t, "ERR_NETWORK", code)
		assert.Empty(t, ss.recorded(), "nothing half-sent")
	})
}

// Scenario 6: the retry carries the new token, never the old one, also when
// a request interceptor sets headers (its own Authorization included).
func TestScenarioRetryHeadersCarryTheNewToken(t *testing.T) {
	ss := newScenarioSite(t, time.Minute)
	tb := loggedIn(t, ss.site, `{ baseURL: location.origin, auth: { refreshURL: '/auth/refresh', storage: 'memory' } }`)
	var old string
	tb.eval(`api.auth.accessToken()`, &old)
	tb.eval(`(api.interceptors.request.use(c => {
		c.headers['Authorization'] = 'Bearer from-interceptor'
		c.headers['X-Test'] = 'kept'
		return c
	}), true)`, nil)
	ss.RevokeAccessTokens()
	ss.resetRecorded()
	var cur string
	tb.eval(`api.post('/record', 'x').then(() => api.auth.accessToken())`, &cur)
	got := ss.recorded()
	require.Len(t, got, 2)
	assert.Equal(t, "Bearer "+old, got[0].Auth, "the first try: the session's token, not the interceptor's")
	assert.Equal(t, "Bearer "+cur, got[1].Auth, "the retry: the new one")
	assert.NotEqual(t, old, cur)
	for _, a := range got {
		assert.False(t, strings.Contains(a.Auth, "from-interceptor"))
	}
}

package session

import (
	"encoding/json"
	"strings"
	"testing"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertSameTokens compares Tokens field by field.
func assertSameTokens(t testing.TB, want, got Tokens, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, want.Access, got.Access, msgAndArgs...)
	assert.Equal(t, want.Refresh, got.Refresh, msgAndArgs...)
	assert.Equal(t, want.Expiry, got.Expiry, "Expiry (Unix ms)")
	assert.Equal(t, want.Lifetime, got.Lifetime, msgAndArgs...)
}

func TestStateRoundTrip(t *testing.T) {
	iat := int64(1_800_000_000) // Unix seconds
	access := mintJWT(t, gojwt.MapClaims{"iat": iat, "exp": iat + 900})
	tests := []struct {
		name string
		in   Tokens
	}{
		{"jwt pair", Tokens{Access: access, Refresh: "r-1", Expiry: (iat + 900) * 1000, Lifetime: 15 * msMinute}},
		{"opaque pair, unknown expiry", Tokens{Access: "opaque", Refresh: "r"}},
		{"opaque with expiry", Tokens{Access: "opaque", Refresh: "r", Expiry: 1_800_000_123_000}},
		{"opaque with lifetime", Tokens{Access: "opaque", Refresh: "r", Expiry: 1_800_000_123_000, Lifetime: 2 * msMinute}},
		{"jwt without iat, lifetime kept", Tokens{Access: jwt(`{"exp":1800000123}`), Expiry: 1_800_000_123_000, Lifetime: 90 * msSecond}},
		{"access only", Tokens{Access: "opaque"}},
		{"refresh only", Tokens{Refresh: "r"}},
		{"special characters", Tokens{Access: "a\"b\\c\n\t\x00</script>", Refresh: "é😀\u2028"}},
		{"far future", Tokens{Access: "a", Expiry: 99_999_999_999_000}},
		{"long tokens", Tokens{Access: strings.Repeat("A", 10_000), Refresh: strings.Repeat("r", 4096)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := EncodeState(tt.in)
			got, err := DecodeState(enc)
			require.NoError(t, err, "DecodeState(%q)", enc)
			assertSameTokens(t, tt.in, got, "DecodeState(EncodeState(%+v))", tt.in)

			// The persisted form is plain JSON with the documented schema.
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(enc), &doc), "EncodeState = %q", enc)
			if life, ok := doc["life"]; ok {
				assert.Equal(t, float64(tt.in.Lifetime/1000), life, "life in seconds")
				delete(doc, "life")
			}
			assert.Len(t, doc, 4)
			assert.Equal(t, float64(1), doc["v"])
			assert.Equal(t, tt.in.Access, doc["access"])
			assert.Equal(t, tt.in.Refresh, doc["refresh"])
			assert.Equal(t, float64(tt.in.Expiry/1000), doc["exp"], "exp in seconds")
		})
	}
}

func TestEncodeState(t *testing.T) {
	tests := []struct {
		name string
		in   Tokens
		want string
	}{
		{"plain", Tokens{Access: "a", Refresh: "r", Expiry: 1767225600_000}, `{"v":1,"access":"a","refresh":"r","exp":1767225600}`},
		{"zero expiry", Tokens{Access: "a"}, `{"v":1,"access":"a","refresh":"","exp":0}`},
		{"sub-second expiry truncated", Tokens{Access: "a", Expiry: 1767225600_999}, `{"v":1,"access":"a","refresh":"","exp":1767225600}`},
		{"lifetime not in the token is stored", Tokens{Access: "a", Lifetime: msHour}, `{"v":1,"access":"a","refresh":"","exp":0,"life":3600}`},
		{"lifetime of a JWT with iat is not", Tokens{Access: jwt(`{"iat":1000,"exp":1600}`), Lifetime: 10 * msMinute}, `{"v":1,"access":"` + jwt(`{"iat":1000,"exp":1600}`) + `","refresh":"","exp":0}`},
		{"escaped", Tokens{Access: `"`, Refresh: "\n"}, `{"v":1,"access":"\"","refresh":"\n","exp":0}`},
	}
	for _, tt := range tests {
		if got := EncodeState(tt.in); got != tt.want {
			t.Errorf("%s: EncodeState(%+v) = %s; want %s", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestDecodeStateAccepts(t *testing.T) {
	iat := int64(1_800_000_000)
	access := mintJWT(t, gojwt.MapClaims{"iat": iat, "exp": iat + 600})
	tests := []struct {
		name string
		in   string
		want Tokens
	}{
		{"written form", `{"v":1,"access":"a","refresh":"r","exp":1767225600}`,
			Tokens{Access: "a", Refresh: "r", Expiry: 1767225600_000}},
		{"other order and spacing", " {\n \"exp\" : 1767225600 , \"refresh\":\"r\",\"access\":\"a\",\"v\":1 }\n",
			Tokens{Access: "a", Refresh: "r", Expiry: 1767225600_000}},
		{"v as 1.0", `{"v":1.0,"access":"a","refresh":"r","exp":0}`, Tokens{Access: "a", Refresh: "r"}},
		{"v as 1e0", `{"v":1e0,"access":"a","refresh":"r","exp":0}`, Tokens{Access: "a", Refresh: "r"}},
		{"unknown members ignored", `{"v":1,"access":"a","refresh":"r","exp":0,"user":{"id":1},"x":[1]}`, Tokens{Access: "a", Refresh: "r"}},
		{"missing exp", `{"v":1,"access":"a","refresh":"r"}`, Tokens{Access: "a", Refresh: "r"}},
		{"exp zero", `{"v":1,"access":"a","refresh":"r","exp":0}`, Tokens{Access: "a", Refresh: "r"}},
		{"exp negative", `{"v":1,"access":"a","refresh":"r","exp":-1}`, Tokens{Access: "a", Refresh: "r"}},
		{"exp as string", `{"v":1,"access":"a","refresh":"r","exp":"1767225600"}`, Tokens{Access: "a", Refresh: "r"}},
		{"exp null", `{"v":1,"access":"a","refresh":"r","exp":null}`, Tokens{Access: "a", Refresh: "r"}},
		{"exp fractional", `{"v":1,"access":"a","refresh":"r","exp":1767225600.9}`,
			Tokens{Access: "a", Refresh: "r", Expiry: 1767225600_000}},
		// Regression: 0 < exp < 1 decoded to the epoch and encoded back as 0.
		{"exp below one second", `{"v":1,"access":"a","refresh":"r","exp":0.5}`, Tokens{Access: "a", Refresh: "r"}},
		{"exp beyond range", `{"v":1,"access":"a","refresh":"r","exp":1e300}`, Tokens{Access: "a", Refresh: "r"}},
		{"empty refresh", `{"v":1,"access":"a","refresh":"","exp":0}`, Tokens{Access: "a"}},
		{"empty access", `{"v":1,"access":"","refresh":"r","exp":0}`, Tokens{Refresh: "r"}},
		{"duplicate v, later wins", `{"v":2,"v":1,"access":"a","refresh":"r"}`, Tokens{Access: "a", Refresh: "r"}},
		{"escaped tokens", `{"v":1,"access":"a\"\u00e9","refresh":"\ud83d\ude00","exp":0}`, Tokens{Access: "a\"é", Refresh: "😀"}},
		{"lifetime from the jwt", `{"v":1,"access":"` + access + `","refresh":"r","exp":1767225600}`,
			Tokens{Access: access, Refresh: "r", Expiry: 1767225600_000, Lifetime: 10 * msMinute}},
		{"capped jwt lifetime", `{"v":1,"access":"` + jwt(`{"iat":1,"exp":99999999999}`) + `","refresh":"r","exp":1767225600}`,
			Tokens{Access: jwt(`{"iat":1,"exp":99999999999}`), Refresh: "r", Expiry: 1767225600_000, Lifetime: maxLifetime}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeState(tt.in)
			require.NoError(t, err, "DecodeState(%q)", tt.in)
			assertSameTokens(t, tt.want, got, "DecodeState(%q)", tt.in)
			// What is accepted survives another round.
			again, err := DecodeState(EncodeState(got))
			require.NoError(t, err)
			assertSameTokens(t, got, again, "DecodeState(EncodeState(DecodeState(%q)))", tt.in)
		})
	}
}

func TestDecodeStateRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"spaces", "  "},
		{"not JSON", "access=a;refresh=r"},
		{"JSON null", "null"},
		{"JSON string", `"{\"v\":1}"`},
		{"JSON number", "1"},
		{"JSON array", `[{"v":1,"access":"a","refresh":"r","exp":0}]`},
		{"empty object", `{}`},
		{"truncated", `{"v":1,"access":"a","refresh":"r","exp":0`},
		{"trailing garbage", `{"v":1,"access":"a","refresh":"r","exp":0}x`},
		{"missing v", `{"access":"a","refresh":"r","exp":0}`},
		{"v 2", `{"v":2,"access":"a","refresh":"r","exp":0}`},
		{"v 0", `{"v":0,"access":"a","refresh":"r","exp":0}`},
		{"v 1.5", `{"v":1.5,"access":"a","refresh":"r","exp":0}`},
		{"v -1", `{"v":-1,"access":"a","refresh":"r","exp":0}`},
		{"v as string", `{"v":"1","access":"a","refresh":"r","exp":0}`},
		{"v true", `{"v":true,"access":"a","refresh":"r","exp":0}`},
		{"v null", `{"v":null,"access":"a","refresh":"r","exp":0}`},
		{"v nested", `{"v":{"v":1},"access":"a","refresh":"r","exp":0}`},
		{"duplicate v, later wrong", `{"v":1,"v":2,"access":"a","refresh":"r"}`},
		{"missing access", `{"v":1,"refresh":"r","exp":0}`},
		{"missing refresh", `{"v":1,"access":"a","exp":0}`},
		{"missing both", `{"v":1,"exp":0}`},
		{"both empty", `{"v":1,"access":"","refresh":"","exp":0}`},
		{"access number", `{"v":1,"access":1,"refresh":"r","exp":0}`},
		{"access null", `{"v":1,"access":null,"refresh":"r","exp":0}`},
		{"refresh array", `{"v":1,"access":"a","refresh":["r"],"exp":0}`},
		{"refresh object", `{"v":1,"access":"a","refresh":{},"exp":0}`},
		{"old unversioned shape", `{"accessToken":"a","refreshToken":"r"}`},
		{"invalid UTF-8", "{\"v\":1,\"access\":\"\xff\",\"refresh\":\"r\"}"},
		{"control char", "{\"v\":1,\"access\":\"a\nb\",\"refresh\":\"r\"}"},
		{"deeply nested", `{"v":1,"access":"a","refresh":"r","x":` + nestedBrackets(10_000, "[", "]") + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Tokens
			var err error
			require.NotPanics(t, func() { got, err = DecodeState(tt.in) }, "DecodeState(%q)", tt.in)
			assert.ErrorIs(t, err, ErrState, "DecodeState(%q)", tt.in)
			assert.Equal(t, Tokens{}, got, "DecodeState(%q)", tt.in)
		})
	}
}

func TestMemStore(t *testing.T) {
	var m MemStore
	v, err := m.Load()
	require.NoError(t, err)
	assert.Empty(t, v, "zero MemStore is empty")
	require.NoError(t, m.Save("x"))
	v, _ = m.Load()
	assert.Equal(t, "x", v)
	require.NoError(t, m.Save("y"))
	v, _ = m.Load()
	assert.Equal(t, "y", v)
	require.NoError(t, m.Clear())
	v, _ = m.Load()
	assert.Empty(t, v)
}

// flakyStore is a Store whose methods fail on demand and that counts calls.
type flakyStore struct {
	v                             string
	failLoad, failSave, failClear bool
	loads, saves, clears          int
}

// errQuota is an error like the bridge's JavaScript exceptions: its text
// came from outside and may quote a token; Describe gives only its name.
var errQuota error = describedError{name: "QuotaExceededError", text: "quota exceeded storing " + secretRefresh}

type describedError struct{ name, text string }

func (e describedError) Error() string    { return e.text }
func (e describedError) Describe() string { return e.name }

func (s *flakyStore) Load() (string, error) {
	s.loads++
	if s.failLoad {
		return "", errQuota
	}
	return s.v, nil
}

func (s *flakyStore) Save(v string) error {
	s.saves++
	if s.failSave {
		return errQuota
	}
	s.v = v
	return nil
}

func (s *flakyStore) Clear() error {
	s.clears++
	if s.failClear {
		return errQuota
	}
	s.v = ""
	return nil
}

func TestFallbackStorePrimaryWorks(t *testing.T) {
	p := &flakyStore{v: "stored"}
	var warnings []string
	f := &FallbackStore{Primary: p, Warn: func(m string) { warnings = append(warnings, m) }}

	v, err := f.Load()
	require.NoError(t, err)
	assert.Equal(t, "stored", v)
	require.NoError(t, f.Save("new"))
	assert.Equal(t, "new", p.v, "Save goes to the primary")
	v, _ = f.Load()
	assert.Equal(t, "new", v)
	p.v = "changed elsewhere" // another tab
	v, _ = f.Load()
	assert.Equal(t, "changed elsewhere", v, "Load reads the primary each time")
	require.NoError(t, f.Clear())
	assert.Empty(t, p.v, "Clear goes to the primary")

	assert.False(t, f.Failed())
	assert.Empty(t, warnings)
	assert.Equal(t, [3]int{3, 1, 1}, [3]int{p.loads, p.saves, p.clears})
}

func TestFallbackStoreFallsBackOnce(t *testing.T) {
	tests := []struct {
		name string
		// fail makes the primary fail; trigger is the first call, which
		// meets the failure.
		fail    func(*flakyStore)
		trigger func(*testing.T, *FallbackStore)
		// wantAfter is what Load returns right after the trigger.
		wantAfter string
	}{
		{"load", func(s *flakyStore) { s.failLoad = true }, func(t *testing.T, f *FallbackStore) {
			v, err := f.Load()
			assert.NoError(t, err, "an unreadable primary counts as empty")
			assert.Empty(t, v)
		}, ""},
		{"save", func(s *flakyStore) { s.failSave = true }, func(t *testing.T, f *FallbackStore) {
			assert.NoError(t, f.Save("kept in memory"), "a failing Save falls back, it does not fail")
		}, "kept in memory"},
		{"clear", func(s *flakyStore) { s.failClear = true }, func(t *testing.T, f *FallbackStore) {
			assert.NoError(t, f.Clear())
		}, ""},
		{"everything", func(s *flakyStore) { s.failLoad, s.failSave, s.failClear = true, true, true }, func(t *testing.T, f *FallbackStore) {
			assert.NoError(t, f.Save("x"))
		}, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &flakyStore{v: "in primary"}
			tt.fail(p)
			var warnings []string
			f := &FallbackStore{Primary: p, Warn: func(m string) { warnings = append(warnings, m) }}

			tt.trigger(t, f)
			require.True(t, f.Failed())
			require.Len(t, warnings, 1, "Warn is called once")
			assert.Contains(t, warnings[0], "(QuotaExceededError)", "the warning names the cause")
			assert.NotContains(t, warnings[0], secretRefresh, "but never its text")
			assert.True(t, strings.HasPrefix(warnings[0], "jwtfetch: "), "warning %q", warnings[0])
			v, err := f.Load()
			require.NoError(t, err)
			assert.Equal(t, tt.wantAfter, v)

			// The primary is left alone from now on, even once it recovers.
			calls := p.loads + p.saves + p.clears
			*p = flakyStore{v: "recovered"}
			for i := 0; i < 3; i++ {
				require.NoError(t, f.Save("mem-"+string(rune('a'+i))))
				v, err := f.Load()
				require.NoError(t, err)
				assert.Equal(t, "mem-"+string(rune('a'+i)), v, "memory keeps working")
			}
			require.NoError(t, f.Clear())
			v, _ = f.Load()
			assert.Empty(t, v, "Clear empties the memory")
			require.NoError(t, f.Save("after clear"))
			v, _ = f.Load()
			assert.Equal(t, "after clear", v)

			assert.Zero(t, p.loads+p.saves+p.clears, "primary called %d times after failing (%d before)", p.loads+p.saves+p.clears, calls)
			assert.Equal(t, "recovered", p.v)
			assert.Len(t, warnings, 1, "Warn is still called only once")
		})
	}
}

func TestFallbackStoreWithoutWarn(t *testing.T) {
	f := &FallbackStore{Primary: &flakyStore{failSave: true}}
	require.NotPanics(t, func() { _ = f.Save("x") })
	assert.True(t, f.Failed())
	v, err := f.Load()
	require.NoError(t, err)
	assert.Equal(t, "x", v)
}

// TestFallbackStoreWithState runs the whole persistence path over a
// storage that throws, as a private-mode browser does.
func TestFallbackStoreWithState(t *testing.T) {
	warned := 0
	f := &FallbackStore{Primary: &flakyStore{failLoad: true, failSave: true, failClear: true}, Warn: func(string) { warned++ }}
	in := Tokens{Access: "a", Refresh: "r", Expiry: 1_800_000_000_000}
	require.NoError(t, f.Save(EncodeState(in)))
	v, err := f.Load()
	require.NoError(t, err)
	got, err := DecodeState(v)
	require.NoError(t, err)
	assertSameTokens(t, in, got)
	assert.Equal(t, 1, warned)
}

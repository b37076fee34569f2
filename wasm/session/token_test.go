package session

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"math"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var mintKey = []byte("test-secret-0123456789abcdef0123")

// mintJWT signs claims with HS256 the way the example server does.
func mintJWT(t testing.TB, claims gojwt.Claims) string {
	t.Helper()
	s, err := gojwt.NewWithClaims(gojwt.SigningMethodHS256, claims).SignedString(mintKey)
	require.NoError(t, err)
	return s
}

// replaceSegment returns token with its i-th dot-separated segment replaced.
func replaceSegment(token string, i int, seg string) string {
	parts := strings.Split(token, ".")
	parts[i] = seg
	return strings.Join(parts, ".")
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestReadClaimsMintedTokens(t *testing.T) {
	iat := time.Unix(1741064767, 0)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	es256, err := gojwt.NewWithClaims(gojwt.SigningMethodES256, gojwt.MapClaims{"exp": 1741065667, "iat": 1741064767}).SignedString(ecKey)
	require.NoError(t, err)
	none, err := gojwt.NewWithClaims(gojwt.SigningMethodNone, gojwt.MapClaims{"exp": 1741065667}).SignedString(gojwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)

	tests := []struct {
		name  string
		token string
		want  claims
	}{
		{"registered claims", mintJWT(t, gojwt.RegisteredClaims{
			Subject:   "demo",
			IssuedAt:  gojwt.NewNumericDate(iat),
			ExpiresAt: gojwt.NewNumericDate(iat.Add(15 * time.Minute)),
		}), claims{exp: 1741064767 + 900, iat: 1741064767, hasExp: true}},
		{"integers", mintJWT(t, gojwt.MapClaims{"exp": 1741065667, "iat": 1741064767}), claims{exp: 1741065667, iat: 1741064767, hasExp: true}},
		{"fractional exp and iat", mintJWT(t, gojwt.MapClaims{"exp": 1741065667.123, "iat": 1741064767.987}), claims{exp: 1741065667, iat: 1741064767, hasExp: true}},
		{"exponent notation", mintJWT(t, gojwt.MapClaims{"exp": 1.741065667e9}), claims{exp: 1741065667, hasExp: true}},
		{"exp only", mintJWT(t, gojwt.MapClaims{"exp": 1741065667, "sub": "x"}), claims{exp: 1741065667, hasExp: true}},
		{"iat only", mintJWT(t, gojwt.MapClaims{"iat": 1741064767}), claims{iat: 1741064767}},
		{"no time claims", mintJWT(t, gojwt.MapClaims{"sub": "x"}), claims{}},
		{"empty claims", mintJWT(t, gojwt.MapClaims{}), claims{}},
		{"exp as string is ignored", mintJWT(t, gojwt.MapClaims{"exp": "1741065667", "iat": 1741064767}), claims{iat: 1741064767}},
		{"exp as bool is ignored", mintJWT(t, gojwt.MapClaims{"exp": true}), claims{}},
		{"exp null is ignored", mintJWT(t, gojwt.MapClaims{"exp": nil}), claims{}},
		{"exp object is ignored", mintJWT(t, gojwt.MapClaims{"exp": map[string]any{"exp": 1}}), claims{}},
		{"exp beyond 1e15 is ignored", mintJWT(t, gojwt.MapClaims{"exp": 1e20, "iat": 1e16}), claims{}},
		{"zero exp", mintJWT(t, gojwt.MapClaims{"exp": 0}), claims{hasExp: true}},
		{"negative exp", mintJWT(t, gojwt.MapClaims{"exp": -5}), claims{exp: -5, hasExp: true}},
		{"negative fractional exp truncates toward zero", mintJWT(t, gojwt.MapClaims{"exp": -0.5}), claims{hasExp: true}},
		{"nested exp is not the claim", mintJWT(t, gojwt.MapClaims{"ctx": map[string]any{"exp": 1}, "exp": 2}), claims{exp: 2, hasExp: true}},
		{"unicode claims", mintJWT(t, gojwt.MapClaims{"name": "Zoë 😀 </script>", "exp": 1741065667}), claims{exp: 1741065667, hasExp: true}},
		{"ES256", es256, claims{exp: 1741065667, iat: 1741064767, hasExp: true}},
		{"alg none, empty signature", none, claims{exp: 1741065667, hasExp: true}},
	}
	parser := gojwt.NewParser(gojwt.WithoutClaimsValidation())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readClaims(tt.token)
			require.NoError(t, err, "readClaims(%q)", tt.token)
			assert.Equal(t, tt.want, got, "readClaims(%q)", tt.token)

			// golang-jwt reads the same exp (when it can read it at all;
			// it floors negative fractions where readClaims truncates).
			var mc gojwt.MapClaims
			if _, _, err := parser.ParseUnverified(tt.token, &mc); err == nil {
				if exp, err := mc.GetExpirationTime(); err == nil && exp != nil && got.hasExp && exp.Unix() >= 0 {
					assert.Equal(t, exp.Unix(), got.exp, "golang-jwt exp for %s", tt.name)
				}
			}
		})
	}
}

func TestReadClaimsMalformed(t *testing.T) {
	valid := mintJWT(t, gojwt.MapClaims{"exp": 1741065667})
	parts := strings.Split(valid, ".")
	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"opaque", "d4f1a2c3b4e5"},
		{"one dot", parts[0] + "." + parts[1]},
		{"two dots only", ".."},
		{"four segments", valid + ".x"},
		{"JWE has five segments", parts[0] + "." + parts[1] + ".a.b.c"},
		{"empty payload", parts[0] + "..sig"},
		{"payload not base64", replaceSegment(valid, 1, "!!!!")},
		{"payload standard base64 alphabet", replaceSegment(valid, 1, base64.RawStdEncoding.EncodeToString([]byte(`{"exp":1,"s":"??>>"}`)))},
		{"payload impossible length", replaceSegment(valid, 1, b64url(`{"exp":1}`)+"A")},
		{"padding in the middle", replaceSegment(valid, 1, "eyJ=leHAiOjF9")},
		{"payload with space", replaceSegment(valid, 1, b64url(`{"exp":1}`)[:4]+" "+b64url(`{"exp":1}`)[4:])},
		{"payload not JSON", replaceSegment(valid, 1, b64url("hello"))},
		{"payload JSON array", replaceSegment(valid, 1, b64url(`[{"exp":1}]`))},
		{"payload JSON string", replaceSegment(valid, 1, b64url(`"exp"`))},
		{"payload trailing garbage", replaceSegment(valid, 1, b64url(`{"exp":1}x`))},
		{"payload truncated", replaceSegment(valid, 1, b64url(`{"exp":1`))},
		{"payload invalid UTF-8", replaceSegment(valid, 1, b64url("{\"sub\":\"\xff\",\"exp\":1}"))},
		{"payload binary", replaceSegment(valid, 1, b64url("\x00\x01\x02"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readClaims(tt.token)
			assert.ErrorIs(t, err, errNotJWT, "readClaims(%q)", tt.token)
			assert.Equal(t, claims{}, got, "readClaims(%q)", tt.token)
		})
	}
}

// TestReadClaimsLenientEncoding documents what readClaims accepts beyond
// the strict compact form: it never checks the header or the signature.
func TestReadClaimsLenientEncoding(t *testing.T) {
	payload := `{"exp":1741065667,"iat":1741064767,"pad":"ab"}`
	want := claims{exp: 1741065667, iat: 1741064767, hasExp: true}
	padded := base64.URLEncoding.EncodeToString([]byte(payload))
	require.True(t, strings.HasSuffix(padded, "="), "test payload must need padding")
	tests := []struct {
		name  string
		token string
	}{
		{"padded payload", "h." + padded + ".s"},
		{"extra padding", "h." + padded + "==.s"},
		{"unpadded", "h." + b64url(payload) + ".s"},
		{"empty header and signature", "." + b64url(payload) + "."},
		{"garbage header", "%%%." + b64url(payload) + ".%%%"},
		{"payload with whitespace around JSON", "h." + b64url(" \n"+payload+"\t ") + ".s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readClaims(tt.token)
			require.NoError(t, err, "readClaims(%q)", tt.token)
			assert.Equal(t, want, got, "readClaims(%q)", tt.token)
		})
	}
}

func TestNewTokens(t *testing.T) {
	now := int64(1_800_000_000_000) // Unix ms
	// The server's clock is two hours behind this machine's: iat/exp are
	// in the past, yet the token is fresh.
	server := now - 2*msHour
	sec := func(ms int64) int64 { return ms / 1000 }
	tests := []struct {
		name         string
		access       string
		expiresIn    float64
		wantExpiry   int64 // Unix ms, 0: unknown
		wantLifetime int64 // ms
	}{
		{"jwt with iat: local clock", mintJWT(t, gojwt.MapClaims{"iat": sec(server), "exp": sec(server) + 900}), 0,
			now + 15*msMinute, 15 * msMinute},
		{"jwt with iat ignores expires_in", mintJWT(t, gojwt.MapClaims{"iat": sec(server), "exp": sec(server) + 900}), 60,
			now + 15*msMinute, 15 * msMinute},
		{"jwt fractional claims truncate", mintJWT(t, gojwt.MapClaims{"iat": float64(sec(server)) + 0.75, "exp": float64(sec(server)) + 900.25}), 0,
			now + 15*msMinute, 15 * msMinute},
		{"jwt without iat: exp itself", mintJWT(t, gojwt.MapClaims{"exp": sec(server) + 900}), 0,
			server + 15*msMinute, 0},
		{"jwt without iat: expires_in on the local clock", mintJWT(t, gojwt.MapClaims{"exp": sec(server) + 900}), 3600,
			now + msHour, msHour},
		{"jwt without iat or expires_in: exp, lifetime what is left", mintJWT(t, gojwt.MapClaims{"exp": sec(now) + 900}), 0,
			now + 15*msMinute, 15 * msMinute},
		{"jwt without iat, already expired: no lifetime", mintJWT(t, gojwt.MapClaims{"exp": sec(server) + 900}), 0,
			server + 15*msMinute, 0},
		{"jwt iat after exp: exp itself", mintJWT(t, gojwt.MapClaims{"iat": sec(server) + 1000, "exp": sec(server) + 900}), 0,
			server + 15*msMinute, 0},
		{"jwt iat zero: exp itself", mintJWT(t, gojwt.MapClaims{"iat": 0, "exp": sec(server)}), 0, server, 0},
		{"jwt iat negative: exp itself", mintJWT(t, gojwt.MapClaims{"iat": -10, "exp": sec(server)}), 0, server, 0},
		{"jwt iat equals exp: expires now", mintJWT(t, gojwt.MapClaims{"iat": sec(server), "exp": sec(server)}), 0, now, 0},
		{"jwt exp zero: expires_in", mintJWT(t, gojwt.MapClaims{"exp": 0}), 3600, now + msHour, msHour},
		// exp 0 is the epoch, which Expiry cannot tell from unknown (0).
		{"jwt exp zero alone", mintJWT(t, gojwt.MapClaims{"exp": 0}), 0, 0, 0},
		{"jwt negative exp alone: before the epoch", mintJWT(t, gojwt.MapClaims{"exp": -5}), 0, -5 * msSecond, 0},
		{"jwt without exp: expires_in", mintJWT(t, gojwt.MapClaims{"iat": sec(server)}), 3600,
			now + msHour, msHour},
		{"jwt exp as string: expires_in", mintJWT(t, gojwt.MapClaims{"exp": "1800000900"}), 600,
			now + 10*msMinute, 10 * msMinute},
		{"jwt without exp nor expires_in", mintJWT(t, gojwt.MapClaims{"sub": "x"}), 0, 0, 0},
		{"opaque with expires_in", "opaque-token", 3600, now + msHour, msHour},
		{"opaque with fractional expires_in", "opaque-token", 1.5, now + 1500, 1500},
		{"opaque with sub-millisecond expires_in", "opaque-token", 0.0015, now + 1, 1},
		{"opaque without expires_in", "opaque-token", 0, 0, 0},
		{"opaque negative expires_in", "opaque-token", -60, 0, 0},
		{"opaque NaN expires_in", "opaque-token", math.NaN(), 0, 0},
		{"opaque infinite expires_in", "opaque-token", math.Inf(1), 0, 0},
		{"empty access", "", 3600, now + msHour, msHour},
		// Regression: these overflowed time.Duration into the past, so the
		// token looked expired and every request refreshed first.
		{"opaque huge expires_in is capped", "opaque-token", 9999999999, now + maxLifetime, maxLifetime},
		{"opaque 1e14 expires_in is capped", "opaque-token", 1e14, now + maxLifetime, maxLifetime},
		{"jwt 'never expires' lifetime is capped", mintJWT(t, gojwt.MapClaims{"iat": sec(server), "exp": 99999999999}), 0,
			now + maxLifetime, maxLifetime},
		{"jwt without iat, far-future exp: exp itself, lifetime capped", mintJWT(t, gojwt.MapClaims{"exp": 99999999999}), 0,
			99999999999 * 1000, maxLifetime},
		{"jwt lifetime just under the cap", mintJWT(t, gojwt.MapClaims{"iat": 1, "exp": 1 + maxSeconds - 1}), 0,
			now + (maxSeconds-1)*1000, (maxSeconds - 1) * 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewTokens(tt.access, "refresh-1", tt.expiresIn, now)
			assert.Equal(t, tt.access, got.Access)
			assert.Equal(t, "refresh-1", got.Refresh)
			assert.Equal(t, tt.wantExpiry, got.Expiry, "NewTokens(%q, %v).Expiry", tt.access, tt.expiresIn)
			assert.Equal(t, tt.wantLifetime, got.Lifetime, "NewTokens(%q, %v).Lifetime", tt.access, tt.expiresIn)
			assert.GreaterOrEqual(t, got.Lifetime, int64(0), "Lifetime is never negative")
			if got.Lifetime > 0 {
				assert.Greater(t, got.Expiry, now, "a token with a lifetime expires after now")
			}
		})
	}
}

func TestRefreshAt(t *testing.T) {
	exp := int64(1_800_000_900_000) // Unix ms
	tests := []struct {
		name   string
		tokens Tokens
		leeway Duration
		want   int64 // Unix ms, 0: never
	}{
		{"unknown expiry: never", Tokens{Access: "a"}, 30 * Second, 0},
		{"unknown expiry with lifetime: never", Tokens{Access: "a", Lifetime: msHour}, 30 * Second, 0},
		{"leeway before expiry", Tokens{Expiry: exp, Lifetime: 15 * msMinute}, 30 * Second, exp - 30*msSecond},
		{"leeway exactly half", Tokens{Expiry: exp, Lifetime: msMinute}, 30 * Second, exp - 30*msSecond},
		{"leeway capped at half the lifetime", Tokens{Expiry: exp, Lifetime: 20 * msSecond}, 30 * Second, exp - 10*msSecond},
		{"tiny lifetime", Tokens{Expiry: exp, Lifetime: msSecond}, 60 * Second, exp - 500},
		{"unknown lifetime: full leeway", Tokens{Expiry: exp}, 300 * Second, exp - 5*msMinute},
		{"zero leeway", Tokens{Expiry: exp, Lifetime: msHour}, 0, exp},
		{"capped lifetime", Tokens{Expiry: exp, Lifetime: maxLifetime}, 60 * Second, exp - msMinute},
		{"leeway in milliseconds", Tokens{Expiry: exp, Lifetime: msHour}, 1500 * Millisecond, exp - 1500},
		{"leeway from a time.Duration", Tokens{Expiry: exp, Lifetime: msHour}, Duration(2 * time.Minute), exp - 2*msMinute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.tokens.refreshAt(tt.leeway)
			assert.Equal(t, tt.want, got, "refreshAt(%v)", tt.leeway)
			assert.Equal(t, tt.want == 0, got == 0, "refreshAt(%v) never", tt.leeway)
		})
	}
}

// TestShortLivedTokenFromServer ties NewTokens and refreshAt together for
// a token shorter than the default leeway.
func TestShortLivedTokenFromServer(t *testing.T) {
	now := int64(1_800_000_000_000)               // Unix ms
	skewed := time.UnixMilli(now).Add(-time.Hour) // skewed server clock
	access := mintJWT(t, gojwt.RegisteredClaims{
		IssuedAt:  gojwt.NewNumericDate(skewed),
		ExpiresAt: gojwt.NewNumericDate(skewed.Add(20 * time.Second)),
	})
	tok := NewTokens(access, "r", 0, now)
	assert.Equal(t, 20*msSecond, tok.Lifetime)
	assert.Equal(t, now+10*msSecond, tok.refreshAt(30*Second), "refreshAt; want now+10s")
}

func TestTokensValid(t *testing.T) {
	tests := []struct {
		name string
		in   Tokens
		want bool
	}{
		{"empty", Tokens{}, false},
		{"expiry only", Tokens{Expiry: 1000, Lifetime: msHour}, false},
		{"access only", Tokens{Access: "a"}, true},
		{"refresh only", Tokens{Refresh: "r"}, true},
		{"both", Tokens{Access: "a", Refresh: "r"}, true},
	}
	for _, tt := range tests {
		if got := tt.in.Valid(); got != tt.want {
			t.Errorf("%s: %+v.Valid() = %v; want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

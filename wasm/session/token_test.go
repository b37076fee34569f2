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
	now := time.Unix(1_800_000_000, 0)
	// The server's clock is two hours behind this machine's: iat/exp are
	// in the past, yet the token is fresh.
	server := now.Add(-2 * time.Hour)
	sec := func(t time.Time) int64 { return t.Unix() }
	tests := []struct {
		name         string
		access       string
		expiresIn    float64
		wantExpiry   time.Time
		wantLifetime time.Duration
	}{
		{"jwt with iat: local clock", mintJWT(t, gojwt.MapClaims{"iat": sec(server), "exp": sec(server) + 900}), 0,
			now.Add(15 * time.Minute), 15 * time.Minute},
		{"jwt with iat ignores expires_in", mintJWT(t, gojwt.MapClaims{"iat": sec(server), "exp": sec(server) + 900}), 60,
			now.Add(15 * time.Minute), 15 * time.Minute},
		{"jwt fractional claims truncate", mintJWT(t, gojwt.MapClaims{"iat": float64(sec(server)) + 0.75, "exp": float64(sec(server)) + 900.25}), 0,
			now.Add(15 * time.Minute), 15 * time.Minute},
		{"jwt without iat: exp itself", mintJWT(t, gojwt.MapClaims{"exp": sec(server) + 900}), 0,
			server.Add(15 * time.Minute), 0},
		{"jwt without iat: expires_in on the local clock", mintJWT(t, gojwt.MapClaims{"exp": sec(server) + 900}), 3600,
			now.Add(time.Hour), time.Hour},
		{"jwt without iat or expires_in: exp, lifetime what is left", mintJWT(t, gojwt.MapClaims{"exp": sec(now) + 900}), 0,
			now.Add(15 * time.Minute), 15 * time.Minute},
		{"jwt without iat, already expired: no lifetime", mintJWT(t, gojwt.MapClaims{"exp": sec(server) + 900}), 0,
			server.Add(15 * time.Minute), 0},
		{"jwt iat after exp: exp itself", mintJWT(t, gojwt.MapClaims{"iat": sec(server) + 1000, "exp": sec(server) + 900}), 0,
			server.Add(15 * time.Minute), 0},
		{"jwt iat zero: exp itself", mintJWT(t, gojwt.MapClaims{"iat": 0, "exp": sec(server)}), 0, server, 0},
		{"jwt iat negative: exp itself", mintJWT(t, gojwt.MapClaims{"iat": -10, "exp": sec(server)}), 0, server, 0},
		{"jwt iat equals exp: expires now", mintJWT(t, gojwt.MapClaims{"iat": sec(server), "exp": sec(server)}), 0, now, 0},
		{"jwt exp zero: expires_in", mintJWT(t, gojwt.MapClaims{"exp": 0}), 3600, now.Add(time.Hour), time.Hour},
		{"jwt exp zero alone", mintJWT(t, gojwt.MapClaims{"exp": 0}), 0, time.Unix(0, 0), 0},
		{"jwt without exp: expires_in", mintJWT(t, gojwt.MapClaims{"iat": sec(server)}), 3600,
			now.Add(time.Hour), time.Hour},
		{"jwt exp as string: expires_in", mintJWT(t, gojwt.MapClaims{"exp": "1800000900"}), 600,
			now.Add(10 * time.Minute), 10 * time.Minute},
		{"jwt without exp nor expires_in", mintJWT(t, gojwt.MapClaims{"sub": "x"}), 0, time.Time{}, 0},
		{"opaque with expires_in", "opaque-token", 3600, now.Add(time.Hour), time.Hour},
		{"opaque with fractional expires_in", "opaque-token", 1.5, now.Add(1500 * time.Millisecond), 1500 * time.Millisecond},
		{"opaque without expires_in", "opaque-token", 0, time.Time{}, 0},
		{"opaque negative expires_in", "opaque-token", -60, time.Time{}, 0},
		{"opaque NaN expires_in", "opaque-token", math.NaN(), time.Time{}, 0},
		{"opaque infinite expires_in", "opaque-token", math.Inf(1), time.Time{}, 0},
		{"empty access", "", 3600, now.Add(time.Hour), time.Hour},
		// Regression: these overflowed time.Duration into the past, so the
		// token looked expired and every request refreshed first.
		{"opaque huge expires_in is capped", "opaque-token", 9999999999, now.Add(maxLifetime), maxLifetime},
		{"opaque 1e14 expires_in is capped", "opaque-token", 1e14, now.Add(maxLifetime), maxLifetime},
		{"jwt 'never expires' lifetime is capped", mintJWT(t, gojwt.MapClaims{"iat": sec(server), "exp": 99999999999}), 0,
			now.Add(maxLifetime), maxLifetime},
		{"jwt lifetime just under the cap", mintJWT(t, gojwt.MapClaims{"iat": 1, "exp": 1 + maxSeconds - 1}), 0,
			now.Add(time.Duration(maxSeconds-1) * time.Second), time.Duration(maxSeconds-1) * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewTokens(tt.access, "refresh-1", tt.expiresIn, now)
			assert.Equal(t, tt.access, got.Access)
			assert.Equal(t, "refresh-1", got.Refresh)
			assert.True(t, tt.wantExpiry.Equal(got.Expiry), "NewTokens(%q, %v).Expiry = %v; want %v", tt.access, tt.expiresIn, got.Expiry, tt.wantExpiry)
			assert.Equal(t, tt.wantLifetime, got.Lifetime, "NewTokens(%q, %v).Lifetime", tt.access, tt.expiresIn)
			assert.GreaterOrEqual(t, got.Lifetime, time.Duration(0), "Lifetime is never negative")
			if got.Lifetime > 0 {
				assert.True(t, got.Expiry.After(now), "a token with a lifetime expires after now")
			}
		})
	}
}

func TestRefreshAt(t *testing.T) {
	exp := time.Unix(1_800_000_900, 0)
	tests := []struct {
		name   string
		tokens Tokens
		leeway time.Duration
		want   time.Time
	}{
		{"unknown expiry: never", Tokens{Access: "a"}, 30 * time.Second, time.Time{}},
		{"unknown expiry with lifetime: never", Tokens{Access: "a", Lifetime: time.Hour}, 30 * time.Second, time.Time{}},
		{"leeway before expiry", Tokens{Expiry: exp, Lifetime: 15 * time.Minute}, 30 * time.Second, exp.Add(-30 * time.Second)},
		{"leeway exactly half", Tokens{Expiry: exp, Lifetime: time.Minute}, 30 * time.Second, exp.Add(-30 * time.Second)},
		{"leeway capped at half the lifetime", Tokens{Expiry: exp, Lifetime: 20 * time.Second}, 30 * time.Second, exp.Add(-10 * time.Second)},
		{"tiny lifetime", Tokens{Expiry: exp, Lifetime: time.Second}, time.Minute, exp.Add(-500 * time.Millisecond)},
		{"unknown lifetime: full leeway", Tokens{Expiry: exp}, 5 * time.Minute, exp.Add(-5 * time.Minute)},
		{"zero leeway", Tokens{Expiry: exp, Lifetime: time.Hour}, 0, exp},
		{"capped lifetime", Tokens{Expiry: exp, Lifetime: maxLifetime}, time.Minute, exp.Add(-time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.tokens.refreshAt(tt.leeway)
			assert.True(t, tt.want.Equal(got), "refreshAt(%v) = %v; want %v", tt.leeway, got, tt.want)
			assert.Equal(t, tt.want.IsZero(), got.IsZero(), "refreshAt(%v) zero", tt.leeway)
		})
	}
}

// TestShortLivedTokenFromServer ties NewTokens and refreshAt together for
// a token shorter than the default leeway.
func TestShortLivedTokenFromServer(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	access := mintJWT(t, gojwt.RegisteredClaims{
		IssuedAt:  gojwt.NewNumericDate(now.Add(-time.Hour)), // skewed server clock
		ExpiresAt: gojwt.NewNumericDate(now.Add(-time.Hour + 20*time.Second)),
	})
	tok := NewTokens(access, "r", 0, now)
	assert.Equal(t, 20*time.Second, tok.Lifetime)
	assert.True(t, now.Add(10*time.Second).Equal(tok.refreshAt(30*time.Second)),
		"refreshAt = %v; want now+10s", tok.refreshAt(30*time.Second))
}

func TestTokensValid(t *testing.T) {
	tests := []struct {
		name string
		in   Tokens
		want bool
	}{
		{"empty", Tokens{}, false},
		{"expiry only", Tokens{Expiry: time.Unix(1, 0), Lifetime: time.Hour}, false},
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

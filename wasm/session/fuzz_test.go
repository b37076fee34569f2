package session

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets. Seeds come from f.Add below and from testdata/fuzz/<Name>/.
// Run one with, for example:
//
//	go test -run='^$' -fuzz='^FuzzParseObject$' -fuzztime=60s ./wasm/session

// jsonDepth returns the deepest bracket nesting of a JSON text, ignoring
// brackets inside strings. It only has to be right for valid JSON.
func jsonDepth(b []byte) int {
	depth, deepest, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// refObject reads b with encoding/json as an object; ok is false when
// encoding/json rejects it or it is not an object.
func refObject(b []byte) (m map[string]any, ok bool) {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, false
	}
	return m, m != nil
}

// withinLimits reports whether b is inside what parseObject documents it
// reads: valid UTF-8 and nesting well under maxDepth. encoding/json is more
// lenient on both, so the reverse differential checks only such input.
func withinLimits(b []byte) bool {
	return utf8.Valid(b) && jsonDepth(b) <= maxDepth-4
}

var parseObjectSeeds = []string{
	`{}`,
	`{"a":"b","n":1.5e3,"neg":-0,"t":true,"f":false,"z":null}`,
	`{"o":{"exp":1,"a":[1,{"b":"c"}]},"exp":2}`,
	`{"s":"a\nb\"c\\d\/e\b\f\r\t\u00e9\ud83d\ude00"}`,
	`{"lone":"\ud800","low":"\udc00","pair":"\uD834\uDD1E"}`,
	`{"a":1,"a":"dup"}`,
	" {\n\t\"a\" : [ ] \r}\n",
	`{"n":1e400}`,
	`{"a":01}`,
	`{"a":"b"}x`,
	`[{"a":1}]`,
	"{\"a\":\"\xff\"}",
	"{\"a\":\"\x01\"}",
	`{"a":` + nestedBrackets(70, "[", "]") + `}`,
}

func FuzzParseObject(f *testing.F) {
	for _, s := range parseObjectSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseObject(s)
		ref, refOK := refObject([]byte(s))
		if err != nil {
			if refOK && withinLimits([]byte(s)) {
				t.Fatalf("parseObject(%q) = %v; encoding/json reads it as an object", s, err)
			}
			return
		}
		if !refOK {
			t.Fatalf("parseObject(%q) accepts what encoding/json rejects as an object", s)
		}
		checkAgainstEncodingJSON(t, s, got, ref)
		// Strings always come out as valid UTF-8.
		for k, v := range got {
			if !utf8.ValidString(k) || !utf8.ValidString(v.str) {
				t.Fatalf("parseObject(%q) returned invalid UTF-8 in %q", s, k)
			}
		}
	})
}

// jwtWith returns a compact JWS whose payload segment encodes payload.
func jwtWith(payload []byte) string {
	return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2lnbmF0dXJl"
}

func FuzzReadClaims(f *testing.F) {
	f.Add(jwt(`{"exp":1741065667,"iat":1741064767}`), []byte(`{"exp":1741065667,"iat":1741064767}`))
	f.Add(jwt(`{"exp":1741065667.123}`), []byte(`{"exp":1741065667.123,"iat":1741064767.5}`))
	f.Add("a.b.c", []byte(`{"exp":"1741065667"}`))
	f.Add("..", []byte(`{"sub":"x","exp":null}`))
	f.Add("x.eyJleHAiOjF9==.y", []byte(`{"exp":-1e15,"iat":1e15}`))
	f.Add("x.!!.y", []byte(`{"exp":1e400}`))
	f.Add("a.b.c.d", []byte(`[{"exp":1}]`))
	f.Add("", []byte(`{"exp":1,"exp":2,"nested":{"exp":3}}`))
	f.Add("opaque", []byte("{\"exp\":1,\"s\":\"\xff\"}"))
	f.Add(jwt(`{"exp":99999999999,"iat":1}`), []byte(`{"exp":99999999999,"iat":1}`))
	f.Fuzz(func(t *testing.T, token string, payload []byte) {
		now := int64(1_800_000_000_000) // Unix ms
		// Any token: no panic, nothing half-read, a sane Tokens.
		for _, tok := range []string{token, jwtWith(payload)} {
			c, err := readClaims(tok)
			if err != nil && c != (claims{}) {
				t.Fatalf("readClaims(%q) = %+v, %v; want zero claims with the error", tok, c, err)
			}
			nt := NewTokens(tok, "r", 0, now)
			if nt.Lifetime < 0 || nt.Lifetime > maxLifetime {
				t.Fatalf("NewTokens(%q).Lifetime = %v; want >= 0 and at most maxLifetime", tok, nt.Lifetime)
			}
			if nt.Lifetime > 0 && nt.Expiry <= now {
				t.Fatalf("NewTokens(%q) = %+v; a token with a lifetime must expire after now", tok, nt)
			}
			if at := nt.refreshAt(30 * Second); nt.Expiry != 0 && at > nt.Expiry {
				t.Fatalf("refreshAt = %v after Expiry %v", at, nt.Expiry)
			}
			// With exp and iat, the expiry is now+(exp-iat) on the local
			// clock, the lifetime capped at what a time.Duration holds.
			if c.hasExp && c.iat > 0 && c.iat <= c.exp {
				want := min(c.exp-c.iat, maxSeconds)
				if got := nt.Lifetime / 1000; got != want || nt.Lifetime%1000 != 0 || nt.Expiry != now+nt.Lifetime {
					t.Fatalf("NewTokens(%q) = %+v; want a lifetime of %ds from now (claims %+v)", tok, nt, want, c)
				}
			}
		}

		// A well-formed JWT around payload: agree with encoding/json.
		tok := jwtWith(payload)
		c, err := readClaims(tok)
		ref, refOK := refObject(payload)
		if err != nil {
			if refOK && withinLimits(payload) {
				t.Fatalf("readClaims rejects payload %q, which encoding/json reads", payload)
			}
			return
		}
		if !refOK {
			t.Fatalf("readClaims accepts payload %q, which encoding/json rejects", payload)
		}
		wantExp, wantHas := int64(0), false
		if x, ok := ref["exp"].(float64); ok && finite(x) {
			wantExp, wantHas = int64(x), true
		}
		wantIat := int64(0)
		if x, ok := ref["iat"].(float64); ok && finite(x) {
			wantIat = int64(x)
		}
		if want := (claims{exp: wantExp, iat: wantIat, hasExp: wantHas}); c != want {
			t.Fatalf("readClaims(payload %q) = %+v; encoding/json reads %+v", payload, c, want)
		}
	})
}

func FuzzDecodeState(f *testing.F) {
	f.Add(`{"v":1,"access":"a","refresh":"r","exp":1767225600}`, "a", "r", int64(1767225600))
	f.Add(`{"v":1,"access":"","refresh":"r","exp":0.5}`, "", "r", int64(0))
	f.Add(`{"v":2,"access":"a","refresh":"r","exp":0}`, "a\"\\\n", "", int64(-1))
	f.Add(`{"v":"1","access":"a","refresh":"r"}`, "é😀</script>", "\xff", int64(1e15))
	f.Add(`[{"v":1}]`, jwt(`{"iat":1,"exp":99999999999}`), "r", int64(1))
	f.Add(`{"v":1,"access":"`+jwt(`{"iat":1,"exp":901}`)+`","refresh":"r","exp":1e300}`, "", "", int64(0))
	f.Add(`{"v":1,"v":1,"access":"a\u0000","refresh":"\ud800","exp":-0}`, "\x00", "\u2028", int64(9223372036854775807))
	f.Add("not json", "", "", int64(0))
	f.Fuzz(func(t *testing.T, s, access, refresh string, exp int64) {
		// Any stored value: ErrState and nothing else, or tokens that
		// survive another round trip.
		got, err := DecodeState(s)
		if err != nil {
			if err != ErrState || got != (Tokens{}) {
				t.Fatalf("DecodeState(%q) = %+v, %v; want empty Tokens and ErrState", s, got, err)
			}
		} else {
			ref, ok := refObject([]byte(s))
			if !ok || ref["v"] != float64(1) || ref["access"] != got.Access || ref["refresh"] != got.Refresh {
				t.Fatalf("DecodeState(%q) = %+v; encoding/json reads %v", s, got, ref)
			}
			if !got.Valid() {
				t.Fatalf("DecodeState(%q) accepted tokens that are not Valid: %+v", s, got)
			}
			checkRoundTrip(t, got, got)
		}

		// Any tokens: what EncodeState writes reads back.
		// exp is in Unix seconds; Expiry holds milliseconds, so exp is
		// limited to what they hold.
		exp = min(max(exp, math.MinInt64/1000), math.MaxInt64/1000)
		in := Tokens{Access: access, Refresh: refresh, Expiry: exp * 1000}
		want := Tokens{Access: string([]rune(access)), Refresh: string([]rune(refresh))}
		if exp > 0 && exp < 1e15 {
			want.Expiry = in.Expiry
		}
		if c, err := readClaims(want.Access); err == nil {
			want.Lifetime, _ = c.lifetime()
		}
		if !want.Valid() {
			if _, err := DecodeState(EncodeState(in)); err == nil {
				t.Fatalf("DecodeState(EncodeState(%+v)) accepted a state without tokens", in)
			}
			return
		}
		checkRoundTrip(t, in, want)
	})
}

// checkRoundTrip checks DecodeState(EncodeState(in)) == want.
func checkRoundTrip(t *testing.T, in, want Tokens) {
	t.Helper()
	enc := EncodeState(in)
	got, err := DecodeState(enc)
	if err != nil {
		t.Fatalf("DecodeState(EncodeState(%+v) = %q): %v", in, enc, err)
	}
	if got.Access != want.Access || got.Refresh != want.Refresh || got.Expiry != want.Expiry ||
		got.Lifetime != want.Lifetime {
		t.Fatalf("DecodeState(EncodeState(%+v)) = %+v; want %+v", in, got, want)
	}
	if again := EncodeState(got); again != EncodeState(want) {
		t.Fatalf("EncodeState is not stable: %q then %q", enc, again)
	}
}

func FuzzReadRefreshResponse(f *testing.F) {
	f.Add(200, `{"access_token":"ACCESS-s3cr3t","refresh_token":"REFRESH-s3cr3t","expires_in":3600}`)
	f.Add(200, `{"access":"a","refresh":"r","expires_in":"9999999999"}`)
	f.Add(200, `{"accessToken":"","token":"t","refreshToken":"r","expires_in":1e300}`)
	f.Add(200, `{"refresh_token":"REFRESH-s3cr3t"}`)
	f.Add(200, `access_token=ACCESS-s3cr3t`)
	f.Add(200, ``)
	f.Add(401, `{"access_token":"ACCESS-s3cr3t"}`)
	f.Add(429, `{"error":"slow down"}`)
	f.Add(503, `<html>ACCESS-s3cr3t</html>`)
	f.Add(0, `{"access":"a"}`)
	f.Add(-2147483648, `{"access":"`+jwt(`{"iat":1,"exp":99999999999}`)+`"}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		now := int64(1_800_000_000_000) // Unix ms
		got, err := ReadRefreshResponse(status, body, now)
		ref, refOK := refObject([]byte(body))
		if err == nil {
			if status < 200 || status > 299 {
				t.Fatalf("ReadRefreshResponse(%d, %q) succeeded for a non-2xx status", status, body)
			}
			if !refOK {
				t.Fatalf("ReadRefreshResponse(%d, %q) accepted a body encoding/json rejects", status, body)
			}
			if want := firstRefString(ref, "access", "access_token", "accessToken", "token"); got.Access != want || want == "" {
				t.Fatalf("ReadRefreshResponse(%q).Access = %q; want %q", body, got.Access, want)
			}
			if want := firstRefString(ref, "refresh", "refresh_token", "refreshToken"); got.Refresh != want {
				t.Fatalf("ReadRefreshResponse(%q).Refresh = %q; want %q", body, got.Refresh, want)
			}
			if got.Lifetime < 0 || got.Lifetime > maxLifetime || (got.Lifetime > 0 && got.Expiry <= now) {
				t.Fatalf("ReadRefreshResponse(%q) = %+v; bad lifetime", body, got)
			}
			return
		}
		if got != (Tokens{}) {
			t.Fatalf("ReadRefreshResponse(%d, %q) returned %+v with error %v", status, body, got, err)
		}
		if status >= 200 && status <= 299 && refOK && withinLimits([]byte(body)) &&
			firstRefString(ref, "access", "access_token", "accessToken", "token") != "" {
			t.Fatalf("ReadRefreshResponse(%d, %q) = %v; encoding/json finds an access token", status, body, err)
		}
		// The message depends on the status and the kind of problem only.
		msg := err.Error()
		s := strconv.Itoa(status)
		switch msg {
		case "jwtfetch: refresh refused: the refresh endpoint answered " + s + "; the session is over",
			"jwtfetch: refresh failed: the refresh endpoint answered " + s + "; the session is kept",
			"jwtfetch: refresh failed: the refresh endpoint answered " + s + "; check refreshURL (the session is kept)",
			"jwtfetch: refresh failed: the refresh endpoint answered " + s + " with a body that is not a JSON object",
			"jwtfetch: refresh failed: the refresh endpoint answered " + s + " without an access token":
		default:
			t.Fatalf("ReadRefreshResponse(%d, %q) error %q is not one of the fixed messages", status, body, msg)
		}
		if code := CodeOf(err); code != CodeAuthExpired && code != CodeBadResponse {
			t.Fatalf("ReadRefreshResponse(%d, %q) code = %q", status, body, code)
		}
		// No token-like string from the body shows up in it.
		for _, v := range allStrings(ref) {
			if len(v) >= 8 && strings.Contains(msg, v) {
				t.Fatalf("error %q contains %q from the body", msg, v)
			}
		}
		if len(body) >= 8 && strings.Contains(msg, body) {
			t.Fatalf("error %q contains the body", msg)
		}
	})
}

// firstRefString is firstString over encoding/json's reading.
func firstRefString(m map[string]any, names ...string) string {
	for _, n := range names {
		if v, ok := m[n].(string); ok && v != "" {
			return v
		}
	}
	return ""
}

// allStrings returns every string (keys too) in a decoded JSON value.
func allStrings(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, e := range v {
			out = append(out, allStrings(e)...)
		}
	case map[string]any:
		for k, e := range v {
			out = append(out, k)
			out = append(out, allStrings(e)...)
		}
	}
	return out
}

package session

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsStr and jsNum build the jsonValue parseObject returns for a string and a
// number member; other members are the zero jsonValue.
func jsStr(s string) jsonValue  { return jsonValue{str: s, isStr: true} }
func jsNum(f float64) jsonValue { return jsonValue{num: f, isNum: true} }

// nestedBrackets returns n opens followed by n closes.
func nestedBrackets(n int, open, close string) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

func TestParseObjectAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]jsonValue
	}{
		{"empty", `{}`, map[string]jsonValue{}},
		{"empty with spaces", " \t\r\n{ \t\r\n} \t\r\n", map[string]jsonValue{}},
		{"string", `{"a":"b"}`, map[string]jsonValue{"a": jsStr("b")}},
		{"empty string and key", `{"":""}`, map[string]jsonValue{"": jsStr("")}},
		{"whitespace everywhere", "{\n\t\"a\" :\r\n \"b\" ,\n \"c\"\t:\t1\n}\n", map[string]jsonValue{"a": jsStr("b"), "c": jsNum(1)}},
		{"integer", `{"n":42}`, map[string]jsonValue{"n": jsNum(42)}},
		{"zero", `{"n":0}`, map[string]jsonValue{"n": jsNum(0)}},
		{"negative zero", `{"n":-0}`, map[string]jsonValue{"n": jsNum(0)}},
		{"negative", `{"n":-17}`, map[string]jsonValue{"n": jsNum(-17)}},
		{"fraction", `{"n":1741064767.123}`, map[string]jsonValue{"n": jsNum(1741064767.123)}},
		{"negative fraction", `{"n":-0.5}`, map[string]jsonValue{"n": jsNum(-0.5)}},
		{"exponent", `{"n":1e3}`, map[string]jsonValue{"n": jsNum(1000)}},
		{"upper-case exponent", `{"n":1E3}`, map[string]jsonValue{"n": jsNum(1000)}},
		{"positive exponent", `{"n":1.5e+2}`, map[string]jsonValue{"n": jsNum(150)}},
		{"negative exponent", `{"n":25e-2}`, map[string]jsonValue{"n": jsNum(0.25)}},
		{"zero with exponent", `{"n":0e10}`, map[string]jsonValue{"n": jsNum(0)}},
		{"big but finite", `{"n":1.5e308}`, map[string]jsonValue{"n": jsNum(1.5e308)}},
		{"underflow to zero", `{"n":1e-400}`, map[string]jsonValue{"n": jsNum(0)}},
		{"literals are kept as other", `{"t":true,"f":false,"z":null}`, map[string]jsonValue{"t": {}, "f": {}, "z": {}}},
		{"nested object skipped", `{"o":{"exp":1,"a":[1,{"b":"c"}]},"exp":2}`, map[string]jsonValue{"o": {}, "exp": jsNum(2)}},
		{"nested array skipped", `{"a":[1,"x",true,null,[],{},[[-1.5e3]]]}`, map[string]jsonValue{"a": {}}},
		{"empty containers with spaces", `{"a":[ ],"o":{ }}`, map[string]jsonValue{"a": {}, "o": {}}},
		{"escapes", `{"s":"a\nb\"c\\d\/e\bf\fg\rh\ti"}`, map[string]jsonValue{"s": jsStr("a\nb\"c\\d/e\bf\fg\rh\ti")}},
		{"escaped key", `{"a\u0062\n":1}`, map[string]jsonValue{"ab\n": jsNum(1)}},
		{"unicode escape", `{"s":"\u00e9\u4e2D"}`, map[string]jsonValue{"s": jsStr("é中")}},
		{"escaped NUL", `{"s":"\u0000"}`, map[string]jsonValue{"s": jsStr("\x00")}},
		{"surrogate pair", `{"s":"\ud83d\ude00"}`, map[string]jsonValue{"s": jsStr("😀")}},
		{"upper-case surrogate pair", `{"s":"\uD834\uDD1E"}`, map[string]jsonValue{"s": jsStr("𝄞")}},
		// Lone surrogates are accepted, as JSON.parse does, and become
		// U+FFFD because a Go string cannot hold them (encoding/json agrees).
		{"lone high surrogate", `{"s":"a\ud800b"}`, map[string]jsonValue{"s": jsStr("a\uFFFDb")}},
		{"lone low surrogate", `{"s":"\udc00"}`, map[string]jsonValue{"s": jsStr("\uFFFD")}},
		{"high surrogate at end", `{"s":"\ud83d"}`, map[string]jsonValue{"s": jsStr("\uFFFD")}},
		{"two high surrogates then a pair", `{"s":"\ud800\ud83d\ude00"}`, map[string]jsonValue{"s": jsStr("\uFFFD😀")}},
		{"high surrogate before other escape", `{"s":"\ud800\n"}`, map[string]jsonValue{"s": jsStr("\uFFFD\n")}},
		{"raw UTF-8", `{"s":"héllo 世界 😀"}`, map[string]jsonValue{"s": jsStr("héllo 世界 😀")}},
		{"raw UTF-8 after escape", `{"s":"\n世界"}`, map[string]jsonValue{"s": jsStr("\n世界")}},
		{"DEL is not a control char", "{\"s\":\"\x7f\"}", map[string]jsonValue{"s": jsStr("\x7f")}},
		{"script tag", `{"s":"<\/script>"}`, map[string]jsonValue{"s": jsStr("</script>")}},
		// Later duplicates win, as in JSON.parse and encoding/json.
		{"duplicate key, later wins", `{"a":1,"a":"two"}`, map[string]jsonValue{"a": jsStr("two")}},
		{"duplicate key, later other wins", `{"a":"one","a":null}`, map[string]jsonValue{"a": {}}},
		{"duplicate via escape", `{"exp":1,"\u0065xp":2}`, map[string]jsonValue{"exp": jsNum(2)}},
		{"many members", `{"v":1,"access":"a.b.c","refresh":"r","exp":1767225600}`,
			map[string]jsonValue{"v": jsNum(1), "access": jsStr("a.b.c"), "refresh": jsStr("r"), "exp": jsNum(1767225600)}},
		{"deep but within the limit", `{"a":` + nestedBrackets(maxDepth+1, "[", "]") + `}`, map[string]jsonValue{"a": {}}},
		{"deep objects within the limit", `{"a":` + strings.Repeat(`{"a":`, maxDepth) + `{}` + strings.Repeat(`}`, maxDepth) + `}`, map[string]jsonValue{"a": {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseObject(tt.in)
			require.NoError(t, err, "parseObject(%q)", tt.in)
			assert.Equal(t, tt.want, got, "parseObject(%q)", tt.in)
		})
	}
}

func TestParseObjectRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty input", ``},
		{"only spaces", "  \n"},
		{"array", `[]`},
		{"array of objects", `[{"a":1}]`},
		{"string", `"a"`},
		{"number", `1`},
		{"null", `null`},
		{"true", `true`},
		{"BOM", "\uFEFF{}"},
		{"unclosed", `{`},
		{"unclosed after member", `{"a":1`},
		{"unclosed after comma", `{"a":1,`},
		{"trailing comma", `{"a":1,}`},
		{"leading comma", `{,"a":1}`},
		{"double comma", `{"a":1,,"b":2}`},
		{"missing comma", `{"a":1 "b":2}`},
		{"missing colon", `{"a" 1}`},
		{"missing value", `{"a":}`},
		{"bare key", `{a:1}`},
		{"single-quoted key", `{'a':1}`},
		{"number key", `{1:1}`},
		{"trailing garbage", `{}x`},
		{"trailing object", `{}{}`},
		{"trailing NUL", "{}\x00"},
		{"trailing comma after object", `{},`},
		{"vertical tab is not space", "{\v}"},
		{"non-breaking space is not space", "{\u00a0}"},
		{"unterminated string", `{"a":"b}`},
		{"unterminated key", `{"a}`},
		{"unterminated after escape", `{"a":"b\"}`},
		{"backslash at end", `{"a":"\`},
		{"bad escape", `{"a":"\x41"}`},
		{"escaped single quote", `{"a":"\'"}`},
		{"escaped newline char", "{\"a\":\"\\\n\"}"},
		{"short unicode escape", `{"a":"\u12"}`},
		{"short unicode escape at end", `{"a":"\u12`},
		{"non-hex unicode escape", `{"a":"\u12g4"}`},
		{"upper-case U escape", `{"a":"\U0041"}`},
		{"bad escape after high surrogate", `{"a":"\ud800\uZZZZ"}`},
		{"raw newline", "{\"a\":\"b\nc\"}"},
		{"raw tab", "{\"a\":\"b\tc\"}"},
		{"raw NUL", "{\"a\":\"\x00\"}"},
		{"raw control char after escape", "{\"a\":\"\\n\x1f\"}"},
		{"raw control char in key", "{\"a\x01\":1}"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}"},
		{"invalid UTF-8 after escape", "{\"a\":\"\\n\xc3\"}"},
		{"truncated UTF-8", "{\"a\":\"\xe4\xb8\"}"},
		{"invalid UTF-8 in key", "{\"\xc0\xaf\":1}"},
		{"invalid UTF-8 in nested string", "{\"a\":[\"\xff\"]}"},
		{"leading plus", `{"n":+1}`},
		{"leading zero", `{"n":01}`},
		{"negative leading zero", `{"n":-01}`},
		{"lone minus", `{"n":-}`},
		{"minus then letter", `{"n":-a}`},
		{"leading dot", `{"n":.5}`},
		{"trailing dot", `{"n":1.}`},
		{"dot exponent", `{"n":1.e5}`},
		{"empty exponent", `{"n":1e}`},
		{"signed empty exponent", `{"n":1e+}`},
		{"double sign exponent", `{"n":1e+-1}`},
		{"hex", `{"n":0x10}`},
		{"infinity", `{"n":Infinity}`},
		{"NaN", `{"n":NaN}`},
		{"out of range", `{"n":1e400}`},
		{"negative out of range", `{"n":-1e400}`},
		{"out of range nested", `{"a":[1e999]}`},
		{"underscore", `{"n":1_000}`},
		{"upper-case literal", `{"a":True}`},
		{"truncated literal", `{"a":tru}`},
		{"literal with suffix", `{"a":nullx}`},
		{"two literals", `{"a":true false}`},
		{"unclosed array", `{"a":[1,2}`},
		{"array trailing comma", `{"a":[1,]}`},
		{"array leading comma", `{"a":[,1]}`},
		{"array missing comma", `{"a":[1 2]}`},
		{"mismatched brackets", `{"a":[}`},
		{"nested object missing colon", `{"a":{"b"}}`},
		{"nested object bare key", `{"a":{b:1}}`},
		{"nested object trailing comma", `{"a":{"b":1,}}`},
		{"nested bad escape", `{"a":{"b":"\q"}}`},
		{"comment", `{/* c */}`},
		{"line comment", "{\"a\":1 // c\n}"},
		{"too deep arrays", `{"a":` + nestedBrackets(maxDepth+2, "[", "]") + `}`},
		{"too deep non-empty arrays", `{"a":` + strings.Repeat("[", maxDepth+1) + "1" + strings.Repeat("]", maxDepth+1) + `}`},
		{"too deep objects", `{"a":` + strings.Repeat(`{"a":`, maxDepth+1) + `{}` + strings.Repeat(`}`, maxDepth+1) + `}`},
		{"hostile depth", `{"a":` + nestedBrackets(1_000_000, "[", "]") + `}`},
		{"hostile unclosed depth", `{"a":` + strings.Repeat("[", 1_000_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Callers look only at the error; the map may be partial.
			_, err := parseObject(tt.in)
			assert.ErrorIs(t, err, errJSON, "parseObject(%q)", tt.in)
		})
	}
}

// TestParseObjectDepthLimit pins the nesting limit: the top-level object
// holds values nested maxDepth+1 containers deep, the innermost one empty.
func TestParseObjectDepthLimit(t *testing.T) {
	for n := 1; n <= maxDepth+3; n++ {
		want := n <= maxDepth+1
		arrays := `{"a":` + nestedBrackets(n, "[", "]") + `}`
		objects := `{"a":` + strings.Repeat(`{"k":`, n-1) + "{}" + strings.Repeat("}", n-1) + `}`
		for _, in := range []string{arrays, objects} {
			if _, err := parseObject(in); (err == nil) != want {
				t.Errorf("parseObject(%d levels: %.12q…) error = %v; want accepted = %v", n, in, err, want)
			}
		}
	}
}

// TestParseObjectMatchesEncodingJSON runs both readers over the same
// documents: whatever parseObject accepts, encoding/json reads as an object
// with the same keys and the same top-level strings and numbers; whatever
// parseObject rejects is invalid JSON, not an object, or beyond its
// documented limits (depth, number range, invalid UTF-8).
func TestParseObjectMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// wantOK is parseObject's expected verdict.
		wantOK bool
	}{
		{"state", `{"v":1,"access":"a","refresh":"r","exp":1767225600}`, true},
		{"jwt payload", `{"sub":"1234567890","name":"John Doe","iat":1516239022,"exp":1516242622.5,"aud":["a","b"],"nbf":null}`, true},
		{"oauth2 response", `{"access_token":"x","token_type":"Bearer","expires_in":3600,"refresh_token":"y","scope":"a b"}`, true},
		{"escapes", `{"s":"\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00\ud800"}`, true},
		{"duplicates", `{"a":1,"b":2,"a":3}`, true},
		{"nested", `{"a":{"b":{"c":[1,2,{"d":"e"}]}},"f":-1.5E-3}`, true},
		{"numbers", `{"a":0,"b":-0,"c":0.0001,"d":123456789012345678901234567890,"e":5e-324,"f":1.7976931348623157e308}`, true},
		{"whitespace", " {\"a\" : [ 1 , 2 ] } \n", true},
		{"array", `[1,2]`, false},
		{"trailing garbage", `{"a":1}]`, false},
		{"leading zero", `{"a":00}`, false},
		{"control char", "{\"a\":\"\x01\"}", false},
		{"out of range", `{"a":1e309}`, false},
		{"invalid UTF-8", "{\"a\":\"\xfe\"}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseObject(tt.in)
			assert.Equal(t, tt.wantOK, err == nil, "parseObject(%q) error = %v", tt.in, err)
			var ref map[string]any
			refErr := json.Unmarshal([]byte(tt.in), &ref)
			if err != nil {
				return
			}
			require.NoError(t, refErr, "encoding/json rejects %q, which parseObject accepts", tt.in)
			checkAgainstEncodingJSON(t, tt.in, got, ref)
		})
	}
}

// checkAgainstEncodingJSON reports any difference between parseObject's
// result got and encoding/json's ref for the same input.
func checkAgainstEncodingJSON(t *testing.T, in string, got map[string]jsonValue, ref map[string]any) {
	t.Helper()
	if len(got) != len(ref) {
		t.Errorf("parseObject(%q) has %d members; encoding/json has %d", in, len(got), len(ref))
	}
	for k, rv := range ref {
		gv, ok := got[k]
		if !ok {
			t.Errorf("parseObject(%q) lacks member %q", in, k)
			continue
		}
		switch rv := rv.(type) {
		case string:
			if !gv.isStr || gv.isNum || gv.str != rv {
				t.Errorf("parseObject(%q)[%q] = %+v; want string %q", in, k, gv, rv)
			}
		case float64:
			if !gv.isNum || gv.isStr || !closeEnough(gv.num, rv) {
				t.Errorf("parseObject(%q)[%q] = %+v; want number %v", in, k, gv, rv)
			}
		default:
			if gv != (jsonValue{}) {
				t.Errorf("parseObject(%q)[%q] = %+v; want a skipped %T", in, k, gv, rv)
			}
		}
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"plain", "hello"},
		{"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln"},
		{"quote", `a"b`},
		{"backslash", `a\b`},
		{"slash", "a/b"},
		{"script end tag", "</script><script>alert(1)</script>"},
		{"html", `<a href="x">&amp;</a>`},
		{"newline tab return", "a\nb\tc\rd"},
		{"all control chars", func() string {
			var b strings.Builder
			for c := 0; c < 0x20; c++ {
				b.WriteByte(byte(c))
			}
			return b.String()
		}()},
		{"DEL", "\x7f"},
		{"NUL inside", "a\x00b"},
		{"latin", "héllo wörld"},
		{"CJK", "世界"},
		{"emoji", "😀👍🏽"},
		{"line separators", "a\u2028b\u2029c"},
		{"BOM", "\uFEFFx"},
		{"replacement char", "\uFFFD"},
		{"max rune", "\U0010FFFF"},
		{"escapes look-alike", `\u0041\n`},
		{"long", strings.Repeat("abc\"\\\n世", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := quote(tt.in)
			var got string
			require.NoError(t, json.Unmarshal([]byte(q), &got), "quote(%q) = %s is not JSON", tt.in, q)
			assert.Equal(t, tt.in, got, "Unmarshal(quote(%q))", tt.in)
			// Our own reader agrees.
			m, err := parseObject(`{"k":` + q + `}`)
			require.NoError(t, err, "parseObject of quote(%q) = %s", tt.in, q)
			assert.Equal(t, jsStr(tt.in), m["k"], "parseObject of quote(%q)", tt.in)
			// No raw control character survives.
			for i := 0; i < len(q); i++ {
				if q[i] < 0x20 {
					t.Errorf("quote(%q) = %q holds control char %#x", tt.in, q, q[i])
				}
			}
		})
	}
}

func TestQuoteExact(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", `""`},
		{"plain", "abc", `"abc"`},
		{"space and the other printable ASCII edges kept", " !~\x7f", "\" !~\x7f\""},
		{"quote and backslash", `"\`, `"\"\\"`},
		{"short escapes", "\n\r\t", `"\n\r\t"`},
		{"other controls", "\x00\x08\x0c\x1f", `"\u0000\u0008\u000c\u001f"`},
		{"slash kept", "</script>", `"</script>"`},
		{"unicode kept raw", "é😀", `"é😀"`},
		{"invalid byte", "a\xffb", `"a\ufffdb"`},
		{"truncated sequence", "\xe4\xb8", `"\ufffd\ufffd"`},
		{"surrogate encoded in UTF-8", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quote(tt.in); got != tt.want {
				t.Errorf("quote(%q) = %s; want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestQuoteInvalidUTF8 checks that invalid UTF-8 reads back as
// encoding/json would have written it: one U+FFFD per bad byte.
func TestQuoteInvalidUTF8(t *testing.T) {
	for _, in := range []string{"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "ok\x80ok", "\xf4\x90\x80\x80"} {
		var got string
		require.NoError(t, json.Unmarshal([]byte(quote(in)), &got), "quote(%q)", in)
		want := string([]rune(in))
		assert.Equal(t, want, got, "Unmarshal(quote(%q))", in)
		ref, err := json.Marshal(in)
		require.NoError(t, err)
		var refGot string
		require.NoError(t, json.Unmarshal(ref, &refGot))
		assert.Equal(t, refGot, got, "quote(%q) disagrees with json.Marshal", in)
		assert.True(t, utf8.ValidString(got))
	}
}

// closeEnough compares parseObject's numbers with strconv's: exact for
// integers up to 2^53 (JWT times, expires_in), within a relative 1e-14
// otherwise (decimal trades correct rounding for size).
func closeEnough(got, want float64) bool {
	if got == want {
		return true
	}
	if want == math.Trunc(want) && math.Abs(want) <= 1<<53 {
		return false
	}
	return math.Abs(got-want) <= 1e-14*math.Abs(want)
}

func TestDecimalIsExactForIntegersAndShortDecimals(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "1767225600", "1767225600.123", "9007199254740992", "-42", "0.5", "0.1", "0.000123",
		"1e3", "1E+3", "25e-1", "123456789012345678901234567890", "12.5e2", "5e-324", "1e-400", "0.0"} {
		want, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		got, ok := decimal(s)
		require.True(t, ok, "decimal(%q)", s)
		assert.True(t, closeEnough(got, want), "decimal(%q) = %v; want %v", s, got, want)
	}
	for _, s := range []string{"1767225600", "1767225600.5", "0.1", "120", "3600.25"} {
		want, _ := strconv.ParseFloat(s, 64)
		got, _ := decimal(s)
		assert.Equal(t, want, got, "decimal(%q) must be exact", s)
	}
	_, ok := decimal("1e309")
	assert.False(t, ok, "out of range")
}

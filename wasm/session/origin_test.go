package session

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOrigin(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"https", "https://example.com", "https://example.com"},
		{"http", "http://example.com", "http://example.com"},
		{"trailing slash", "https://example.com/", "https://example.com"},
		{"path", "https://example.com/a/b?c=d#e", "https://example.com"},
		{"query only", "https://example.com?x=1", "https://example.com"},
		{"fragment only", "https://example.com#top", "https://example.com"},
		{"upper-case scheme", "HTTPS://example.com/", "https://example.com"},
		{"mixed-case scheme", "hTtP://example.com/", "http://example.com"},
		{"upper-case host", "https://API.Example.COM/Path", "https://api.example.com"},
		{"path case kept out", "https://a.test/UPPER", "https://a.test"},
		{"https default port", "https://example.com:443/", "https://example.com"},
		{"http default port", "http://example.com:80/", "http://example.com"},
		{"https with port 80 kept", "https://example.com:80/", "https://example.com:80"},
		{"http with port 443 kept", "http://example.com:443/", "http://example.com:443"},
		{"explicit port", "https://example.com:8443/x", "https://example.com:8443"},
		{"localhost port", "http://localhost:5173/", "http://localhost:5173"},
		{"port zero", "http://localhost:0/", "http://localhost:0"},
		{"max port", "http://localhost:65535", "http://localhost:65535"},
		{"empty port dropped", "https://example.com:/x", "https://example.com"},
		{"leading zeros in port", "https://example.com:08443/", "https://example.com:8443"},
		{"leading zeros in default port", "https://example.com:0443/", "https://example.com"},
		{"default port in a query", "https://example.com/?u=http://x:443", "https://example.com"},
		{"userinfo stripped", "https://user:pass@example.com/", "https://example.com"},
		{"user only", "https://user@example.com", "https://example.com"},
		{"userinfo with port", "https://u:p@example.com:8443/", "https://example.com:8443"},
		{"userinfo trick", "https://api.example@evil.example/", "https://evil.example"},
		{"two at signs", "https://a@b@evil.example/", "https://evil.example"},
		{"at sign in path", "https://good.example/@evil.example", "https://good.example"},
		{"at sign in query", "https://good.example?@evil.example", "https://good.example"},
		{"at sign in fragment", "https://good.example#@evil.example", "https://good.example"},
		{"backslash is a slash", `https://good.example\@evil.example`, "https://good.example"},
		{"backslash path", `https://good.example\path`, "https://good.example"},
		{"IPv4", "http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"IPv4 default port", "http://127.0.0.1:80/", "http://127.0.0.1"},
		{"IPv6", "http://[::1]/", "http://[::1]"},
		{"IPv6 with port", "http://[::1]:8080/", "http://[::1]:8080"},
		{"IPv6 default port", "https://[2001:db8::1]:443/x", "https://[2001:db8::1]"},
		{"IPv6 ending in 80", "http://[::80]/", "http://[::80]"},
		{"IPv6 ending in 443", "https://[::443]", "https://[::443]"},
		{"IPv6 upper-case", "http://[2001:DB8::A]/", "http://[2001:db8::a]"},
		{"IPv6 with userinfo", "http://u@[::1]:81/", "http://[::1]:81"},
		{"unicode host kept", "https://bücher.example/", "https://bücher.example"},
		{"trailing dot kept", "https://example.com./", "https://example.com."},
		{"other scheme", "ftp://example.com/", ""},
		{"ws", "ws://example.com/", ""},
		{"wss", "wss://example.com/", ""},
		{"file", "file:///etc/passwd", ""},
		{"javascript", "javascript:alert('https://example.com')", ""},
		{"data", "data:text/html,https://example.com", ""},
		{"blob", "blob:https://example.com/uuid", ""},
		{"httpx", "httpx://example.com", ""},
		{"scheme with space", " https://example.com", ""},
		{"relative path", "/api/me", ""},
		{"relative", "api/me", ""},
		{"protocol-relative", "//example.com/x", ""},
		{"no slashes", "https:example.com", ""},
		{"one slash", "https:/example.com", ""},
		{"empty", "", ""},
		{"scheme only", "https://", ""},
		{"empty host with path", "https:///path", ""},
		{"userinfo without host", "https://user@/x", ""},
		// Regression: these gave "https://" and "https://:8080".
		{"port without host", "https://:443/", ""},
		{"other port without host", "https://:8080", ""},
		{"userinfo and port only", "https://u@:443", ""},
		{"non-numeric port", "https://example.com:abc/", ""},
		{"port with sign", "https://example.com:+443/", ""},
		{"port out of range", "https://example.com:65536/", ""},
		{"huge port", "https://example.com:99999999999999999999/", ""},
		{"only ://", "://", ""},
		{"colon slash slash first", "://example.com", ""},
		{"garbage", "\x00\xff::://@@@", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Origin(tt.in); got != tt.want {
				t.Errorf("Origin(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestOriginMatchesNetURL compares Origin with net/url on well-formed URLs.
func TestOriginMatchesNetURL(t *testing.T) {
	for _, in := range []string{
		"https://example.com", "http://example.com:80/a", "https://example.com:443/a?b#c",
		"https://example.com:8443", "HTTP://EXAMPLE.com:8080/", "https://u:p@example.com/",
		"http://[::1]:3000/x", "https://[fe80::1]/", "http://192.168.0.1:80/",
		"https://sub.domain.example.co.uk/path/to?q=1&r=2#frag",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", in, err)
		}
		host := strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		scheme := strings.ToLower(u.Scheme)
		if p := u.Port(); p != "" && !(scheme == "http" && p == "80") && !(scheme == "https" && p == "443") {
			host += ":" + p
		}
		want := scheme + "://" + host
		if got := Origin(in); got != want {
			t.Errorf("Origin(%q) = %q; want %q (net/url)", in, got, want)
		}
	}
}

func TestOriginSetAllows(t *testing.T) {
	set := newOriginSet([]string{
		"https://api.example.com",      // plain
		"HTTPS://APP.example.com:443/", // normalized
		"http://localhost:5173/some/path",
		"",                     // ignored
		"/relative",            // ignored
		"ftp://files.example/", // ignored
		"https://:443",         // ignored
	})
	assert.Len(t, set, 3, "set = %v", set)

	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"listed origin", "https://api.example.com/me", true},
		{"default port", "https://api.example.com:443/me", true},
		{"upper case", "https://API.EXAMPLE.COM/me", true},
		{"listed with port in config", "https://app.example.com/", true},
		{"localhost port", "http://localhost:5173/api", true},
		{"userinfo for a listed host", "https://x@api.example.com/", true},
		{"other scheme", "http://api.example.com/me", false},
		{"other port", "https://api.example.com:8443/me", false},
		{"localhost other port", "http://localhost:5174/api", false},
		{"suffix", "https://api.example.com.evil.test/", false},
		{"prefix", "https://evilapi.example.com/", false},
		{"subdomain", "https://x.api.example.com/", false},
		{"userinfo trick", "https://api.example.com@evil.test/", false},
		{"backslash trick", `https://evil.test\@api.example.com`, false},
		{"relative", "/me", false},
		{"empty", "", false},
		{"ignored entry", "ftp://files.example/", false},
		{"empty-host entry", "https://:443/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := set.allows(tt.in); got != tt.want {
				t.Errorf("allows(%q) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestEmptyOriginSetAllowsNothing(t *testing.T) {
	for _, set := range []originSet{nil, newOriginSet(nil), newOriginSet([]string{"", "nope"})} {
		for _, in := range []string{"https://example.com/", "", "/x"} {
			if set.allows(in) {
				t.Errorf("%v.allows(%q) = true; want false", set, in)
			}
		}
	}
}

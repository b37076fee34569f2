package session

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The helpers of text.go stand in for strings and encoding/base64; these
// compare them with the standard library.

func TestDecodeBase64URLAgreesWithTheStandardLibrary(t *testing.T) {
	for _, s := range []string{"", "eyJhIjoxfQ", "eyJhIjoxfQ==", "YQ", "YWI", "YWJj", "Y", "-_-_", "+/+/", "YW Jj", "YW\nJj", "é", "A"} {
		checkBase64URL(t, s)
	}
}

func FuzzDecodeBase64URL(f *testing.F) {
	for _, s := range []string{"eyJhIjoxfQ", "YQ", "Y", "-_", "+/"} {
		f.Add(s)
	}
	f.Fuzz(checkBase64URL)
}

func checkBase64URL(t *testing.T, s string) {
	got, ok := decodeBase64URL(s)
	// The standard decoder skips \r and \n; JWT segments have none, and
	// ours refuses them.
	if strings.ContainsAny(s, "\r\n") {
		assert.False(t, ok, "%q", s)
		return
	}
	want, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		assert.False(t, ok, "%q: the standard decoder refuses it", s)
		return
	}
	assert.True(t, ok, "%q", s)
	assert.Equal(t, want, got, "%q", s)
}

func FuzzTextHelpers(f *testing.F) {
	for _, s := range []string{"HTTPS://API.Example:8443/x?y#z", "", "a@b:c]d", "ÄÖ/x"} {
		f.Add(s, byte(':'))
	}
	f.Fuzz(func(t *testing.T, s string, c byte) {
		assert.Equal(t, strings.IndexByte(s, c), indexByte(s, c))
		assert.Equal(t, strings.LastIndexByte(s, c), lastIndexByte(s, c))
		assert.Equal(t, strings.IndexAny(s, "/?#\\"), indexAnyByte(s, "/?#\\"))
		want := []byte(s)
		for i, b := range want {
			if 'A' <= b && b <= 'Z' {
				want[i] = b + 32
			}
		}
		assert.Equal(t, string(want), lowerASCII(s))
		if s == strings.ToValidUTF8(s, "") && !strings.ContainsFunc(s, func(r rune) bool { return r > 127 }) {
			assert.Equal(t, strings.ToLower(s), lowerASCII(s), "ASCII: the same as strings.ToLower")
		}
	})
}

package utf8cut

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefix(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello", 3, "hel"},
		{"hello", 0, ""},
		{"hello", -4, ""},
		{"", 3, ""},
		{"héllo", 2, "h"},  // é is two bytes: not split
		{"héllo", 3, "hé"}, // exactly after é
		{"日本語", 4, "日"},    // three-byte characters
		{"日本語", 6, "日本"},
		{"a😀b", 4, "a"}, // a four-byte character is kept whole or not at all
		{"a😀b", 5, "a😀"},
		{"\xff\xfeab", 1, "\xff"}, // invalid bytes are characters of their own
	} {
		if got := Prefix(tc.s, tc.n); got != tc.want {
			t.Errorf("Prefix(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

// TestPrefixNeverSplits: for every cut of a mixed string, the prefix is
// valid UTF-8, at most n bytes, and as long as it can be.
func TestPrefixNeverSplits(t *testing.T) {
	s := strings.Repeat("aé日😀", 8)
	for n := 0; n <= len(s)+1; n++ {
		p := Prefix(s, n)
		if !utf8.ValidString(p) || len(p) > n || !strings.HasPrefix(s, p) {
			t.Fatalf("Prefix(_, %d) = %q", n, p)
		}
		if len(p) < n && len(p) < len(s) {
			_, size := utf8.DecodeRuneInString(s[len(p):])
			if len(p)+size <= n {
				t.Fatalf("Prefix(_, %d) = %d bytes; the next character (%d bytes) would fit", n, len(p), size)
			}
		}
	}
}

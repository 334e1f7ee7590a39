// Package utf8cut cuts strings to a byte length without splitting a
// character: the one place for what logs, prompts, audit details, pages
// and tool results all need when they cap text.
package utf8cut

import "unicode/utf8"

// Prefix returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence (n < 0 counts as 0). Invalid bytes in s count as
// characters of their own.
func Prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n = max(n, 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

package webfetch

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/airlockhq/airlock/internal/utf8cut"
)

// metaCharset finds <meta charset="x"> or <meta … content="…; charset=x">.
var metaCharset = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_:.-]+)`)

// charsetOf returns the lowercased charset label of the body: a UTF-8 BOM
// wins, then the Content-Type parameter, then (HTML only) a <meta> in the
// first KiB.
func charsetOf(params map[string]string, body []byte, html bool) string {
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		return "utf-8"
	}
	if cs := params["charset"]; cs != "" {
		return strings.ToLower(strings.TrimSpace(cs))
	}
	if html {
		if m := metaCharset.FindSubmatch(body[:min(len(body), 1024)]); m != nil {
			return strings.ToLower(string(m[1]))
		}
	}
	return "utf-8"
}

// decode turns body into a valid UTF-8 string. ISO-8859-1, its aliases and
// windows-1252 are decoded as windows-1252 (as browsers do); anything else
// is taken as UTF-8 with invalid bytes replaced by U+FFFD.
func decode(body []byte, charset string) string {
	switch charset {
	case "iso-8859-1", "iso8859-1", "latin1", "l1", "windows-1252", "cp1252", "us-ascii", "ascii":
		return decode1252(body)
	}
	s := strings.TrimPrefix(string(body), "\ufeff")
	return strings.ToValidUTF8(s, "\ufffd")
}

// win1252 maps bytes 0x80–0x9F; the five unassigned ones map to themselves,
// as in the WHATWG encoding standard.
var win1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

func decode1252(body []byte) string {
	var b strings.Builder
	b.Grow(len(body) + len(body)/4)
	for _, c := range body {
		if c >= 0x80 && c <= 0x9f {
			b.WriteRune(win1252[c-0x80])
		} else {
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

// clean drops control characters (C0 but tab and newline, DEL, C1), which
// have no business in text for a model and can hide terminal escapes.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r >= 0x7f && r <= 0x9f {
			return -1
		}
		return r
	}, s)
}

// capText cuts s to at most max bytes on a rune boundary.
func capText(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	return utf8cut.Prefix(s, max), true
}

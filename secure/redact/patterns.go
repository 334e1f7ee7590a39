package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// variant is one literal pattern derived from a secret value.
//
// extL and extR are set on the inner parts of base64: when the character
// just before (after) the match is a base64 character it also carries bits
// of the secret (mixed with its neighbour's), so the redacted span grows by
// that one character.
type variant struct {
	text       string
	extL, extR bool
}

// variants returns the raw value and every encoding of it that differs
// from the raw value, without duplicates, in a fixed order. See the
// package documentation for the exact list.
func variants(value string) []variant {
	seen := make(map[string]bool)
	var out []variant
	add := func(v variant) {
		if v.text != "" && !seen[v.text] {
			seen[v.text] = true
			out = append(out, v)
		}
	}
	add(variant{text: value})
	raw := []byte(value)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		add(variant{text: enc.EncodeToString(raw)})
		add(variant{text: enc.WithPadding(base64.NoPadding).EncodeToString(raw)})
		for k := range 3 {
			add(base64Inner(enc, raw, k))
		}
	}
	add(variant{text: hex.EncodeToString(raw)})
	add(variant{text: strings.ToUpper(hex.EncodeToString(raw))})
	add(variant{text: url.QueryEscape(value)})
	add(variant{text: url.PathEscape(value)})
	add(variant{text: jsonInner(value, true)})
	add(variant{text: jsonInner(value, false)})
	add(variant{text: jsonASCII(value, lowerHex)})
	add(variant{text: jsonASCII(value, upperHex)})
	add(variant{text: jsonAllEscaped(value, lowerHex)})
	add(variant{text: jsonAllEscaped(value, upperHex)})
	return out
}

// base64Inner returns the characters of the base64 encoding of value that
// do not depend on its neighbours when value starts k bytes (mod 3) into a
// longer encoded blob: the characters all of whose six bits come from
// value. For k = 0 this is a prefix of the plain encoding.
func base64Inner(enc *base64.Encoding, value []byte, k int) variant {
	buf := make([]byte, k+len(value))
	copy(buf[k:], value)
	s := enc.WithPadding(base64.NoPadding).EncodeToString(buf)
	first := (8*k + 5) / 6           // first character free of the k leading bytes
	last := 8 * (k + len(value)) / 6 // characters before it hold no following bits
	return variant{text: s[first:last], extL: 8*k%6 != 0, extR: 8*(k+len(value))%6 != 0}
}

// jsonInner returns value as encoding/json writes it inside a string,
// without the quotes, with or without the HTML-safe escapes of <, > and &.
func jsonInner(value string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(value); err != nil {
		return "" // cannot happen for a string
	}
	s := strings.TrimSuffix(b.String(), "\n")
	return s[1 : len(s)-1]
}

// Hex digit tables for \uXXXX escapes.
const (
	lowerHex = "0123456789abcdef"
	upperHex = "0123456789ABCDEF"
)

// jsonASCII returns value as an ASCII-only JSON encoder (Python's default,
// for one) writes it inside a string: the escapes of encoding/json with
// HTML escaping off, and every non-ASCII rune as \uXXXX (a surrogate pair
// above U+FFFF), with the given hex digits.
func jsonASCII(value, digits string) string {
	inner := jsonInner(value, false)
	var b strings.Builder
	for _, r := range inner {
		if r < utf8.RuneSelf {
			b.WriteByte(byte(r))
			continue
		}
		writeRuneU(&b, r, digits)
	}
	return b.String()
}

// jsonAllEscaped returns value with every rune written as a JSON \uXXXX
// escape (a surrogate pair above U+FFFF; an invalid byte as U+FFFD, as
// encoding/json decodes it), with the given hex digits: the form a model
// or an attacker uses to hide a value from a plain-text match, which any
// JSON decoder turns back into the value.
func jsonAllEscaped(value, digits string) string {
	var b strings.Builder
	b.Grow(6 * len(value))
	for _, r := range value {
		writeRuneU(&b, r, digits)
	}
	return b.String()
}

// writeRuneU writes r as one \uXXXX escape, or as a surrogate pair above
// U+FFFF.
func writeRuneU(b *strings.Builder, r rune, digits string) {
	if r > 0xFFFF {
		r -= 0x10000
		writeU(b, 0xD800+(r>>10), digits)
		writeU(b, 0xDC00+(r&0x3FF), digits)
		return
	}
	writeU(b, r, digits)
}

func writeU(b *strings.Builder, r rune, digits string) {
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(digits[(r>>shift)&0xF])
	}
}

package vault

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on secret names and values.
const (
	MaxNameLen  = 64
	MinValueLen = 8
	MaxValueLen = 16 << 10
)

// ValidName checks a secret name against ^[A-Z][A-Z0-9_]{0,63}$. The error
// states the rule but does not repeat the name, in case a value was pasted
// into the name field.
func ValidName(name string) error {
	ok := len(name) >= 1 && len(name) <= MaxNameLen && name[0] >= 'A' && name[0] <= 'Z'
	for i := 1; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
	}
	if !ok {
		return fmt.Errorf("vault: %w: a name is 1 to %d characters of A-Z, 0-9 and _, starting with a letter A-Z",
			ErrInvalidName, MaxNameLen)
	}
	return nil
}

// ValidValue checks a secret value: at least 8 bytes (shorter values cannot
// be redacted safely from output: they occur by chance in ordinary text),
// at most 16 KiB, valid UTF-8, no NUL byte, and no leading or trailing
// whitespace (a pasted line break would become part of the value, and the
// bare value would then not be redacted). The error never quotes the value.
func ValidValue(v string) error {
	var why string
	switch {
	case len(v) < MinValueLen:
		why = fmt.Sprintf("it must be at least %d bytes long: shorter values cannot be redacted safely from output", MinValueLen)
	case len(v) > MaxValueLen:
		why = fmt.Sprintf("it must be at most %d bytes long", MaxValueLen)
	case !utf8.ValidString(v):
		why = "it must be valid UTF-8 text"
	case strings.IndexByte(v, 0) >= 0:
		why = "it must not contain a NUL byte"
	case strings.TrimSpace(v) != v:
		why = "it must not begin or end with whitespace or a line break"
	default:
		return nil
	}
	return fmt.Errorf("vault: %w: %s", ErrInvalidValue, why)
}

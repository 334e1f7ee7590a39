package config

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret is a credential value. Every rendering (fmt verbs, slog, JSON,
// YAML, text) shows "[redacted]" when it is set and "" when it is not;
// Reveal is the only way to the value.
type Secret string

const redacted = "[redacted]"

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Reveal returns the secret value. Call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String implements fmt.Stringer.
func (s Secret) String() string { return s.mask() }

// GoString implements fmt.GoStringer (%#v).
func (s Secret) GoString() string { return `"` + s.mask() + `"` }

// Format implements fmt.Formatter so that every verb, including %d and
// %x on a struct holding a Secret, prints the mask.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.mask())
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.mask() + `"`), nil }

// MarshalYAML implements yaml.Marshaler.
func (s Secret) MarshalYAML() (any, error) { return s.mask(), nil }

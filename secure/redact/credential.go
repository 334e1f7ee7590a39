package redact

import (
	"fmt"
	"io"
	"log/slog"
)

// Masked is what a hidden credential prints as: a set Credential, the
// value of a Secret, a key in a configuration dump.
const Masked = "[redacted]"

// Credential is a credential held as a plain string: an API key, a bot
// token. Every rendering (fmt with any verb, slog, JSON, text, YAML) shows
// Masked when it is set and "" when it is not; Reveal is the only way to
// the value. It is the one such type: config.Secret and discord.Token are
// names for it.
type Credential string

func (c Credential) mask() string {
	if c == "" {
		return ""
	}
	return Masked
}

// Reveal returns the value. Call it only where the value is used.
func (c Credential) Reveal() string { return string(c) }

// IsSet reports whether the credential has a value.
func (c Credential) IsSet() bool { return c != "" }

// String implements fmt.Stringer.
func (c Credential) String() string { return c.mask() }

// GoString implements fmt.GoStringer (%#v).
func (c Credential) GoString() string { return `"` + c.mask() + `"` }

// Format implements fmt.Formatter so that every verb, including %d and
// %x on a struct holding a Credential, prints the mask.
func (c Credential) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, c.GoString())
		return
	}
	_, _ = io.WriteString(f, c.mask())
}

// LogValue implements slog.LogValuer.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.mask()) }

// MarshalText implements encoding.TextMarshaler.
func (c Credential) MarshalText() ([]byte, error) { return []byte(c.mask()), nil }

// MarshalJSON implements json.Marshaler.
func (c Credential) MarshalJSON() ([]byte, error) { return []byte(`"` + c.mask() + `"`), nil }

// MarshalYAML implements the yaml packages' Marshaler.
func (c Credential) MarshalYAML() (any, error) { return c.mask(), nil }

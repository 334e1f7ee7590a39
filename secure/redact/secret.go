package redact

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

// Limits on secret values.
const (
	// MinValueLen is the shortest value New accepts: a shorter one would
	// match innocent text too often to be redacted safely.
	MinValueLen = 8
	// MaxValueLen is the longest value New accepts. It bounds the pattern
	// length, hence the Writer's hold-back.
	MaxValueLen = 16 << 10
)

// Sentinel errors returned (wrapped) by New.
var (
	// ErrInvalidName means a name does not match [A-Z][A-Z0-9_]{0,63}.
	ErrInvalidName = errors.New("invalid secret name")
	// ErrShortValue means a value is shorter than MinValueLen bytes.
	ErrShortValue = errors.New("secret value too short to redact safely")
	// ErrLongValue means a value is longer than MaxValueLen bytes.
	ErrLongValue = errors.New("secret value too long")
	// ErrDuplicateName means two secrets share a name.
	ErrDuplicateName = errors.New("duplicate secret name")
	// ErrMarkerOverlap means a value (or one of its encodings) could be
	// found inside, or joined to, a redaction marker, so redacting it
	// would not be idempotent and could rebuild the value from a marker.
	ErrMarkerOverlap = errors.New("secret value overlaps a redaction marker")
)

// Secret is a named secret value. Its renderings (fmt with any verb, slog,
// encoding/json) show the name and never the value.
type Secret struct {
	Name  string
	Value string
}

// String renders the secret with its value hidden.
func (s Secret) String() string { return s.Name + "=" + Masked }

// GoString implements fmt.GoStringer with the value hidden.
func (s Secret) GoString() string { return "redact.Secret{" + s.String() + "}" }

// Format implements fmt.Formatter so that no verb prints the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.String()))
}

// LogValue implements slog.LogValuer with the value hidden.
func (s Secret) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", s.Name), slog.String("value", Masked))
}

// MarshalJSON renders the secret with the value hidden.
func (s Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"name": s.Name, "value": Masked})
}

// validName reports whether name matches [A-Z][A-Z0-9_]{0,63}.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// check validates one secret on its own. Errors name the secret, never
// its value.
// An invalid name is not quoted either: it might be a value given by mistake.
func (s Secret) check(index int) error {
	if !validName(s.Name) {
		return fmt.Errorf("redact: secret #%d: name is not [A-Z][A-Z0-9_]{0,63}: %w", index, ErrInvalidName)
	}
	if len(s.Value) < MinValueLen {
		return fmt.Errorf("redact: secret %s: values shorter than %d bytes would match ordinary text and cannot be redacted safely: %w",
			s.Name, MinValueLen, ErrShortValue)
	}
	if len(s.Value) > MaxValueLen {
		return fmt.Errorf("redact: secret %s: value longer than %d bytes: %w", s.Name, MaxValueLen, ErrLongValue)
	}
	return nil
}

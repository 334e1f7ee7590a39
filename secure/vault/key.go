// Package vault holds the cryptography of Airlock's secrets vault: the
// master key, its key file, and the sealing of secret values with
// AES-256-GCM. It is a leaf: standard library only, no database.
//
// Invariants:
//   - A Key never renders its bytes: fmt (every verb), slog, JSON and text
//     encodings all show "[redacted]".
//   - Every sealed blob is version byte || 12-byte random nonce || ciphertext
//     and tag. The secret's name is bound as associated data, so a blob moved
//     to another name, or altered in any way, fails to open with ErrDecrypt;
//     Open never returns unauthenticated bytes.
//   - Errors never contain key bytes, sealed bytes or secret values, and
//     never say why authentication failed.
//   - Key files are exactly 32 raw bytes, mode 0600, written atomically
//     (temporary file in the same directory, fsync, link or rename, fsync of
//     the directory) and never overwritten by WriteKeyFile. LoadKey refuses a
//     file that is not a regular file, is accessible to group or others, or
//     has the wrong size.
//   - A wrong master key is detected through a key check (a fixed marker
//     sealed under a reserved name) and reported as ErrWrongKey, never as
//     garbage values.
package vault

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
)

// KeySize is the size of a master key in bytes (AES-256).
const KeySize = 32

// Sentinel errors, returned wrapped.
var (
	// ErrDecrypt means a sealed blob failed to open: wrong key, altered
	// bytes, or a blob stored under another name. It says nothing more.
	ErrDecrypt = errors.New("decryption failed")
	// ErrWrongKey means the master key does not match the database.
	ErrWrongKey = errors.New("the master key does not match this database")
	// ErrKeyExists is returned by WriteKeyFile when the file already exists.
	ErrKeyExists = errors.New("key file already exists")
	// ErrKeyLocked is returned by LockKeyFile when another process holds
	// the lock: a key rotation is in progress.
	ErrKeyLocked = errors.New("another process is rotating the master key")
	// ErrInvalidName and ErrInvalidValue are returned by ValidName and
	// ValidValue.
	ErrInvalidName  = errors.New("invalid secret name")
	ErrInvalidValue = errors.New("invalid secret value")
)

const redacted = "[redacted]"

// Key is a 256-bit master key. None of its renderings reveal its bytes.
type Key [KeySize]byte

// GenerateKey returns a new random key from crypto/rand.
func GenerateKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("vault: generate key: %w", err)
	}
	return k, nil
}

// isZero reports whether every byte of k is zero, which no generated key
// is and a truncated or zero-filled key file would be.
func (k *Key) isZero() bool {
	var acc byte
	for _, b := range k {
		acc |= b
	}
	return acc == 0
}

// String implements fmt.Stringer.
func (Key) String() string { return "vault.Key(" + redacted + ")" }

// GoString implements fmt.GoStringer (%#v).
func (k Key) GoString() string { return k.String() }

// Format implements fmt.Formatter, so that %x, %v, %d and every other verb
// print the redacted form.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue implements slog.LogValuer.
func (Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON implements json.Marshaler.
func (Key) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler.
func (Key) MarshalText() ([]byte, error) { return []byte(redacted), nil }

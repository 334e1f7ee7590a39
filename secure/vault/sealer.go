package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
)

// Blob layout and domain-separation strings.
const formatV1 byte = 1

const (
	nonceSize = 12
	// Overhead is the number of bytes a sealed blob adds to its value.
	Overhead = 1 + nonceSize + 16

	secretAD   = "airlock/secret/v1\x00"
	keyCheckAD = "airlock/key-check/v1\x00"
	// keyCheckName is the reserved name the key check is sealed under; it
	// fails ValidName, and its associated-data domain differs from that of
	// secrets, so no secret can be confused with it.
	keyCheckName   = "vault.key-check"
	keyCheckMarker = "airlock vault key check v1"
)

// Sealer encrypts and decrypts secret values under one master key with
// AES-256-GCM. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for k. An all-zero key is refused: it is
// never generated, so it means a bug or a damaged key file.
func NewSealer(k Key) (*Sealer, error) {
	if k.isZero() {
		return nil, fmt.Errorf("vault: new sealer: the key is all zeros")
	}
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, fmt.Errorf("vault: new sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vault: new sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// String implements fmt.Stringer; a Sealer shows nothing of its key.
func (*Sealer) String() string { return "vault.Sealer(" + redacted + ")" }

// GoString implements fmt.GoStringer.
func (s *Sealer) GoString() string { return s.String() }

// Seal encrypts value for the secret called name, with a fresh random
// nonce: version byte || nonce || ciphertext and tag. The name is bound as
// associated data: the blob opens only under the same name.
func (s *Sealer) Seal(name string, value []byte) ([]byte, error) {
	return s.seal(secretAD+name, value)
}

// Open decrypts a blob Seal made for name. Any failure (wrong key, altered
// bytes, another name's blob, unknown format) is ErrDecrypt, with nothing
// returned.
func (s *Sealer) Open(name string, blob []byte) ([]byte, error) {
	return s.open(secretAD+name, blob)
}

func (s *Sealer) seal(ad string, value []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, Overhead+len(value))
	out[0] = formatV1
	if _, err := rand.Read(out[1 : 1+nonceSize]); err != nil {
		return nil, fmt.Errorf("vault: seal: nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:1+nonceSize], value, []byte(ad)), nil
}

func (s *Sealer) open(ad string, blob []byte) ([]byte, error) {
	if len(blob) < Overhead || blob[0] != formatV1 {
		return nil, fmt.Errorf("vault: open: %w", ErrDecrypt)
	}
	nonce, ct := blob[1:1+nonceSize], blob[1+nonceSize:]
	plain, err := s.aead.Open(nil, nonce, ct, []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("vault: open: %w", ErrDecrypt)
	}
	return plain, nil
}

// KeyCheck seals a fixed marker under a reserved name. Stored beside the
// secrets, it lets VerifyKeyCheck tell at start-up whether a key is the one
// the database was written with.
func (s *Sealer) KeyCheck() ([]byte, error) {
	return s.seal(keyCheckAD+keyCheckName, []byte(keyCheckMarker))
}

// VerifyKeyCheck returns nil if blob is a key check made with this
// Sealer's key, else an error matching ErrWrongKey.
func (s *Sealer) VerifyKeyCheck(blob []byte) error {
	plain, err := s.open(keyCheckAD+keyCheckName, blob)
	if err != nil || subtle.ConstantTimeCompare(plain, []byte(keyCheckMarker)) != 1 {
		return fmt.Errorf("vault: verify key check: %w", ErrWrongKey)
	}
	return nil
}

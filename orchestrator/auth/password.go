package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters.
type Params struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
	SaltLen   uint32 // bytes
	KeyLen    uint32 // bytes
}

// DefaultParams are the production parameters: 2 passes over 64 MiB with 2
// lanes, about 50 to 150 ms on a small 2-core server.
func DefaultParams() Params {
	return Params{Time: 2, MemoryKiB: 64 * 1024, Threads: 2, SaltLen: 16, KeyLen: 32}
}

// Bounds accepted when decoding a hash, so that a damaged or hostile row
// cannot make one verification take unbounded memory or time.
const (
	maxTime      = 16
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxThreads   = 16
)

// Hasher hashes and verifies passwords. Service uses it for every password
// operation, so a test can count the work done.
type Hasher interface {
	// Hash returns an encoded hash of password with a fresh random salt.
	Hash(password string) (string, error)
	// Verify reports whether password matches encoded, in constant time.
	Verify(password, encoded string) (bool, error)
}

// Argon2id is the Hasher for argon2id with the given parameters.
type Argon2id struct{ Params Params }

// Hash implements Hasher.
func (h Argon2id) Hash(password string) (string, error) { return HashPassword(password, h.Params) }

// Verify implements Hasher.
func (h Argon2id) Verify(password, encoded string) (bool, error) {
	return VerifyPassword(password, encoded)
}

// HashPassword returns the argon2id hash of password with a random salt, in
// PHC string format: $argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>, where
// salt and hash are unpadded standard base64.
func HashPassword(password string, p Params) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded, an argon2id
// hash from HashPassword, comparing in constant time. A malformed hash is
// an error matching ErrMalformedHash.
func VerifyPassword(password, encoded string) (bool, error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// decodeHash parses a PHC argon2id string and checks its bounds.
func decodeHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("auth: %w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("auth: %w: unsupported version", ErrMalformedHash)
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &threads); err != nil ||
		threads > maxThreads || fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, threads) != parts[3] {
		return Params{}, nil, nil, fmt.Errorf("auth: %w: bad parameters", ErrMalformedHash)
	}
	p.Threads = uint8(threads)
	b64 := base64.RawStdEncoding.Strict()
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("auth: %w: bad salt", ErrMalformedHash)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("auth: %w: bad hash", ErrMalformedHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

// check returns ErrMalformedHash unless p is within bounds.
func (p Params) check() error {
	ok := p.Time >= 1 && p.Time <= maxTime && p.Threads >= 1 && p.Threads <= maxThreads &&
		p.MemoryKiB >= 8*uint32(p.Threads) && p.MemoryKiB <= maxMemoryKiB &&
		p.SaltLen >= 8 && p.SaltLen <= 64 && p.KeyLen >= 16 && p.KeyLen <= 64
	if !ok {
		return fmt.Errorf("auth: %w: parameters out of bounds", ErrMalformedHash)
	}
	return nil
}

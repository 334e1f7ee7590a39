// Package logref makes the short references that tie an error a user is
// shown ("internal error (reference 1a2b3c4d)") to the log line that holds
// its details, which the user never sees.
package logref

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a fresh random reference: 8 lower-case hex digits.
func New() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

//go:build !linux

package peercred

import (
	"errors"
	"fmt"
	"net"
)

// Get is only implemented on Linux (SO_PEERCRED). Elsewhere it always fails,
// so every peer is refused.
func Get(c net.Conn) (Cred, error) {
	return Cred{}, fmt.Errorf("peercred: get: %w", errors.ErrUnsupported)
}

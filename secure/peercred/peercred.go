// Package peercred opens the orchestrator's Unix socket and reads the
// kernel-verified identity (SO_PEERCRED) of every process that connects to it.
//
// Invariants:
//
//   - The socket lives in a directory that is not group- or world-writable, so
//     no other user can replace, rename or pre-create it; Listen refuses any
//     other directory.
//   - The socket file is chmod'ed to the requested mode (0660) and chown'ed to
//     the requested group right after bind. The directory (0750, owner
//     airlock-system, group airlock) is what keeps everybody else out,
//     including during the short window between bind and chmod.
//   - Listen never deletes anything but a socket that nobody answers on: a
//     regular file, a directory, a symlink or a live server at the path is
//     refused, never removed.
//   - The credentials a connection carries are the kernel's (pid, uid, gid of
//     the peer at connect time); nothing the peer sends can change them.
//     ConnContext stores them, or the error reading them, in the connection's
//     context; FromContext reports ok only for successfully read credentials.
package peercred

import (
	"context"
	"errors"
	"net"
)

// Cred is the identity of the process at the other end of a Unix socket, as
// recorded by the kernel when it connected.
type Cred struct {
	PID int
	UID int
	GID int
}

// Sentinel errors returned (wrapped) by Listen and Get.
var (
	// ErrUnsafeDir means the socket's directory is missing, not a directory,
	// or writable by group or others.
	ErrUnsafeDir = errors.New("unsafe socket directory")
	// ErrNotSocket means something other than a socket exists at the path.
	ErrNotSocket = errors.New("path exists and is not a socket")
	// ErrInUse means a live server answers on the socket: another
	// orchestrator is running.
	ErrInUse = errors.New("another orchestrator is running")
	// ErrNotUnix means the connection is not a Unix socket connection.
	ErrNotUnix = errors.New("not a unix socket connection")
)

type ctxKey int

const credKey ctxKey = 0

type ctxCred struct {
	cred Cred
	err  error
}

// ConnContext reads c's peer credentials and returns a context carrying them
// (or the error reading them). It has the signature of http.Server's
// ConnContext field.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	cred, err := Get(c)
	return context.WithValue(ctx, credKey, ctxCred{cred: cred, err: err})
}

// FromContext returns the peer credentials stored by ConnContext. ok is false
// when none were stored or reading them failed.
func FromContext(ctx context.Context) (Cred, bool) {
	v, found := ctx.Value(credKey).(ctxCred)
	if !found || v.err != nil {
		return Cred{}, false
	}
	return v.cred, true
}

//go:build linux

package peercred

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// Get returns the credentials of the process at the other end of c, read
// from the kernel with SO_PEERCRED. c must be a Unix socket connection.
func Get(c net.Conn) (Cred, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return Cred{}, fmt.Errorf("peercred: get: %T: %w", c, ErrNotUnix)
	}
	if _, ok := c.LocalAddr().(*net.UnixAddr); !ok {
		return Cred{}, fmt.Errorf("peercred: get: %T: %w", c, ErrNotUnix)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return Cred{}, fmt.Errorf("peercred: get: %w", err)
	}
	var (
		uc    *unix.Ucred
		uErr  error
		cbErr = raw.Control(func(fd uintptr) {
			uc, uErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		})
	)
	if cbErr != nil {
		return Cred{}, fmt.Errorf("peercred: get: %w", cbErr)
	}
	if uErr != nil {
		return Cred{}, fmt.Errorf("peercred: get: SO_PEERCRED: %w", uErr)
	}
	return Cred{PID: int(uc.Pid), UID: int(uc.Uid), GID: int(uc.Gid)}, nil
}

package peercred

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// probeTimeout bounds the dial that checks whether a leftover socket still
// has a live server behind it.
const probeTimeout = time.Second

// Listen creates a Unix socket listener at path, chmods the socket to mode
// and, when gid >= 0, chowns it to group gid.
//
// The parent directory must already exist and must not be group- or
// world-writable (ErrUnsafeDir). A leftover socket at path is removed only if
// nothing answers on it (ECONNREFUSED); a live server yields ErrInUse, and a
// regular file, directory or symlink yields ErrNotSocket. Neither is touched.
//
// bind(2) creates the socket file with the process umask, and the chmod and
// chown follow a moment later: during that window the file may be more open
// than mode. The directory closes the window: it is 0750 and owned by the
// orchestrator's user and the worker's group, so no other user can even
// reach the path, and the worker, which can, is checked by peer credentials
// on every connection anyway. Because the directory is not writable by
// anyone else, nobody can swap the file between the checks and the removal
// or the chmod either.
//
// Closing the returned listener removes the socket file.
func Listen(path string, mode os.FileMode, gid int) (net.Listener, error) {
	if err := checkDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("peercred: listen %s: %w", path, err)
	}
	if err := removeStale(path); err != nil {
		return nil, fmt.Errorf("peercred: listen %s: %w", path, err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("peercred: listen %s: %w", path, err)
	}
	if err := os.Chmod(path, mode.Perm()); err != nil {
		ln.Close()
		return nil, fmt.Errorf("peercred: listen %s: chmod: %w", path, err)
	}
	if gid >= 0 {
		if err := os.Lchown(path, -1, gid); err != nil {
			ln.Close()
			return nil, fmt.Errorf("peercred: listen %s: chown: %w", path, err)
		}
	}
	return ln, nil
}

// checkDir reports an ErrUnsafeDir error unless dir is an existing directory
// that neither group nor others may write to.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s: %w: %w", dir, ErrUnsafeDir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory: %w", dir, ErrUnsafeDir)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("directory %s has mode %#o, writable by group or others: %w", dir, perm, ErrUnsafeDir)
	}
	return nil
}

// removeStale removes a socket file at path that no server answers on. It
// does nothing if path does not exist, and refuses (without removing
// anything) if path is not a socket, if a server answers, or if the probe
// fails for any reason other than ECONNREFUSED.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat existing path: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("found a %s: %w", kind(fi.Mode()), ErrNotSocket)
	}
	c, err := net.DialTimeout("unix", path, probeTimeout)
	if err == nil {
		c.Close()
		return ErrInUse
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("probe existing socket: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// kind names a file type for error messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	default:
		return "special file (" + m.Type().String() + ")"
	}
}

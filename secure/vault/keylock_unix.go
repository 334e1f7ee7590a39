//go:build unix

package vault

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// LockKeyFile takes an exclusive advisory lock (flock) on path+".lock",
// created 0600 if missing, so that only one process at a time rotates the
// key at path or repairs an interrupted rotation. It does not wait: if
// another process holds the lock it returns an error matching
// ErrKeyLocked. unlock releases the lock; the lock file stays.
func LockKeyFile(path string) (unlock func(), err error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vault: lock %s: %w", name, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("vault: lock %s: %w", name, ErrKeyLocked)
		}
		return nil, fmt.Errorf("vault: lock %s: %w", name, err)
	}
	// Closing the file releases the lock.
	return func() { f.Close() }, nil
}

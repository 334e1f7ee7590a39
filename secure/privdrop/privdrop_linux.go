package privdrop

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exec replaces the process with s.Path run as s.UID:s.GID with exactly
// s.Groups, no capability in any set and no_new_privs. It returns only on
// failure, before the program has run. The caller must be root with
// CAP_SETUID, CAP_SETGID and CAP_SETPCAP.
func Exec(s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return drop(s)
}

// drop is the privilege drop and exec of a validated Spec; tests replace
// it, so that no test can change the test process's own identity.
var drop = dropAndExec

func dropAndExec(s Spec) error {
	runtime.LockOSThread() // never unlocked: the thread ends in exec or the process exits
	// The bounding set needs CAP_SETPCAP, which the user change takes away.
	if err := dropBoundingSet(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("ambient capabilities: %w", err)
	}
	groups := slices.Compact(slices.Sorted(slices.Values(s.Groups)))
	if groups == nil {
		groups = []int{}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("groups %v: %w", s.Groups, err)
	}
	if err := syscall.Setresgid(s.GID, s.GID, s.GID); err != nil {
		return fmt.Errorf("gid %d: %w", s.GID, err)
	}
	// From root to a user with no 0 among real, effective and saved: the
	// kernel clears the permitted, effective and ambient sets.
	if err := syscall.Setresuid(s.UID, s.UID, s.UID); err != nil {
		return fmt.Errorf("uid %d: %w", s.UID, err)
	}
	// The inheritable set survives a user change: empty it.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	status, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return fmt.Errorf("reading back the thread's state: %w", err)
	}
	if err := checkStatus(status, s); err != nil {
		return err
	}
	env := s.Env
	if env == nil {
		env = []string{}
	}
	if err := syscall.Exec(s.Path, s.Args, env); err != nil {
		return fmt.Errorf("exec %s: %w", s.Path, err)
	}
	return nil
}

// dropBoundingSet removes every capability from the calling thread's
// bounding set, up to the kernel's last one.
func dropBoundingSet() error {
	last := 63
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 && n < 64 {
			last = n
		}
	}
	for c := 0; c <= last; c++ {
		err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break // beyond the kernel's capabilities
		}
		if err != nil {
			return fmt.Errorf("bounding set (capability %d): %w (CAP_SETPCAP missing?)", c, err)
		}
	}
	return nil
}

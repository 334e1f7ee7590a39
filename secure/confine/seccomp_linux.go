package confine

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// workerPolicy refuses every socket family but AF_UNIX, and io_uring
// (whose IORING_OP_SOCKET opens sockets without socket(2)). socketpair
// only ever makes AF_UNIX pairs. amd64 and arm64 have no socketcall(2).
func workerPolicy() seccomp.Policy {
	return seccomp.Policy{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{
			{
				Action: seccomp.ActionErrno,
				NamesWithCondtions: []seccomp.NameWithConditions{{Name: "socket", Conditions: seccomp.ArgumentConditions{
					{Argument: 0, Operation: seccomp.NotEqual, Value: unix.AF_UNIX}}}},
			},
			{Action: seccomp.ActionErrno, Names: []string{"io_uring_setup"}},
		},
	}
}

// childPolicy is the sandbox child's second filter: no socket of any
// family, no new programs. A child talks to its parent only through the
// pipes it was started with.
func childPolicy() seccomp.Policy {
	return seccomp.Policy{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{{Action: seccomp.ActionErrno,
			Names: []string{"socket", "socketpair", "io_uring_setup", "execve", "execveat"}}},
	}
}

// nativeArch is the AUDIT_ARCH value of the running program.
func nativeArch() (uint32, error) {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64, nil
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64, nil
	}
	return 0, fmt.Errorf("seccomp: no filter for %s", runtime.GOARCH)
}

// loadFilter assembles p with the library and installs it on every thread
// of the process, no_new_privs first.
//
// The library lets a system call made through a foreign ABI (int 0x80 on
// amd64: AUDIT_ARCH_I386) fall through to the default action, which is
// "allow" here; so the program is prefixed with a check that kills the
// process on any architecture but the native one. A Go program never makes
// such a call.
func loadFilter(p seccomp.Policy) error {
	native, err := nativeArch()
	if err != nil {
		return err
	}
	insts, err := p.Assemble()
	if err != nil {
		return fmt.Errorf("seccomp: assemble: %w", err)
	}
	guard := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4}, // seccomp_data.arch
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: native, SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_KILL_PROCESS},
	}
	raw, err := bpf.Assemble(append(guard, insts...))
	if err != nil {
		return fmt.Errorf("seccomp: assemble: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}

	// no_new_privs and the filter go on this thread; TSYNC copies both to
	// every other thread of the process, or fails and installs nothing.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("seccomp: set no_new_privs: %w", err)
	}
	r1, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	switch {
	case errno == syscall.ENOSYS:
		return errors.New("seccomp: the kernel has no seccomp filters")
	case errno != 0:
		return fmt.Errorf("seccomp: install filter: %w", errno)
	case r1 != 0: // TSYNC names the thread it could not synchronize
		return fmt.Errorf("seccomp: thread %d could not be synchronized", r1)
	}
	return nil
}

// probeNetwork reports whether opening IPv4 and IPv6 sockets fails with
// EPERM, as the filter makes it.
func probeNetwork() bool {
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
			return false
		}
		if !errors.Is(err, unix.EPERM) {
			return false
		}
	}
	return true
}

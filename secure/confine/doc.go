// Package confine is how Airlock's processes lock themselves in with the
// kernel's help, so that a compromised process finds the doors shut by
// the kernel and not only by our code.
//
// Invariants:
//
//   - Worker installs, on every thread at once (SECCOMP_FILTER_FLAG_TSYNC),
//     a seccomp filter that refuses with EPERM socket(2) for every family
//     but AF_UNIX, and io_uring_setup(2) (io_uring can open sockets without
//     socket(2)). A system call made through a foreign ABI (32-bit x86 on
//     amd64) is refused outright, so the filter cannot be stepped around.
//     The filter is inherited across fork and exec: the sandbox children
//     carry it too. It needs no privilege: no_new_privs is set first.
//   - Worker also applies Landlock where the kernel has it: reading and
//     executing only its own executable (and the dynamic loader's
//     libraries when the binary is not static), reading and writing only
//     its own temporary directory, connecting only to the MCP socket, and,
//     from Landlock ABI 4 on, no TCP bind or connect at all.
//   - Child, in a sandbox child, adds a second filter (no socket of any
//     family, no socketpair, no exec, no io_uring) and a Landlock domain
//     that allows no file access at all.
//   - Orchestrator applies Landlock to files only (it must reach the
//     network): its data and socket directories, the executables, CA
//     certificates, name resolution files and /proc.
//   - Everything is best effort where the kernel lacks a feature: the
//     Report says what was applied and lists every problem, and the caller
//     logs it loudly and tells the orchestrator. Nothing is ever undone.
//
// The filter is built with github.com/elastic/go-seccomp-bpf (pure Go, no
// cgo, no hand-assembled BPF) and Landlock is applied with
// github.com/landlock-lsm/go-landlock in best-effort mode.
package confine

// Package privdrop replaces the current process with a program run as
// another user, with nothing of root left: the container entrypoint's way
// to start the orchestrator and the AI worker (`orchestrator exec-as`).
//
// It does what util-linux setpriv did for the entrypoint (--reuid --regid
// --groups/--clear-groups --inh-caps=-all --ambient-caps=-all
// --bounding-set=-all --no-new-privs), in the static orchestrator binary, so
// that the image carries no dynamic loader and no C library at all.
//
// Invariants:
//
//   - The target user and group are never root, and the program is named
//     by an absolute path (no PATH lookup as root).
//   - Every step that fails stops the exec: a half-dropped process never
//     runs the program.
//   - Before the exec, the calling thread's state is read back from
//     /proc/thread-self/status and compared with what was asked: uid and gid
//     (real, effective, saved, filesystem), the supplementary groups exactly,
//     all five capability sets empty, no_new_privs set. Any difference stops
//     the exec; the kernel's word is checked, not our calls' return values.
//   - The goroutine is locked to its thread from the first per-thread step
//     (bounding set, no_new_privs, capabilities) to the exec, so the thread
//     that was checked is the one that runs the program. The user and
//     groups change on every thread at once (Go's setresuid and setgroups).
package privdrop

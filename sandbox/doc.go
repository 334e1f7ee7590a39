// Package sandbox runs AI-written, admin-approved Starlark scripts.
//
// Invariants: a script runs in a child process of the worker (the worker's
// own binary re-executed with ChildArg; its main calls MaybeChild first)
// that runs exactly one script and exits, with an empty environment, its
// own process group, and SIGKILL if the worker dies. Before it reads
// anything, the child sets RLIMIT_DATA (the memory budget), RLIMIT_AS
// (budget plus its start size: Linux does not charge RLIMIT_DATA when the
// Go heap maps over its own reservations), RLIMIT_CPU, no core dumps and
// no file writes; and before that it locks itself in (secure/confine.Child):
// a second seccomp filter (no socket of any family, no exec) on top of the
// worker's, and a Landlock domain that allows no file access at all (it
// keeps the /proc files it opened first). The parent kills the child's process group at the
// wall-clock timeout or when ctx ends. Starlark's step limit, a
// data-size check every 10,000 steps, and caps on the result, print
// volume and HTTP calls apply inside. The dialect has every optional
// feature off (no while, recursion, set, global reassignment or load).
// A script reaches the outside only through the builtins given here: it
// never sees a secret value (secret("NAME") is an opaque placeholder) and
// its HTTP requests are made by the parent, through the HTTPFunc the
// caller gives Run, never by the child.
//
// Protocol: JSON lines on the child's stdin and stdout (see protocol.go);
// stderr is kept (8 KiB) to explain a crash. A warm pool keeps idle
// children that have set their limits and warmed up; a child leaves the
// pool for one run and never returns to it. A child started for a run
// (none free or fitting) warms up under the default limits as well; every
// child takes its job's lower limits before the script runs.
//
// Too much print output is not an error: the run succeeds with the first
// MaxPrintBytes and a note. A failed run is an *Error whose Kind says
// which limit or failure it was.
//
// Check compiles a script without running it; the orchestrator uses it to
// lint proposals.
package sandbox

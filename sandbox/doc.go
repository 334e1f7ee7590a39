// Package sandbox runs AI-written, admin-approved Starlark scripts.
//
// Invariants: a script runs in a child process of the worker that runs
// exactly one script and exits; the child has RLIMIT_DATA and CPU-time
// limits, a wall-clock timeout that kills it, a step limit, and caps on
// output, print volume and HTTP calls. The dialect has every optional
// feature off (no while, recursion, set, global reassignment or load). A
// script reaches the outside only through the builtins given here: it
// never sees a secret value (secret("NAME") is an opaque placeholder) and
// its HTTP requests are made by the parent through the orchestrator.
//
// Check compiles a script without running it; the orchestrator uses it to
// lint proposals.
package sandbox

// Package doctor audits Airlock's own deployment: the orchestrator's
// process, the live AI worker (found through the socket's peer
// credentials), the files and their modes, where the secrets come from,
// the exposure of the admin server, the setup state, the AI limits, the
// approved scripts, Discord, and the data's integrity. With Deep it also
// probes: the egress guard, the model, the Discord token.
//
// One set of checks serves `orchestrator doctor`, GET /api/v1/doctor and
// the dashboard's Security card. Every check has a stable ID, a severity,
// a status (pass, warn, fail, skipped with the reason), the evidence it
// saw and a one-line fix; docs/doctor.md lists them.
//
// Invariants:
//
//   - Doctor never changes anything: it reads /proc, stats files, reads
//     the database through a query-only connection and opens no key for
//     writing. The deep probes make one model request (counted in the
//     budget) and read-only Discord and egress requests.
//   - Evidence never holds a secret value: it names variables, paths,
//     modes, ids and counts, never the content of a key, token or file.
//   - Every input is injected (Env): the /proc root, the cgroup root, the
//     configuration, the settings, the store, the worker's PID, the clock
//     and the probes, so that every check can be tested without root.
package doctor

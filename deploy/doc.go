// Package deploy holds Airlock's container deployment: compose.yaml (the
// production stack), .env.example (every variable), and compose.test.yaml
// with the end-to-end test that runs the real image on a Docker engine and
// probes the privilege boundary of SPEC 1 and 8 from inside the container.
//
// Invariants the test proves on the running stack:
//   - the orchestrator runs as airlock-system (10001), the worker as
//     airlock-ai (10002, supplementary group airlock only); both with every
//     capability set empty and no_new_privs;
//   - airlock-ai can read nothing under /data, cannot read the orchestrator's
//     environment nor ptrace it, can write only to /tmp, and its own
//     environment holds no key or token;
//   - no user but airlock-system and airlock-ai can reach the MCP socket;
//   - the root filesystem is read-only and ports are published on 127.0.0.1
//     only.
//
// The Go code is test-only; this file exists so the directory is a package.
package deploy

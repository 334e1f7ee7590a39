package sandbox

import "testing"

// TestColdChildSmallLimit: a child started for a job with a small memory
// limit (no warm one fits or is free) warms up under the default limit and
// only then takes the job's: the job stops at its own limit with a memory
// error, never with the runtime failing to start a thread during the
// warm-up (seen in CI as "pthread_create failed" from a cgo-built binary).
func TestColdChildSmallLimit(t *testing.T) {
	r := newTestRunner(t, 0) // no warm pool: every run starts a child
	src := "def main():\n    l = []\n    for i in range(1<<40):\n        l.append(\"x\" * 1000 + str(i))\n"
	for range 12 {
		wantError(t, r, Request{Name: "cold", Source: src, Function: "main", Limits: Limits{MemoryBytes: 32 << 20, MaxSteps: 1 << 62}},
			nil, KindMemory, "more than 32 MiB")
	}
}

package sandbox

import (
	"context"
	"testing"
	"time"
)

// TestLazyPoolAndIdleDrain: a lazy runner keeps no child until the first
// run, fills after it, and gives its children back after IdleTTL.
func TestLazyPoolAndIdleDrain(t *testing.T) {
	r, err := NewRunner(Options{Warm: 2, Lazy: true, IdleTTL: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	time.Sleep(300 * time.Millisecond)
	if n := len(r.pool.idle); n != 0 {
		t.Fatalf("a lazy pool started %d children before any run", n)
	}
	if _, err := r.Run(context.Background(), Request{Name: "t", Source: "def main():\n    return 1\n", Function: "main"}, nil); err != nil {
		t.Fatal(err)
	}
	waitPool(t, r, func() bool { return r.pool.full() }, "the pool to fill after the first run")
	waitPool(t, r, func() bool { return len(r.pool.idle) == 0 }, "the idle children to be released")
	if _, err := r.Run(context.Background(), Request{Name: "t", Source: "def main():\n    return 2\n", Function: "main"}, nil); err != nil {
		t.Fatal(err)
	}
	waitPool(t, r, func() bool { return r.pool.full() }, "the pool to refill after a run")
}

func waitPool(t *testing.T, r *Runner, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

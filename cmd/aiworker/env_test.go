package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestParallelChecked: AIRLOCK_WORKER_PARALLEL out of range or not a
// number stops the worker before it connects, with a message naming the
// variable.
func TestParallelChecked(t *testing.T) {
	for _, v := range []string{"0", "4097", "-3", "many"} {
		env := map[string]string{"AIRLOCK_SOCKET": t.TempDir() + "/none.sock", "AIRLOCK_WORKER_PARALLEL": v}
		err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "AIRLOCK_WORKER_PARALLEL") {
			t.Errorf("AIRLOCK_WORKER_PARALLEL=%s: %v; want an error naming it", v, err)
		}
	}
}

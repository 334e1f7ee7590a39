package orchestrator_test

import (
	"os"
	"testing"

	"github.com/airlockhq/airlock/sandbox"
)

// TestMain lets this test binary serve as a sandbox child, as the worker
// binary does.
func TestMain(m *testing.M) {
	sandbox.MaybeChild()
	os.Exit(m.Run())
}

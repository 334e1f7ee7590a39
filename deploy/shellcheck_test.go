package deploy_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestShellcheck keeps the container's shell scripts shellcheck-clean
// (Debian's shellcheck package).
func TestShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		skipOrFail(t, "shellcheck is not installed (apt-get install shellcheck)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, script := range []string{"entrypoint.sh", ".ci/images.sh"} {
		out, err := exec.CommandContext(ctx, "shellcheck", filepath.Join("..", script)).CombinedOutput()
		if err != nil {
			t.Errorf("shellcheck %s: %v\n%s", script, err, out)
		}
	}
}

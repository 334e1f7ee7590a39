package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a workspace in base/ws with a sibling directory base/outside
// holding a file the workspace must never reach.
type fixture struct {
	ws      *Workspace
	base    string
	dir     string
	outside string
	secret  string // path of outside/secret
}

const secretContent = "outside secret\n"

func newFixture(t *testing.T, l Limits) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{base: base, dir: filepath.Join(base, "ws"), outside: filepath.Join(base, "outside")}
	f.secret = filepath.Join(f.outside, "secret")
	if err := os.MkdirAll(f.outside, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.secret, []byte(secretContent), 0o600); err != nil {
		t.Fatal(err)
	}
	ws, err := Open(f.dir, l)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	f.ws = ws
	return f
}

// put writes a file directly on disk (as the admin would).
func (f *fixture) put(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// get reads a file directly from disk; "" with ok=false if missing.
func (f *fixture) get(t *testing.T, rel string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(rel)))
	if errors.Is(err, os.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

// wantErr checks err wraps target, mentions substr and hides host paths.
func (f *fixture) wantErr(t *testing.T, err, target error, substr string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Errorf("error %q does not mention %q", err, substr)
	}
	if strings.Contains(err.Error(), f.base) {
		t.Errorf("error %q reveals the host path %q", err, f.base)
	}
}

// checkSecretIntact fails if the outside file changed or a file appeared
// next to it.
func (f *fixture) checkSecretIntact(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(f.secret)
	if err != nil || string(b) != secretContent {
		t.Fatalf("outside file changed: %q, %v", b, err)
	}
	ents, err := os.ReadDir(f.outside)
	if err != nil || len(ents) != 1 {
		t.Fatalf("outside dir now holds %d entries (%v)", len(ents), err)
	}
	if ents, _ := os.ReadDir(f.base); len(ents) != 2 {
		t.Fatalf("base dir now holds %d entries, want ws and outside", len(ents))
	}
}

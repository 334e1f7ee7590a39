package config

import (
	"os"
	"path/filepath"
	"testing"
)

// envMap turns a map into a getenv function.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeFile writes content to dir/name with exactly mode perm.
func writeFile(t *testing.T, dir, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadYAML loads content as an explicit container-mode config file.
func loadYAML(t *testing.T, content string, env map[string]string) (Config, string, error) {
	t.Helper()
	p := writeFile(t, t.TempDir(), "config.yaml", content, 0o600)
	cfg, err := Load(p, true, envMap(env), false)
	return cfg, p, err
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The backup and restore commands refuse contradictory or missing flags
// with a message naming them, before touching anything.
func TestBackupCommandFlags(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "AIRLOCK_DATA_DIR" {
			return filepath.Join(dir, "data")
		}
		return ""
	}
	pass := filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"orchestrator", "backup"}, "exactly one of --out FILE or --verify FILE"},
		{[]string{"orchestrator", "backup", "--out", "x", "--verify", "y"}, "exactly one of --out FILE or --verify FILE"},
		{[]string{"orchestrator", "backup", "--out", "x"}, "exactly one of --passphrase-file F or --recipient"},
		{[]string{"orchestrator", "backup", "--out", "x", "--passphrase-file", pass, "--recipient", "age1x"}, "exactly one of --passphrase-file F or --recipient"},
		{[]string{"orchestrator", "backup", "--out", "x", "--passphrase-file", pass, "--without-master-key"}, "--without-master-key needs --recipient"},
		{[]string{"orchestrator", "backup", "--out", "x", "--passphrase-file", pass}, "too short"},
		{[]string{"orchestrator", "backup", "--out", "x", "--recipient", "age1nope"}, "not an age X25519 recipient"},
		{[]string{"orchestrator", "backup", "--out", "x", "--identity", "id"}, "--identity is for --verify"},
		{[]string{"orchestrator", "backup", "--verify", "x", "--recipient", "age1x"}, "--recipient and --without-master-key are for --out"},
		{[]string{"orchestrator", "backup", "--verify", "x"}, "exactly one of --passphrase-file F or --identity FILE"},
		{[]string{"orchestrator", "backup", "--verify", "x", "--passphrase-file", filepath.Join(dir, "missing")}, "passphrase file"},
		{[]string{"orchestrator", "backup", "stray", "--out", "x"}, `unexpected argument "stray"`},
		{[]string{"orchestrator", "restore"}, "usage: orchestrator restore FILE"},
		{[]string{"orchestrator", "restore", "a", "b"}, "usage: orchestrator restore FILE"},
		{[]string{"orchestrator", "restore", "a", "--force"}, "exactly one of --passphrase-file F or --identity FILE"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{tt.args[0], "--dev"}, tt.args[1:]...), getenv, &out, options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "short\n") {
				t.Error("the error shows the passphrase")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("a refused command created the data directory")
	}
}

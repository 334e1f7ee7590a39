//go:build unix

package vault

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	k1, created, err := LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateKey: created=%v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != KeySize {
		t.Fatalf("key file mode %v size %d, want 0600 and %d", fi.Mode().Perm(), fi.Size(), KeySize)
	}
	data, _ := os.ReadFile(path)
	if !bytes.Equal(data, k1[:]) {
		t.Fatal("key file does not hold the key's raw bytes")
	}
	k2, created, err := LoadOrCreateKey(path)
	if err != nil || created || k2 != k1 {
		t.Fatalf("second LoadOrCreateKey: created=%v, same=%v, %v", created, k2 == k1, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the key (temporary file left?)", len(entries))
	}
}

func TestLoadOrCreateKeyMissingDir(t *testing.T) {
	_, _, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "nope", "master.key"))
	if err == nil {
		t.Fatal("created a key in a missing directory")
	}
}

func TestLoadKeyRefuses(t *testing.T) {
	dir := t.TempDir()
	secret := bytes.Repeat([]byte{'Q'}, KeySize)
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link-to-open")
	if err := os.Symlink(write("open.key", secret, 0o644), link); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ desc, path, want string }{
		{"mode 0644", write("world.key", secret, 0o644), "chmod 600"},
		{"mode 0640", write("group.key", secret, 0o640), "must be 0600"},
		{"symlink to 0644", link, "chmod 600"},
		{"too short", write("short.key", secret[:31], 0o600), "wrong size"},
		{"hex text", write("hex.key", bytes.Repeat([]byte{'a'}, 65), 0o600), "not hex or base64"},
		{"empty", write("empty.key", nil, 0o600), "wrong size"},
		{"all zeros", write("zero.key", make([]byte, KeySize), 0o600), "zero"},
		{"directory", dir, "not a regular file"},
		{"fifo", fifo, "not a regular file"},
		{"missing", filepath.Join(dir, "missing.key"), "no such file"},
	}
	for _, tt := range tests {
		_, err := LoadKey(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: LoadKey = %v, want an error saying %q", tt.desc, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "QQQQ") {
			t.Errorf("%s: error reveals the content: %v", tt.desc, err)
		}
	}
	if _, err := LoadKey(write("ok.key", secret, 0o400)); err != nil {
		t.Errorf("LoadKey(0400) = %v, want success", err)
	}
}

func TestWriteKeyFileNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	k1, _ := GenerateKey()
	k2, _ := GenerateKey()
	if err := WriteKeyFile(path, k1); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(path, k2); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second WriteKeyFile = %v, want ErrKeyExists", err)
	}
	if got, err := LoadKey(path); err != nil || got != k1 {
		t.Fatalf("key file changed by a refused write (%v)", err)
	}
}

func TestPromoteKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	oldKey, _ := GenerateKey()
	newKey, _ := GenerateKey()
	if err := PromoteKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("PromoteKeyFile without .new = %v, want ErrNotExist", err)
	}
	if err := WriteKeyFile(path, oldKey); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(path+".new", newKey); err != nil {
		t.Fatal(err)
	}
	if err := PromoteKeyFile(path); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadKey(path); err != nil || got != newKey {
		t.Fatalf("after promote the key file does not hold the new key (%v)", err)
	}
	for _, leftover := range []string{path + ".new", path + ".old"} {
		if _, err := os.Lstat(leftover); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind (%v)", leftover, err)
		}
	}
}

func TestLockKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	unlock, err := LockKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockKeyFile(path); !errors.Is(err, ErrKeyLocked) {
		t.Fatalf("second LockKeyFile = %v, want ErrKeyLocked", err)
	}
	unlock()
	unlock2, err := LockKeyFile(path)
	if err != nil {
		t.Fatalf("LockKeyFile after unlock = %v", err)
	}
	unlock2()
	if fi, err := os.Stat(path + ".lock"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, %v", fi, err)
	}
}

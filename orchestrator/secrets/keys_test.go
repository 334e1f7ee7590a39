package secrets

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/secure/vault"
)

func TestOpenKeyCreatesKeyOnFirstStart(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := OpenKey(ctx, f.st, f.keyPath, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenKey(create=false) without a key = %v, want ErrNotExist", err)
	}
	if _, err := os.Lstat(f.keyPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("OpenKey(create=false) created a key file")
	}
	f.open(t)
	fi, err := os.Stat(f.keyPath)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != vault.KeySize {
		t.Fatalf("created key file: %v, %v", fi, err)
	}
}

func TestWrongKeyIsAClearStartupError(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mustSet(t, f.open(t), "A", canaryA)
	other := f.keyPath + "-other"
	k, _ := vault.GenerateKey()
	if err := vault.WriteKeyFile(other, k); err != nil {
		t.Fatal(err)
	}
	_, err := OpenKey(ctx, f.st, other, true)
	mustErrIs(t, "OpenKey(wrong key)", err, vault.ErrWrongKey)
	if want := "secrets: master key " + other + ": the master key does not match this database (wrong key file?)"; errText(err) != want {
		t.Errorf("OpenKey(wrong key) error = %q, want %q", err, want)
	}
	_, err = Open(ctx, f.st, newSealer(t, k))
	mustErrIs(t, "Open(wrong sealer)", err, vault.ErrWrongKey)
}

func TestMissingKeyWithSecretsIsNotReplaced(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mustSet(t, f.open(t), "A", canaryA)
	if err := os.Remove(f.keyPath); err != nil {
		t.Fatal(err)
	}
	_, err := OpenKey(ctx, f.st, f.keyPath, true)
	mustErrIs(t, "OpenKey(missing key)", err, vault.ErrWrongKey)
	if !strings.Contains(errText(err), "is missing") {
		t.Errorf("error does not say the key is missing: %v", err)
	}
	if _, err := os.Lstat(f.keyPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a new key was created for a database that has one")
	}
	// Same without the key check row: the secrets alone forbid a new key.
	if _, err := f.raw(t).Exec("DELETE FROM vault_meta"); err != nil {
		t.Fatal(err)
	}
	_, err = OpenKey(ctx, f.st, f.keyPath, true)
	mustErrIs(t, "OpenKey(missing key, no key check)", err, vault.ErrWrongKey)
	if _, err := os.Lstat(f.keyPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a new key was created for a database that holds secrets")
	}
}

func TestOpenKeyRefusesOpenKeyFile(t *testing.T) {
	f := newFixture(t)
	f.open(t)
	if err := os.Chmod(f.keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := OpenKey(context.Background(), f.st, f.keyPath, true)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("OpenKey(0644 key file) = %v, want a refusal saying chmod 600", err)
	}
}

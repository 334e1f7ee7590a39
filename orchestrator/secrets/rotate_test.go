package secrets

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/secure/vault"
)

// seed stores the canary secrets and returns them.
func seed(t *testing.T, v *Vault) map[string]string {
	t.Helper()
	want := map[string]string{"A": canaryA, "B": canaryB, LLMAPIKey: canaryEnv}
	for n, val := range want {
		mustSet(t, v, n, val)
	}
	return want
}

// checkAll fails unless a vault opened the start-up way reads want.
func checkAll(t *testing.T, f *fixture, want map[string]string) *Vault {
	t.Helper()
	v := f.open(t)
	for n, val := range want {
		if got, err := v.Get(context.Background(), n); err != nil || got != val {
			t.Fatalf("Get(%s) = %v", n, err)
		}
	}
	return v
}

func noLeftovers(t *testing.T, keyPath string) {
	t.Helper()
	for _, p := range []string{keyPath + ".new", keyPath + ".old"} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind (%v)", p, err)
		}
	}
}

func TestRotate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	want := seed(t, f.open(t))
	before, _ := f.st.ListSecrets(ctx)
	oldKey := loadKey(t, f.keyPath)
	oldBlob := f.rawBlob(t, "A")
	if err := Rotate(ctx, f.st, f.keyPath); err != nil {
		t.Fatal(err)
	}
	newKey := loadKey(t, f.keyPath)
	if newKey == oldKey {
		t.Fatal("the key file still holds the old key")
	}
	if fi, _ := os.Stat(f.keyPath); fi.Mode().Perm() != 0o600 {
		t.Fatalf("rotated key file mode %v", fi.Mode().Perm())
	}
	noLeftovers(t, f.keyPath)
	checkAll(t, f, want)
	// The old key opens nothing any more.
	oldSealer := newSealer(t, oldKey)
	_, err := Open(ctx, f.st, oldSealer)
	mustErrIs(t, "Open(old key)", err, vault.ErrWrongKey)
	if _, err := oldSealer.Open("A", f.rawBlob(t, "A")); !errors.Is(err, vault.ErrDecrypt) {
		t.Fatalf("the old key opens a rotated value: %v", err)
	}
	if bytes.Equal(oldBlob, f.rawBlob(t, "A")) {
		t.Fatal("value not re-encrypted")
	}
	after, _ := f.st.ListSecrets(ctx)
	for i := range before {
		if !after[i].UpdatedAt.Equal(before[i].UpdatedAt) {
			t.Errorf("%s: rotation moved UpdatedAt", after[i].Name)
		}
	}
	// And rotating again works from the new key.
	if err := Rotate(ctx, f.st, f.keyPath); err != nil {
		t.Fatal(err)
	}
	checkAll(t, f, want)
}

// TestRotateInterrupted simulates crashes at each step of a rotation and
// checks the next start uses the right key.
func TestRotateInterrupted(t *testing.T) {
	steps := []string{"after writing .new", "after the commit", "after keeping .old", "after the rename"}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			want := seed(t, f.open(t))
			oldKey := loadKey(t, f.keyPath)
			newKey, _ := vault.GenerateKey()
			if err := vault.WriteKeyFile(f.keyPath+".new", newKey); err != nil {
				t.Fatal(err)
			}
			expect := oldKey
			if step != steps[0] {
				if _, err := reseal(ctx, f.st, newSealer(t, oldKey), newSealer(t, newKey)); err != nil {
					t.Fatal(err)
				}
				expect = newKey
			}
			if step == steps[2] || step == steps[3] {
				if err := os.Link(f.keyPath, f.keyPath+".old"); err != nil {
					t.Fatal(err)
				}
			}
			if step == steps[3] {
				if err := os.Rename(f.keyPath+".new", f.keyPath); err != nil {
					t.Fatal(err)
				}
			}
			checkAll(t, f, want)
			if got := loadKey(t, f.keyPath); got != expect {
				t.Fatal("after the restart the key file does not hold the key the database uses")
			}
			if step != steps[0] {
				noLeftovers(t, f.keyPath)
			}
			// A later rotation cleans up and succeeds.
			if err := Rotate(ctx, f.st, f.keyPath); err != nil {
				t.Fatal(err)
			}
			noLeftovers(t, f.keyPath)
			checkAll(t, f, want)
		})
	}
}

func TestRotateRefusesWrongKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	want := seed(t, f.open(t))
	good := loadKey(t, f.keyPath)
	os.Remove(f.keyPath)
	k, _ := vault.GenerateKey()
	if err := vault.WriteKeyFile(f.keyPath, k); err != nil {
		t.Fatal(err)
	}
	mustErrIs(t, "Rotate(wrong key)", Rotate(ctx, f.st, f.keyPath), vault.ErrWrongKey)
	os.Remove(f.keyPath)
	if err := vault.WriteKeyFile(f.keyPath, good); err != nil {
		t.Fatal(err)
	}
	checkAll(t, f, want)
}

func TestRotateLocked(t *testing.T) {
	f := newFixture(t)
	f.open(t)
	unlock, err := vault.LockKeyFile(f.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	err = Rotate(context.Background(), f.st, f.keyPath)
	mustErrIs(t, "Rotate while locked", err, vault.ErrKeyLocked)
}

// TestVaultRotateAndStaleProcess rotates in one Vault while another, as a
// second process would, still holds the old key.
func TestVaultRotateAndStaleProcess(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.open(t)
	want := seed(t, v)
	stale := f.open(t)
	if err := v.Rotate(ctx, f.keyPath); err != nil {
		t.Fatal(err)
	}
	for n, val := range want {
		if got, err := v.Get(ctx, n); err != nil || got != val {
			t.Fatalf("Get(%s) after in-process rotation = %v", n, err)
		}
	}
	mustSet(t, v, "C", canaryA)
	_, err := stale.Set(ctx, "D", canaryB)
	mustErrIs(t, "Set with a rotated-away key", err, store.ErrKeyCheckChanged)
	_, err = stale.Get(ctx, "A")
	if !errors.Is(err, vault.ErrDecrypt) || !bytes.Contains([]byte(errText(err)), []byte("rotated by another process")) {
		t.Fatalf("Get with a rotated-away key = %v", err)
	}
	if _, err := f.st.SecretBlob(ctx, "D"); err == nil {
		t.Fatal("a value sealed with a rotated-away key was stored")
	}
}

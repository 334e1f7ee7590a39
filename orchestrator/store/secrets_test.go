package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSecretsPutGetListDelete(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	t0 := clk.Now()
	created, err := s.PutSecret(ctx, "B_KEY", []byte("sealed-b-1"))
	if err != nil || !created {
		t.Fatalf("PutSecret(new) = %v, %v; want created", created, err)
	}
	clk.Advance(time.Minute)
	if _, err := s.PutSecret(ctx, "A_KEY", []byte("sealed-a")); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	created, err = s.PutSecret(ctx, "B_KEY", []byte("sealed-b-2"))
	if err != nil || created {
		t.Fatalf("PutSecret(existing) = %v, %v; want updated", created, err)
	}
	if blob, err := s.SecretBlob(ctx, "B_KEY"); err != nil || string(blob) != "sealed-b-2" {
		t.Fatalf("SecretBlob = %q, %v", blob, err)
	}
	list, err := s.ListSecrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []SecretInfo{
		{"A_KEY", t0.Add(time.Minute), t0.Add(time.Minute)},
		{"B_KEY", t0, t0.Add(2 * time.Minute)},
	}
	if len(list) != len(want) {
		t.Fatalf("ListSecrets = %+v, want %+v", list, want)
	}
	for i := range want {
		if list[i].Name != want[i].Name || !list[i].CreatedAt.Equal(want[i].CreatedAt) ||
			!list[i].UpdatedAt.Equal(want[i].UpdatedAt) {
			t.Errorf("ListSecrets[%d] = %+v, want %+v", i, list[i], want[i])
		}
	}
	all, err := s.AllSecretBlobs(ctx)
	if err != nil || len(all) != 2 || string(all["A_KEY"]) != "sealed-a" {
		t.Fatalf("AllSecretBlobs = %q, %v", all, err)
	}
	if err := s.DeleteSecret(ctx, "A_KEY"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		s.DeleteSecret(ctx, "A_KEY"),
		func() error { _, err := s.SecretBlob(ctx, "A_KEY"); return err }(),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("after delete: %v, want ErrNotFound", err)
		}
	}
	if _, err := s.PutSecret(ctx, "", []byte("x")); err == nil {
		t.Error("PutSecret accepted an empty name")
	}
	if _, err := s.PutSecret(ctx, "EMPTY", nil); err == nil {
		t.Error("PutSecret accepted an empty value")
	}
}

func TestKeyCheckLifecycle(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	if _, err := s.KeyCheck(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("KeyCheck on a fresh vault = %v, want ErrNotFound", err)
	}
	if err := s.SetKeyCheck(ctx, []byte("check-1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetKeyCheck(ctx, []byte("check-2")); !errors.Is(err, ErrKeyCheckExists) {
		t.Fatalf("second SetKeyCheck = %v, want ErrKeyCheckExists", err)
	}
	if got, err := s.KeyCheck(ctx); err != nil || string(got) != "check-1" {
		t.Fatalf("KeyCheck = %q, %v", got, err)
	}
	if _, err := s.PutSecretChecked(ctx, "K", []byte("v1"), []byte("check-1")); err != nil {
		t.Fatalf("PutSecretChecked(matching) = %v", err)
	}
	if _, err := s.PutSecretChecked(ctx, "K", []byte("v2"), []byte("check-0")); !errors.Is(err, ErrKeyCheckChanged) {
		t.Fatalf("PutSecretChecked(stale) = %v, want ErrKeyCheckChanged", err)
	}
	if blob, _ := s.SecretBlob(ctx, "K"); string(blob) != "v1" {
		t.Fatalf("a refused PutSecretChecked wrote %q", blob)
	}
}

func TestReplaceAllSecrets(t *testing.T) {
	s, clk, path := newTestStore(t)
	ctx := context.Background()
	if err := s.ReplaceAllSecrets(ctx, map[string][]byte{}, []byte("new")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReplaceAllSecrets without key check = %v, want ErrNotFound", err)
	}
	if err := s.SetKeyCheck(ctx, []byte("old-check")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"A", "B"} {
		if _, err := s.PutSecret(ctx, n, []byte("old-"+n)); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := s.ListSecrets(ctx)
	clk.Advance(time.Hour)
	bad := []map[string][]byte{
		{"A": []byte("new-A")},
		{"A": []byte("new-A"), "C": []byte("new-C")},
		{"A": []byte("new-A"), "B": []byte("new-B"), "C": []byte("new-C")},
		{"A": []byte("new-A"), "B": nil},
	}
	for _, blobs := range bad {
		if err := s.ReplaceAllSecrets(ctx, blobs, []byte("new-check")); !errors.Is(err, ErrSecretsChanged) {
			t.Errorf("ReplaceAllSecrets(%d names) = %v, want ErrSecretsChanged", len(blobs), err)
		}
	}
	// Nothing of a refused replacement is written: all or nothing.
	if kc, _ := s.KeyCheck(ctx); string(kc) != "old-check" {
		t.Fatalf("key check after refused replacements = %q", kc)
	}
	if a, _ := s.SecretBlob(ctx, "A"); string(a) != "old-A" {
		t.Fatalf("A after refused replacements = %q", a)
	}
	good := map[string][]byte{"A": []byte("new-A"), "B": []byte("new-B")}
	if err := s.ReplaceAllSecrets(ctx, good, []byte("new-check")); err != nil {
		t.Fatal(err)
	}
	all, _ := s.AllSecretBlobs(ctx)
	kc, _ := s.KeyCheck(ctx)
	if string(all["A"]) != "new-A" || string(all["B"]) != "new-B" || string(kc) != "new-check" {
		t.Fatalf("after replace: %q, key check %q", all, kc)
	}
	// Durable: the database file itself, without its WAL, has the change.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var copied []byte
	if err := rawDB(t, copyPath).QueryRow("SELECT key_check FROM vault_meta").Scan(&copied); err != nil ||
		string(copied) != "new-check" {
		t.Errorf("database file without its WAL has key check %q, %v: not checkpointed", copied, err)
	}
	after, _ := s.ListSecrets(ctx)
	for i := range before {
		if !after[i].UpdatedAt.Equal(before[i].UpdatedAt) {
			t.Errorf("%s: UpdatedAt moved by a re-encryption", after[i].Name)
		}
	}
	var rotated int64
	if err := rawDB(t, path).QueryRow("SELECT rotated_at FROM vault_meta").Scan(&rotated); err != nil ||
		rotated != toDB(clk.Now()) {
		t.Errorf("rotated_at = %d, %v; want %d", rotated, err, toDB(clk.Now()))
	}
}

func TestReplaceAllSecretsRollsBack(t *testing.T) {
	s, _, path := newTestStore(t)
	ctx := context.Background()
	if err := s.SetKeyCheck(ctx, []byte("old-check")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"A", "B"} {
		if _, err := s.PutSecret(ctx, n, []byte("old-"+n)); err != nil {
			t.Fatal(err)
		}
	}
	// A trigger makes the key-check update fail after the values were
	// written in the same transaction.
	db := rawDB(t, path)
	if _, err := db.Exec(`CREATE TRIGGER fail_meta BEFORE UPDATE ON vault_meta
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}
	err := s.ReplaceAllSecrets(ctx, map[string][]byte{"A": []byte("new-A"), "B": []byte("new-B")}, []byte("new"))
	if err == nil {
		t.Fatal("ReplaceAllSecrets succeeded despite the failing key-check update")
	}
	all, _ := s.AllSecretBlobs(ctx)
	if !bytes.Equal(all["A"], []byte("old-A")) || !bytes.Equal(all["B"], []byte("old-B")) {
		t.Fatalf("values after a failed replacement = %q: not rolled back", all)
	}
}

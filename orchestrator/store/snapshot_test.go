package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Snapshot copies a database another Store has open, without changing it;
// the copy opens, has this binary's schema and the same rows, and passes
// the integrity check, which a damaged copy fails.
func TestSnapshotAndIntegrity(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openAt(t, filepath.Join(dir, "airlock.db"))
	c, err := s.CreateConversation(ctx, SourceAPI, "kept")
	if err != nil {
		t.Fatal(err)
	}
	task, err := s.CreateTask(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "copy.db")
	v, err := Snapshot(ctx, filepath.Join(dir, "airlock.db"), dst)
	known, _ := SchemaVersion()
	if err != nil || v != known {
		t.Fatalf("Snapshot = %d, %v; want %d", v, err, known)
	}
	if _, err := Snapshot(ctx, filepath.Join(dir, "airlock.db"), dst); err == nil {
		t.Error("Snapshot overwrote an existing file")
	}
	if err := IntegrityCheck(ctx, dst); err != nil {
		t.Fatal(err)
	}
	cp := openAt(t, dst)
	if got, err := cp.GetConversation(ctx, c.ID); err != nil || got.Title != "kept" {
		t.Fatalf("copy: %+v %v", got, err)
	}
	// The source's queued task is untouched by the snapshot.
	if got, err := s.GetTask(ctx, task.ID); err != nil || got.Status != task.Status {
		t.Errorf("source task after snapshot: %+v %v", got, err)
	}
	// Damage every page of a copy but the first (the header and schema).
	bad := filepath.Join(dir, "bad.db")
	body, _ := os.ReadFile(dst)
	for i := 4096; i < len(body); i += 7 {
		body[i] ^= 0x5a
	}
	if err := os.WriteFile(bad, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := IntegrityCheck(ctx, bad); err == nil {
		t.Error("IntegrityCheck accepted a damaged database")
	}
}

// OpenBeside works on a database another process serves: it leaves that
// process's tasks alone and refuses a schema other than this binary's.
func TestOpenBeside(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "airlock.db")
	s := openAt(t, path)
	c, _ := s.CreateConversation(ctx, SourceAPI, "t")
	task, err := s.CreateTask(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenBeside(ctx, path, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := b.GetTask(ctx, task.ID); got.Status != task.Status {
		t.Errorf("OpenBeside changed a running task: %s -> %s", task.Status, got.Status)
	}
	b.Close()
	db, _ := sql.Open("sqlite", path)
	known, _ := SchemaVersion()
	if _, err := db.Exec("PRAGMA user_version = " + strconv.Itoa(known+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := OpenBeside(ctx, path, discardLogger()); !errors.Is(err, ErrSchemaMismatch) || !strings.Contains(err.Error(), "schema version") {
		t.Errorf("OpenBeside on a newer schema: %v", err)
	}
	if _, err := OpenBeside(ctx, filepath.Join(dir, "missing.db"), discardLogger()); err == nil {
		t.Error("OpenBeside created a database")
	}
}

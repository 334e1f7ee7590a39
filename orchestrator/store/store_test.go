package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func knownVersion(t *testing.T) int {
	t.Helper()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	return len(ms)
}

func TestOpenCreatesPrivateFileAtLatestSchema(t *testing.T) {
	s, _, path := newTestStore(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database mode = %v, want 0600", perm)
	}
	if err := s.CheckWritable(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		fi, err := os.Stat(path + suffix)
		if err != nil {
			t.Fatalf("WAL mode: %v", err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s mode = %v, want no group/other access", suffix, perm)
		}
	}
	v, err := userVersion(context.Background(), s.reader)
	if err != nil {
		t.Fatal(err)
	}
	if want := knownVersion(t); v != want {
		t.Errorf("user_version = %d, want %d", v, want)
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{
		filepath.Join(dir, "missing", "airlock.db"),
		filepath.Join(dir, "x.db?_pragma=foreign_keys(OFF)"),
		"",
	} {
		if s, err := Open(context.Background(), path, discardLogger()); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want error", path)
		}
	}
}

func TestReopenIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	s, err := Open(context.Background(), path, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	c := mustConversation(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s2, err := Open(context.Background(), path, discardLogger())
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if _, err := s2.GetConversation(context.Background(), c.ID); err != nil {
			t.Errorf("conversation lost on reopen: %v", err)
		}
		v, _ := userVersion(context.Background(), s2.reader)
		if v != knownVersion(t) {
			t.Errorf("user_version after reopen = %d", v)
		}
		s2.Close()
	}
}

func TestMigratesFromOlderVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.Exec(ms[0].sql); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openAt(t, path)
	v, _ := userVersion(context.Background(), s.reader)
	if v != len(ms) {
		t.Fatalf("user_version = %d, want %d", v, len(ms))
	}
	if err := s.RecordUsage(context.Background(), "", "", "p", "m", 1, 2); err != nil {
		t.Errorf("later migration not applied: %v", err)
	}
}

func TestRefusesNewerSchemaAndTouchesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "airlock.db")
	db := rawDB(t, path)
	future := knownVersion(t) + 1
	for _, q := range []string{"CREATE TABLE future (x INTEGER)", "PRAGMA user_version = " + strconv.Itoa(future)} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	s, err := Open(context.Background(), path, discardLogger())
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a newer schema")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("error %v does not match ErrSchemaTooNew", err)
	}
	want := "store: database schema version " + strconv.Itoa(future) + " is newer than this binary supports (" +
		strconv.Itoa(knownVersion(t)) + "); refusing to start"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("database file changed")
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("a WAL file appeared (journal mode changed): %v", err)
	}
}

func TestPragmas(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	tests := []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.writer, "journal_mode", "wal"},
		{s.writer, "busy_timeout", "10000"},
		{s.writer, "foreign_keys", "1"},
		{s.writer, "synchronous", "1"},
		{s.writer, "temp_store", "2"},
		{s.reader, "busy_timeout", "10000"},
		{s.reader, "foreign_keys", "1"},
		{s.reader, "query_only", "1"},
	}
	for _, tt := range tests {
		var got string
		if err := tt.db.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
		}
	}
	if _, err := s.reader.ExecContext(ctx, "UPDATE heartbeat SET at = 1"); err == nil {
		t.Error("write through the read pool succeeded")
	}
}

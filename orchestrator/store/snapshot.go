package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// SchemaVersion is the schema version this binary migrates databases to:
// the number of its embedded migrations.
func SchemaVersion() (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, err
	}
	return len(ms), nil
}

// roDSN opens path read-only, leaving every persistent pragma alone.
func roDSN(path string) string {
	return "file:" + path + "?mode=ro&_pragma=busy_timeout(10000)"
}

// Snapshot writes a consistent copy of the database at src, which may be in
// use by another process, to dst (which must not exist) with VACUUM INTO:
// one read transaction, so the copy is the database as of one instant, and
// a plain file without a write-ahead log. It returns the copy's schema
// version. src is opened read-only: nothing in it changes.
func Snapshot(ctx context.Context, src, dst string) (int, error) {
	if strings.ContainsAny(src, "?#") || strings.ContainsAny(dst, "?#") {
		return 0, fmt.Errorf("store: snapshot: paths must be plain file paths")
	}
	if _, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("store: snapshot: %w", err)
	}
	db, err := sql.Open("sqlite", roDSN(src))
	if err != nil {
		return 0, fmt.Errorf("store: snapshot %q: %w", src, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return 0, fmt.Errorf("store: snapshot %q: %w", src, err)
	}
	return FileSchemaVersion(ctx, dst)
}

// FileSchemaVersion reads the schema version (PRAGMA user_version) of the
// database at path, read-only.
func FileSchemaVersion(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", roDSN(path))
	if err != nil {
		return 0, fmt.Errorf("store: open %q: %w", path, err)
	}
	defer db.Close()
	return userVersion(ctx, db)
}

// IntegrityCheck runs PRAGMA integrity_check on the database at path,
// read-only, and returns an error listing the problems it reports (at
// most ten) unless it reports "ok".
func IntegrityCheck(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", roDSN(path))
	if err != nil {
		return fmt.Errorf("store: integrity check %q: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check(10)")
	if err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("store: integrity check: %w", err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("store: integrity check failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

// ErrSchemaMismatch is returned by OpenBeside when the database's schema is
// not the one this binary knows.
var ErrSchemaMismatch = errors.New("database schema differs from this binary's")

// OpenBeside opens an existing database that another process (the serving
// orchestrator) has open, to work beside it: it neither migrates nor
// touches that process's tasks, and refuses a database whose schema version
// is not exactly this binary's. Writes queue on the same lock as the other
// process's (busy_timeout), so audit appends from both interleave safely.
func OpenBeside(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	known, err := SchemaVersion()
	if err != nil {
		return nil, err
	}
	v, err := FileSchemaVersion(ctx, path)
	if err != nil {
		return nil, err
	}
	if v != known {
		return nil, fmt.Errorf("store: %q has schema version %d, this binary %d: %w", path, v, known, ErrSchemaMismatch)
	}
	s := &Store{logger: logger, now: time.Now}
	if s.writer, err = openPool(ctx, path, writerDSN(path), 1); err != nil {
		return nil, err
	}
	if s.reader, err = openPool(ctx, path, readerDSN(path), 1); err != nil {
		s.writer.Close()
		return nil, err
	}
	return s, nil
}

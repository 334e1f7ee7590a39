package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"
)

// ErrSchemaDiffers is returned by OpenReadOnly for a database whose schema
// is not the one this binary knows: it would have to migrate it.
var ErrSchemaDiffers = errors.New("store: the database schema is not this binary's")

// OpenReadOnly opens the database at path for reading only, for
// `orchestrator doctor` while the orchestrator may be running: it creates
// nothing, migrates nothing and fails no task. Both pools are query-only;
// a write through the returned Store fails.
func OpenReadOnly(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: open %q: path must be a plain file path", path)
	}
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	db, err := openPool(ctx, path, readerDSN(path), 2)
	if err != nil {
		return nil, err
	}
	v, err := userVersion(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	if v != len(ms) {
		db.Close()
		return nil, fmt.Errorf("%w: version %d, this binary knows %d", ErrSchemaDiffers, v, len(ms))
	}
	return &Store{writer: db, reader: db, logger: logger, now: time.Now}, nil
}

// IntegrityCheck runs PRAGMA quick_check (or integrity_check when full)
// and returns its problems; none means the file is sound.
func (s *Store) IntegrityCheck(ctx context.Context, full bool) ([]string, error) {
	pragma := "PRAGMA quick_check(20)"
	if full {
		pragma = "PRAGMA integrity_check(20)"
	}
	rows, err := s.reader.QueryContext(ctx, pragma)
	if err != nil {
		return nil, fmt.Errorf("store: integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, fmt.Errorf("store: integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: integrity check: %w", err)
	}
	return problems, nil
}

// LastAdminSignIn returns when an admin last signed in (the newest browser
// or API session); zero when none ever did.
func (s *Store) LastAdminSignIn(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, "SELECT MAX(created_at) FROM sessions").Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("store: last sign-in: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return fromDB(at.Int64), nil
}

// OldestAuditAt returns the time of the first audit entry (the first
// start); zero when the log is empty.
func (s *Store) OldestAuditAt(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, "SELECT MIN(time) FROM audit").Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("store: oldest audit entry: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return fromDB(at.Int64), nil
}

// PendingScriptVersions returns every version awaiting review, oldest
// first.
func (s *Store) PendingScriptVersions(ctx context.Context) ([]ScriptVersion, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT "+scriptColumns+" FROM script_versions WHERE status = ?"+
		" ORDER BY created_at, rowid", ScriptPending)
	if err != nil {
		return nil, fmt.Errorf("store: pending versions: %w", err)
	}
	out, err := scanScripts(rows)
	if err != nil {
		return nil, fmt.Errorf("store: pending versions: %w", err)
	}
	return out, nil
}

// FileSizes returns the sizes of the database file and its WAL (0 when
// absent), for the doctor's disk checks.
func FileSizes(path string) (db, wal int64, err error) {
	for i, p := range []string{path, path + "-wal"} {
		fi, serr := os.Stat(p)
		if errors.Is(serr, fs.ErrNotExist) {
			continue
		}
		if serr != nil {
			return 0, 0, serr
		}
		if i == 0 {
			db = fi.Size()
		} else {
			wal = fi.Size()
		}
	}
	return db, wal, nil
}

// RecordUsageAt appends one usage row (an LLM call) to the existing
// database at path and changes nothing else: it creates nothing, migrates
// nothing and refuses a database whose schema is not this binary's
// (ErrSchemaDiffers). `orchestrator doctor --deep` counts its model probe
// in the daily budgets this way while the orchestrator runs: WAL lets it
// write next to the orchestrator, and busy_timeout waits for its writer.
func RecordUsageAt(ctx context.Context, path string, c LLMCall, logger *slog.Logger) error {
	if c.InputTokens < 0 || c.OutputTokens < 0 || c.CacheReadTokens < 0 || c.CacheWriteTokens < 0 ||
		(c.CostNanos != nil && *c.CostNanos < 0) || c.Message != nil {
		return errors.New("store: record usage: negative token count or cost, or a message")
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("store: open %q: path must be a plain file path", path)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store: open %q: %w", path, err)
	}
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	db, err := openPool(ctx, path, path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate", 1)
	if err != nil {
		return err
	}
	s := &Store{writer: db, reader: db, logger: logger, now: time.Now}
	defer s.Close()
	v, err := userVersion(ctx, db)
	if err != nil {
		return err
	}
	if v != len(ms) {
		return fmt.Errorf("%w: version %d, this binary knows %d", ErrSchemaDiffers, v, len(ms))
	}
	err = s.WriteTx(ctx, func(tx *sql.Tx) error { return s.insertUsage(ctx, tx, c) })
	if err != nil {
		return fmt.Errorf("store: record usage: %w", err)
	}
	return nil
}

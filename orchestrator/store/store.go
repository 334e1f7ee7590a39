// Package store is the orchestrator's SQLite database (modernc.org/sqlite,
// pure Go): conversations, messages, tasks, LLM usage and the raw rows of the
// audit log.
//
// A Store holds two pools on one file. The writer pool has a single
// connection and every write transaction begins IMMEDIATE, so writers queue
// for the lock up front instead of failing when a read lock would have to be
// upgraded; busy_timeout covers writers in other processes. The reader pool
// is query_only and, thanks to WAL, never blocks the writer. A third
// connection checkpoints the WAL in the background (checkpoint.go), and the
// messages' full-text index is fed from a queue in batches (ftsqueue.go):
// neither is done inside a caller's commit.
//
// Invariants:
//   - The schema is migrated at Open from embedded files; a database newer
//     than this binary is refused and left untouched.
//   - The database file is created with mode 0600.
//   - Times are stored as UTC unix nanoseconds (INTEGER columns).
//   - Audit rows are only ever inserted: no UPDATE or DELETE statement on the
//     audit table exists in this package, and triggers reject them.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	// Registers the "sqlite" database/sql driver.
	_ "modernc.org/sqlite"
)

// ErrNotFound is returned when a requested row does not exist, or when a row
// refers to one that does not (an unknown conversation).
var ErrNotFound = errors.New("not found")

// readPoolSize is the number of connections in the read pool.
const readPoolSize = 4

// Store is the orchestrator's database. It is safe for concurrent use.
type Store struct {
	writer *sql.DB
	reader *sql.DB
	logger *slog.Logger
	now    func() time.Time

	recovered int
	stmts     stmtCache // the writer's
	reads     stmtCache // the read pool's
	fts       ftsIndexer
	ckpt      *checkpointer
}

// Open opens (creating it with mode 0600 if missing) the database at path,
// whose parent directory must exist, migrates it to the schema this binary
// knows and marks tasks a previous process left queued or running as failed.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if err := prepareFile(path, logger); err != nil {
		return nil, err
	}
	if err := checkSchemaNotNewer(ctx, path); err != nil {
		return nil, err
	}
	s := &Store{logger: logger, now: time.Now}
	var err error
	if s.writer, err = openPool(ctx, path, writerDSN(path), 1); err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.writer.Close()
		return nil, err
	}
	if s.reader, err = openPool(ctx, path, readerDSN(path), readPoolSize); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := s.startCheckpoints(ctx, path); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.failStaleTasks(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// Messages a previous process queued for the index (or a restored
	// backup's) are indexed soon, not at the first search.
	if n, _, err := s.IndexQueue(ctx); err == nil && n > 0 {
		s.scheduleIndex()
	}
	return s, nil
}

// Close closes both pools, after the indexing under way, if any.
func (s *Store) Close() error {
	s.stopIndexing()
	errs := []error{s.stopCheckpoints()}
	s.reads.close()
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	s.stmts.close()
	errs = append(errs, s.writer.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// RecoveredTasks reports how many tasks Open found queued or running, left
// over from a previous process, and marked failed.
func (s *Store) RecoveredTasks() int { return s.recovered }

// prepareFile creates the database file with mode 0600 if it is missing.
func prepareFile(path string, logger *slog.Logger) error {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("store: open %q: path must be a plain file path", path)
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return fmt.Errorf("store: open %q: parent directory: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: open %q: %w", path, err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return fmt.Errorf("store: open %q: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		logger.Warn("database file is accessible to group or others",
			"path", path, "mode", fi.Mode().Perm().String())
	}
	return nil
}

// writerDSN is the DSN of the single-connection write pool. busy_timeout
// comes first so that the pragmas after it wait for locks instead of failing.
func writerDSN(path string) string {
	return path + "?_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(ON)" +
		"&_pragma=temp_store(MEMORY)" +
		"&_txlock=immediate"
}

// readerDSN is the DSN of the read pool. It leaves journal_mode alone (WAL is
// a property of the file, set by the writer) and turns on query_only, which
// the driver applies after every other pragma.
func readerDSN(path string) string {
	return path + "?_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(ON)" +
		"&_pragma=temp_store(MEMORY)" +
		"&_query_only=1"
}

// openPool opens a pool and checks that a connection can be made.
func openPool(ctx context.Context, path, dsn string, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	return db, nil
}

// newID returns a random, URL-safe identifier with the given prefix: 128
// bits from crypto/rand in lowercase base32.
func newID(prefix string) string {
	return prefix + strings.ToLower(rand.Text())
}

// toDB converts a time to its stored form, UTC unix nanoseconds.
func toDB(t time.Time) int64 { return t.UTC().UnixNano() }

// fromDB converts a stored time back.
func fromDB(n int64) time.Time { return time.Unix(0, n).UTC() }

package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrSchemaTooNew is matched (errors.Is) by the error Open returns when the
// database was migrated by a newer binary.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary supports")

// SchemaTooNewError reports a database whose schema version is beyond the
// migrations this binary knows.
type SchemaTooNewError struct {
	Version int // PRAGMA user_version of the database
	Known   int // number of migrations this binary knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("store: database schema version %d is newer than this binary supports (%d); refusing to start",
		e.Version, e.Known)
}

// Unwrap makes errors.Is(err, ErrSchemaTooNew) hold.
func (e *SchemaTooNewError) Unwrap() error { return ErrSchemaTooNew }

// migration is one embedded schema step; applying it sets user_version to
// version.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations, which must be named
// NNNN_name.sql and numbered 1, 2, 3... without gaps.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	sort.Strings(names)
	ms := make([]migration, 0, len(names))
	for i, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 || v != i+1 {
			return nil, fmt.Errorf("store: migration %q: want name %04d_<name>.sql", base, i+1)
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("store: read migration %q: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	return ms, nil
}

// checkSchemaNotNewer reads user_version through a query_only connection
// that sets no persistent pragma, so a database from a newer binary is
// refused before anything (journal mode included) is changed in it.
func checkSchemaNotNewer(ctx context.Context, path string) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	probe, err := openPool(ctx, path, path+"?_pragma=busy_timeout(10000)&_query_only=1", 1)
	if err != nil {
		return err
	}
	defer probe.Close()
	v, err := userVersion(ctx, probe)
	if err != nil {
		return err
	}
	if v > len(ms) {
		return &SchemaTooNewError{Version: v, Known: len(ms)}
	}
	return nil
}

// queryer is what *sql.DB and *sql.Tx have in common for reads.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func userVersion(ctx context.Context, q queryer) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return v, nil
}

// migrate applies, in order and each in its own transaction, the migrations
// the database has not seen yet. The version is re-read inside each
// transaction, so two processes migrating at once cannot apply a step twice.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		applied := false
		err := s.WriteTx(ctx, func(tx *sql.Tx) error {
			v, err := userVersion(ctx, tx)
			if err != nil || v >= m.version {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			// user_version lives in the database header and is transactional.
			_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version))
			applied = err == nil
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if applied {
			s.logger.Info("database migrated", "migration", m.name, "version", m.version)
		}
	}
	return nil
}

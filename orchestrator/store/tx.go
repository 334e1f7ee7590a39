package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// WriteTx runs fn in a write transaction (BEGIN IMMEDIATE) on the single
// writer connection: it commits when fn returns nil and rolls back when fn
// returns an error (returned as is) or panics (the panic continues).
//
// fn must use only tx: calling another Store write method from inside fn
// would wait forever for the writer connection fn itself holds.
func (s *Store) WriteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// The error of a rollback after a failure adds nothing useful.
			_ = tx.Rollback()
		}
	}()
	// The flag is the writer connection's: read it before the commit
	// hands the connection to the next transaction.
	s.fts.queued.Store(false)
	if err := fn(tx); err != nil {
		return err
	}
	queued := s.fts.queued.Load()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	committed = true
	s.committed()
	if queued {
		s.scheduleIndex()
	}
	s.preparePending(ctx)
	return nil
}

// readTx runs fn in a read-only transaction on the read pool, so every
// query in fn sees one consistent snapshot.
func (s *Store) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	err = fn(tx)
	_ = tx.Rollback() // the connection goes back before any statement is prepared
	s.prepareReadPending(ctx)
	return err
}

// CheckWritable reports, by returning nil, that the database accepts a
// write: it updates the heartbeat row in a transaction. For /readyz.
func (s *Store) CheckWritable(ctx context.Context) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE heartbeat SET at = ? WHERE id = 1", toDB(s.now()))
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return fmt.Errorf("store: check writable: %w", err)
	}
	return nil
}

// expectOneRow returns ErrNotFound unless res affected exactly one row.
func expectOneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrNotFound
	}
	return nil
}

// errNoRows maps sql.ErrNoRows to ErrNotFound and leaves other errors alone.
func errNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// collect reads every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

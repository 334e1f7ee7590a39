package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
)

func TestWriteTxRollsBackOnErrorAndPanic(t *testing.T) {
	s, _, path := newTestStore(t)
	ctx := context.Background()
	insert := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO conversations (id, source, title, created_at, updated_at) VALUES ('c_x', 'web', '', 0, 0)")
		return err
	}
	errBoom := errors.New("boom")
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := insert(tx); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WriteTx error = %v, want boom", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic was swallowed")
			}
		}()
		_ = s.WriteTx(ctx, func(tx *sql.Tx) error {
			if err := insert(tx); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if n := countRows(t, rawDB(t, path), "conversations"); n != 0 {
		t.Errorf("%d conversations stored after rollbacks, want 0", n)
	}
	// The single writer connection must be free again.
	if err := s.WriteTx(ctx, insert); err != nil {
		t.Errorf("WriteTx after panic: %v", err)
	}
}

func TestCheckWritable(t *testing.T) {
	s, clk, path := newTestStore(t)
	ctx := context.Background()
	if err := s.CheckWritable(ctx); err != nil {
		t.Fatalf("CheckWritable: %v", err)
	}
	var at int64
	if err := rawDB(t, path).QueryRow("SELECT at FROM heartbeat").Scan(&at); err != nil {
		t.Fatal(err)
	}
	if at != toDB(clk.Now()) {
		t.Errorf("heartbeat at = %d, want %d", at, toDB(clk.Now()))
	}
	s.Close()
	if err := s.CheckWritable(ctx); err == nil {
		t.Error("CheckWritable on a closed store succeeded")
	}
}

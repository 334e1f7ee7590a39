package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrAuditChain is returned by AppendAudit when the row to insert does not
// continue the chain recorded in the head.
var ErrAuditChain = errors.New("row does not continue the audit chain")

// ErrAuditAppend is returned by an audited write (FinishTask with an
// AuditBuild) whose audit entry could not be appended; nothing of the
// write was stored. It wraps the cause.
var ErrAuditAppend = errors.New("audit entry not appended")

// AuditRow is one raw audit row. The hash chain over it is computed and
// checked by package audit; the store only keeps rows and the head.
type AuditRow struct {
	ID       int64 // strictly increasing, 1 for the first entry
	Time     time.Time
	Actor    string
	Action   string
	Target   string
	Outcome  string
	Details  string // JSON text
	PrevHash string
	Hash     string
}

// AuditHead records the last entry of the audit log: its id and hash, or 0
// and the genesis hash for an empty log.
type AuditHead struct {
	LastID   int64
	LastHash string
	// Missing reports (from ScanAudit) that the head row itself is gone,
	// which only tampering can cause.
	Missing bool
}

// AuditQuery selects audit rows for ListAudit. Empty fields match all; Since
// is inclusive and Until exclusive. A Limit of 0 or less means 50, capped at
// 500.
type AuditQuery struct {
	Action, Actor string
	Since, Until  time.Time
	Limit, Offset int
	// AfterID, when above 0, selects only rows with a larger id: keyset
	// paging, which appends running meanwhile cannot shift.
	AfterID int64
	// OldestFirst lists in ascending id order instead of newest first.
	OldestFirst bool
	// ExceptActors and ExceptActions leave out rows of these actors and
	// actions.
	ExceptActors, ExceptActions []string
}

const auditColumns = "id, time, actor, action, target, outcome, details, prev_hash, hash"

// AuditBuild builds the next audit row from the chain's current head: the
// row must have ID head.LastID+1 and PrevHash head.LastHash (else
// ErrAuditChain). audit.Log.Entry makes one.
type AuditBuild func(AuditHead) (AuditRow, error)

// AppendAudit inserts one audit row and moves the head to it, in one write
// transaction.
func (s *Store) AppendAudit(ctx context.Context, build AuditBuild) (AuditRow, error) {
	var r AuditRow
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		r, err = s.appendAudit(ctx, tx, build)
		return err
	})
	if err != nil {
		return AuditRow{}, fmt.Errorf("store: append audit: %w", err)
	}
	return r, nil
}

// appendAudit inserts the row build makes from the head and moves the head
// to it, inside tx: a write that is audited commits with its entry or not
// at all.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, build AuditBuild) (AuditRow, error) {
	var head AuditHead
	err := s.writeQueryRow(ctx, tx, auditHeadQuery).Scan(&head.LastID, &head.LastHash)
	if err != nil {
		return AuditRow{}, fmt.Errorf("read audit head: %w", errNoRows(err))
	}
	r, err := build(head)
	if err != nil {
		return AuditRow{}, err
	}
	if r.ID != head.LastID+1 || r.PrevHash != head.LastHash {
		return AuditRow{}, ErrAuditChain
	}
	if _, err := s.exec(ctx, tx,
		"INSERT INTO audit ("+auditColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, toDB(r.Time), r.Actor, r.Action, r.Target, r.Outcome, r.Details, r.PrevHash, r.Hash); err != nil {
		return AuditRow{}, err
	}
	if _, err := s.exec(ctx, tx, "UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1", r.ID, r.Hash); err != nil {
		return AuditRow{}, err
	}
	r.Time = fromDB(toDB(r.Time))
	return r, nil
}

// ScanAudit calls fn for every audit row in id order, streaming them, and
// returns the head. Rows and head come from one read snapshot, so appends
// running meanwhile are neither seen nor mistaken for tampering. An error
// from fn stops the scan and is returned as is.
func (s *Store) ScanAudit(ctx context.Context, fn func(AuditRow) error) (AuditHead, error) {
	var head AuditHead
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		head, err = auditHead(ctx, tx)
		if errors.Is(err, ErrNotFound) {
			head.Missing = true
		} else if err != nil {
			return fmt.Errorf("store: scan audit: %w", err)
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+auditColumns+" FROM audit ORDER BY id")
		if err != nil {
			return fmt.Errorf("store: scan audit: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanAudit(rows)
			if err != nil {
				return fmt.Errorf("store: scan audit: %w", err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: scan audit: %w", err)
		}
		return nil
	})
	return head, err
}

// ListAudit returns the audit rows matching q, newest first unless
// q.OldestFirst.
func (s *Store) ListAudit(ctx context.Context, q AuditQuery) ([]AuditRow, error) {
	where, args := auditWhere(q)
	limit, offset := clampPage(q.Limit, q.Offset)
	order := " ORDER BY id DESC"
	if q.OldestFirst {
		order = " ORDER BY id"
	}
	rows, err := s.reader.QueryContext(ctx,
		"SELECT "+auditColumns+" FROM audit"+where+order+" LIMIT ? OFFSET ?",
		append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	out, err := collect(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	return out, nil
}

func auditWhere(q AuditQuery) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if !q.Since.IsZero() {
		add("time >= ?", toDB(q.Since))
	}
	if !q.Until.IsZero() {
		add("time < ?", toDB(q.Until))
	}
	if q.AfterID > 0 {
		add("id > ?", q.AfterID)
	}
	for _, ex := range []struct {
		col  string
		list []string
	}{{"actor", q.ExceptActors}, {"action", q.ExceptActions}} {
		if len(ex.list) == 0 {
			continue
		}
		conds = append(conds, ex.col+" NOT IN (?"+strings.Repeat(", ?", len(ex.list)-1)+")")
		for _, v := range ex.list {
			args = append(args, v)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

const auditHeadQuery = "SELECT last_id, last_hash FROM audit_head WHERE id = 1"

func auditHead(ctx context.Context, q queryer) (AuditHead, error) {
	var h AuditHead
	err := q.QueryRowContext(ctx, auditHeadQuery).
		Scan(&h.LastID, &h.LastHash)
	if err != nil {
		return AuditHead{}, fmt.Errorf("read audit head: %w", errNoRows(err))
	}
	return h, nil
}

func scanAudit(sc scanner) (AuditRow, error) {
	var r AuditRow
	var t int64
	err := sc.Scan(&r.ID, &t, &r.Actor, &r.Action, &r.Target, &r.Outcome, &r.Details, &r.PrevHash, &r.Hash)
	if err != nil {
		return AuditRow{}, err
	}
	r.Time = fromDB(t)
	return r, nil
}

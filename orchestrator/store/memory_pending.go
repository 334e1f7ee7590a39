package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxPendingMemory caps the memory writes awaiting approval; memory_write
// refuses more until the admin decides.
const MaxPendingMemory = 100

// ErrDecided is matched by the error of deciding a pending memory write
// that is no longer pending.
var ErrDecided = errors.New("already decided")

// PendingMemory is a memory_write awaiting the admin's approval (setting
// memory.require_approval).
type PendingMemory struct {
	ID             string    `json:"id"`
	Audience       string    `json:"audience"`
	Mode           string    `json:"mode"`
	Text           string    `json:"text"`
	ConversationID string    `json:"conversation_id,omitempty"`
	TaskID         string    `json:"task_id,omitempty"`
	Status         string    `json:"status"`
	DecidedBy      string    `json:"decided_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

const pendingColumns = "id, audience, mode, text, conversation_id, task_id, status, decided_by, created_at"

func scanPending(sc scanner) (PendingMemory, error) {
	var p PendingMemory
	var at int64
	err := sc.Scan(&p.ID, &p.Audience, &p.Mode, &p.Text, &p.ConversationID, &p.TaskID, &p.Status, &p.DecidedBy, &at)
	p.CreatedAt = fromDB(at)
	return p, err
}

// AddPendingMemory stores a memory write for the admin to approve; past
// MaxPendingMemory it is refused with ErrMemoryFull.
func (s *Store) AddPendingMemory(ctx context.Context, p PendingMemory) (PendingMemory, error) {
	if err := CheckAudience(p.Audience); err != nil {
		return PendingMemory{}, fmt.Errorf("store: pending memory: %w", err)
	}
	switch {
	case p.Mode != "append" && p.Mode != "replace":
		return PendingMemory{}, fmt.Errorf("store: pending memory: mode must be append or replace")
	case !utf8.ValidString(p.Text) || strings.ContainsRune(p.Text, 0):
		return PendingMemory{}, fmt.Errorf("store: pending memory: the note must be UTF-8 text without NUL bytes")
	case len(p.Text) > MaxImportBytes:
		return PendingMemory{}, fmt.Errorf("store: pending memory: %w: the note is %d bytes", ErrMemoryFull, len(p.Text))
	}
	p.ID, p.Status, p.CreatedAt = newID("mp_"), "pending", fromDB(toDB(s.now()))
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM memory_pending WHERE status = 'pending'").Scan(&n); err != nil {
			return err
		}
		if n >= MaxPendingMemory {
			return fmt.Errorf("%w: %d memory writes already await the admin's approval", ErrMemoryFull, n)
		}
		// Decided writes are history; keep the newest 1,000.
		if _, err := s.exec(ctx, tx, "DELETE FROM memory_pending WHERE status != 'pending' AND seq <= (SELECT seq"+
			" FROM memory_pending WHERE status != 'pending' ORDER BY seq DESC LIMIT 1 OFFSET 1000)"); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, "INSERT INTO memory_pending ("+pendingColumns+", decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, 0)",
			p.ID, p.Audience, p.Mode, p.Text, p.ConversationID, p.TaskID, p.Status, toDB(p.CreatedAt))
		return err
	})
	if err != nil {
		return PendingMemory{}, fmt.Errorf("store: pending memory: %w", err)
	}
	return p, nil
}

// PendingMemories returns the memory writes awaiting approval, oldest
// first.
func (s *Store) PendingMemories(ctx context.Context) ([]PendingMemory, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT "+pendingColumns+" FROM memory_pending WHERE status = 'pending' ORDER BY seq LIMIT ?",
		MaxPendingMemory)
	if err != nil {
		return nil, fmt.Errorf("store: pending memory: %w", err)
	}
	out, err := collect(rows, scanPending)
	if err != nil {
		return nil, fmt.Errorf("store: pending memory: %w", err)
	}
	return out, nil
}

// DecidePendingMemory approves (applies, as WriteMemory with maxBytes) or
// rejects a pending memory write. An unknown id is ErrNotFound, one
// decided already ErrDecided; a write that no longer fits is refused with
// ErrMemoryFull and stays pending.
func (s *Store) DecidePendingMemory(ctx context.Context, id string, approve bool, by string, maxBytes int64) (PendingMemory, error) {
	p, err := scanPending(s.reader.QueryRowContext(ctx, "SELECT "+pendingColumns+" FROM memory_pending WHERE id = ?", id))
	if err != nil {
		return PendingMemory{}, fmt.Errorf("store: decide pending memory %q: %w", truncateForError(id), errNoRows(err))
	}
	status := "rejected"
	if approve {
		status = "approved"
	}
	claim := func(from, to string) error {
		return s.WriteTx(ctx, func(tx *sql.Tx) error {
			res, err := s.exec(ctx, tx, "UPDATE memory_pending SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = ?",
				to, by, toDB(s.now()), id, from)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return ErrDecided
			}
			return nil
		})
	}
	if err := claim("pending", status); err != nil {
		return p, fmt.Errorf("store: decide pending memory %q: %w", truncateForError(id), err)
	}
	if approve {
		_, _, err := s.WriteMemory(ctx, MemoryNote{Audience: p.Audience, Text: p.Text, ConversationID: p.ConversationID,
			TaskID: p.TaskID}, p.Mode == "replace", maxBytes)
		if err != nil {
			_ = claim("approved", "pending")
			return p, err
		}
	}
	p.Status, p.DecidedBy = status, by
	return p, nil
}

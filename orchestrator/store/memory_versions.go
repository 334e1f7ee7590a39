package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxVersionsPerSubject caps the versions kept of one audience's notes or
// one workspace file; older ones are dropped.
const MaxVersionsPerSubject = 200

// Byte caps of the versions kept, so that a model writing large files in
// a loop cannot fill the disk: past them the oldest versions are dropped
// (the newest of each subject is always kept).
const (
	MaxVersionBytesPerSubject = 4 << 20
	MaxVersionBytes           = 64 << 20
	MaxVersions               = 20000
)

// WorkspaceSubject is the prefix of the version subject of a workspace
// file: "workspace:notes/todo.md".
const WorkspaceSubject = "workspace:"

// Who made a memory change, as versions and audit entries name it.
const (
	ActorModel  = "model"
	ActorSystem = "system"
	ActorAdmin  = "admin"
)

// Change says who made a change to the memory, and in which conversation
// and task when it was the model.
type Change struct {
	Actor          string
	Action         string
	ConversationID string
	TaskID         string
}

// VersionNote is one note as a version holds it.
type VersionNote struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	CreatedAt int64  `json:"created_at"` // UTC unix nanoseconds
	Pinned    bool   `json:"pinned"`
	// ConversationID is the conversation that wrote the note.
	ConversationID string `json:"conversation_id,omitempty"`
}

// MemoryVersion is the whole of one audience's notes (or of one workspace
// file) right after a change.
type MemoryVersion struct {
	ID             string    `json:"id"`
	Subject        string    `json:"subject"`
	Action         string    `json:"action"`
	Actor          string    `json:"actor"`
	ConversationID string    `json:"conversation_id,omitempty"`
	TaskID         string    `json:"task_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// Notes are an audience's notes, oldest first; FileText a file's text.
	Notes    []VersionNote `json:"notes,omitempty"`
	FileText string        `json:"file_text,omitempty"`
}

// IsFile reports whether v is a version of a workspace file.
func (v MemoryVersion) IsFile() bool { return strings.HasPrefix(v.Subject, WorkspaceSubject) }

// Path is the workspace path of a file's version.
func (v MemoryVersion) Path() string { return strings.TrimPrefix(v.Subject, WorkspaceSubject) }

// Text is the version as one document, the form diffs compare: a file's
// text, or each note under a heading with its id and date.
func (v MemoryVersion) Text() string {
	if v.IsFile() {
		return v.FileText
	}
	var b strings.Builder
	for _, n := range v.Notes {
		pin := ""
		if n.Pinned {
			pin = ", pinned"
		}
		fmt.Fprintf(&b, "### note %s (%s%s)\n%s\n\n", n.ID, fromDB(n.CreatedAt).Format("2006-01-02 15:04"), pin,
			strings.TrimSpace(n.Text))
	}
	return b.String()
}

const versionColumns = "id, subject, action, actor, conversation_id, task_id, snapshot, created_at"

func scanVersion(sc scanner) (MemoryVersion, error) {
	var v MemoryVersion
	var snapshot string
	var at int64
	if err := sc.Scan(&v.ID, &v.Subject, &v.Action, &v.Actor, &v.ConversationID, &v.TaskID, &snapshot, &at); err != nil {
		return MemoryVersion{}, err
	}
	v.CreatedAt = fromDB(at)
	if v.IsFile() {
		v.FileText = snapshot
	} else if err := json.Unmarshal([]byte(snapshot), &v.Notes); err != nil {
		return MemoryVersion{}, fmt.Errorf("version %s: %w", v.ID, err)
	}
	return v, nil
}

// recordVersion stores the version of subject (an audience) as its notes
// now are, in tx, and drops the oldest past MaxVersionsPerSubject.
func (s *Store) recordVersion(ctx context.Context, tx *sql.Tx, subject string, ch Change) error {
	var snapshot string
	if err := tx.QueryRowContext(ctx, "SELECT json_group_array(json_object('id', id, 'text', text,"+
		" 'created_at', created_at, 'pinned', json(CASE pinned WHEN 1 THEN 'true' ELSE 'false' END),"+
		" 'conversation_id', conversation_id))"+
		" FROM (SELECT * FROM memory_notes WHERE audience = ? ORDER BY seq)", subject).Scan(&snapshot); err != nil {
		return err
	}
	return s.insertVersion(ctx, tx, subject, snapshot, ch)
}

func (s *Store) insertVersion(ctx context.Context, tx *sql.Tx, subject, snapshot string, ch Change) error {
	if ch.Actor == "" {
		ch.Actor = ActorSystem
	}
	if _, err := s.exec(ctx, tx, "INSERT INTO memory_versions ("+versionColumns+", bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		newID("v_"), subject, ch.Action, ch.Actor, ch.ConversationID, ch.TaskID, snapshot, toDB(s.now()), len(snapshot)); err != nil {
		return err
	}
	// The caps: versions of this subject by count and bytes, then all
	// versions by count and bytes; the newest of each subject stays.
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"DELETE FROM memory_versions WHERE subject = ? AND seq <= (SELECT seq FROM memory_versions" +
			" WHERE subject = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)", []any{subject, subject, MaxVersionsPerSubject}},
		{"DELETE FROM memory_versions WHERE seq IN (SELECT seq FROM (SELECT seq, sum(bytes) OVER (ORDER BY seq DESC) AS total," +
			" row_number() OVER (ORDER BY seq DESC) AS n FROM memory_versions WHERE subject = ?) WHERE total > ? AND n > 1)",
			[]any{subject, MaxVersionBytesPerSubject}},
		{"DELETE FROM memory_versions WHERE seq IN (SELECT seq FROM (SELECT seq, subject, sum(bytes) OVER (ORDER BY seq DESC) AS total," +
			" row_number() OVER (ORDER BY seq DESC) AS n, row_number() OVER (PARTITION BY subject ORDER BY seq DESC) AS k" +
			" FROM memory_versions) WHERE (total > ? OR n > ?) AND k > 1)", []any{MaxVersionBytes, MaxVersions}},
	} {
		if _, err := s.exec(ctx, tx, q.sql, q.args...); err != nil {
			return err
		}
	}
	return nil
}

// RecordFileVersion keeps a version of a workspace file the model (or the
// admin's restore) wrote, and indexes its text for memory_search.
func (s *Store) RecordFileVersion(ctx context.Context, path, text string, ch Change) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := s.indexWorkspaceText(ctx, tx, path, text); err != nil {
			return err
		}
		return s.insertVersion(ctx, tx, WorkspaceSubject+path, text, ch)
	})
	if err != nil {
		return fmt.Errorf("store: record file version: %w", err)
	}
	return nil
}

// MemoryVersions returns the versions of subject (an audience or
// WorkspaceSubject+path), newest first, at most limit (capped by
// MaxVersionsPerSubject). An empty subject lists every subject's.
func (s *Store) MemoryVersions(ctx context.Context, subject string, limit int) ([]MemoryVersion, error) {
	if limit <= 0 || limit > MaxVersionsPerSubject {
		limit = MaxVersionsPerSubject
	}
	q, args := "SELECT "+versionColumns+" FROM memory_versions ORDER BY seq DESC LIMIT ?", []any{limit}
	if subject != "" {
		q, args = "SELECT "+versionColumns+" FROM memory_versions WHERE subject = ? ORDER BY seq DESC LIMIT ?", []any{subject, limit}
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: memory versions: %w", err)
	}
	out, err := collect(rows, scanVersion)
	if err != nil {
		return nil, fmt.Errorf("store: memory versions: %w", err)
	}
	return out, nil
}

// MemoryVersion returns the version with the id and the one before it of
// the same subject (zero if it is the first); an unknown id is
// ErrNotFound.
func (s *Store) MemoryVersion(ctx context.Context, id string) (v, prev MemoryVersion, err error) {
	v, err = scanVersion(s.reader.QueryRowContext(ctx, "SELECT "+versionColumns+" FROM memory_versions WHERE id = ?", id))
	if err != nil {
		return v, prev, fmt.Errorf("store: memory version %q: %w", truncateForError(id), errNoRows(err))
	}
	prev, err = scanVersion(s.reader.QueryRowContext(ctx, "SELECT "+versionColumns+" FROM memory_versions"+
		" WHERE subject = ? AND seq < (SELECT seq FROM memory_versions WHERE id = ?) ORDER BY seq DESC LIMIT 1", v.Subject, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, MemoryVersion{}, nil
	}
	if err != nil {
		return v, prev, fmt.Errorf("store: memory version %q: %w", truncateForError(id), err)
	}
	return v, prev, nil
}

// RestoreMemoryVersion makes an audience's notes what the version holds
// (the notes since are deleted, those gone come back) and records the
// result as a new version. A note restored whose id another audience now
// uses (it was shared) comes back under a new id. A file's version is
// restored by the orchestrator (it writes the workspace), not here.
func (s *Store) RestoreMemoryVersion(ctx context.Context, id string, ch Change) (MemoryVersion, error) {
	v, _, err := s.MemoryVersion(ctx, id)
	if err != nil {
		return MemoryVersion{}, err
	}
	if v.IsFile() {
		return MemoryVersion{}, fmt.Errorf("store: restore memory version: %s is a workspace file's", id)
	}
	ch.Action = "restore"
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, "DELETE FROM memory_notes WHERE audience = ?", v.Subject); err != nil {
			return err
		}
		var total int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM memory_notes").Scan(&total); err != nil {
			return err
		}
		if total+len(v.Notes) > MaxMemoryNotes {
			return fmt.Errorf("%w: the memory would hold %d notes, the limit is %d", ErrMemoryFull, total+len(v.Notes), MaxMemoryNotes)
		}
		now := toDB(s.now())
		for _, n := range v.Notes {
			var taken int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM memory_notes WHERE id = ?", n.ID).Scan(&taken); err != nil {
				return err
			}
			if taken > 0 || n.ID == "" {
				n.ID = newID("m_")
			}
			if _, err := s.exec(ctx, tx, "INSERT INTO memory_notes ("+memoryColumns+", pinned) VALUES (?, ?, ?, ?, '', ?, ?, ?)",
				n.ID, v.Subject, n.Text, n.ConversationID, n.CreatedAt, now, n.Pinned); err != nil {
				return err
			}
		}
		return s.recordVersion(ctx, tx, v.Subject, ch)
	})
	if err != nil {
		return MemoryVersion{}, fmt.Errorf("store: restore memory version %q: %w", truncateForError(id), err)
	}
	return v, nil
}

// EditMemoryNote replaces a note's text (the admin's edit) and records the
// version; an unknown id is ErrNotFound. It returns the note as it was.
func (s *Store) EditMemoryNote(ctx context.Context, id, text string, ch Change) (MemoryNote, error) {
	switch {
	case strings.TrimSpace(text) == "":
		return MemoryNote{}, fmt.Errorf("store: edit memory note: text is empty")
	case !utf8.ValidString(text) || strings.ContainsRune(text, 0):
		return MemoryNote{}, fmt.Errorf("store: edit memory note: text must be UTF-8 text without NUL bytes")
	case len(text) > MaxImportBytes:
		return MemoryNote{}, fmt.Errorf("store: edit memory note: %w: text is %d bytes, the limit is %d bytes",
			ErrMemoryFull, len(text), MaxImportBytes)
	}
	ch.Action = "edit"
	return s.changeNote(ctx, id, ch, "UPDATE memory_notes SET text = ?, updated_at = ? WHERE id = ?", text, toDB(s.now()), id)
}

// PinMemoryNote pins or unpins a note: a pinned note is put in the system
// prompt first, whatever its age.
func (s *Store) PinMemoryNote(ctx context.Context, id string, pinned bool, ch Change) (MemoryNote, error) {
	ch.Action = "unpin"
	if pinned {
		ch.Action = "pin"
	}
	return s.changeNote(ctx, id, ch, "UPDATE memory_notes SET pinned = ? WHERE id = ?", pinned, id)
}

// changeNote runs one update of the note id and records its audience's
// version; it returns the note as it was.
func (s *Store) changeNote(ctx context.Context, id string, ch Change, update string, args ...any) (MemoryNote, error) {
	var before MemoryNote
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		before, err = scanMemoryNote(tx.QueryRowContext(ctx, "SELECT "+memorySelect+" FROM memory_notes WHERE id = ?", id))
		if err != nil {
			return errNoRows(err)
		}
		if _, err := s.exec(ctx, tx, update, args...); err != nil {
			return err
		}
		return s.recordVersion(ctx, tx, before.Audience, ch)
	})
	if err != nil {
		return MemoryNote{}, fmt.Errorf("store: %s memory note %q: %w", ch.Action, truncateForError(id), err)
	}
	return before, nil
}

// MemorySubjects returns the subjects that have versions (audiences and
// WorkspaceSubject+path), sorted, at most 1,000.
func (s *Store) MemorySubjects(ctx context.Context) ([]string, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT DISTINCT subject FROM memory_versions ORDER BY subject LIMIT 1000")
	if err != nil {
		return nil, fmt.Errorf("store: memory subjects: %w", err)
	}
	out, err := collect(rows, func(sc scanner) (string, error) {
		var sub string
		err := sc.Scan(&sub)
		return sub, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: memory subjects: %w", err)
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Caps of memory_search. A query is at most MaxSearchQueryBytes and
// MaxSearchTerms words; a search returns at most MaxSearchResults hits.
const (
	MaxSearchQueryBytes  = 512
	MaxSearchTerms       = 16
	MaxSearchResults     = 20
	DefaultSearchResults = 8
)

// Search scopes.
const (
	// ScopeAll searches the conversations the reader may read, its notes
	// and the workspace's texts.
	ScopeAll = "all"
	// ScopeConversation searches the current conversation only.
	ScopeConversation = "conversation"
	// ScopeNotes searches the notes and the workspace's texts only.
	ScopeNotes = "notes"
)

// ErrBadQuery is matched by the error of a search query that cannot be
// run; its text says why, in words a model or an admin can act on.
var ErrBadQuery = errors.New("bad search query")

// Search is one memory_search request.
type Search struct {
	// Reader is the memory audience of the task that searches
	// (CanRead): it finds the conversations and notes of that audience and
	// those shared with everyone; the admin finds everything.
	Reader string
	// ConversationID is the current conversation: always searchable, and
	// the only one with ScopeConversation.
	ConversationID string
	// TaskID is the searching task: its own messages (the question just
	// asked) are left out.
	TaskID string
	Query  string
	Scope  string // ScopeAll when empty
	Limit  int    // DefaultSearchResults when 0
}

// SearchHit is one result: a message of a past conversation, a note or a
// workspace text, with a snippet around the words found.
type SearchHit struct {
	Kind              string    `json:"kind"` // "message", "note" or "file"
	ConversationID    string    `json:"conversation_id,omitempty"`
	ConversationTitle string    `json:"conversation_title,omitempty"`
	Role              string    `json:"role,omitempty"`
	NoteID            string    `json:"note_id,omitempty"`
	Audience          string    `json:"audience,omitempty"`
	Path              string    `json:"path,omitempty"`
	Date              time.Time `json:"date"`
	Snippet           string    `json:"snippet"`
	// Rank is the bm25 rank (lower is better).
	Rank float64 `json:"-"`
	seq  int64   // the row in its table
}

// ftsTerms turns free text into the terms of an FTS5 query: the runs of
// letters and digits, each quoted, so that no character of the user's
// (or model's) text is FTS syntax. It refuses an empty or oversized
// query.
func ftsTerms(q string) ([]string, error) {
	switch {
	case !utf8.ValidString(q):
		return nil, fmt.Errorf("%w: query must be UTF-8 text", ErrBadQuery)
	case len(q) > MaxSearchQueryBytes:
		return nil, fmt.Errorf("%w: query is %d bytes, the limit is %d bytes", ErrBadQuery, len(q), MaxSearchQueryBytes)
	}
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: query must contain at least one word", ErrBadQuery)
	}
	var terms []string
	for _, w := range words {
		t := `"` + strings.ToLower(w) + `"`
		if !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	if len(terms) > MaxSearchTerms {
		return nil, fmt.Errorf("%w: query has %d words, the limit is %d", ErrBadQuery, len(terms), MaxSearchTerms)
	}
	return terms, nil
}

// SearchMemory runs a memory_search: bm25-ranked full-text search over the
// user messages and final answers of the conversations s.Reader may read
// (and the current one), the notes it may read and the workspace's texts.
// All the words must match; if nothing does, any word may. Hits are best
// first.
func (s *Store) SearchMemory(ctx context.Context, q Search) ([]SearchHit, error) {
	terms, err := ftsTerms(q.Query)
	if err != nil {
		return nil, err
	}
	switch q.Scope {
	case "":
		q.Scope = ScopeAll
	case ScopeAll, ScopeConversation, ScopeNotes:
	default:
		return nil, fmt.Errorf("%w: scope must be %q, %q or %q", ErrBadQuery, ScopeAll, ScopeConversation, ScopeNotes)
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultSearchResults
	case q.Limit < 0 || q.Limit > MaxSearchResults:
		return nil, fmt.Errorf("%w: limit must be between 1 and %d", ErrBadQuery, MaxSearchResults)
	}
	if q.Scope != ScopeNotes {
		// Messages still queued for the index are indexed first. If that
		// fails (a full disk), the search still answers from the index.
		if err := s.indexQueued(ctx); err != nil {
			s.logger.Warn("memory search: indexing the queued messages failed", "err", err)
		}
	}
	hits, err := s.search(ctx, q, "("+strings.Join(terms, " ")+")")
	if err == nil && len(hits) == 0 && len(terms) > 1 {
		hits, err = s.search(ctx, q, "("+strings.Join(terms, " OR ")+")")
	}
	if err != nil {
		return nil, fmt.Errorf("store: search memory: %w", err)
	}
	return hits, nil
}

const snippetArgs = "'[', ']', ' … ', 24"

func (s *Store) search(ctx context.Context, q Search, match string) ([]SearchHit, error) {
	var hits []SearchHit
	if q.Scope != ScopeNotes {
		// The audience and conversation are FTS terms of their own columns
		// (so a narrow search is an AND with a rare term), and the same
		// rule again in SQL.
		mmatch := "content : " + match
		where, args := "", []any{}
		switch {
		case q.Scope == ScopeConversation || (q.Reader != AudienceAdmin && CheckAudience(q.Reader) != nil):
			mmatch += " AND conv : " + ftsPhrase(q.ConversationID)
			where, args = " AND m.conversation_id = ?", append(args, q.ConversationID)
		case q.Reader == AudienceAdmin:
		default:
			mmatch += " AND (aud : " + ftsPhrase(q.Reader) + " OR conv : " + ftsPhrase(q.ConversationID) + ")"
			where, args = " AND (c.audience = ? OR m.conversation_id = ?)", append(args, q.Reader, q.ConversationID)
		}
		args = append([]any{mmatch}, args...)
		args = append(args, q.TaskID, q.Limit)
		rows, err := s.reader.QueryContext(ctx, "SELECT m.seq, m.conversation_id, c.title, m.role, m.created_at,"+
			" bm25(messages_fts)"+
			" FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid"+
			" JOIN conversations c ON c.id = m.conversation_id"+
			" WHERE messages_fts MATCH ?"+where+" AND m.task_id != ? ORDER BY bm25(messages_fts) LIMIT ?", args...)
		if err != nil {
			return nil, err
		}
		found, err := collect(rows, func(sc scanner) (SearchHit, error) {
			h := SearchHit{Kind: "message"}
			var at int64
			err := sc.Scan(&h.seq, &h.ConversationID, &h.ConversationTitle, &h.Role, &at, &h.Rank)
			h.Date = fromDB(at)
			return h, err
		})
		if err != nil {
			return nil, err
		}
		hits = append(hits, found...)
	}
	if q.Scope != ScopeConversation {
		where, args := "", []any{match}
		switch {
		case q.Reader == AudienceAdmin:
		case CheckAudience(q.Reader) == nil:
			where, args = " AND n.audience IN (?, ?)", append(args, AudienceEveryone, q.Reader)
		default:
			where, args = " AND n.audience = ?", append(args, AudienceEveryone)
		}
		rows, err := s.reader.QueryContext(ctx, "SELECT n.seq, n.id, n.audience, n.conversation_id, n.updated_at,"+
			" bm25(memory_notes_fts)"+
			" FROM memory_notes_fts JOIN memory_notes n ON n.seq = memory_notes_fts.rowid"+
			" WHERE memory_notes_fts MATCH ?"+where+" ORDER BY bm25(memory_notes_fts) LIMIT ?", append(args, q.Limit)...)
		if err != nil {
			return nil, err
		}
		found, err := collect(rows, func(sc scanner) (SearchHit, error) {
			h := SearchHit{Kind: "note"}
			var at int64
			err := sc.Scan(&h.seq, &h.NoteID, &h.Audience, &h.ConversationID, &at, &h.Rank)
			h.Date = fromDB(at)
			return h, err
		})
		if err != nil {
			return nil, err
		}
		hits = append(hits, found...)
		rows, err = s.reader.QueryContext(ctx, "SELECT w.seq, w.path, w.updated_at,"+
			" bm25(workspace_texts_fts)"+
			" FROM workspace_texts_fts JOIN workspace_texts w ON w.seq = workspace_texts_fts.rowid"+
			" WHERE workspace_texts_fts MATCH ? ORDER BY bm25(workspace_texts_fts) LIMIT ?", match, q.Limit)
		if err != nil {
			return nil, err
		}
		found, err = collect(rows, func(sc scanner) (SearchHit, error) {
			h := SearchHit{Kind: "file"}
			var at int64
			err := sc.Scan(&h.seq, &h.Path, &at, &h.Rank)
			h.Date = fromDB(at)
			return h, err
		})
		if err != nil {
			return nil, err
		}
		hits = append(hits, found...)
	}
	slices.SortStableFunc(hits, func(a, b SearchHit) int {
		switch {
		case a.Rank < b.Rank:
			return -1
		case a.Rank > b.Rank:
			return 1
		}
		return b.Date.Compare(a.Date)
	})
	if len(hits) > q.Limit {
		hits = hits[:q.Limit]
	}
	// Snippets only for the hits returned: computing one means reading and
	// tokenizing the text, too dear for every match of a common word.
	for i := range hits {
		table := map[string]string{"message": "messages_fts", "note": "memory_notes_fts", "file": "workspace_texts_fts"}[hits[i].Kind]
		m := match
		if table == "messages_fts" {
			m = "content : " + match
		}
		if err := s.reader.QueryRowContext(ctx, "SELECT snippet("+table+", 0, "+snippetArgs+") FROM "+table+
			" WHERE "+table+" MATCH ? AND rowid = ?", m, hits[i].seq).Scan(&hits[i].Snippet); err != nil {
			return nil, err
		}
	}
	return hits, nil
}

// ftsPhrase quotes s as one FTS5 phrase (its tokens in order). An empty s
// is a token no text has.
func ftsPhrase(s string) string {
	if s == "" {
		s = "\x01none"
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// IndexWorkspaceText records the text of a workspace file as the model
// wrote it, for memory_search; an empty text removes it.
func (s *Store) IndexWorkspaceText(ctx context.Context, path, text string) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error { return s.indexWorkspaceText(ctx, tx, path, text) })
}

func (s *Store) indexWorkspaceText(ctx context.Context, tx *sql.Tx, path, text string) error {
	if strings.TrimSpace(text) == "" {
		_, err := s.exec(ctx, tx, "DELETE FROM workspace_texts WHERE path = ?", path)
		return err
	}
	_, err := s.exec(ctx, tx, "INSERT INTO workspace_texts (path, text, updated_at) VALUES (?, ?, ?)"+
		" ON CONFLICT (path) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
		path, text, toDB(s.now()))
	return err
}

// SyncWorkspaceTexts makes the workspace texts memory_search reads exactly
// files (path to text), as the orchestrator found them on disk at start:
// files written outside workspace_write (by the admin) are indexed, and
// deleted ones dropped. Unchanged texts are not rewritten.
func (s *Store) SyncWorkspaceTexts(ctx context.Context, files map[string]string) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT path FROM workspace_texts")
		if err != nil {
			return err
		}
		var gone []string
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return err
			}
			if _, ok := files[p]; !ok {
				gone = append(gone, p)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, p := range gone {
			if _, err := s.exec(ctx, tx, "DELETE FROM workspace_texts WHERE path = ?", p); err != nil {
				return err
			}
		}
		for p, text := range files {
			if strings.TrimSpace(text) == "" {
				if _, err := s.exec(ctx, tx, "DELETE FROM workspace_texts WHERE path = ?", p); err != nil {
					return err
				}
				continue
			}
			if _, err := s.exec(ctx, tx, "INSERT INTO workspace_texts (path, text, updated_at) VALUES (?, ?, ?)"+
				" ON CONFLICT (path) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at"+
				" WHERE text != excluded.text", p, text, toDB(s.now())); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: sync workspace texts: %w", err)
	}
	return nil
}

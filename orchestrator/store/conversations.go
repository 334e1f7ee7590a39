package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Conversation sources.
const (
	SourceWeb     = "web"
	SourceDiscord = "discord"
	SourceAPI     = "api"
	// SourceJob is the conversation of a scheduled job (issue 14): its
	// runs' answers, shown in Chat with a job badge, read-only there.
	SourceJob = "job"
)

// Conversation is one chat thread.
type Conversation struct {
	ID        string    `json:"id"`
	Source    string    `json:"source"` // SourceWeb, SourceDiscord or SourceAPI
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"` // bumped by every AddMessage
}

// List limits for ListConversations.
const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// MaxTitleBytes caps the title a conversation is created with.
const MaxTitleBytes = 200

// ErrTitleTooLong refuses a conversation title over MaxTitleBytes.
var ErrTitleTooLong = fmt.Errorf("the title is longer than %d bytes", MaxTitleBytes)

const conversationColumns = "id, source, title, created_at, updated_at"

// CreateConversation stores a new conversation with a fresh "c_" id.
// A title longer than MaxTitleBytes is refused with ErrTitleTooLong.
func (s *Store) CreateConversation(ctx context.Context, source, title string) (Conversation, error) {
	switch source {
	case SourceWeb, SourceDiscord, SourceAPI, SourceJob:
	default:
		return Conversation{}, fmt.Errorf("store: create conversation: unknown source %q", source)
	}
	if len(title) > MaxTitleBytes {
		return Conversation{}, fmt.Errorf("store: create conversation: %w", ErrTitleTooLong)
	}
	now := fromDB(toDB(s.now()))
	c := Conversation{ID: newID("c_"), Source: source, Title: title, CreatedAt: now, UpdatedAt: now}
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx,
			"INSERT INTO conversations ("+conversationColumns+") VALUES (?, ?, ?, ?, ?)",
			c.ID, c.Source, c.Title, toDB(c.CreatedAt), toDB(c.UpdatedAt))
		return err
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("store: create conversation: %w", err)
	}
	return c, nil
}

// TitleIfEmpty gives an untitled conversation a title (the web chat uses
// the start of the first message); a conversation with one keeps it.
func (s *Store) TitleIfEmpty(ctx context.Context, id, title string) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, "UPDATE conversations SET title = ? WHERE id = ? AND title = ''", title, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: title conversation %q: %w", id, err)
	}
	return nil
}

// GetConversation returns the conversation with the given id, or an error
// matching ErrNotFound.
func (s *Store) GetConversation(ctx context.Context, id string) (Conversation, error) {
	row := s.readQueryRow(ctx,
		"SELECT "+conversationColumns+" FROM conversations WHERE id = ?", id)
	c, err := scanConversation(row)
	if err != nil {
		return Conversation{}, fmt.Errorf("store: get conversation %q: %w", id, errNoRows(err))
	}
	return c, nil
}

// ListConversations returns conversations, most recently updated first. A
// limit of 0 or less means 50; limits above 500 are capped.
func (s *Store) ListConversations(ctx context.Context, limit, offset int) ([]Conversation, error) {
	limit, offset = clampPage(limit, offset)
	rows, err := s.reader.QueryContext(ctx,
		"SELECT "+conversationColumns+" FROM conversations"+
			" ORDER BY updated_at DESC, rowid DESC LIMIT ? OFFSET ?", limit, offset)
	if err != nil {
		return nil, fmt.Errorf("store: list conversations: %w", err)
	}
	out, err := collect(rows, scanConversation)
	if err != nil {
		return nil, fmt.Errorf("store: list conversations: %w", err)
	}
	return out, nil
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

func scanConversation(sc scanner) (Conversation, error) {
	var c Conversation
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Source, &c.Title, &created, &updated); err != nil {
		return Conversation{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromDB(created), fromDB(updated)
	return c, nil
}

// clampPage applies the default and maximum page size and a floor of 0 to
// the offset.
func clampPage(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	return limit, max(offset, 0)
}

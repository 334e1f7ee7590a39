package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ExternalConversation returns the conversation that the external thread
// (source, key) continues, for example a Discord channel. When the thread
// has none yet, it creates one titled title and binds the thread to it, in
// one transaction, so two messages racing in a new thread share one
// conversation.
func (s *Store) ExternalConversation(ctx context.Context, source, key, title string) (Conversation, error) {
	if err := checkExternal(source, key); err != nil {
		return Conversation{}, fmt.Errorf("store: external conversation: %w", err)
	}
	c, err := scanConversation(s.reader.QueryRowContext(ctx, externalQuery, source, key))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, fmt.Errorf("store: external conversation %s %q: %w", source, key, err)
	}
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		c, err = scanConversation(tx.QueryRowContext(ctx, externalQuery, source, key))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		c, err = s.bindNewConversation(ctx, tx, source, key, title)
		return err
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("store: external conversation %s %q: %w", source, key, err)
	}
	return c, nil
}

// NewExternalConversation creates a conversation titled title and binds
// the external thread (source, key) to it, replacing its earlier binding.
// The earlier conversation is left as it is.
func (s *Store) NewExternalConversation(ctx context.Context, source, key, title string) (Conversation, error) {
	if err := checkExternal(source, key); err != nil {
		return Conversation{}, fmt.Errorf("store: new external conversation: %w", err)
	}
	var c Conversation
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = s.bindNewConversation(ctx, tx, source, key, title)
		return err
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("store: new external conversation %s %q: %w", source, key, err)
	}
	return c, nil
}

// externalQuery selects the conversation bound to (source, external_key).
const externalQuery = "SELECT c.id, c.source, c.title, c.created_at, c.updated_at" +
	" FROM external_conversations e JOIN conversations c ON c.id = e.conversation_id" +
	" WHERE e.source = ? AND e.external_key = ?"

// bindNewConversation inserts a conversation and points (source, key) at it.
func (s *Store) bindNewConversation(ctx context.Context, tx *sql.Tx, source, key, title string) (Conversation, error) {
	now := fromDB(toDB(s.now()))
	c := Conversation{ID: newID("c_"), Source: source, Title: title, CreatedAt: now, UpdatedAt: now}
	_, err := s.exec(ctx, tx,
		"INSERT INTO conversations ("+conversationColumns+") VALUES (?, ?, ?, ?, ?)",
		c.ID, c.Source, c.Title, toDB(c.CreatedAt), toDB(c.UpdatedAt))
	if err != nil {
		return Conversation{}, err
	}
	_, err = s.exec(ctx, tx,
		"INSERT INTO external_conversations (source, external_key, conversation_id, updated_at)"+
			" VALUES (?, ?, ?, ?) ON CONFLICT (source, external_key)"+
			" DO UPDATE SET conversation_id = excluded.conversation_id, updated_at = excluded.updated_at",
		source, key, c.ID, toDB(now))
	if err != nil {
		return Conversation{}, err
	}
	return c, nil
}

// checkExternal validates the source and key of an external thread.
func checkExternal(source, key string) error {
	switch source {
	case SourceWeb, SourceDiscord, SourceAPI:
	default:
		return fmt.Errorf("unknown source %q", source)
	}
	if key == "" || len(key) > 256 {
		return fmt.Errorf("key must be 1 to 256 bytes")
	}
	return nil
}

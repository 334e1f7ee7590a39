package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Usage sums the LLM calls of a conversation.
type Usage struct {
	Requests     int `json:"requests"`
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// RecordUsage stores one LLM call, timestamped now. conversationID and
// taskID may be empty (a call outside any conversation) and are not checked
// against their tables: accounting never fails for lack of context.
func (s *Store) RecordUsage(ctx context.Context, conversationID, taskID, provider, model string, inputTokens, outputTokens int) error {
	if inputTokens < 0 || outputTokens < 0 {
		return fmt.Errorf("store: record usage: negative token count (%d, %d)", inputTokens, outputTokens)
	}
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		return s.insertUsage(ctx, tx, LLMCall{ConversationID: conversationID, TaskID: taskID, Provider: provider,
			Model: model, InputTokens: inputTokens, OutputTokens: outputTokens})
	})
	if err != nil {
		return fmt.Errorf("store: record usage: %w", err)
	}
	return nil
}

// UsageSince returns the number of LLM calls recorded at or after since and
// their total tokens (input plus output).
func (s *Store) UsageSince(ctx context.Context, since time.Time) (requests, tokens int, err error) {
	err = s.reader.QueryRowContext(ctx,
		"SELECT COUNT(*), COALESCE(SUM(input_tokens + output_tokens), 0) FROM usage WHERE created_at >= ?",
		toDB(since)).Scan(&requests, &tokens)
	if err != nil {
		return 0, 0, fmt.Errorf("store: usage since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return requests, tokens, nil
}

// ConversationUsage returns the LLM usage recorded for a conversation (zero
// for an unknown one).
func (s *Store) ConversationUsage(ctx context.Context, conversationID string) (Usage, error) {
	var u Usage
	err := s.reader.QueryRowContext(ctx,
		"SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0)"+
			" FROM usage WHERE conversation_id = ?", conversationID).
		Scan(&u.Requests, &u.InputTokens, &u.OutputTokens)
	if err != nil {
		return Usage{}, fmt.Errorf("store: usage of %q: %w", conversationID, err)
	}
	return u, nil
}

func (s *Store) insertUsage(ctx context.Context, tx *sql.Tx, c LLMCall) error {
	var cost any // NULL: unknown
	if c.CostNanos != nil {
		cost = *c.CostNanos
	}
	_, err := s.exec(ctx, tx,
		"INSERT INTO usage (conversation_id, task_id, provider, model, input_tokens, output_tokens,"+
			" cache_read_tokens, cache_write_tokens, cost_nanos, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ConversationID, c.TaskID, c.Provider, c.Model, c.InputTokens, c.OutputTokens,
		c.CacheReadTokens, c.CacheWriteTokens, cost, toDB(s.now()))
	return err
}

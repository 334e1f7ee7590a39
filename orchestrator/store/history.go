package store

import (
	"context"
	"database/sql"
	"fmt"
)

// EstimateTokens is the token estimate History budgets with: a quarter of
// the text's bytes, rounded up, plus 4 for the message's framing. It is a
// rough, provider-independent figure (about 4 bytes per token for English
// text; fewer for other scripts, so those get a smaller history, never a
// larger one).
func EstimateTokens(content string) int { return (len(content)+3)/4 + 4 }

// historyWhere selects the messages a history keeps. It is, word for word,
// the WHERE of the messages_history index (migration 0010), so SQLite can
// use that partial index.
const historyWhere = "(role = 'user' OR (role = 'assistant' AND tool_calls IS NULL AND is_error = 0))"

// History returns the newest user messages and final assistant answers of
// a conversation (tool results, tool calls and errors left out) in the
// order they were added: at most maxMessages of them, and no more than fit
// tokenBudget by EstimateTokens, except that the newest message is always
// returned. It reads only those rows, newest first, through the
// messages_history index: its cost does not grow with the conversation's
// age. The result starts with a user message. An unknown conversation
// gives an error matching ErrNotFound.
func (s *Store) History(ctx context.Context, conversationID string, tokenBudget, maxMessages int) ([]Message, error) {
	if maxMessages <= 0 {
		return nil, fmt.Errorf("store: history of %q: message cap %d is not positive", conversationID, maxMessages)
	}
	var out []Message
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := txQueryRow(ctx, s, tx, "SELECT 1 FROM conversations WHERE id = ?", conversationID).Scan(&one)
		if err != nil {
			return errNoRows(err)
		}
		rows, err := txQuery(ctx, s, tx, "SELECT "+messageColumns+" FROM messages INDEXED BY messages_history"+
			" WHERE conversation_id = ? AND "+historyWhere+" ORDER BY seq DESC LIMIT ?", conversationID, maxMessages)
		if err != nil {
			return err
		}
		defer rows.Close()
		used := 0
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			used += EstimateTokens(m.Content)
			if len(out) > 0 && used > tokenBudget {
				break
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: history of %q: %w", conversationID, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	for len(out) > 0 && out[0].Role != RoleUser {
		out = out[1:]
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Message roles, as stored.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one stored chat message.
type Message struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"conversation_id"`
	TaskID         string     `json:"task_id,omitempty"` // the task that produced it; empty for user messages
	Role           string     `json:"role"`              // RoleUser, RoleAssistant or RoleTool
	Content        string     `json:"content"`
	ToolCalls      []ToolCall `json:"tool_calls,omitempty"` // stored as JSON
	ToolCallID     string     `json:"tool_call_id,omitempty"`
	ToolName       string     `json:"tool_name,omitempty"`
	IsError        bool       `json:"is_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

// ToolCall is one tool call of a stored assistant message. Its JSON form is
// what the tool_calls column holds (pinned by testdata/tool_calls.golden):
// change it only with a migration.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"` // a JSON object
}

const messageColumns = "id, conversation_id, task_id, role, content, tool_calls," +
	" tool_call_id, tool_name, is_error, created_at"

// AddMessage stores m with a fresh "m_" id and the current time (both
// returned) and bumps the conversation's UpdatedAt in the same transaction.
// An unknown conversation gives an error matching ErrNotFound and stores
// nothing.
func (s *Store) AddMessage(ctx context.Context, m Message) (Message, error) {
	m, calls, err := s.newMessage(m)
	if err != nil {
		return Message{}, err
	}
	err = s.WriteTx(ctx, func(tx *sql.Tx) error { return s.insertMessage(ctx, tx, m, calls) })
	if err != nil {
		return Message{}, fmt.Errorf("store: add message to %q: %w", m.ConversationID, err)
	}
	return m, nil
}

// newMessage checks m and gives it an id, a time and its encoded tool calls.
func (s *Store) newMessage(m Message) (Message, any, error) {
	switch m.Role {
	case RoleUser, RoleAssistant, RoleTool:
	default:
		return Message{}, nil, fmt.Errorf("store: add message: unknown role %q", m.Role)
	}
	var calls any // NULL when there are none
	if len(m.ToolCalls) > 0 {
		b, err := json.Marshal(m.ToolCalls)
		if err != nil {
			return Message{}, nil, fmt.Errorf("store: add message: encode tool calls: %w", err)
		}
		calls = string(b)
	}
	m.ID, m.CreatedAt = newID("m_"), fromDB(toDB(s.now()))
	return m, calls, nil
}

// insertMessage stores a message made by newMessage and bumps its
// conversation's UpdatedAt.
func (s *Store) insertMessage(ctx context.Context, tx *sql.Tx, m Message, calls any) error {
	_, err := s.exec(ctx, tx,
		"INSERT INTO messages ("+messageColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		m.ID, m.ConversationID, m.TaskID, m.Role, m.Content, calls,
		m.ToolCallID, m.ToolName, m.IsError, toDB(m.CreatedAt))
	if err != nil {
		return mapFK(err)
	}
	s.queuedForIndex() // the trigger messages_fts_insert decides which ones
	res, err := s.exec(ctx, tx, "UPDATE conversations SET updated_at = ? WHERE id = ?",
		toDB(m.CreatedAt), m.ConversationID)
	if err != nil {
		return err
	}
	return expectOneRow(res)
}

// Messages returns the messages of a conversation in the order they were
// added. An unknown conversation gives an error matching ErrNotFound.
func (s *Store) Messages(ctx context.Context, conversationID string) ([]Message, error) {
	var out []Message
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM conversations WHERE id = ?", conversationID).Scan(&one)
		if err != nil {
			return errNoRows(err)
		}
		out, err = queryMessages(ctx, tx, conversationID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: messages of %q: %w", conversationID, err)
	}
	return out, nil
}

func queryMessages(ctx context.Context, tx *sql.Tx, conversationID string) ([]Message, error) {
	rows, err := tx.QueryContext(ctx,
		"SELECT "+messageColumns+" FROM messages WHERE conversation_id = ? ORDER BY seq", conversationID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMessage)
}

func scanMessage(sc scanner) (Message, error) {
	var m Message
	var calls sql.NullString
	var created int64
	err := sc.Scan(&m.ID, &m.ConversationID, &m.TaskID, &m.Role, &m.Content, &calls,
		&m.ToolCallID, &m.ToolName, &m.IsError, &created)
	if err != nil {
		return Message{}, err
	}
	if calls.Valid {
		if err := json.Unmarshal([]byte(calls.String), &m.ToolCalls); err != nil {
			return Message{}, fmt.Errorf("decode tool calls of %q: %w", m.ID, err)
		}
	}
	m.CreatedAt = fromDB(created)
	return m, nil
}

// mapFK turns a foreign-key violation into ErrNotFound: the row referred to
// a parent that does not exist.
func mapFK(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return ErrNotFound
	}
	return err
}

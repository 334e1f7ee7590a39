package store

import (
	"context"
	"database/sql"
	"fmt"
)

// The methods in this file group the writes of one step of a conversation
// turn into one transaction: fewer commits per turn, and no step is ever
// stored half-way.

// StartTask stores a new queued task and the user message it answers. A
// non-empty audience becomes the conversation's if it has none yet (its
// first message), in the same transaction.
func (s *Store) StartTask(ctx context.Context, conversationID, audience, text string) (Task, Message, error) {
	if audience != "" {
		if err := CheckAudience(audience); err != nil || audience == AudienceEveryone {
			return Task{}, Message{}, fmt.Errorf("store: start task in %q: %w", conversationID, ErrInvalidAudience)
		}
	}
	now := fromDB(toDB(s.now()))
	t := Task{ID: newID("t_"), ConversationID: conversationID, Status: TaskQueued, CreatedAt: now, UpdatedAt: now}
	m, calls, err := s.newMessage(Message{ConversationID: conversationID, TaskID: t.ID, Role: RoleUser, Content: text})
	if err != nil {
		return Task{}, Message{}, err
	}
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		if audience != "" {
			// The first message fixes the audience (memory_search's
			// readers); later ones change nothing.
			if _, err := s.exec(ctx, tx, "UPDATE conversations SET audience = ? WHERE id = ? AND audience = ''", audience, conversationID); err != nil {
				return err
			}
		}
		if err := s.insertTask(ctx, tx, t); err != nil {
			return err
		}
		return s.insertMessage(ctx, tx, m, calls)
	})
	if err != nil {
		return Task{}, Message{}, fmt.Errorf("store: start task in %q: %w", conversationID, err)
	}
	return t, m, nil
}

// FinishTask stores a task's final message and its end status. When audit
// is not nil, the entry it builds is appended to the audit log in the same
// commit: the task's end and its audit entry are stored together or not at
// all (an error wrapping ErrAuditAppend when the entry could not be
// appended).
func (s *Store) FinishTask(ctx context.Context, taskID, status, errText string, answer Message, audit AuditBuild) (Message, error) {
	if status != TaskDone && status != TaskFailed {
		return Message{}, fmt.Errorf("store: finish task %q: status %q is not an end status", taskID, status)
	}
	answer.TaskID = taskID
	m, calls, err := s.newMessage(answer)
	if err != nil {
		return Message{}, err
	}
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := s.insertMessage(ctx, tx, m, calls); err != nil {
			return err
		}
		if err := s.updateTaskStatus(ctx, tx, taskID, status, errText); err != nil || audit == nil {
			return err
		}
		if _, err := s.appendAudit(ctx, tx, audit); err != nil {
			return fmt.Errorf("%w: %w", ErrAuditAppend, err)
		}
		return nil
	})
	if err != nil {
		return Message{}, fmt.Errorf("store: finish task %q: %w", taskID, err)
	}
	return m, nil
}

// LLMCall is the record of one model call made for a task.
type LLMCall struct {
	ConversationID, TaskID, Provider, Model string
	InputTokens, OutputTokens               int // input: all of it, cached tokens included
	// CacheReadTokens and CacheWriteTokens are the parts of InputTokens
	// read from and written to the provider's prompt cache.
	CacheReadTokens, CacheWriteTokens int
	// CostNanos is the call's cost in nano-units of the price table's
	// currency; nil means unknown (no price for the model).
	CostNanos *int64
	// Message, when set, is stored with the usage (the assistant message
	// that asked for tool calls).
	Message *Message
}

// RecordLLMCall stores the usage of one model call and, if given, its
// message.
func (s *Store) RecordLLMCall(ctx context.Context, c LLMCall) error {
	if c.InputTokens < 0 || c.OutputTokens < 0 || c.CacheReadTokens < 0 || c.CacheWriteTokens < 0 ||
		(c.CostNanos != nil && *c.CostNanos < 0) {
		return fmt.Errorf("store: record llm call: negative token count or cost (%d, %d, %d, %d)",
			c.InputTokens, c.OutputTokens, c.CacheReadTokens, c.CacheWriteTokens)
	}
	var m Message
	var calls any
	if c.Message != nil {
		var err error
		if m, calls, err = s.newMessage(*c.Message); err != nil {
			return err
		}
	}
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := s.insertUsage(ctx, tx, c); err != nil {
			return err
		}
		// A task that called the model runs: its first call marks it,
		// without a commit of its own. A task that already ended keeps
		// its end.
		if c.TaskID != "" {
			if _, err := s.exec(ctx, tx, "UPDATE tasks SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
				TaskRunning, toDB(s.now()), c.TaskID, TaskQueued); err != nil {
				return err
			}
		}
		if c.Message == nil {
			return nil
		}
		return s.insertMessage(ctx, tx, m, calls)
	})
	if err != nil {
		return fmt.Errorf("store: record llm call for %q: %w", c.TaskID, err)
	}
	return nil
}

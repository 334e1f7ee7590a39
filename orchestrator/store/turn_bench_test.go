package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"
)

// benchAuditEntry is a task's end entry, as audit.Log.Entry builds it.
func benchAuditEntry(h AuditHead) (AuditRow, error) {
	return AuditRow{ID: h.LastID + 1, PrevHash: h.LastHash, Hash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Time: time.Now(), Actor: "api", Action: "task.done", Target: "c_conversation", Outcome: "ok",
		Details: `{"reason":"","source":"api","task_id":"t_g7uk5thxv2a4d35iti7dya72zm"}`}, nil
}

// BenchmarkTurnWrites is the store's share of one agent turn with one tool
// call: the task and its user message, two model calls (the first with
// the assistant's tool call), the tool result, the final answer with the
// task's end and its audit entry.
func BenchmarkTurnWrites(b *testing.B) {
	for _, fts := range []bool{true, false} {
		name := "fts"
		if !fts {
			name = "no-fts"
		}
		b.Run(name, func(b *testing.B) {
			s := openAt(b, filepath.Join(b.TempDir(), "airlock.db"))
			ctx := context.Background()
			if !fts {
				for _, tr := range []string{"messages_fts_insert", "messages_fts_delete", "messages_fts_update"} {
					if _, err := s.writer.ExecContext(ctx, "DROP TRIGGER "+tr); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			benchTurnWritesLoop(b, s)
		})
	}
}

func benchTurnWritesLoop(b *testing.B, s *Store) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c, err := s.CreateConversation(ctx, SourceAPI, "")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t, _, err := s.StartTask(ctx, c.ID, AudienceAdmin, "hi, what do you remember about the garden?")
		if err != nil {
			b.Fatal(err)
		}
		if err := s.RecordLLMCall(ctx, LLMCall{ConversationID: c.ID, TaskID: t.ID, Provider: "openai", Model: "m", InputTokens: 900, OutputTokens: 20,
			Message: &Message{ConversationID: c.ID, TaskID: t.ID, Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "c1", Name: "memory_read", Arguments: json.RawMessage(`{}`)}}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.AddMessage(ctx, Message{ConversationID: c.ID, TaskID: t.ID, Role: RoleTool, ToolName: "memory_read", Content: "the roses need water on Sundays"}); err != nil {
			b.Fatal(err)
		}
		if err := s.RecordLLMCall(ctx, LLMCall{ConversationID: c.ID, TaskID: t.ID, Provider: "openai", Model: "m", InputTokens: 950, OutputTokens: 30}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.FinishTask(ctx, t.ID, TaskDone, "", Message{ConversationID: c.ID, Role: RoleAssistant, Content: "The roses need water on Sundays."}, benchAuditEntry); err != nil {
			b.Fatal(err)
		}
	}
}

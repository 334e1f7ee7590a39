package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fillConversation stores n turns in a new conversation in one
// transaction: a user message, a tool call, its result and the answer,
// each text 400 bytes (104 estimated tokens).
func fillConversation(tb testing.TB, s *Store, n int) string {
	tb.Helper()
	ctx := context.Background()
	c, err := s.CreateConversation(ctx, SourceAPI, "t")
	if err != nil {
		tb.Fatal(err)
	}
	pad := func(p string, i int) string {
		h := fmt.Sprintf("%s%d", p, i)
		return h + " " + strings.Repeat("x", 399-len(h))
	}
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			for _, m := range []Message{
				{Role: RoleUser, Content: pad("u", i)},
				{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "c", Name: "memory_read", Arguments: []byte(`{}`)}}},
				{Role: RoleTool, ToolCallID: "c", ToolName: "memory_read", Content: pad("t", i)},
				{Role: RoleAssistant, Content: pad("a", i), IsError: i%10 == 9},
			} {
				m.ConversationID = c.ID
				m, calls, err := s.newMessage(m)
				if err != nil {
					return err
				}
				if err := s.insertMessage(ctx, tx, m, calls); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c.ID
}

func heads(ms []Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, strings.Fields(m.Content)[0])
	}
	return strings.Join(out, ",")
}

// TestHistory: the newest user messages and final answers that fit the
// budget, oldest first, from a user message; tool messages and error
// answers left out; the message cap binds too; the newest message comes
// even when it alone is over the budget.
func TestHistory(t *testing.T) {
	s := openAt(t, t.TempDir()+"/airlock.db")
	ctx := context.Background()
	conv := fillConversation(t, s, 20) // answer 9 and 19 are errors
	for _, c := range []struct {
		budget, max int
		want        string
	}{
		{520, 40, "u17,a17,u18,a18,u19"}, // u19 (its answer is an error), a18, u18, a17, u17
		{104 * 3, 40, "u18,a18,u19"},
		{104 * 4, 40, "u18,a18,u19"}, // the fourth, a17, would start it: dropped
		{1 << 20, 3, "u18,a18,u19"},  // the cap
		{1, 40, "u19"},               // over the budget alone, still sent
		{104 * 7, 40, "u16,a16,u17,a17,u18,a18,u19"},
	} {
		got, err := s.History(ctx, conv, c.budget, c.max)
		if err != nil {
			t.Fatal(err)
		}
		if h := heads(got); h != c.want {
			t.Errorf("History(budget %d, cap %d) = %s, want %s", c.budget, c.max, h, c.want)
		}
	}
	if _, err := s.History(ctx, "c_missing", 1000, 40); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown conversation: %v", err)
	}
}

// BenchmarkHistory reads a turn's history from a conversation of 100 and
// of 100,000 messages (a quarter of them user messages, a quarter tool
// results): the cost should not grow with the conversation's age.
func BenchmarkHistory(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			s := openAt(b, b.TempDir()+"/airlock.db")
			conv := fillConversation(b, s, n/4)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ms, err := s.History(ctx, conv, 8000, 40)
				if err != nil || len(ms) == 0 {
					b.Fatalf("%d messages, %v", len(ms), err)
				}
			}
		})
	}
}

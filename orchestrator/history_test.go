package orchestrator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// seedTurns stores n earlier turns in conv: each a user message "uNN", an
// assistant tool call, its tool result "tNN" and the final answer "aNN",
// every text padded to 400 bytes (104 estimated tokens).
func seedTurns(t *testing.T, st *store.Store, conv string, n int) {
	t.Helper()
	ctx := context.Background()
	pad := func(s string) string { return s + " " + strings.Repeat("x", 399-len(s)) }
	for i := range n {
		for _, m := range []store.Message{
			{Role: store.RoleUser, Content: pad(fmt.Sprintf("u%02d", i))},
			{Role: store.RoleAssistant, ToolCalls: []store.ToolCall{{ID: "c1", Name: "memory_read", Arguments: json.RawMessage(`{}`)}}},
			{Role: store.RoleTool, ToolCallID: "c1", ToolName: "memory_read", Content: pad(fmt.Sprintf("t%02d", i))},
			{Role: store.RoleAssistant, Content: pad(fmt.Sprintf("a%02d", i))},
		} {
			m.ConversationID = conv
			if _, err := st.AddMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestHistoryFitsTokenBudget: the history sent to the model is the newest
// user messages and final answers that fit agent.history_tokens, in order,
// starting with a user message, without tool calls or results; a budget
// set at run time applies to the next task.
func TestHistoryFitsTokenBudget(t *testing.T) {
	h := newHarness(t, orchestrator.Config{HistoryTokens: 1000}, llm.Budget{})
	h.runAgent(t)
	conv := h.conversation(t)
	seedTurns(t, h.store, conv, 30)

	// "now" is 5 tokens; 9 earlier messages of 104 fit in 1000, the
	// oldest of them an answer, which is dropped.
	r := <-h.submit(t, conv, "now")
	if r.Failed {
		t.Fatalf("reply: %+v", r)
	}
	want := []string{"u26", "a26", "u27", "a27", "u28", "a28", "u29", "a29", "now"}
	checkHistory(t, h, want)

	h.llm.Reset()
	h.core.SetHistoryTokens(500) // 4 earlier messages of 104, and the two of the last turn
	<-h.submit(t, conv, "again")
	checkHistory(t, h, []string{"u28", "a28", "u29", "a29", "now", "fake", "again"})
}

func checkHistory(t *testing.T, h *harness, want []string) {
	t.Helper()
	reqs := h.llm.Requests()
	if len(reqs) == 0 {
		t.Fatal("the model was not called")
	}
	var got []string
	for _, m := range reqs[0].Messages {
		if len(m.ToolCalls) > 0 || m.Role == "tool" {
			t.Errorf("a tool message was sent: %+v", m)
		}
		got = append(got, strings.Fields(m.Content + " .")[0])
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("history sent:\n%v\nwant\n%v", got, want)
	}
	for i, m := range reqs[0].Messages {
		wantRole := "user"
		if i%2 == 1 {
			wantRole = "assistant"
		}
		if m.Role != wantRole {
			t.Errorf("message %d (%s) has role %s", i, got[i], m.Role)
		}
	}
}

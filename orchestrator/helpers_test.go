package orchestrator_test

import (
	"context"
	"strings"

	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
	"github.com/airlockhq/airlock/orchestrator/store"
)

func llmtestToolCall(name string, args map[string]any) llmtest.Reply {
	return llmtest.Reply{ToolCalls: []llmtest.Call{{Name: name, Args: args}}}
}

// memoryText returns the text of every memory note, one a line.
func memoryText(ctx context.Context, h *harness) (string, error) {
	notes, err := h.store.MemoryNotes(ctx, store.AudienceAdmin)
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(n.Text + "\n")
	}
	return b.String(), err
}

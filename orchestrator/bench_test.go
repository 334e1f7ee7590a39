package orchestrator_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
)

func p50(ds []time.Duration) float64 {
	slices.Sort(ds)
	return float64(ds[len(ds)/2].Nanoseconds()) / 1e3
}

// BenchmarkAgentTurn measures one whole turn through the real system side
// and a real agent over the socket: message → task → LLM (tool call) →
// memory_read → LLM (answer) → stored reply. The fake LLM answers
// instantly; its HTTP round trip is measured in the same run and taken out
// to report Airlock's own overhead.
func BenchmarkAgentTurn(b *testing.B) {
	h := newHarness(b, orchestrator.Config{}, llm.Budget{})
	llmFloor := fakeLLMRoundTrip(b, h)
	h.llm.SetResponder(func(r llmtest.RecordedRequest) (llmtest.Reply, bool) {
		if last := r.Messages[len(r.Messages)-1]; last.Role == tools.RoleTool {
			return llmtest.Reply{Text: "done"}, true
		}
		return llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.MemoryRead, Args: map[string]any{}}}}, true
	})
	h.runAgent(b)
	ctx := context.Background()

	convs := make([]string, b.N)
	for i := range convs {
		convs[i] = h.conversation(b)
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r, err := h.core.HandleMessage(ctx, orchestrator.Message{ConversationID: convs[i], Source: "api", Author: "bench", Text: "hi"})
		ds = append(ds, time.Since(start))
		if err != nil || r.Failed || r.Text != "done" {
			b.Fatalf("turn %d: %+v %v", i, r, err)
		}
	}
	b.StopTimer()
	turn := p50(ds)
	b.ReportMetric(turn, "p50-µs")
	b.ReportMetric(llmFloor, "fake-llm-p50-µs")
	b.ReportMetric(turn-2*llmFloor, "airlock-overhead-p50-µs")
}

// fakeLLMRoundTrip is the p50 of one direct call from the LLM client to
// the fake server with a turn-sized request: the floor under each of the
// turn's two model calls.
func fakeLLMRoundTrip(b *testing.B, h *harness) float64 {
	client, err := llm.New(llm.Config{Provider: llm.ProviderOpenAI, BaseURL: h.llm.URL() + "/v1", Model: "fake", APIKey: "k"}, nil, quiet())
	if err != nil {
		b.Fatal(err)
	}
	req := tools.LLMRequest{System: "system prompt", Messages: []tools.Message{{Role: tools.RoleUser, Content: "hi"}},
		Tools: tools.Model()}
	ds := make([]time.Duration, 0, 500)
	for range 500 {
		start := time.Now()
		if _, err := client.Complete(context.Background(), req); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	h.llm.Reset()
	return p50(ds)
}

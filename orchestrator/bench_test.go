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
	"github.com/airlockhq/airlock/sandbox"
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
	client, err := llm.New(llm.Config{Provider: llm.ProviderOpenAI, BaseURL: h.llm.URL() + "/v1", Model: "fake", APIKey: "k"}, nil, nil, quiet())
	if err != nil {
		b.Fatal(err)
	}
	req := llm.Request{System: "system prompt", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
	for _, d := range tools.Model() {
		req.Tools = append(req.Tools, llm.Tool(d))
	}
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

// BenchmarkScriptRunWarm and BenchmarkScriptRunCold measure a trivial
// approved script end to end, as the worker runs script_run: the MCP call
// for the approved source over the socket, a sandbox child, the result.
func BenchmarkScriptRunWarm(b *testing.B) { benchScriptRun(b, 2) }
func BenchmarkScriptRunCold(b *testing.B) { benchScriptRun(b, sandbox.NoWarm) }

// refill is the pause between warm runs: longer than a child's start.
const refill = 150 * time.Millisecond

func benchScriptRun(b *testing.B, warm int) {
	h := newHarness(b, orchestrator.Config{}, llm.Budget{})
	ctx := context.Background()
	res, err := h.approval.Propose(ctx, "trivial", "def main():\n    return 1\n", "bench")
	if err != nil {
		b.Fatal(err)
	}
	if err := h.approval.Approve(ctx, "trivial", res.SHA256, "admin"); err != nil {
		b.Fatal(err)
	}
	runner, err := sandbox.NewRunner(sandbox.Options{Warm: warm})
	if err != nil {
		b.Fatal(err)
	}
	defer runner.Close()
	c := h.client(b)
	reply := h.submit(b, h.conversation(b), "go")
	var next tools.NextTaskResult
	for next.Task == nil {
		if err := c.Call(ctx, tools.RuntimeNextTask, tools.NextTaskArgs{WaitMS: 1000}, &next); err != nil {
			b.Fatal(err)
		}
	}
	task := next.Task
	time.Sleep(200 * time.Millisecond) // let the warm pool fill
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		var src tools.ScriptSource
		if err := c.Call(ctx, tools.RuntimeScriptSource, tools.ScriptSourceArgs{TaskID: task.ID, Name: "trivial"}, &src); err != nil {
			b.Fatal(err)
		}
		out, err := runner.Run(ctx, sandbox.Request{Name: src.Name, Source: src.Source, Function: "main",
			Placeholder: src.Placeholder}, nil)
		ds = append(ds, time.Since(start))
		if err != nil || string(out.Value) != "1" {
			b.Fatalf("run %d: %s %v", i, out.Value, err)
		}
		if warm > 0 {
			// Runs come seconds apart in a chat; let the pool refill, untimed.
			b.StopTimer()
			time.Sleep(refill)
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(p50(ds), "p50-µs")
	var ok tools.CompleteTaskResult
	c.Call(ctx, tools.RuntimeCompleteTask, tools.CompleteTaskArgs{TaskID: task.ID, Text: "done"}, &ok)
	<-reply
}

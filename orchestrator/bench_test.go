package orchestrator_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"syscall"
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
	h.llm.SetResponder(func(r llmtest.RecordedRequest) (llmtest.Reply, bool) {
		if last := r.Messages[len(r.Messages)-1]; last.Role == tools.RoleTool {
			return llmtest.Reply{Text: "done"}, true
		}
		return llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.MemoryRead, Args: map[string]any{}}}}, true
	})
	h.runAgent(b)
	ctx := context.Background()
	turn := func(conv string) {
		r, err := h.core.HandleMessage(ctx, orchestrator.Message{ConversationID: conv, Source: "api", Author: "bench", Text: "hi"})
		if err != nil || r.Failed || r.Text != "done" {
			b.Fatalf("turn: %+v %v", r, err)
		}
	}
	// One turn first, whose two model requests are replayed below to
	// measure the fake model's own share.
	turn(h.conversation(b))
	recorded := h.llm.Requests()
	if len(recorded) != 2 {
		b.Fatalf("a turn made %d model requests, want 2", len(recorded))
	}
	h.llm.SetRecording(false)

	convs := make([]string, b.N)
	for i := range convs {
		convs[i] = h.conversation(b)
	}
	ds := make([]time.Duration, 0, b.N)
	cpu0 := processCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		turn(convs[i])
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	// The whole process's CPU time (Airlock, the agent and the fake model)
	// per turn: steadier than latency on a shared machine.
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/turn")
	p := p50(ds)
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds()), "p99-µs")
	llmFloor := fakeLLMRoundTrips(b, h, recorded)
	b.ReportMetric(p, "p50-µs")
	b.ReportMetric(llmFloor, "fake-llm-p50-µs")
	b.ReportMetric(p-llmFloor, "airlock-overhead-p50-µs")
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fakeLLMRoundTrips is the fake model's share of a turn: the sum of the
// p50s of its two requests, replayed byte for byte over plain HTTP, so
// that the fake server's parsing of exactly the turn's requests is taken
// out and Airlock's own work (building, sending and decoding them) stays
// in the overhead.
func fakeLLMRoundTrips(b *testing.B, h *harness, reqs []llmtest.RecordedRequest) float64 {
	client := &http.Client{}
	var sum float64
	for _, rec := range reqs {
		ds := make([]time.Duration, 0, 500)
		for range 500 {
			req, err := http.NewRequest(http.MethodPost, h.llm.URL()+rec.Path, bytes.NewReader(rec.Body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header = rec.Header.Clone()
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ds = append(ds, time.Since(start))
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("replay of %s: %s %v", rec.Path, resp.Status, err)
			}
		}
		sum += p50(ds)
	}
	client.CloseIdleConnections()
	return sum
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

package jobs

import (
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/store"
)

// TestRunCostInHistory: a run's cost is the sum of the cost of its task's
// usage rows; one call without a price makes it unknown; a script job
// without a model call has none; another task's calls are not counted.
func TestRunCostInHistory(t *testing.T) {
	e := newEnv(t)
	j, err := e.svc.Create(ctx, "admin:alice", promptSpec("feeds"))
	if err != nil {
		t.Fatal(err)
	}
	record := func(task string, cost *int64) {
		t.Helper()
		if err := e.st.RecordLLMCall(ctx, store.LLMCall{ConversationID: j.ConversationID, TaskID: task, Provider: "p",
			Model: "m", InputTokens: 5, OutputTokens: 5, CostNanos: cost}); err != nil {
			t.Fatal(err)
		}
	}
	n := func(v int64) *int64 { return &v }
	record("t_first", n(1_500_000))
	record("t_first", n(2_500_000))
	record("t_other", n(9_000_000_000)) // another task: not this run's
	e.run.result = RunResult{Text: "all good", Tokens: 20, Calls: 2, TaskID: "t_first", InConversation: true}
	e.clk.Set(time.Date(2026, 6, 1, 8, 0, 1, 0, time.UTC))
	e.tick(t)
	rs := e.runs(t, j.ID)
	if len(rs) != 1 || rs[0].TaskID != "t_first" || rs[0].Cost == nil || rs[0].Cost.Nanos == nil ||
		*rs[0].Cost.Nanos != 4_000_000 || rs[0].Cost.Calls != 2 || rs[0].Cost.UnknownCalls != 0 {
		t.Fatalf("runs = %+v cost %+v", rs, rs[0].Cost)
	}

	// A call without a price: the run's cost is unknown.
	record("t_second", n(1_000_000))
	record("t_second", nil)
	e.run.result.TaskID = "t_second"
	e.clk.Set(time.Date(2026, 6, 2, 8, 0, 1, 0, time.UTC))
	e.tick(t)
	rs = e.runs(t, j.ID)
	if len(rs) != 2 || rs[0].Cost == nil || rs[0].Cost.Nanos != nil || rs[0].Cost.UnknownCalls != 1 || rs[0].Cost.Calls != 2 {
		t.Fatalf("unknown cost: %+v", rs[0].Cost)
	}

	// A script job delivering its result as is: no model call, no cost.
	sj, err := e.svc.Create(ctx, "admin:alice", Spec{Name: "watch", Kind: store.JobScript, Script: "weather",
		Schedule: "@every 15m", Targets: []store.JobTarget{{Kind: TargetWeb}}})
	if err != nil {
		t.Fatal(err)
	}
	e.run.result = RunResult{Text: "rain at 5"}
	e.clk.Add(16 * time.Minute)
	e.tick(t)
	if rs := e.runs(t, sj.ID); len(rs) != 1 || rs[0].Status != store.RunOK || rs[0].Cost != nil || rs[0].TaskID != "" {
		t.Fatalf("script runs = %+v", rs)
	}
}

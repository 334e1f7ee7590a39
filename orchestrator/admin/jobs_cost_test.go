package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/store"
)

// TestJobRunCostShown: the job's page and GET /api/v1/jobs/{id} show
// each run's cost, summed from the usage rows of its task; "unknown"
// when a call had no price; nothing for a run without model calls.
func TestJobRunCostShown(t *testing.T) {
	e := newEnv(t)
	e.setup()
	tok := e.apiToken()
	b := e.login()
	ctx := context.Background()
	j, err := e.store.CreateJob(ctx, store.Job{Name: "costly", Kind: store.JobPrompt, Schedule: "@hourly", Prompt: "p",
		State: store.JobActive, Targets: []store.JobTarget{{Kind: "web"}}, MaxTokens: 10, MaxCalls: 1, ProposedBy: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	n := func(v int64) *int64 { return &v }
	run := func(at time.Time, task string, costs ...*int64) {
		t.Helper()
		r, err := e.store.StartJobRun(ctx, store.JobRun{JobID: j.ID, Trigger: "manual", ScheduledAt: at, StartedAt: at,
			Status: store.RunRunning}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range costs {
			if err := e.store.RecordLLMCall(ctx, store.LLMCall{ConversationID: j.ConversationID, TaskID: task,
				Provider: "p", Model: "m", InputTokens: 1, OutputTokens: 1, CostNanos: c}); err != nil {
				t.Fatal(err)
			}
		}
		r.Status, r.EndedAt, r.TaskID = store.RunOK, at, task
		if err := e.store.FinishJobRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	run(now.Add(-3*time.Hour), "", nil...)                           // a script run: no model call
	run(now.Add(-2*time.Hour), "t_unpriced", n(2_000_000), nil)      // one call without a price
	run(now.Add(-1*time.Hour), "t_priced", n(1_234_500_000), n(500)) // 1.2345005

	var out struct {
		Runs []struct {
			TaskID string `json:"task_id"`
			Cost   *struct {
				Calls        int64  `json:"calls"`
				Nanos        *int64 `json:"nanos"`
				UnknownCalls int64  `json:"unknown_calls"`
			} `json:"cost"`
		} `json:"runs"`
	}
	if code := e.api(tok, "GET", "/api/v1/jobs/"+j.ID, nil, &out); code != http.StatusOK || len(out.Runs) != 3 {
		t.Fatalf("job: %d %+v", code, out)
	}
	if c := out.Runs[0].Cost; c == nil || c.Nanos == nil || *c.Nanos != 1_234_500_500 || c.Calls != 2 {
		t.Errorf("priced run cost = %+v", c)
	}
	if c := out.Runs[1].Cost; c == nil || c.Nanos != nil || c.UnknownCalls != 1 || c.Calls != 2 {
		t.Errorf("unpriced run cost = %+v", c)
	}
	if c := out.Runs[2].Cost; c != nil {
		t.Errorf("a run without model calls has a cost: %+v", c)
	}
	code, body := b.get("/jobs/" + j.ID)
	if code != 200 {
		t.Fatalf("job page: %d", code)
	}
	cells := strings.Split(body, `class="nowrap run-cost">`)
	if len(cells) != 4 {
		t.Fatalf("job page has %d cost cells, want 3", len(cells)-1)
	}
	for i, want := range []string{"1.23</td>", "unknown <small class=\"muted\">(1 of 2 calls unpriced)</small></td>", "</td>"} {
		if !strings.HasPrefix(cells[i+1], want) {
			t.Errorf("cost cell %d = %.80q, want prefix %q", i, cells[i+1], want)
		}
	}
}

// TestDashboardListsJobProposals: a job the assistant proposed is on the
// dashboard's pending approvals, linked to its review page, and goes once
// approved.
func TestDashboardListsJobProposals(t *testing.T) {
	e := newEnv(t)
	e.setup()
	b := e.login()
	if _, body := b.get("/"); strings.Contains(body, `id="pending-jobs"`) || !strings.Contains(body, "Nothing awaits review.") {
		t.Fatal("the dashboard lists job proposals before any")
	}
	j, err := e.jobs.Propose(context.Background(), "assistant (conversation c_1, task t_1)", specForTest())
	if err != nil {
		t.Fatal(err)
	}
	code, body := b.get("/")
	if code != 200 || !strings.Contains(body, `id="pending-jobs"`) || !strings.Contains(body, `href="/jobs/`+j.ID+`"`) ||
		!strings.Contains(body, "<strong>proposed</strong>") || strings.Contains(body, "Nothing awaits review.") {
		t.Fatalf("dashboard without the proposal: %d", code)
	}
	if code, _, _ := b.post("/jobs/"+j.ID+"/approve", nil); code != http.StatusSeeOther {
		t.Fatalf("approve: %d", code)
	}
	if _, body := b.get("/"); strings.Contains(body, `href="/jobs/`+j.ID+`"`) {
		t.Error("an approved job is still pending on the dashboard")
	}
}

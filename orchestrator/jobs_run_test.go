package orchestrator_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/llm/llmtest"
	"github.com/airlockhq/airlock/orchestrator/store"
)

func jobConversation(t *testing.T, h *harness) string {
	t.Helper()
	c, err := h.store.CreateConversation(context.Background(), store.SourceJob, "Job: t")
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestJobRunCaps: a prompt job's run stops at its model-call cap and at
// its token cap, says so, and is reported as capped; the model sees only
// the prompt (fresh context), whatever the conversation holds.
func TestJobRunCaps(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.runAgent(t)
	ctx := context.Background()
	conv := jobConversation(t, h)
	base := jobs.RunRequest{Name: "caps", Kind: store.JobPrompt, ConversationID: conv, Prompt: "check the feeds"}

	// A plain run: answered, counted, and stored in the job's conversation.
	h.llm.Enqueue(llmtest.Reply{Text: "nothing new", InputTokens: 30, OutputTokens: 5})
	req := base
	req.MaxCalls, req.MaxTokens = 2, 1000
	res, err := h.core.RunJob(ctx, req)
	if err != nil || res.Failed || res.Capped || res.Text != "nothing new" || res.Tokens != 35 || res.Calls != 1 || !res.InConversation {
		t.Fatalf("plain run = %+v, %v", res, err)
	}
	// The run names its task, whose usage row holds the call (its cost).
	if res.TaskID == "" {
		t.Fatal("the run names no task")
	}
	if u, err := h.store.ConversationUsage(ctx, conv); err != nil || u.Requests != 1 {
		t.Fatalf("usage of the job's conversation: %+v %v", u, err)
	}
	if n := usageRowsOfTask(t, h, res.TaskID); n != 1 {
		t.Errorf("usage rows of the run's task %s: %d, want 1", res.TaskID, n)
	}

	// Model-call cap: the model wants a second call; it is refused.
	h.llm.Reset()
	h.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.MemoryRead}}}, llmtest.Reply{Text: "never"})
	req.MaxCalls = 1
	res, err = h.core.RunJob(ctx, req)
	if err != nil || !res.Capped || !strings.Contains(res.Text, "cap of 1 model calls") {
		t.Errorf("call cap: %+v, %v", res, err)
	}
	if n := len(h.llm.Requests()); n != 1 {
		t.Errorf("model requests past the call cap: %d", n)
	}

	// Token cap: the first call spends 600 of 500 tokens; no second call.
	h.llm.Reset()
	h.llm.Enqueue(llmtest.Reply{ToolCalls: []llmtest.Call{{Name: tools.MemoryRead}}, InputTokens: 400, OutputTokens: 200},
		llmtest.Reply{Text: "never"})
	req.MaxCalls, req.MaxTokens = 4, 500
	res, err = h.core.RunJob(ctx, req)
	if err != nil || !res.Capped || res.Tokens != 600 || !strings.Contains(res.Text, "cap of 500 tokens") {
		t.Errorf("token cap: %+v, %v", res, err)
	}
	reqs := h.llm.Requests()
	if len(reqs) != 1 {
		t.Fatalf("model requests past the token cap: %d", len(reqs))
	}
	// Fresh context: the conversation holds earlier runs, the model gets
	// the prompt alone.
	if msgs := reqs[0].Messages; len(msgs) != 1 || msgs[0].Content != "check the feeds" {
		t.Errorf("the model got %+v", msgs)
	}
	stored, err := h.store.History(ctx, conv, 100000, 100)
	if err != nil || len(stored) < 4 {
		t.Errorf("the job's conversation holds %d messages, %v", len(stored), err)
	}
}

// TestJobScriptNotApproved: a script job whose script is not approved
// does not run, and says why.
func TestJobScriptNotApproved(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	_, err := h.core.RunJob(context.Background(), jobs.RunRequest{Name: "s", Kind: store.JobScript, Script: "nothing",
		ConversationID: jobConversation(t, h)})
	if err != jobs.ErrScriptNotApproved {
		t.Errorf("RunJob = %v", err)
	}
}

// TestJobOutputRedacted: a secret in a job's answer never reaches its
// targets (canary).
func TestJobOutputRedacted(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	h.runAgent(t)
	const canary = "job-canary-secret-7c1d9e"
	h.setSecret(t, "CANARY", canary)
	h.llm.Enqueue(llmtest.Reply{Text: "the key is " + canary})
	res, err := h.core.RunJob(context.Background(), jobs.RunRequest{Name: "r", Kind: store.JobPrompt, Prompt: "leak",
		ConversationID: jobConversation(t, h), MaxCalls: 1})
	if err != nil || strings.Contains(res.Text, canary) || !strings.Contains(res.Text, "[REDACTED:CANARY]") {
		t.Errorf("run = %+v, %v", res, err)
	}
	conv := jobConversation(t, h)
	if err := h.core.PostToConversation(context.Background(), conv, "job r", "again "+canary); err != nil {
		t.Fatal(err)
	}
	msgs, _ := h.store.History(context.Background(), conv, 100000, 10)
	for _, m := range msgs {
		if strings.Contains(m.Content, canary) {
			t.Errorf("stored %q", m.Content)
		}
	}
}

// TestJobConversationReadOnly: nobody posts into a job's conversation.
func TestJobConversationReadOnly(t *testing.T) {
	h := newHarness(t, orchestrator.Config{}, llm.Budget{})
	_, err := h.core.HandleMessage(context.Background(), orchestrator.Message{ConversationID: jobConversation(t, h),
		Source: store.SourceWeb, Author: "admin:a", Text: "hi"})
	if !errors.Is(err, orchestrator.ErrReadOnly) || !strings.Contains(err.Error(), "scheduled job") {
		t.Errorf("HandleMessage = %v", err)
	}
}

// usageRowsOfTask counts the usage rows of task, through a job run that
// names it (store.JobRuns sums them into the run's cost).
func usageRowsOfTask(t *testing.T, h *harness, task string) int64 {
	t.Helper()
	ctx := context.Background()
	j, err := h.store.CreateJob(ctx, store.Job{Name: "count " + task, Kind: store.JobPrompt, Schedule: "@daily", Prompt: "p",
		State: store.JobPaused, Targets: []store.JobTarget{{Kind: "web"}}, MaxTokens: 1, MaxCalls: 1, ProposedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r, err := h.store.StartJobRun(ctx, store.JobRun{JobID: j.ID, Trigger: "manual", ScheduledAt: now, StartedAt: now, Status: store.RunRunning}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r.Status, r.EndedAt, r.TaskID = store.RunOK, now, task
	if err := h.store.FinishJobRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	runs, err := h.store.JobRuns(ctx, j.ID, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	if runs[0].Cost == nil {
		return 0
	}
	return runs[0].Cost.Calls
}

package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/orchestrator/store"
)

var ctx = context.Background()

func TestScheduledRunDelivers(t *testing.T) {
	e := newEnv(t)
	j, err := e.svc.Create(ctx, "admin:alice", promptSpec("feeds"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC); !j.NextRun.Equal(want) || j.State != store.JobActive {
		t.Fatalf("new job: next %v state %s", j.NextRun, j.State)
	}
	e.tick(t) // 07:59: not due
	if e.run.calls() != 0 {
		t.Fatal("ran before it was due")
	}
	e.clk.Set(time.Date(2026, 6, 1, 8, 0, 1, 0, time.UTC))
	e.run.result.InConversation = true
	e.tick(t)
	if e.run.calls() != 1 {
		t.Fatalf("runs = %d, want 1", e.run.calls())
	}
	req := e.run.reqs[0]
	if req.Prompt != "summarise my feeds" || req.ConversationID != j.ConversationID || req.MaxTokens != DefaultMaxTokens || req.MaxCalls != DefaultMaxCalls {
		t.Errorf("request = %+v", req)
	}
	if len(e.discord.sent) != 1 || e.discord.sent[0] != "channel:111:all good" {
		t.Errorf("discord got %v", e.discord.sent)
	}
	if len(e.run.posted) != 0 {
		t.Errorf("a prompt answer already in its conversation was posted again: %v", e.run.posted)
	}
	rs := e.runs(t, j.ID)
	if len(rs) != 1 || rs[0].Status != store.RunOK || rs[0].Tokens != 10 || rs[0].Output != "all good" || rs[0].EndedAt.IsZero() {
		t.Errorf("runs = %+v", rs)
	}
	if next := e.job(t, j.ID).NextRun; !next.Equal(time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("next run = %v", next)
	}
	e.tick(t) // same instant again: not run twice
	if e.run.calls() != 1 {
		t.Errorf("runs after a second tick = %d", e.run.calls())
	}
}

func TestEmptyScriptSendsNothing(t *testing.T) {
	e := newEnv(t)
	spec := Spec{Name: "watch", Kind: store.JobScript, Script: "weather", Schedule: "@every 15m",
		Targets: []store.JobTarget{{Kind: TargetWeb}, {Kind: TargetDiscordDM, ID: "222"}}}
	j, err := e.svc.Create(ctx, "admin:alice", spec)
	if err != nil {
		t.Fatal(err)
	}
	e.run.result = RunResult{Empty: true}
	e.clk.Add(16 * time.Minute)
	e.tick(t)
	if rs := e.runs(t, j.ID); len(rs) != 1 || rs[0].Status != store.RunEmpty || rs[0].Tokens != 0 {
		t.Fatalf("runs = %+v", rs)
	}
	if len(e.discord.sent)+len(e.run.posted) != 0 {
		t.Errorf("an empty result was delivered: %v %v", e.discord.sent, e.run.posted)
	}
	// A result is posted to the job's conversation and DMed.
	e.run.result = RunResult{Text: "rain at 5"}
	e.clk.Add(16 * time.Minute)
	e.tick(t)
	if len(e.run.posted) != 1 || e.run.posted[0] != "rain at 5" || len(e.discord.sent) != 1 || e.discord.sent[0] != "dm:222:rain at 5" {
		t.Errorf("delivered %v %v", e.run.posted, e.discord.sent)
	}
}

func TestOverlapIsSkipped(t *testing.T) {
	e := newEnv(t)
	spec := promptSpec("slow")
	spec.Schedule = "* * * * *"
	j, err := e.svc.Create(ctx, "admin:alice", spec)
	if err != nil {
		t.Fatal(err)
	}
	e.run.block = make(chan struct{})
	e.clk.Add(2 * time.Minute)
	if err := e.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Minute)
	if err := e.svc.Tick(ctx); err != nil { // due again while the first still runs
		t.Fatal(err)
	}
	close(e.run.block)
	e.svc.Wait()
	if e.run.calls() != 1 {
		t.Fatalf("runs started = %d, want 1", e.run.calls())
	}
	var statuses []string
	for _, r := range e.runs(t, j.ID) {
		statuses = append(statuses, r.Status)
	}
	if strings.Join(statuses, ",") != "skipped,ok" && strings.Join(statuses, ",") != "ok,skipped" {
		t.Errorf("statuses = %v, want one ok and one skipped", statuses)
	}
}

func TestFailuresBackOffThenPause(t *testing.T) {
	e := newEnv(t)
	spec := promptSpec("flaky")
	spec.Schedule = "*/5 * * * *"
	j, err := e.svc.Create(ctx, "admin:alice", spec)
	if err != nil {
		t.Fatal(err)
	}
	e.run.result = RunResult{Failed: true, Reason: "model unreachable", Text: "Sorry"}
	e.clk.Set(time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC))
	e.tick(t)
	cur := e.job(t, j.ID)
	// Backoff(1) = 10 min: the 08:05 slot is skipped over, the next run is at 08:10.
	if cur.Failures != 1 || !cur.NextRun.Equal(time.Date(2026, 6, 1, 8, 10, 0, 0, time.UTC)) {
		t.Fatalf("after 1 failure: failures %d next %v", cur.Failures, cur.NextRun)
	}
	e.clk.Set(time.Date(2026, 6, 1, 8, 5, 0, 0, time.UTC))
	e.tick(t)
	if e.run.calls() != 1 {
		t.Fatalf("ran during backoff: %d", e.run.calls())
	}
	e.clk.Set(cur.NextRun)
	e.tick(t)
	cur = e.job(t, j.ID)
	if cur.Failures != 2 || !cur.NextRun.Equal(time.Date(2026, 6, 1, 8, 30, 0, 0, time.UTC)) {
		t.Fatalf("after 2 failures: failures %d next %v (want 20 min backoff)", cur.Failures, cur.NextRun)
	}
	e.clk.Set(cur.NextRun)
	e.tick(t) // third failure in a row: MaxFailures is 3
	cur = e.job(t, j.ID)
	if cur.State != store.JobPaused || !cur.NextRun.IsZero() || !strings.Contains(cur.StateReason, "3 runs in a row failed") {
		t.Fatalf("after 3 failures: %+v", cur)
	}
	if len(*e.notes) != 1 || !strings.Contains((*e.notes)[0], "flaky") {
		t.Errorf("admin notices = %v", *e.notes)
	}
	e.clk.Add(time.Hour)
	e.tick(t)
	if e.run.calls() != 3 {
		t.Errorf("a paused job ran: %d runs", e.run.calls())
	}
	// Resume resets the count; a success keeps it at zero.
	e.run.result = RunResult{Text: "fine"}
	if _, err := e.svc.Resume(ctx, "admin:alice", j.ID); err != nil {
		t.Fatal(err)
	}
	if cur = e.job(t, j.ID); cur.Failures != 0 || cur.State != store.JobActive {
		t.Errorf("resumed: %+v", cur)
	}
}

func TestDailyBudgetStopsRuns(t *testing.T) {
	e := newEnv(t)
	spec := promptSpec("costly")
	spec.Schedule = "@hourly"
	spec.MaxTokens, spec.DailyTokens = 800, 1000
	j, err := e.svc.Create(ctx, "admin:alice", spec)
	if err != nil {
		t.Fatal(err)
	}
	e.run.result = RunResult{Text: "done", Tokens: 700}
	e.clk.Set(time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC))
	e.tick(t)
	e.clk.Set(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	e.tick(t)
	if e.run.reqs[0].MaxTokens != 800 || e.run.reqs[1].MaxTokens != 300 {
		t.Errorf("caps handed to the runs: %d, %d (want 800, then the 300 left of the day)", e.run.reqs[0].MaxTokens, e.run.reqs[1].MaxTokens)
	}
	e.clk.Set(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC))
	e.tick(t)
	if e.run.calls() != 2 {
		t.Fatalf("a run started past the daily budget: %d", e.run.calls())
	}
	rs := e.runs(t, j.ID)
	if rs[0].Status != store.RunCapped || !strings.Contains(rs[0].Error, "daily budget of 1000 tokens") {
		t.Errorf("latest run = %+v", rs[0])
	}
	// A run that hit its own cap is recorded as capped and says so.
	e.run.result = RunResult{Capped: true, Text: "Job costly stopped at its cap of 800 tokens per run.", Tokens: 820, InConversation: true}
	e.clk.Set(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)) // a new day
	e.tick(t)
	rs = e.runs(t, j.ID)
	if rs[0].Status != store.RunCapped || !strings.Contains(rs[0].Output, "stopped at its cap") {
		t.Errorf("capped run = %+v", rs[0])
	}
	if last := e.discord.sent[len(e.discord.sent)-1]; !strings.Contains(last, "stopped at its cap") {
		t.Errorf("the cap notice was not delivered: %v", e.discord.sent)
	}
}

func TestRestartMidRunAndMissedRuns(t *testing.T) {
	e := newEnv(t)
	spec := promptSpec("daily")
	j, err := e.svc.Create(ctx, "admin:alice", spec)
	if err != nil {
		t.Fatal(err)
	}
	grace := 0
	spec2 := promptSpec("strict")
	spec2.GraceSeconds = &grace
	j2, err := e.svc.Create(ctx, "admin:alice", spec2)
	if err != nil {
		t.Fatal(err)
	}
	// A run in flight when the process dies: start it, never finish it.
	e.run.block = make(chan struct{})
	e.clk.Set(time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC))
	if err := e.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	// "Restart": a new service on the same database, 5 minutes later;
	// meanwhile both jobs' next runs (tomorrow 08:00) are due 3 min into
	// a downtime of 1 day and 3 min.
	e2 := openEnv(t, e.path)
	e2.clk.Set(time.Date(2026, 6, 2, 8, 3, 0, 0, time.UTC))
	if err := e2.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	e2.tick(t)
	close(e.run.block)
	e.svc.Wait()
	rs := e2.runs(t, j.ID)
	// daily: the interrupted run failed, the one due 3 min ago (grace 10 min) runs once.
	if len(rs) != 2 || rs[1].Status != store.RunFailed || rs[1].Error != RestartedReason || rs[0].Trigger != TriggerCatchUp || rs[0].Status != store.RunOK {
		t.Errorf("daily runs = %+v", rs)
	}
	if e2.run.calls() != 1 || e2.run.reqs[0].Name != "daily" {
		t.Errorf("runs after restart: %+v", e2.run.reqs)
	}
	// strict (grace 0): recorded as missed, moved to its next time, not run.
	rs2 := e2.runs(t, j2.ID)
	if len(rs2) == 0 || rs2[0].Status != store.RunMissed {
		t.Errorf("strict runs = %+v", rs2)
	}
	if next := e2.job(t, j2.ID).NextRun; !next.Equal(time.Date(2026, 6, 3, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("strict next = %v", next)
	}
}

func TestProposedJobCannotRunUntilApproved(t *testing.T) {
	e := newEnv(t)
	j, err := e.svc.Propose(ctx, "assistant (conversation c_1)", promptSpec("proposed"))
	if err != nil {
		t.Fatal(err)
	}
	if j.State != store.JobProposed || !j.NextRun.IsZero() {
		t.Fatalf("proposal = %+v", j)
	}
	if len(*e.notes) != 1 || !strings.Contains((*e.notes)[0], "https://airlock.example/jobs/"+j.ID) {
		t.Errorf("admins not told: %v", *e.notes)
	}
	e.clk.Add(48 * time.Hour)
	e.tick(t)
	if _, err := e.svc.RunNow(ctx, "admin:alice", j.ID); !errors.Is(err, ErrWrongState) {
		t.Errorf("RunNow on a proposal: %v", err)
	}
	if e.run.calls() != 0 {
		t.Fatal("a proposed job ran")
	}
	rev, err := e.svc.Review(ctx, j.ID)
	if err != nil || rev.Words != "at 08:00 every day (UTC time)" || len(rev.Next) != 5 || rev.WorstTokensPerDay != DefaultMaxTokens {
		t.Errorf("review = %+v, %v", rev, err)
	}
	if _, err := e.svc.Approve(ctx, "admin:alice", j.ID); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(24 * time.Hour)
	e.tick(t)
	if e.run.calls() != 1 {
		t.Errorf("approved job runs = %d", e.run.calls())
	}
	if err := e.svc.Reject(ctx, "admin:alice", j.ID); !errors.Is(err, ErrWrongState) {
		t.Errorf("rejecting an active job: %v", err)
	}
}

func TestRevokedScriptPausesJob(t *testing.T) {
	e := newEnv(t)
	j, err := e.svc.Create(ctx, "admin:alice", Spec{Name: "w", Kind: store.JobScript, Script: "weather", Schedule: "@hourly",
		Targets: []store.JobTarget{{Kind: TargetWeb}}})
	if err != nil {
		t.Fatal(err)
	}
	e.run.err = ErrScriptNotApproved // the runner finds no approved version
	e.clk.Add(time.Hour)
	e.tick(t)
	cur := e.job(t, j.ID)
	if cur.State != store.JobPaused || !strings.Contains(cur.StateReason, "weather") {
		t.Errorf("job after revocation = %+v", cur)
	}
	e.scripts["weather"] = false
	if _, err := e.svc.Resume(ctx, "admin:alice", j.ID); !isField(err, "script") {
		t.Errorf("resuming with the script revoked: %v", err)
	}
}

func isField(err error, field string) bool {
	var fe *FieldError
	return errors.As(err, &fe) && fe.Field == field
}

func TestBadDefinitionsNameTheField(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("x", MaxPromptBytes+1)
	tests := []struct {
		field string
		mut   func(*Spec)
	}{
		{"schedule", func(s *Spec) { s.Schedule = "* 25 * * *" }},
		{"schedule", func(s *Spec) { s.Schedule = "@every 10s" }},
		{"script", func(s *Spec) { s.Kind, s.Prompt, s.Script = store.JobScript, "", "nope" }},
		{"script", func(s *Spec) { s.Kind, s.Prompt, s.Script = store.JobScript, "", "unapproved" }},
		{"targets[1]", func(s *Spec) { s.Targets[1].ID = "999" }},
		{"targets[0]", func(s *Spec) { s.Targets = []store.JobTarget{{Kind: "email", ID: "x@y"}} }},
		{"targets", func(s *Spec) { s.Targets = nil }},
		{"prompt", func(s *Spec) { s.Prompt = big }},
		{"prompt", func(s *Spec) { s.Prompt = " " }},
		{"name", func(s *Spec) { s.Name = "Bad Name" }},
		{"kind", func(s *Spec) { s.Kind = "shell" }},
		{"max_tokens", func(s *Spec) { s.MaxTokens = -1 }},
		{"max_calls", func(s *Spec) { s.MaxCalls = 500 }},
	}
	for _, tt := range tests {
		s := promptSpec("bad")
		tt.mut(&s)
		if _, err := e.svc.Create(ctx, "admin:alice", s); !isField(err, tt.field) {
			t.Errorf("%s: got %v", tt.field, err)
		}
	}
	if list, _ := e.svc.List(ctx); len(list) != 0 {
		t.Errorf("bad definitions stored: %+v", list)
	}
}

func TestScriptRevokedPausesAtOnce(t *testing.T) {
	e := newEnv(t)
	spec := Spec{Name: "w2", Kind: store.JobScript, Script: "weather", Schedule: "@hourly", Targets: []store.JobTarget{{Kind: TargetWeb}}}
	j, err := e.svc.Create(ctx, "admin:alice", spec)
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.svc.Create(ctx, "admin:alice", promptSpec("other"))
	if err != nil {
		t.Fatal(err)
	}
	e.svc.ScriptRevoked(ctx, "weather")
	if cur := e.job(t, j.ID); cur.State != store.JobPaused || !cur.NextRun.IsZero() || !strings.Contains(cur.StateReason, "weather was revoked") {
		t.Errorf("script job after revocation = %+v", cur)
	}
	if cur := e.job(t, other.ID); cur.State != store.JobActive {
		t.Errorf("an unrelated job was paused: %+v", cur)
	}
	e.clk.Add(2 * time.Hour)
	e.tick(t)
	for _, r := range e.run.reqs {
		if r.Name == "w2" {
			t.Errorf("the job ran after its script was revoked")
		}
	}
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func testJob(name string, next time.Time) Job {
	state := JobActive
	if next.IsZero() {
		state = JobPaused
	}
	return Job{Name: name, Kind: JobPrompt, Schedule: "@hourly", Prompt: "summarise", State: state,
		Targets: []JobTarget{{Kind: "web"}}, MaxTokens: 1000, MaxCalls: 2, Grace: 5 * time.Minute, NextRun: next,
		ProposedBy: "admin"}
}

func TestJobsRoundTripAndDue(t *testing.T) {
	s, clk, _ := newTestStore(t)
	ctx := context.Background()
	now := clk.Now()
	a, err := s.CreateJob(ctx, testJob("a", now.Add(-time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateJob(ctx, testJob("a", now)); !errors.Is(err, ErrNameTaken) {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := s.CreateJob(ctx, testJob("b", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateJob(ctx, testJob("paused", time.Time{})); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetJob(ctx, a.ID)
	if err != nil || got.Name != "a" || got.Grace != 5*time.Minute || len(got.Targets) != 1 || !got.NextRun.Equal(a.NextRun.UTC().Truncate(0)) {
		t.Fatalf("GetJob = %+v, %v", got, err)
	}
	conv, err := s.GetConversation(ctx, got.ConversationID)
	if err != nil || conv.Source != SourceJob || conv.Title != "Job: a" {
		t.Errorf("job conversation = %+v, %v", conv, err)
	}
	due, err := s.DueJobs(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].ID != a.ID {
		t.Fatalf("DueJobs = %+v, %v", due, err)
	}
	// Starting a run moves next_run in the same transaction.
	run, err := s.StartJobRun(ctx, JobRun{JobID: a.ID, Trigger: "schedule", ScheduledAt: now, StartedAt: now, Status: RunRunning},
		now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueJobs(ctx, now, 10); len(due) != 0 {
		t.Errorf("still due after start: %+v", due)
	}
	// A crash mid-run: the running run is failed at the next start, never re-run.
	n, err := s.FailInterruptedJobRuns(ctx, "orchestrator restarted")
	if err != nil || n != 1 {
		t.Fatalf("FailInterruptedJobRuns = %d, %v", n, err)
	}
	runs, err := s.JobRuns(ctx, a.ID, 10)
	if err != nil || len(runs) != 1 || runs[0].ID != run.ID || runs[0].Status != RunFailed || runs[0].Error != "orchestrator restarted" {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	run.Status, run.Tokens, run.EndedAt = RunOK, 120, now
	if err := s.FinishJobRun(ctx, run); !errors.Is(err, ErrNotFound) {
		t.Errorf("finishing a run failed by a restart: %v", err)
	}
	run, err = s.StartJobRun(ctx, JobRun{JobID: a.ID, Trigger: "manual", ScheduledAt: now, StartedAt: now, Status: RunRunning}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	run.Status, run.Tokens, run.EndedAt = RunOK, 120, now
	if err := s.FinishJobRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if tok, err := s.JobTokensSince(ctx, a.ID, now.Add(-time.Hour)); err != nil || tok != 120 {
		t.Errorf("JobTokensSince = %d, %v", tok, err)
	}
	// Pausing clears next_run; SetJobNext leaves a paused job alone.
	if ok, err := s.SetJobState(ctx, a.ID, []string{JobActive}, JobPaused, "by admin", time.Time{}, 0); !ok || err != nil {
		t.Fatalf("pause: %v %v", ok, err)
	}
	if ok, err := s.SetJobNext(ctx, a.ID, now, 1); ok || err != nil {
		t.Errorf("SetJobNext on a paused job: %v %v", ok, err)
	}
	if due, _ := s.DueJobs(ctx, now.Add(48*time.Hour), 10); len(due) != 1 || due[0].Name != "b" {
		t.Errorf("due after pause = %+v", due)
	}
	counts, tokens, err := s.JobRunCounts(ctx)
	if err != nil || counts[RunOK] != 1 || counts[RunFailed] != 1 || tokens != 120 {
		t.Errorf("JobRunCounts = %v %d %v", counts, tokens, err)
	}
	if err := s.DeleteJob(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetJob(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted job: %v", err)
	}
	if runs, _ := s.JobRuns(ctx, a.ID, 10); len(runs) != 0 {
		t.Errorf("runs of a deleted job: %+v", runs)
	}
}

func TestDueJobsUsesIndex(t *testing.T) {
	s, _, _ := newTestStore(t)
	var plan string
	rows, err := s.reader.Query("EXPLAIN QUERY PLAN SELECT " + jobColumns + " FROM jobs INDEXED BY jobs_due WHERE next_run IS NOT NULL AND next_run <= 0 ORDER BY next_run LIMIT 10")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, nu int
		var detail string
		if err := rows.Scan(&id, &parent, &nu, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "; "
	}
	if want := "USING INDEX jobs_due"; !strings.Contains(plan, want) || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("plan = %q, want %q and no sort", plan, want)
	}
}

// BenchmarkDueJobs is one scheduler tick's query among 100 and among
// 10,000 jobs, five of them due (docs/performance.md#scheduled-jobs).
func BenchmarkDueJobs(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) { benchDueJobs(b, n) })
	}
}

func benchDueJobs(b *testing.B, n int) {
	clk := newTestClock()
	st := openAt(b, b.TempDir()+"/bench.db")
	st.now = clk.Now
	ctx := context.Background()
	now := clk.Now()
	for i := range n {
		next := now.Add(time.Duration(i+1) * time.Minute)
		if i < 5 {
			next = now.Add(-time.Duration(i+1) * time.Second)
		}
		if _, err := st.CreateJob(ctx, testJob(fmt.Sprintf("job-%05d", i), next)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		due, err := st.DueJobs(ctx, now, 100)
		if err != nil || len(due) != 5 {
			b.Fatalf("due = %d, %v", len(due), err)
		}
	}
}

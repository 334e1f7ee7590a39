package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/airlockhq/airlock/internal/backoff"
	"github.com/airlockhq/airlock/internal/logref"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// Run triggers.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	TriggerCatchUp  = "catch-up" // due while the orchestrator was down, within the grace window
)

// maxDuePerTick bounds the jobs one tick starts; the rest are next tick's.
const maxDuePerTick = 100

// RestartedReason is the error of a run in flight when the orchestrator stopped.
const RestartedReason = "the orchestrator stopped during this run; it is not run again"

// Run is the scheduler: it recovers from the last stop (Recover), then
// starts due runs every Tick until ctx ends, and waits for the runs in
// progress (their tasks are cancelled with ctx) before it returns.
func (s *Service) Run(ctx context.Context) {
	s.mu.Lock()
	s.base = ctx
	s.mu.Unlock()
	if err := s.Recover(ctx); err != nil {
		s.d.Logger.Error("jobs: recovering after a restart failed", "err", err)
	}
	t := time.NewTicker(s.d.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return
		case <-t.C:
			if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
				s.d.Logger.Error("jobs: scheduler tick failed", "err", err)
			}
		}
	}
}

// Wait waits for the runs in progress.
func (s *Service) Wait() { s.wg.Wait() }

// Recover marks the runs a previous process left running as failed (never
// run twice), and deals with the runs due while it was down: a job whose
// due time is within its grace window runs once at the next tick (as a
// catch-up); past it, one missed run is recorded and the job is moved to
// its next time.
func (s *Service) Recover(ctx context.Context) error {
	if n, err := s.d.Store.FailInterruptedJobRuns(ctx, RestartedReason); err != nil {
		return err
	} else if n > 0 {
		s.d.Logger.Warn("jobs: runs interrupted by a restart marked failed", "count", n)
	}
	now := s.d.Now()
	due, err := s.d.Store.DueJobs(ctx, now, 10_000)
	if err != nil {
		return err
	}
	env := s.env()
	for _, j := range due {
		if now.Sub(j.NextRun) <= j.Grace {
			continue
		}
		sched, err := Parse(j.Schedule, env.Location, env.Floor)
		if err != nil {
			s.pause(ctx, j, "its schedule is no longer valid: "+err.Error())
			continue
		}
		missed := 0
		for t := j.NextRun; !t.IsZero() && !t.After(now) && missed < 100_000; t = sched.Next(t) {
			missed++
		}
		r := store.JobRun{JobID: j.ID, Trigger: TriggerSchedule, ScheduledAt: j.NextRun, StartedAt: now, EndedAt: now,
			Status: store.RunMissed, Error: fmt.Sprintf("%d run(s) due while the orchestrator was down, past the grace window of %s", missed, j.Grace)}
		if _, err := s.d.Store.StartJobRun(ctx, r, s.nextOrPause(ctx, j, sched, now)); err != nil {
			return err
		}
	}
	return nil
}

// Tick starts the runs that are due now.
func (s *Service) Tick(ctx context.Context) error {
	now := s.d.Now()
	due, err := s.d.Store.DueJobs(ctx, now, maxDuePerTick)
	if err != nil {
		return err
	}
	for _, j := range due {
		trigger := TriggerSchedule
		if now.Sub(j.NextRun) > s.d.Tick+time.Minute {
			trigger = TriggerCatchUp
		}
		if err := s.start(ctx, j, trigger, j.NextRun, true); err != nil && !errors.Is(err, ErrRunning) {
			s.d.Logger.Error("jobs: starting a run failed", "job", j.Name, "err", err)
		}
	}
	return nil
}

// RunNow starts a run of an active or paused job at once, outside its
// schedule. A proposed or rejected job cannot run. It returns the run.
func (s *Service) RunNow(ctx context.Context, actor, id string) (store.JobRun, error) {
	j, err := s.get(ctx, id)
	if err != nil {
		return store.JobRun{}, err
	}
	if j.State != store.JobActive && j.State != store.JobPaused {
		return store.JobRun{}, ErrWrongState
	}
	s.audit(ctx, actor, "job.run_now", j, nil)
	s.mu.Lock()
	base := s.base
	s.mu.Unlock()
	var run store.JobRun
	err = s.startRun(ctx, base, j, TriggerManual, s.d.Now(), false, &run)
	return run, err
}

func (s *Service) start(ctx context.Context, j store.Job, trigger string, scheduled time.Time, advance bool) error {
	return s.startRun(ctx, ctx, j, trigger, scheduled, advance, nil)
}

// startRun records a run of j and starts it in its own goroutine under
// base; with advance, the job's next run moves on in the same write. A
// run due while the previous one runs is recorded as skipped; a job past
// its daily budget records a capped run without calling anything.
func (s *Service) startRun(ctx, base context.Context, j store.Job, trigger string, scheduled time.Time, advance bool, out *store.JobRun) error {
	now := s.d.Now()
	env := s.env()
	var next time.Time
	if advance {
		sched, err := Parse(j.Schedule, env.Location, env.Floor)
		if err != nil {
			s.pause(ctx, j, "its schedule is no longer valid: "+err.Error())
			return err
		}
		if next = s.nextOrPause(ctx, j, sched, now); next.IsZero() {
			return nil
		}
	}
	r := store.JobRun{JobID: j.ID, Trigger: trigger, ScheduledAt: scheduled, StartedAt: now}
	s.mu.Lock()
	busy := s.running[j.ID]
	if !busy {
		s.running[j.ID] = true
	}
	s.mu.Unlock()
	if busy {
		r.Status, r.EndedAt, r.Error = store.RunSkipped, now, "the previous run was still running"
		_, err := s.d.Store.StartJobRun(ctx, r, next)
		return errors.Join(err, ErrRunning)
	}
	maxTokens, stop, err := s.budget(ctx, j, env, now)
	if err == nil && stop != "" {
		r.Status, r.EndedAt, r.Error = store.RunCapped, now, stop
		r, err = s.d.Store.StartJobRun(ctx, r, next)
		s.done(j.ID)
		return err
	}
	if err == nil {
		r.Status = store.RunRunning
		r, err = s.d.Store.StartJobRun(ctx, r, next)
	}
	if err != nil {
		s.done(j.ID)
		return err
	}
	if out != nil {
		*out = r
	}
	req := RunRequest{JobID: j.ID, Name: j.Name, Kind: j.Kind, ConversationID: j.ConversationID, Prompt: j.Prompt,
		Script: j.Script, Phrase: j.Phrase, MaxTokens: maxTokens, MaxCalls: j.MaxCalls}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.done(j.ID)
		s.execute(base, j, r, req)
	}()
	return nil
}

func (s *Service) done(id string) {
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
}

// nextOrPause returns the job's next run after now, or pauses a job whose
// schedule never runs again and returns the zero time.
func (s *Service) nextOrPause(ctx context.Context, j store.Job, sched Schedule, now time.Time) time.Time {
	next := sched.Next(now)
	if next.IsZero() {
		s.pause(ctx, j, "its schedule never runs again")
	}
	return next
}

// budget returns the token cap of the next run (the job's cap, lowered to
// what is left of its daily budget), or why the run must not start.
func (s *Service) budget(ctx context.Context, j store.Job, env Env, now time.Time) (int, string, error) {
	if j.DailyTokens <= 0 || (j.Kind == store.JobScript && !j.Phrase) {
		return j.MaxTokens, "", nil
	}
	l := now.In(env.Location)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, env.Location)
	used, err := s.d.Store.JobTokensSince(ctx, j.ID, day)
	if err != nil {
		return 0, "", err
	}
	if used >= j.DailyTokens {
		return 0, fmt.Sprintf("not run: the daily budget of %d tokens is used up (%d spent today)", j.DailyTokens, used), nil
	}
	return min(j.MaxTokens, j.DailyTokens-used), "", nil
}

// execute runs one run, delivers its result and records how it ended.
func (s *Service) execute(ctx context.Context, j store.Job, r store.JobRun, req RunRequest) {
	res, err := s.d.Runner.RunJob(ctx, req)
	r.EndedAt = s.d.Now()
	r.Tokens, r.Calls, r.TaskID = res.Tokens, res.Calls, res.TaskID
	switch {
	case errors.Is(err, ErrScriptNotApproved):
		r.Status, r.Error = store.RunFailed, fmt.Sprintf("script %s has no approved version (revoked?); the job is paused", j.Script)
		s.pause(ctx, j, fmt.Sprintf("its script %s has no approved version (revoked?)", j.Script))
	case err != nil:
		ref := logref.New()
		s.d.Logger.Warn("jobs: run failed", "job", j.Name, "run_id", r.ID, "ref", ref, "err", err)
		r.Status, r.Error = store.RunFailed, "the run could not be carried out (reference "+ref+")"
	case res.Empty:
		r.Status = store.RunEmpty
	case res.Capped:
		r.Status, r.Output = store.RunCapped, excerpt(res.Text)
		r.Error = s.deliver(ctx, j, r.ID, res)
	case res.Failed:
		r.Status, r.Error, r.Output = store.RunFailed, excerpt(res.Reason), excerpt(res.Text)
	default:
		r.Status, r.Output = store.RunOK, excerpt(res.Text)
		r.Error = s.deliver(ctx, j, r.ID, res)
	}
	wctx := context.WithoutCancel(ctx)
	if err := s.d.Store.FinishJobRun(wctx, r); err != nil {
		s.d.Logger.Error("jobs: recording a run failed", "job", j.Name, "run_id", r.ID, "err", err)
	}
	s.account(wctx, j, r)
}

// account updates the job's failure count after a run: a failure backs
// the next run off exponentially and, the MaxFailures-th in a row, pauses
// the job and notifies the admins; anything else resets the count.
func (s *Service) account(ctx context.Context, j store.Job, r store.JobRun) {
	cur, err := s.d.Store.GetJob(ctx, j.ID)
	if err != nil || cur.State != store.JobActive {
		return // deleted or paused meanwhile
	}
	if r.Status != store.RunFailed {
		if cur.Failures != 0 {
			_, _ = s.d.Store.SetJobNext(ctx, j.ID, cur.NextRun, 0)
		}
		return
	}
	failures := cur.Failures + 1
	if max := s.env().MaxFailures; failures >= max {
		s.pause(ctx, cur, fmt.Sprintf("%d runs in a row failed", failures))
		return
	}
	next := cur.NextRun
	if earliest := s.d.Now().Add(s.d.Backoff(failures)); next.Before(earliest) {
		next = earliest
	}
	if _, err := s.d.Store.SetJobNext(ctx, j.ID, next, failures); err != nil {
		s.d.Logger.Error("jobs: backing off failed", "job", j.Name, "err", err)
	}
}

// ScriptRevoked pauses, at once, every active job that runs the script
// name (the approval service's OnRevoked hook): revoking a script stops
// its jobs. A run in progress loses its HTTP access through the script
// broker's own check.
func (s *Service) ScriptRevoked(ctx context.Context, name string) {
	list, err := s.d.Store.ListJobs(ctx)
	if err != nil {
		s.d.Logger.Error("jobs: pausing the jobs of a revoked script failed", "script", name, "err", err)
		return
	}
	for _, j := range list {
		if j.Kind == store.JobScript && j.Script == name && j.State == store.JobActive {
			s.pause(ctx, j, fmt.Sprintf("its script %s was revoked", name))
		}
	}
}

// pause pauses an active job by the system, audits it and tells the admins.
func (s *Service) pause(ctx context.Context, j store.Job, reason string) {
	ok, err := s.d.Store.SetJobState(ctx, j.ID, []string{store.JobActive}, store.JobPaused, reason, time.Time{}, j.Failures)
	if err != nil || !ok {
		return
	}
	s.audit(ctx, "system", "job.auto_paused", j, map[string]any{"reason": reason})
	s.d.Logger.Warn("jobs: job paused itself", "job", j.Name, "reason", reason)
	if s.d.Notify != nil {
		s.d.Notify(fmt.Sprintf("The scheduled job %q paused itself: %s. Resume it once fixed: %s", j.Name, reason, s.link(j.ID)))
	}
}

// deliveryAttempts is how many times a target is tried before the
// delivery counts as failed.
const deliveryAttempts = 3

// deliver sends a run's text to the job's targets, retrying each a few
// times, and returns what failed ("" when all went out). A target that
// still fails is logged (with a reference, never the text) and audited
// as job.delivery_failed.
func (s *Service) deliver(ctx context.Context, j store.Job, runID string, res RunResult) string {
	text := res.Text
	if strings.TrimSpace(text) == "" {
		return ""
	}
	var failed []string
	for _, t := range j.Targets {
		send := s.sender(j, t, res)
		if send == nil {
			continue
		}
		var err error
		attempts := 0
		for attempt := range deliveryAttempts {
			attempts++
			if err = send(ctx, text); err == nil {
				break
			}
			if attempt == deliveryAttempts-1 {
				break
			}
			s.d.Logger.Info("jobs: delivery failed, retrying", "job", j.Name, "run_id", runID, "target", t.Kind,
				"id", t.ID, "attempt", attempts, "err", err)
			if backoff.Sleep(ctx, s.d.RetryWait(attempt)) != nil {
				break
			}
		}
		if err != nil {
			ref := logref.New()
			s.d.Logger.Warn("jobs: delivery failed", "job", j.Name, "run_id", runID, "target", t.Kind, "id", t.ID,
				"attempts", attempts, "ref", ref, "err", err)
			s.auditDelivery(context.WithoutCancel(ctx), j, runID, t, attempts, ref)
			failed = append(failed, fmt.Sprintf("delivery to %s %s failed after %d attempts (reference %s)", t.Kind, t.ID, attempts, ref))
		}
	}
	return strings.Join(failed, "; ")
}

// auditDelivery records a delivery that failed after its retries.
func (s *Service) auditDelivery(ctx context.Context, j store.Job, runID string, t store.JobTarget, attempts int, ref string) {
	d := map[string]any{"job_id": j.ID, "run_id": runID, "target": t.Kind, "attempts": attempts, "ref": ref}
	if t.ID != "" {
		d["target_id"] = t.ID
	}
	if _, err := s.d.Audit.Append(ctx, audit.Event{Actor: "system", Action: "job.delivery_failed", Target: j.Name,
		Outcome: audit.OutcomeError, Details: d}); err != nil {
		s.d.Logger.Error("audit append failed", "action", "job.delivery_failed", "err", err)
	}
}

func (s *Service) sender(j store.Job, t store.JobTarget, res RunResult) func(context.Context, string) error {
	switch t.Kind {
	case TargetWeb:
		if res.InConversation {
			return nil
		}
		return func(ctx context.Context, text string) error {
			return s.d.Runner.PostToConversation(ctx, j.ConversationID, "scheduled run of job "+j.Name, text)
		}
	case TargetDiscordChannel, TargetDiscordDM:
		return func(ctx context.Context, text string) error {
			if s.d.Deliver == nil {
				return errors.New("discord is not running")
			}
			if t.Kind == TargetDiscordDM {
				return s.d.Deliver.SendDM(ctx, t.ID, text)
			}
			return s.d.Deliver.SendChannel(ctx, t.ID, text)
		}
	}
	return nil
}

// excerpt keeps the start of a run's output for its history.
func excerpt(s string) string {
	const n = 500
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

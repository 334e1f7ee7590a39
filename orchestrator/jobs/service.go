package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/internal/backoff"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// Errors for callers to branch on; their text is safe to show.
var (
	ErrNotFound    = errors.New("no such job")
	ErrWrongState  = errors.New("the job is not in a state that allows this")
	ErrRunning     = errors.New("a run of this job is in progress")
	ErrTooManyWait = fmt.Errorf("%d proposed jobs are waiting for review already; an admin must decide on them first", MaxProposed)
)

// MaxProposed caps the jobs waiting for review, so the assistant cannot
// pile up proposals.
const MaxProposed = 20

// Deps are what the service works with. Store, Audit, Scripts, Runner,
// Env and Logger are required.
type Deps struct {
	Store   *store.Store
	Audit   *audit.Log
	Scripts ScriptChecker
	Runner  Runner
	// Deliver sends to Discord; nil: Discord targets fail (logged).
	Deliver Deliverer
	// Notify tells the admins something (a job paused itself, the
	// assistant proposed a job); nil: logged only.
	Notify func(text string)
	Env    func() Env
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
	// Tick is how often the scheduler looks for due jobs (0: 1 s).
	Tick time.Duration
	// Backoff is the least wait after the n-th consecutive failure (nil:
	// 1 min doubling up to 1 h). RetryWait is the wait before the n-th
	// retry of a delivery (nil: 1 s doubling up to 30 s).
	Backoff   func(failures int) time.Duration
	RetryWait func(attempt int) time.Duration
}

// Service owns the rules of jobs and runs the scheduler.
type Service struct {
	d Deps

	mu      sync.Mutex
	running map[string]bool // job id → a run is in progress
	wg      sync.WaitGroup
	base    context.Context // the scheduler's context, for runs started by RunNow
}

// New returns a Service, or an error naming a missing dependency.
func New(d Deps) (*Service, error) {
	switch {
	case d.Store == nil, d.Audit == nil, d.Scripts == nil, d.Runner == nil, d.Env == nil, d.Logger == nil:
		return nil, errors.New("jobs: Store, Audit, Scripts, Runner, Env and Logger are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Tick <= 0 {
		d.Tick = time.Second
	}
	if d.Backoff == nil {
		d.Backoff = func(n int) time.Duration { return backoff.Ceiling(n-1, time.Minute, time.Hour) }
	}
	if d.RetryWait == nil {
		d.RetryWait = func(n int) time.Duration { return backoff.Ceiling(n, time.Second, 30*time.Second) }
	}
	return &Service{d: d, running: map[string]bool{}, base: context.Background()}, nil
}

func (s *Service) env() Env {
	e := s.d.Env()
	if e.Location == nil {
		e.Location = time.UTC
	}
	if e.Floor <= 0 {
		e.Floor = DefaultFloor
	}
	if e.MaxFailures <= 0 {
		e.MaxFailures = 5
	}
	return e
}

// get returns a job, or ErrNotFound.
func (s *Service) get(ctx context.Context, id string) (store.Job, error) {
	j, err := s.d.Store.GetJob(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Job{}, ErrNotFound
	}
	return j, err
}

// Get returns a job.
func (s *Service) Get(ctx context.Context, id string) (store.Job, error) { return s.get(ctx, id) }

// List returns every job.
func (s *Service) List(ctx context.Context) ([]store.Job, error) { return s.d.Store.ListJobs(ctx) }

// Runs returns a job's latest runs, newest first.
func (s *Service) Runs(ctx context.Context, id string, limit int) ([]store.JobRun, error) {
	return s.d.Store.JobRuns(ctx, id, limit)
}

// Create stores an admin's job, active from now. A bad definition is a
// *FieldError and nothing is stored.
func (s *Service) Create(ctx context.Context, actor string, spec Spec) (store.Job, error) {
	return s.create(ctx, actor, spec, store.JobActive)
}

// Propose stores the assistant's job as proposed: it has no next run and
// cannot run until an admin approves it.
func (s *Service) Propose(ctx context.Context, proposer string, spec Spec) (store.Job, error) {
	list, err := s.d.Store.ListJobs(ctx)
	if err != nil {
		return store.Job{}, err
	}
	n := 0
	for _, j := range list {
		if j.State == store.JobProposed {
			n++
		}
	}
	if n >= MaxProposed {
		return store.Job{}, ErrTooManyWait
	}
	j, err := s.create(ctx, proposer, spec, store.JobProposed)
	if err == nil && s.d.Notify != nil {
		s.d.Notify(fmt.Sprintf("The assistant proposed the scheduled job %q (%s). Review it on the Jobs page: %s\n"+
			"It cannot run until an admin approves it there.", j.Name, j.Schedule, s.link(j.ID)))
	}
	return j, err
}

func (s *Service) create(ctx context.Context, actor string, spec Spec, state string) (store.Job, error) {
	spec, sched, err := check(ctx, spec, s.env(), s.d.Scripts)
	if err != nil {
		return store.Job{}, err
	}
	j := fromSpec(store.Job{State: state, ProposedBy: actor}, spec)
	if state == store.JobActive {
		j.NextRun = sched.Next(s.d.Now())
	}
	j, err = s.d.Store.CreateJob(ctx, j)
	if errors.Is(err, store.ErrNameTaken) {
		return store.Job{}, fieldErr("name", "a job named %q exists already", spec.Name)
	}
	if err != nil {
		return store.Job{}, err
	}
	action := "job.created"
	if state == store.JobProposed {
		action = "job.proposed"
	}
	s.audit(ctx, actor, action, j, nil)
	return j, nil
}

func fromSpec(j store.Job, spec Spec) store.Job {
	j.Name, j.Kind, j.Schedule, j.Prompt, j.Script, j.Phrase = spec.Name, spec.Kind, spec.Schedule, spec.Prompt, spec.Script, spec.Phrase
	j.Targets, j.MaxTokens, j.MaxCalls, j.DailyTokens = spec.Targets, spec.MaxTokens, spec.MaxCalls, spec.DailyTokens
	j.Grace = time.Duration(*spec.GraceSeconds) * time.Second
	return j
}

// SpecOf returns the definition of j, for an edit form.
func SpecOf(j store.Job) Spec {
	g := int(j.Grace / time.Second)
	return Spec{Name: j.Name, Kind: j.Kind, Schedule: j.Schedule, Prompt: j.Prompt, Script: j.Script, Phrase: j.Phrase,
		Targets: j.Targets, MaxTokens: j.MaxTokens, MaxCalls: j.MaxCalls, DailyTokens: j.DailyTokens, GraceSeconds: &g}
}

// Update replaces an admin's job definition. An active job's next run
// follows the new schedule; a proposed job stays proposed.
func (s *Service) Update(ctx context.Context, actor, id string, spec Spec) (store.Job, error) {
	j, err := s.get(ctx, id)
	if err != nil {
		return store.Job{}, err
	}
	spec, sched, err := check(ctx, spec, s.env(), s.d.Scripts)
	if err != nil {
		return store.Job{}, err
	}
	j = fromSpec(j, spec)
	if j.State == store.JobActive {
		j.NextRun = sched.Next(s.d.Now())
	}
	j, err = s.d.Store.UpdateJob(ctx, j)
	if errors.Is(err, store.ErrNameTaken) {
		return store.Job{}, fieldErr("name", "a job named %q exists already", spec.Name)
	}
	if err != nil {
		return store.Job{}, err
	}
	s.audit(ctx, actor, "job.updated", j, nil)
	return j, nil
}

// Approve makes a proposed job active. Its definition is checked again
// (a script may have been revoked since).
func (s *Service) Approve(ctx context.Context, actor, id string) (store.Job, error) {
	return s.activate(ctx, actor, id, store.JobProposed, "job.approved")
}

// Resume makes a paused job active again, its failure count reset.
func (s *Service) Resume(ctx context.Context, actor, id string) (store.Job, error) {
	return s.activate(ctx, actor, id, store.JobPaused, "job.resumed")
}

func (s *Service) activate(ctx context.Context, actor, id, from, action string) (store.Job, error) {
	j, err := s.get(ctx, id)
	if err != nil {
		return store.Job{}, err
	}
	_, sched, err := check(ctx, SpecOf(j), s.env(), s.d.Scripts)
	if err != nil {
		return store.Job{}, err
	}
	ok, err := s.d.Store.SetJobState(ctx, id, []string{from}, store.JobActive, "", sched.Next(s.d.Now()), 0)
	if err != nil {
		return store.Job{}, err
	}
	if !ok {
		return store.Job{}, ErrWrongState
	}
	s.audit(ctx, actor, action, j, nil)
	return s.get(ctx, id)
}

// Reject refuses a proposed job; it stays, rejected, for the record.
func (s *Service) Reject(ctx context.Context, actor, id string) error {
	return s.deactivate(ctx, actor, id, []string{store.JobProposed}, store.JobRejected, "rejected by "+actor, "job.rejected")
}

// Pause stops an active job's schedule.
func (s *Service) Pause(ctx context.Context, actor, id string) error {
	return s.deactivate(ctx, actor, id, []string{store.JobActive}, store.JobPaused, "paused by "+actor, "job.paused")
}

func (s *Service) deactivate(ctx context.Context, actor, id string, from []string, to, reason, action string) error {
	j, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	ok, err := s.d.Store.SetJobState(ctx, id, from, to, reason, time.Time{}, j.Failures)
	if err != nil {
		return err
	}
	if !ok {
		return ErrWrongState
	}
	s.audit(ctx, actor, action, j, nil)
	return nil
}

// Delete deletes a job and its run history; its conversation stays.
func (s *Service) Delete(ctx context.Context, actor, id string) error {
	j, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	if err := s.d.Store.DeleteJob(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, actor, "job.deleted", j, nil)
	return nil
}

// Review is what the admin sees before approving a job.
type Review struct {
	Job               store.Job
	Words             string      // the schedule in words
	Next              []time.Time // the next five runs, in the admin's zone
	WorstTokensPerDay int
	ScheduleError     string // the schedule no longer parses (settings changed)
}

// Review describes job id for its page.
func (s *Service) Review(ctx context.Context, id string) (Review, error) {
	j, err := s.get(ctx, id)
	if err != nil {
		return Review{}, err
	}
	env := s.env()
	r := Review{Job: j}
	sched, err := Parse(j.Schedule, env.Location, env.Floor)
	if err != nil {
		r.ScheduleError = err.Error()
		return r, nil
	}
	now := s.d.Now()
	r.Words = sched.Describe()
	for _, t := range sched.NextN(now, 5) {
		r.Next = append(r.Next, t.In(env.Location))
	}
	r.WorstTokensPerDay = WorstTokensPerDay(j, sched, now)
	return r, nil
}

func (s *Service) audit(ctx context.Context, actor, action string, j store.Job, extra map[string]any) {
	d := map[string]any{"job_id": j.ID, "kind": j.Kind, "schedule": j.Schedule, "state": j.State}
	if j.Script != "" {
		d["script"] = j.Script
	}
	for k, v := range extra {
		d[k] = v
	}
	if _, err := s.d.Audit.Append(ctx, audit.Event{Actor: actor, Action: action, Target: j.Name, Outcome: "ok", Details: d}); err != nil {
		s.d.Logger.Error("audit append failed", "action", action, "err", err)
	}
}

// link is the address of job id's page for a notice.
func (s *Service) link(id string) string {
	return strings.TrimRight(s.env().LinkBase, "/") + "/jobs/" + id
}

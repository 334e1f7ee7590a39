package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Job kinds.
const (
	JobPrompt = "prompt" // a message run as an agent task
	JobScript = "script" // an approved script run by the worker, no model call
)

// Job states. Only an active job has a next run.
const (
	JobProposed = "proposed" // proposed by the assistant, waiting for an admin
	JobActive   = "active"
	JobPaused   = "paused"
	JobRejected = "rejected"
)

// Job run statuses.
const (
	RunRunning = "running"
	RunOK      = "ok"      // delivered
	RunEmpty   = "empty"   // the script found nothing: nothing sent, no tokens
	RunFailed  = "failed"  // error; counts towards backoff and auto-pause
	RunCapped  = "capped"  // stopped at its token or model-call cap
	RunSkipped = "skipped" // due while the previous run was still running
	RunMissed  = "missed"  // due while the orchestrator was down, past the grace window
)

// ErrNameTaken is returned when a job name is already in use.
var ErrNameTaken = errors.New("a job with this name exists")

// JobTarget is where a job's result goes. Kind is "web" (the job's own
// conversation), "discord_channel" or "discord_dm" (ID: the channel or
// the admin's user id).
type JobTarget struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
}

// Job is a scheduled job.
type Job struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Kind           string        `json:"kind"`
	Schedule       string        `json:"schedule"`
	Prompt         string        `json:"prompt,omitempty"`
	Script         string        `json:"script,omitempty"`
	Phrase         bool          `json:"phrase,omitempty"` // script result handed to the model to phrase
	Targets        []JobTarget   `json:"targets"`
	ConversationID string        `json:"conversation_id"`
	State          string        `json:"state"`
	StateReason    string        `json:"state_reason,omitempty"`
	MaxTokens      int           `json:"max_tokens"`        // per run; 0: none
	MaxCalls       int           `json:"max_calls"`         // model calls per run
	DailyTokens    int           `json:"daily_tokens"`      // per day; 0: none
	Grace          time.Duration `json:"-"`                 // a due time this late at start still runs
	NextRun        time.Time     `json:"next_run,omitzero"` // zero: not scheduled
	Failures       int           `json:"failures"`
	ProposedBy     string        `json:"proposed_by"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
}

// JobRun is one run of a job, or the record of one that did not happen
// (skipped, missed).
type JobRun struct {
	ID          string    `json:"id"`
	JobID       string    `json:"job_id"`
	Trigger     string    `json:"trigger"` // "schedule", "manual", "catch-up"
	ScheduledAt time.Time `json:"scheduled_at"`
	StartedAt   time.Time `json:"started_at"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	Status      string    `json:"status"`
	Tokens      int       `json:"tokens"`
	Calls       int       `json:"calls"`
	Output      string    `json:"output,omitempty"` // an excerpt
	Error       string    `json:"error,omitempty"`  // what went wrong, with the log reference
	// TaskID is the task the run's model calls were made for ("": none,
	// such as a script job whose result is delivered as is).
	TaskID string `json:"task_id,omitempty"`
	// Cost is what the run's model calls cost, summed from their usage
	// rows; nil when the run made no model call (JobRuns fills it).
	Cost *RunCost `json:"cost,omitempty"`
}

// RunCost is the cost of a job run's model calls.
type RunCost struct {
	Calls int64 `json:"calls"` // model calls recorded for the run
	// Nanos is the run's cost in nano-units of the price table's
	// currency; nil (null) when it is unknown: a call had no price.
	Nanos *int64 `json:"nanos"`
	// UnknownCalls counts the calls of unknown cost.
	UnknownCalls int64 `json:"unknown_calls"`
}

const jobColumns = "id, name, kind, schedule, prompt, script, phrase, targets, conversation_id, state, state_reason, " +
	"max_tokens, max_calls, daily_tokens, grace_ms, next_run, failures, proposed_by, created_at, updated_at"

const runColumns = "id, job_id, trigger, scheduled_at, started_at, ended_at, status, tokens, calls, output, error"

// CreateJob stores j with a fresh "j_" id and its own conversation (source
// SourceJob, titled with its name), in one transaction. A name in use
// gives ErrNameTaken.
func (s *Store) CreateJob(ctx context.Context, j Job) (Job, error) {
	now := fromDB(toDB(s.now()))
	j.ID, j.CreatedAt, j.UpdatedAt = newID("j_"), now, now
	conv := Conversation{ID: newID("c_"), Source: SourceJob, Title: "Job: " + j.Name, CreatedAt: now, UpdatedAt: now}
	j.ConversationID = conv.ID
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if taken, err := jobNameTaken(ctx, tx, j.Name, ""); err != nil || taken {
			return errors.Join(err, boolErr(taken, ErrNameTaken))
		}
		if _, err := s.exec(ctx, tx, "INSERT INTO conversations ("+conversationColumns+") VALUES (?, ?, ?, ?, ?)",
			conv.ID, conv.Source, conv.Title, toDB(now), toDB(now)); err != nil {
			return err
		}
		args, err := jobArgs(j)
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, "INSERT INTO jobs ("+jobColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args...)
		return err
	})
	if err != nil {
		return Job{}, fmt.Errorf("store: create job %q: %w", j.Name, err)
	}
	return j, nil
}

func boolErr(b bool, err error) error {
	if b {
		return err
	}
	return nil
}

func jobNameTaken(ctx context.Context, tx *sql.Tx, name, except string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM jobs WHERE name = ? AND id != ?", name, except).Scan(&n)
	return n > 0, err
}

func jobArgs(j Job) ([]any, error) {
	targets, err := json.Marshal(j.Targets)
	if err != nil {
		return nil, err
	}
	return []any{j.ID, j.Name, j.Kind, j.Schedule, j.Prompt, j.Script, j.Phrase, string(targets), j.ConversationID,
		j.State, j.StateReason, j.MaxTokens, j.MaxCalls, j.DailyTokens, j.Grace.Milliseconds(), nullTime(j.NextRun),
		j.Failures, j.ProposedBy, toDB(j.CreatedAt), toDB(j.UpdatedAt)}, nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return toDB(t)
}

// UpdateJob replaces the definition, state and next run of job j.ID
// (not its conversation, creator or creation time).
func (s *Store) UpdateJob(ctx context.Context, j Job) (Job, error) {
	j.UpdatedAt = fromDB(toDB(s.now()))
	targets, err := json.Marshal(j.Targets)
	if err != nil {
		return Job{}, err
	}
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		if taken, err := jobNameTaken(ctx, tx, j.Name, j.ID); err != nil || taken {
			return errors.Join(err, boolErr(taken, ErrNameTaken))
		}
		res, err := s.exec(ctx, tx, `UPDATE jobs SET name = ?, kind = ?, schedule = ?, prompt = ?, script = ?, phrase = ?,
			targets = ?, state = ?, state_reason = ?, max_tokens = ?, max_calls = ?, daily_tokens = ?, grace_ms = ?,
			next_run = ?, failures = ?, updated_at = ? WHERE id = ?`,
			j.Name, j.Kind, j.Schedule, j.Prompt, j.Script, j.Phrase, string(targets), j.State, j.StateReason,
			j.MaxTokens, j.MaxCalls, j.DailyTokens, j.Grace.Milliseconds(), nullTime(j.NextRun), j.Failures,
			toDB(j.UpdatedAt), j.ID)
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return Job{}, fmt.Errorf("store: update job %q: %w", j.ID, err)
	}
	return s.GetJob(ctx, j.ID)
}

// DeleteJob deletes a job and its runs; its conversation stays, as a
// transcript.
func (s *Store) DeleteJob(ctx context.Context, id string) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, "DELETE FROM job_runs WHERE job_id = ?", id); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, "DELETE FROM jobs WHERE id = ?", id)
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return fmt.Errorf("store: delete job %q: %w", id, err)
	}
	return nil
}

// GetJob returns a job by id, or an error matching ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(s.reader.QueryRowContext(ctx, "SELECT "+jobColumns+" FROM jobs WHERE id = ?", id))
	if err != nil {
		return Job{}, fmt.Errorf("store: get job %q: %w", id, errNoRows(err))
	}
	return j, nil
}

// ListJobs returns every job by name.
func (s *Store) ListJobs(ctx context.Context) ([]Job, error) {
	return s.queryJobs(ctx, "SELECT "+jobColumns+" FROM jobs ORDER BY name")
}

// DueJobs returns up to limit active jobs whose next run is at or before
// now, earliest first, through the partial index jobs_due.
func (s *Store) DueJobs(ctx context.Context, now time.Time, limit int) ([]Job, error) {
	return s.queryJobs(ctx, "SELECT "+jobColumns+" FROM jobs INDEXED BY jobs_due WHERE next_run IS NOT NULL AND next_run <= ? "+
		"ORDER BY next_run LIMIT ?", toDB(now), limit)
}

func (s *Store) queryJobs(ctx context.Context, q string, args ...any) ([]Job, error) {
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	return out, nil
}

func scanJob(sc interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var targets string
	var grace, created, updated int64
	var next sql.NullInt64
	err := sc.Scan(&j.ID, &j.Name, &j.Kind, &j.Schedule, &j.Prompt, &j.Script, &j.Phrase, &targets, &j.ConversationID,
		&j.State, &j.StateReason, &j.MaxTokens, &j.MaxCalls, &j.DailyTokens, &grace, &next, &j.Failures,
		&j.ProposedBy, &created, &updated)
	if err != nil {
		return Job{}, err
	}
	if err := json.Unmarshal([]byte(targets), &j.Targets); err != nil {
		return Job{}, fmt.Errorf("job %s targets: %w", j.ID, err)
	}
	j.Grace = time.Duration(grace) * time.Millisecond
	if next.Valid {
		j.NextRun = fromDB(next.Int64)
	}
	j.CreatedAt, j.UpdatedAt = fromDB(created), fromDB(updated)
	return j, nil
}

// SetJobNext sets an active job's next run (zero: none) and its count of
// consecutive failures. A job no longer active (paused meanwhile) is left
// alone; ok reports whether it was active.
func (s *Store) SetJobNext(ctx context.Context, id string, next time.Time, failures int) (ok bool, err error) {
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE jobs SET next_run = ?, failures = ? WHERE id = ? AND state = ?",
			nullTime(next), failures, id, JobActive)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: set job %q next run: %w", id, err)
	}
	return ok, nil
}

// SetJobState moves a job from one of the states in from to state, with
// a reason and a next run (zero: none). ok is false, and nothing changes,
// when the job is in none of from.
func (s *Store) SetJobState(ctx context.Context, id string, from []string, state, reason string, next time.Time, failures int) (ok bool, err error) {
	err = s.WriteTx(ctx, func(tx *sql.Tx) error {
		var cur string
		if err := tx.QueryRowContext(ctx, "SELECT state FROM jobs WHERE id = ?", id).Scan(&cur); err != nil {
			return errNoRows(err)
		}
		for _, f := range from {
			if f == cur {
				ok = true
			}
		}
		if !ok {
			return nil
		}
		_, err := s.exec(ctx, tx, "UPDATE jobs SET state = ?, state_reason = ?, next_run = ?, failures = ?, updated_at = ? WHERE id = ?",
			state, reason, nullTime(next), failures, toDB(s.now()), id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: set job %q state: %w", id, err)
	}
	return ok, nil
}

// StartJobRun stores run r (status, times) with a fresh "jr_" id and,
// in the same transaction, moves the job's next run to next (zero: left
// as it is), so that a run is never started twice for one due time even
// across a crash.
func (s *Store) StartJobRun(ctx context.Context, r JobRun, next time.Time) (JobRun, error) {
	r.ID = newID("jr_")
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, "INSERT INTO job_runs ("+runColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			r.ID, r.JobID, r.Trigger, toDB(r.ScheduledAt), toDB(r.StartedAt), timeOrZero(r.EndedAt), r.Status, r.Tokens,
			r.Calls, r.Output, r.Error); err != nil {
			return mapFK(err)
		}
		if next.IsZero() {
			return nil
		}
		_, err := s.exec(ctx, tx, "UPDATE jobs SET next_run = ? WHERE id = ? AND state = ?", toDB(next), r.JobID, JobActive)
		return err
	})
	if err != nil {
		return JobRun{}, fmt.Errorf("store: start run of job %q: %w", r.JobID, err)
	}
	return r, nil
}

func timeOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toDB(t)
}

// FinishJobRun records how run r ended. Only a running run can end: one
// already marked failed by a restart (FailInterruptedJobRuns) gives an
// error matching ErrNotFound and stays as it is.
func (s *Store) FinishJobRun(ctx context.Context, r JobRun) error {
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE job_runs SET ended_at = ?, status = ?, tokens = ?, calls = ?, output = ?, error = ?, task_id = ? WHERE id = ? AND status = ?",
			timeOrZero(r.EndedAt), r.Status, r.Tokens, r.Calls, r.Output, r.Error, r.TaskID, r.ID, RunRunning)
		if err != nil {
			return err
		}
		return expectOneRow(res)
	})
	if err != nil {
		return fmt.Errorf("store: finish job run %q: %w", r.ID, err)
	}
	return nil
}

// JobRuns returns a job's latest runs, newest first, each with the cost
// of its model calls (see RunCost).
func (s *Store) JobRuns(ctx context.Context, jobID string, limit int) ([]JobRun, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT "+runColumns+", task_id FROM job_runs WHERE job_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?",
		jobID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: job runs: %w", err)
	}
	defer rows.Close()
	var out []JobRun
	for rows.Next() {
		var r JobRun
		var sched, started, ended int64
		if err := rows.Scan(&r.ID, &r.JobID, &r.Trigger, &sched, &started, &ended, &r.Status, &r.Tokens, &r.Calls,
			&r.Output, &r.Error, &r.TaskID); err != nil {
			return nil, fmt.Errorf("store: job runs: %w", err)
		}
		r.ScheduledAt, r.StartedAt = fromDB(sched), fromDB(started)
		if ended != 0 {
			r.EndedAt = fromDB(ended)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: job runs: %w", err)
	}
	rows.Close()
	if err := s.runCosts(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// runCosts fills the Cost of the runs that have a task from the usage
// rows of that task (index usage_task).
func (s *Store) runCosts(ctx context.Context, runs []JobRun) error {
	for i := range runs {
		r := &runs[i]
		if r.TaskID == "" {
			continue
		}
		var c RunCost
		var nanos int64
		err := s.reader.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(cost_nanos), 0), COUNT(*) - COUNT(cost_nanos)"+
			" FROM usage WHERE task_id = ?", r.TaskID).Scan(&c.Calls, &nanos, &c.UnknownCalls)
		if err != nil {
			return fmt.Errorf("store: job run cost: %w", err)
		}
		if c.Calls == 0 {
			continue
		}
		if c.UnknownCalls == 0 {
			c.Nanos = &nanos
		}
		r.Cost = &c
	}
	return nil
}

// JobTokensSince sums the tokens a job's runs spent since t (its daily
// budget).
func (s *Store) JobTokensSince(ctx context.Context, jobID string, t time.Time) (int, error) {
	var n int
	err := s.reader.QueryRowContext(ctx, "SELECT COALESCE(SUM(tokens), 0) FROM job_runs WHERE job_id = ? AND started_at >= ?",
		jobID, toDB(t)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: job tokens: %w", err)
	}
	return n, nil
}

// FailInterruptedJobRuns marks runs left running by a previous process as
// failed (never run again) and returns how many there were.
func (s *Store) FailInterruptedJobRuns(ctx context.Context, reason string) (int, error) {
	var n int64
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE job_runs SET status = ?, error = ?, ended_at = ? WHERE status = ?",
			RunFailed, reason, toDB(s.now()), RunRunning)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: fail interrupted job runs: %w", err)
	}
	return int(n), nil
}

// JobRunCounts counts runs by status, and the tokens all runs spent, for
// /metrics.
func (s *Store) JobRunCounts(ctx context.Context) (byStatus map[string]int, tokens int, err error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT status, COUNT(*), COALESCE(SUM(tokens), 0) FROM job_runs GROUP BY status")
	if err != nil {
		return nil, 0, fmt.Errorf("store: job run counts: %w", err)
	}
	defer rows.Close()
	byStatus = map[string]int{}
	for rows.Next() {
		var st string
		var n, t int
		if err := rows.Scan(&st, &n, &t); err != nil {
			return nil, 0, fmt.Errorf("store: job run counts: %w", err)
		}
		byStatus[st] = n
		tokens += t
	}
	return byStatus, tokens, rows.Err()
}

package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// errJobsOff answers the job tools while no jobs service is set.
var errJobsOff = publicf("scheduled jobs are not enabled")

// SetJobs gives the core the scheduled jobs service, for job_propose and
// job_list; the service runs jobs through the core, so it is set after
// both are built.
func (c *Core) SetJobs(s *jobs.Service) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobs = s
}

func (c *Core) jobService() *jobs.Service {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jobs
}

// jobPropose stores the model's job as proposed: it waits for an admin's
// approval and has no next run until then. The arguments arrive redacted.
func (c *Core) jobPropose(ctx context.Context, task tools.Task, raw json.RawMessage) (string, error) {
	var a tools.JobProposeArgs
	if err := strictArgs(raw, &a); err != nil {
		return "", err
	}
	js := c.jobService()
	if js == nil {
		return "", errJobsOff
	}
	spec := jobs.Spec{Name: a.Name, Kind: a.Kind, Schedule: a.Schedule, Prompt: a.Prompt, Script: a.Script, Phrase: a.Phrase,
		MaxTokens: a.MaxTokens, MaxCalls: a.MaxCalls, DailyTokens: a.DailyTokens}
	for _, t := range a.Targets {
		spec.Targets = append(spec.Targets, store.JobTarget{Kind: t.Kind, ID: t.ID})
	}
	j, err := js.Propose(ctx, fmt.Sprintf("assistant (conversation %s, task %s)", task.ConversationID, task.ID), spec)
	var fe *jobs.FieldError
	switch {
	case errors.As(err, &fe):
		return "", publicError{"job_propose: " + fe.Error()}
	case errors.Is(err, jobs.ErrTooManyWait):
		return "", publicError{err.Error()}
	case err != nil:
		return "", err
	}
	b, err := json.Marshal(map[string]any{"id": j.ID, "name": j.Name, "state": j.State, "schedule": j.Schedule,
		"note": "An admin must review and approve this job on the Jobs page before it can run. You cannot enable, edit or approve it."})
	return string(b), err
}

// jobList lists the jobs. Names, prompts and reasons may be written by
// the assistant (a proposal) or the outside world: they are data.
func (c *Core) jobList(ctx context.Context, _ tools.Task, raw json.RawMessage) (string, error) {
	if err := strictArgs(raw, &struct{}{}); err != nil {
		return "", err
	}
	js := c.jobService()
	if js == nil {
		return "", errJobsOff
	}
	list, err := js.List(ctx)
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "No scheduled jobs. Propose one with job_propose.", nil
	}
	type row struct {
		Name       string `json:"name"`
		Kind       string `json:"kind"`
		Schedule   string `json:"schedule"`
		State      string `json:"state"`
		Script     string `json:"script,omitempty"`
		Prompt     string `json:"prompt,omitempty"`
		NextRun    string `json:"next_run,omitempty"`
		LastStatus string `json:"last_run_status,omitempty"`
	}
	rows := make([]row, 0, len(list))
	for _, j := range list {
		r := row{Name: j.Name, Kind: j.Kind, Schedule: j.Schedule, State: j.State, Script: j.Script, Prompt: clipText(j.Prompt, 300)}
		if !j.NextRun.IsZero() {
			r.NextRun = j.NextRun.Format("2006-01-02T15:04Z07:00")
		}
		if runs, err := js.Runs(ctx, j.ID, 1); err == nil && len(runs) == 1 {
			r.LastStatus = runs[0].Status
		}
		rows = append(rows, r)
	}
	b, err := json.Marshal(rows)
	return untrusted("job_list", string(b)), err
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return utf8cut.Prefix(s, n) + "…"
}

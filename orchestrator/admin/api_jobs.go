package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// jobView is a job as the API shows it.
type jobView struct {
	store.Job
	GraceSeconds int `json:"grace_seconds"`
}

func viewJob(j store.Job) jobView { return jobView{Job: j, GraceSeconds: int(j.Grace / time.Second)} }

// reviewView is what an admin checks before approving: the schedule in
// words, the next five runs and the worst-case tokens per day.
type reviewView struct {
	Words             string      `json:"schedule_in_words"`
	Next              []time.Time `json:"next_runs"`
	WorstTokensPerDay int         `json:"worst_case_tokens_per_day"`
	ScheduleError     string      `json:"schedule_error,omitempty"`
}

// jobsOn answers 404 while no jobs service is wired.
func (s *Server) jobsOn() error {
	if s.Jobs == nil {
		return errorf(http.StatusNotFound, "not found")
	}
	return nil
}

func (s *Server) apiListJobs(w http.ResponseWriter, r *http.Request) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	list, err := s.Jobs.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]jobView, len(list))
	for i, j := range list {
		out[i] = viewJob(j)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
	return nil
}

func (s *Server) apiJob(w http.ResponseWriter, r *http.Request) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	rev, err := s.Jobs.Review(r.Context(), r.PathValue("id"))
	if err != nil {
		return jobError(err)
	}
	runs, err := s.Jobs.Runs(r.Context(), rev.Job.ID, 50)
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"job": viewJob(rev.Job), "runs": runs,
		"review": reviewView{Words: rev.Words, Next: rev.Next, WorstTokensPerDay: rev.WorstTokensPerDay, ScheduleError: rev.ScheduleError}})
	return nil
}

func (s *Server) apiCreateJob(w http.ResponseWriter, r *http.Request) error {
	return s.apiSaveJob(w, r, http.StatusCreated, func(ctx context.Context, spec jobs.Spec) (store.Job, error) {
		return s.Jobs.Create(ctx, who(r).actor(), spec)
	})
}

func (s *Server) apiUpdateJob(w http.ResponseWriter, r *http.Request) error {
	return s.apiSaveJob(w, r, http.StatusOK, func(ctx context.Context, spec jobs.Spec) (store.Job, error) {
		return s.Jobs.Update(ctx, who(r).actor(), r.PathValue("id"), spec)
	})
}

func (s *Server) apiSaveJob(w http.ResponseWriter, r *http.Request, code int, save func(context.Context, jobs.Spec) (store.Job, error)) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	var spec jobs.Spec
	if err := s.decodeJSON(w, r, &spec); err != nil {
		return err
	}
	j, err := save(r.Context(), spec)
	var fe *jobs.FieldError
	if errors.As(err, &fe) {
		s.writeJSON(w, http.StatusBadRequest, map[string]any{"error": fe.Error(), "field": fe.Field})
		return nil
	}
	if err != nil {
		return jobError(err)
	}
	s.writeJSON(w, code, map[string]any{"job": viewJob(j)})
	return nil
}

func (s *Server) apiDeleteJob(w http.ResponseWriter, r *http.Request) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	if err := s.Jobs.Delete(r.Context(), who(r).actor(), r.PathValue("id")); err != nil {
		return jobError(err)
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id"), "status": "deleted"})
	return nil
}

// apiJobAction is pause, resume, run, approve or reject.
func (s *Server) apiJobAction(w http.ResponseWriter, r *http.Request) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	out, err := s.jobAction(r)
	var fe *jobs.FieldError
	if errors.As(err, &fe) {
		s.writeJSON(w, http.StatusConflict, map[string]any{"error": "the job can no longer run as defined: " + fe.Error(), "field": fe.Field})
		return nil
	}
	if err != nil {
		return jobError(err)
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

// jobAction carries out the action named in the path.
func (s *Server) jobAction(r *http.Request) (map[string]any, error) {
	ctx, actor, id := r.Context(), who(r).actor(), r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "pause":
		err = s.Jobs.Pause(ctx, actor, id)
	case "resume":
		_, err = s.Jobs.Resume(ctx, actor, id)
	case "approve":
		_, err = s.Jobs.Approve(ctx, actor, id)
	case "reject":
		err = s.Jobs.Reject(ctx, actor, id)
	case "delete":
		err = s.Jobs.Delete(ctx, actor, id)
		return map[string]any{"id": id, "status": "deleted"}, err
	case "run":
		run, err := s.Jobs.RunNow(ctx, actor, id)
		return map[string]any{"id": id, "run": run}, err
	default:
		return nil, errorf(http.StatusNotFound, "not found")
	}
	if err != nil {
		return nil, err
	}
	j, err := s.Jobs.Get(ctx, id)
	return map[string]any{"job": viewJob(j)}, err
}

func jobError(err error) error {
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		return errorf(http.StatusNotFound, "no such job")
	case errors.Is(err, jobs.ErrWrongState):
		return errorf(http.StatusConflict, "the job is not in a state that allows this (pause an active job, resume a paused one, approve or reject a proposed one; a proposed or rejected job cannot run)")
	case errors.Is(err, jobs.ErrRunning):
		return errorf(http.StatusConflict, "a run of this job is in progress; the request was recorded as a skipped run")
	}
	return err
}

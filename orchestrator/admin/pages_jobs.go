package admin

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/airlockhq/airlock/orchestrator/jobs"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// jobsData is the Jobs page: the list and the form of a new job.
type jobsData struct {
	Jobs []store.Job
	Form jobForm
}

// jobData is one job's page: its review, edit form and run history.
type jobData struct {
	Job    store.Job
	Review jobs.Review
	Runs   []store.JobRun
	Form   jobForm
}

// jobForm holds the form's fields as typed.
type jobForm struct {
	Name, Kind, Schedule, Prompt, Script, Targets string
	Phrase                                        bool
	MaxTokens, MaxCalls, DailyTokens, Grace       string
}

func formOf(spec jobs.Spec) jobForm {
	var ts []string
	for _, t := range spec.Targets {
		if t.ID == "" {
			ts = append(ts, t.Kind)
		} else {
			ts = append(ts, t.Kind+":"+t.ID)
		}
	}
	f := jobForm{Name: spec.Name, Kind: spec.Kind, Schedule: spec.Schedule, Prompt: spec.Prompt, Script: spec.Script,
		Phrase: spec.Phrase, Targets: strings.Join(ts, "\n"), MaxTokens: strconv.Itoa(spec.MaxTokens),
		MaxCalls: strconv.Itoa(spec.MaxCalls), DailyTokens: strconv.Itoa(spec.DailyTokens)}
	if spec.GraceSeconds != nil {
		f.Grace = strconv.Itoa(*spec.GraceSeconds)
	}
	return f
}

// readJobForm reads the posted form into a Spec; a number that does not
// parse is a *jobs.FieldError naming it.
func readJobForm(r *http.Request) (jobForm, jobs.Spec, error) {
	f := jobForm{Name: strings.TrimSpace(r.PostFormValue("name")), Kind: r.PostFormValue("kind"),
		Schedule: r.PostFormValue("schedule"), Prompt: r.PostFormValue("prompt"), Script: strings.TrimSpace(r.PostFormValue("script")),
		Phrase: r.PostFormValue("phrase") == "on", Targets: r.PostFormValue("targets"),
		MaxTokens: r.PostFormValue("max_tokens"), MaxCalls: r.PostFormValue("max_calls"),
		DailyTokens: r.PostFormValue("daily_tokens"), Grace: r.PostFormValue("grace_seconds")}
	spec := jobs.Spec{Name: f.Name, Kind: f.Kind, Schedule: f.Schedule, Prompt: f.Prompt, Script: f.Script, Phrase: f.Phrase}
	for _, line := range strings.Split(f.Targets, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		kind, id, _ := strings.Cut(line, ":")
		spec.Targets = append(spec.Targets, store.JobTarget{Kind: strings.TrimSpace(kind), ID: strings.TrimSpace(id)})
	}
	for _, n := range []struct {
		field, v string
		dst      *int
	}{{"max_tokens", f.MaxTokens, &spec.MaxTokens}, {"max_calls", f.MaxCalls, &spec.MaxCalls}, {"daily_tokens", f.DailyTokens, &spec.DailyTokens}} {
		if strings.TrimSpace(n.v) == "" {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(n.v))
		if err != nil {
			return f, spec, &jobs.FieldError{Field: n.field, Reason: "must be a whole number"}
		}
		*n.dst = v
	}
	if g := strings.TrimSpace(f.Grace); g != "" {
		v, err := strconv.Atoi(g)
		if err != nil {
			return f, spec, &jobs.FieldError{Field: "grace_seconds", Reason: "must be a whole number of seconds"}
		}
		spec.GraceSeconds = &v
	}
	return f, spec, nil
}

func (s *Server) pageJobs(w http.ResponseWriter, r *http.Request) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	return s.renderJobs(w, r, http.StatusOK, "", jobForm{Kind: store.JobPrompt, Targets: jobs.TargetWeb, Schedule: "0 8 * * 1-5"})
}

func (s *Server) renderJobs(w http.ResponseWriter, r *http.Request, code int, errMsg string, f jobForm) error {
	list, err := s.Jobs.List(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, code, "jobs", view{Title: "Jobs", Nav: "jobs", Error: errMsg, Script: "confirm.js",
		Data: jobsData{Jobs: list, Form: f}})
	return nil
}

func (s *Server) pageCreateJob(w http.ResponseWriter, r *http.Request) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	f, spec, err := readJobForm(r)
	if err == nil {
		var j store.Job
		if j, err = s.Jobs.Create(r.Context(), who(r).actor(), spec); err == nil {
			s.redirect(w, r, "/jobs/"+j.ID, "Created the job "+j.Name+".")
			return nil
		}
	}
	var fe *jobs.FieldError
	if errors.As(err, &fe) {
		return s.renderJobs(w, r, http.StatusBadRequest, fe.Error(), f)
	}
	return err
}

func (s *Server) pageJob(w http.ResponseWriter, r *http.Request) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	return s.renderJob(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderJob(w http.ResponseWriter, r *http.Request, code int, errMsg string, f *jobForm) error {
	rev, err := s.Jobs.Review(r.Context(), r.PathValue("id"))
	if err != nil {
		return jobError(err)
	}
	runs, err := s.Jobs.Runs(r.Context(), rev.Job.ID, 50)
	if err != nil {
		return err
	}
	if f == nil {
		form := formOf(jobs.SpecOf(rev.Job))
		f = &form
	}
	s.render(w, r, code, "job", view{Title: "Job " + rev.Job.Name, Nav: "jobs", Error: errMsg, Script: "confirm.js",
		Data: jobData{Job: rev.Job, Review: rev, Runs: runs, Form: *f}})
	return nil
}

func (s *Server) pageUpdateJob(w http.ResponseWriter, r *http.Request) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	f, spec, err := readJobForm(r)
	if err == nil {
		var j store.Job
		if j, err = s.Jobs.Update(r.Context(), who(r).actor(), r.PathValue("id"), spec); err == nil {
			s.redirect(w, r, "/jobs/"+j.ID, "Saved the job "+j.Name+".")
			return nil
		}
	}
	var fe *jobs.FieldError
	if errors.As(err, &fe) {
		return s.renderJob(w, r, http.StatusBadRequest, fe.Error(), &f)
	}
	return jobError(err)
}

// pageJobAction is pause, resume, run, approve, reject or delete.
func (s *Server) pageJobAction(w http.ResponseWriter, r *http.Request) error {
	if err := s.jobsOn(); err != nil {
		return err
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	_, err := s.jobAction(r)
	var fe *jobs.FieldError
	if errors.As(err, &fe) {
		return s.renderJob(w, r, http.StatusConflict, "The job can no longer run as defined: "+fe.Error(), nil)
	}
	if err != nil {
		return jobError(err)
	}
	msgs := map[string]string{"pause": "Paused.", "resume": "Resumed.", "approve": "Approved: the job is scheduled.",
		"reject": "Rejected.", "run": "Started a run; its result appears in the history below."}
	if action == "delete" {
		s.redirect(w, r, "/jobs", "Deleted the job.")
		return nil
	}
	s.redirect(w, r, "/jobs/"+id, msgs[action])
	return nil
}

// runCostText renders a job run's cost: "" when it made no model call,
// "unknown" when one of its calls had no price.
func runCostText(c *store.RunCost) string {
	switch {
	case c == nil:
		return ""
	case c.Nanos == nil:
		return "unknown"
	}
	return llm.FormatMoney(*c.Nanos)
}

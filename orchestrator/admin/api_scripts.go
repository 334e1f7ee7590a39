package admin

import (
	"errors"
	"net/http"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator"
	"github.com/airlockhq/airlock/orchestrator/approval"
)

func (s *Server) apiListScripts(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Approval.List(r.Context(), false)
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"scripts": list})
	return nil
}

// apiScript returns a script's status and versions; with ?sha256= also
// that version's source, findings and diff against the approved one.
func (s *Server) apiScript(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	st, err := s.Approval.Status(r.Context(), name)
	if err != nil {
		return scriptError(err)
	}
	out := map[string]any{"status": st}
	if sha := r.URL.Query().Get("sha256"); sha != "" {
		v, err := s.Approval.Version(r.Context(), name, sha)
		if err != nil {
			return scriptError(err)
		}
		diff, err := s.Approval.Diff(r.Context(), name, sha)
		if err != nil {
			return scriptError(err)
		}
		out["version"], out["diff"] = v, diff
	}
	s.writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) apiApproveScript(w http.ResponseWriter, r *http.Request) error {
	name, sha := r.PathValue("name"), r.PathValue("sha256")
	if err := s.Approval.Approve(r.Context(), name, sha, who(r).actor()); err != nil {
		return scriptError(err)
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"name": name, "sha256": sha, "status": "approved"})
	return nil
}

func (s *Server) apiRejectScript(w http.ResponseWriter, r *http.Request) error {
	name, sha := r.PathValue("name"), r.PathValue("sha256")
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := s.decodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	if err := s.Approval.Reject(r.Context(), name, sha, who(r).actor(), in.Reason); err != nil {
		return scriptError(err)
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"name": name, "sha256": sha, "status": "rejected"})
	return nil
}

func (s *Server) apiRevokeScript(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := s.decodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	if err := s.Approval.Revoke(r.Context(), name, who(r).actor(), in.Reason); err != nil {
		return scriptError(err)
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"name": name, "status": "revoked"})
	return nil
}

func scriptError(err error) error {
	switch {
	case errors.Is(err, approval.ErrNotFound):
		return errorf(http.StatusNotFound, "no such script or version")
	case errors.Is(err, approval.ErrNotPending):
		return errorf(http.StatusConflict, "that version is not pending review")
	case errors.Is(err, approval.ErrNotApproved):
		return errorf(http.StatusConflict, "the script has no approved version")
	case errors.Is(err, orchestrator.ErrWorkerOffline):
		return errorf(http.StatusServiceUnavailable, "The worker is not connected, so nothing can run. Start it and try again.")
	case errors.Is(err, approval.ErrReasonRequired):
		return errorf(http.StatusBadRequest, "Give a reason for the rejection: it is stored with the version and tells the assistant what to fix.")
	}
	return err
}

// apiTestScript runs a version of a script (default: the approved one) with
// arguments through the worker's sandbox, for review.
func (s *Server) apiTestScript(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		SHA256   string         `json:"sha256"`
		Function string         `json:"function"`
		Args     []any          `json:"args"`
		Kwargs   map[string]any `json:"kwargs"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	name := r.PathValue("name")
	res, err := s.Core.TestScript(r.Context(), who(r).actor(), tools.ScriptTest{Name: name, SHA256: in.SHA256,
		Function: in.Function, Args: in.Args, Kwargs: in.Kwargs})
	if err != nil {
		return scriptError(err)
	}
	s.writeJSON(w, http.StatusOK, res)
	return nil
}

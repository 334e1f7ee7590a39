package admin

import (
	"net/http"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/worker"
)

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) error {
	ws := s.Queue.Status(s.WorkerGrace)
	requests, tokens, err := s.usageToday(r.Context())
	if err != nil {
		return err
	}
	l := s.load()
	s.writeJSON(w, http.StatusOK, map[string]any{
		"worker": map[string]any{"connected": ws.Connected, "pid": ws.PID, "queued": ws.Queued, "in_flight": ws.InFlight,
			"last_seen": ws.LastSeen, "confinement": workerConfinementJSON(ws.Confinement),
			"parallel": ws.Parallel, "waiting": l.Waiting, "llm_in_flight": l.LLMInFlight},
		"orchestrator": map[string]any{"confinement": s.ownConfinementJSON()},
		"llm_today":    map[string]int{"requests": requests, "tokens": tokens},
	})
	return nil
}

// workerConfinementJSON is the worker's confinement for /api/v1/status:
// confined is the orchestrator's verdict; reported is the worker's own
// word (null when it said nothing).
func workerConfinementJSON(c worker.Confinement) map[string]any {
	return map[string]any{"confined": c.Confined(), "kernel_seccomp": c.KernelSeccomp,
		"no_new_privs": c.KernelNoNewPrivs, "reported": c.Reported}
}

func (s *Server) ownConfinementJSON() map[string]any {
	c := s.Confinement
	if c == nil {
		return map[string]any{"landlock_files": false, "landlock_abi": 0, "problems": []string{"not applied"}}
	}
	return map[string]any{"landlock_files": c.LandlockFiles, "landlock_abi": c.LandlockABI, "problems": c.Problems}
}

func (s *Server) apiListAudit(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	entries, err := s.Audit.List(r.Context(), audit.Filter{Action: q.Get("action"), Actor: q.Get("actor"),
		Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
	return nil
}

func (s *Server) apiVerifyAudit(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.Audit.Verify(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"ok": rep.OK, "checked": rep.Checked,
		"first_bad_id": rep.FirstBadID, "reason": rep.Reason})
	return nil
}

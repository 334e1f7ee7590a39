package admin

import (
	"net/http"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) error {
	ws := s.Queue.Status(s.WorkerGrace)
	requests, tokens, err := s.usageToday(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{
		"worker": map[string]any{"connected": ws.Connected, "pid": ws.PID, "queued": ws.Queued, "in_flight": ws.InFlight,
			"last_seen": ws.LastSeen},
		"llm_today": map[string]int{"requests": requests, "tokens": tokens},
	})
	return nil
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

package admin

import (
	"context"
	"net/http"
	"time"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports ready only when the database takes a write and a worker is
// connected.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	body := map[string]string{"database": "ok", "worker": "connected"}
	code := http.StatusOK
	if err := s.Store.CheckWritable(ctx); err != nil {
		s.Logger.Error("readiness: database not writable", "err", err)
		body["database"], code = "not writable", http.StatusServiceUnavailable
	}
	if !s.Queue.Status(s.WorkerGrace).Connected {
		body["worker"], code = "not connected", http.StatusServiceUnavailable
	}
	body["status"] = map[bool]string{true: "ready", false: "not ready"}[code == http.StatusOK]
	s.writeJSON(w, code, body)
	return nil
}

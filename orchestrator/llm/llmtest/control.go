package llmtest

import (
	"encoding/json"
	"net/http"
)

// serveEnqueue handles POST /_fake/enqueue: a JSON array of Reply.
func (s *Server) serveEnqueue(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	var replies []Reply
	if err := dec.Decode(&replies); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "llmtest: decode replies: " + err.Error()})
		return
	}
	s.Enqueue(replies...)
	writeJSON(w, http.StatusOK, map[string]int{"queued": len(replies)})
}

// serveRequests handles GET /_fake/requests.
func (s *Server) serveRequests(w http.ResponseWriter, _ *http.Request) {
	reqs := s.Requests()
	if reqs == nil {
		reqs = []RecordedRequest{}
	}
	writeJSON(w, http.StatusOK, reqs)
}

// serveReset handles POST /_fake/reset.
func (s *Server) serveReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/airlockhq/airlock/orchestrator/settings"
)

func (s *Server) apiSettings(w http.ResponseWriter, r *http.Request) error {
	s.writeJSON(w, http.StatusOK, map[string]any{"settings": s.Settings.Get(), "locked": s.Settings.Locked()})
	return nil
}

// apiSaveSettings takes a whole or partial settings document: fields it
// leaves out keep their value.
func (s *Server) apiSaveSettings(w http.ResponseWriter, r *http.Request) error {
	var raw json.RawMessage
	if err := s.decodeJSON(w, r, &raw); err != nil {
		return err
	}
	next := s.Settings.Get()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&next); err != nil {
		return &httpError{Code: http.StatusBadRequest, Msg: "malformed settings: " + jsonProblem(err), Err: err}
	}
	saved, err := s.Settings.Update(r.Context(), who(r).actor(), next)
	var ve *settings.ValidationError
	if errors.As(err, &ve) {
		s.writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid settings", "problems": ve.Problems})
		return nil
	}
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"settings": saved, "locked": s.Settings.Locked()})
	return nil
}

// jsonProblem describes a decoding error without echoing input.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "field " + te.Field + " has the wrong type"
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown field " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	if strings.HasPrefix(msg, "settings: ") {
		return strings.TrimPrefix(msg, "settings: ")
	}
	return "invalid JSON"
}

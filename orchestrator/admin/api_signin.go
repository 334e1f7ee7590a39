package admin

import (
	"net/http"

	"github.com/airlockhq/airlock/orchestrator/auth"
)

func (s *Server) apiSetupState(w http.ResponseWriter, r *http.Request) error {
	need, err := s.Auth.SetupNeeded(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, http.StatusOK, map[string]bool{"setup_needed": need})
	return nil
}

// apiSetup creates the first admin and answers with an API token for them.
func (s *Server) apiSetup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Code     string `json:"code"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.Auth.CompleteSetup(r.Context(), in.Code, in.Username, in.Password, s.clientIP(r))
	if err != nil {
		return authError(err)
	}
	res, err := s.signIn(w, r, in.Username, in.Password, auth.TypeAPI)
	if err != nil {
		return authError(err)
	}
	s.writeToken(w, http.StatusCreated, res.Token, map[string]any{"admin": a, "expires_at": res.Session.ExpiresAt})
	return nil
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := s.signIn(w, r, in.Username, in.Password, auth.TypeAPI)
	if err != nil {
		return authError(err)
	}
	s.writeToken(w, http.StatusOK, res.Token, map[string]any{"expires_at": res.Session.ExpiresAt, "session_id": res.Session.ID})
	return nil
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.Logout(r.Context(), who(r).Session.ID); err != nil {
		return authError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

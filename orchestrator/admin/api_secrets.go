package admin

import (
	"errors"
	"net/http"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/secure/vault"
)

// apiListSecrets shows names, origins and times; values are write-only.
func (s *Server) apiListSecrets(w http.ResponseWriter, r *http.Request) error {
	infos, err := s.Vault.List(r.Context())
	if err != nil {
		return err
	}
	if infos == nil {
		infos = []secrets.Info{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"secrets": infos})
	return nil
}

func (s *Server) apiSaveSecret(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := vault.ValidName(name); err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	var in struct {
		Value string `json:"value"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	created, err := s.Vault.Set(r.Context(), name, in.Value)
	if err != nil {
		return secretError(err)
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: "secret.set", Target: name, Outcome: "ok",
		Details: map[string]any{"created": created}})
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	s.writeJSON(w, code, map[string]any{"name": name, "created": created})
	return nil
}

func (s *Server) apiDeleteSecret(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := vault.ValidName(name); err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	if err := s.Vault.Delete(r.Context(), name); err != nil {
		return secretError(err)
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: "secret.deleted", Target: name, Outcome: "ok"})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// secretError maps vault errors to statuses; their messages never hold a
// value.
func secretError(err error) error {
	switch {
	case errors.Is(err, vault.ErrInvalidName), errors.Is(err, vault.ErrInvalidValue):
		return errorf(http.StatusBadRequest, err.Error())
	case errors.Is(err, secrets.ErrNotFound):
		return errorf(http.StatusNotFound, "no such secret")
	case errors.Is(err, secrets.ErrFromEnvironment):
		return errorf(http.StatusConflict, "this secret is set in the orchestrator's environment; change it there")
	}
	return err
}

func (s *Server) auditEvent(r *http.Request, e audit.Event) {
	if _, err := s.Audit.Append(r.Context(), e); err != nil {
		s.Logger.Error("audit append failed", "action", e.Action, "err", err)
	}
}

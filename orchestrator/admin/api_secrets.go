package admin

import (
	"net/http"

	"github.com/airlockhq/airlock/orchestrator/secrets"
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
	var in struct {
		Value string `json:"value"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		return err
	}
	created, err := s.setSecret(r, name, in.Value)
	if err != nil {
		return secretError(err)
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	s.writeJSON(w, code, map[string]any{"name": name, "created": created})
	return nil
}

func (s *Server) apiDeleteSecret(w http.ResponseWriter, r *http.Request) error {
	if err := s.deleteSecret(r, r.PathValue("name")); err != nil {
		return secretError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/secure/vault"
)

// secretsData is the secrets page. It holds names, origins and times only:
// values are write-only and never rendered, not even masked.
type secretsData struct {
	Secrets []secretRow
	// Name is the name typed into the form, kept after a refused value. A
	// refused name is not echoed: it may be a value pasted in the wrong
	// field.
	Name         string
	MaxNameLen   int
	MinValueLen  int
	LLMKey       string
	DiscordToken string
}

type secretRow struct {
	secrets.Info
	// FromEnv reports that the environment provides the value in use.
	FromEnv bool
}

func (s *Server) pageSecrets(w http.ResponseWriter, r *http.Request) error {
	return s.renderSecrets(w, r, http.StatusOK, "", "")
}

// renderSecrets renders the secrets page with an optional error.
func (s *Server) renderSecrets(w http.ResponseWriter, r *http.Request, code int, errMsg, name string) error {
	infos, err := s.Vault.List(r.Context())
	if err != nil {
		return err
	}
	rows := make([]secretRow, len(infos))
	for i, in := range infos {
		rows[i] = secretRow{Info: in, FromEnv: in.Origin != secrets.OriginVault}
	}
	s.render(w, r, code, "secrets", view{Title: "Secrets", Nav: "secrets", Error: errMsg, Script: "confirm.js", Data: secretsData{
		Secrets: rows, Name: name, MaxNameLen: vault.MaxNameLen, MinValueLen: vault.MinValueLen,
		LLMKey: secrets.LLMAPIKey, DiscordToken: secrets.DiscordToken}})
	return nil
}

// pageSaveSecret stores a secret from the form (fields name and value).
func (s *Server) pageSaveSecret(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	value := r.PostFormValue("value")
	created, err := s.setSecret(r, name, value)
	if err != nil {
		if errors.Is(err, vault.ErrInvalidName) {
			name = "" // not echoed: it may be a value pasted in the wrong field
		}
		return s.secretFormError(w, r, secretError(err), name)
	}
	msg := "Saved " + name + "."
	if !created {
		msg = "Replaced the value of " + name + "."
	}
	if _, origin, err := s.Vault.Lookup(r.Context(), name); err == nil && origin != secrets.OriginVault {
		msg += " The value from the " + origin + " still takes precedence."
	}
	s.redirect(w, r, "/secrets", msg)
	return nil
}

// pageDeleteSecret deletes a secret from the vault.
func (s *Server) pageDeleteSecret(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := s.deleteSecret(r, name); err != nil {
		return s.secretFormError(w, r, secretError(err), "")
	}
	s.redirect(w, r, "/secrets", "Deleted "+name+".")
	return nil
}

// secretFormError shows a refusal (an *httpError from secretError) on the
// secrets page; other errors go to fail.
func (s *Server) secretFormError(w http.ResponseWriter, r *http.Request, err error, name string) error {
	var he *httpError
	if !errors.As(err, &he) {
		return err
	}
	return s.renderSecrets(w, r, he.Code, he.Msg, name)
}

package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/secrets"
	"github.com/airlockhq/airlock/secure/vault"
)

// Secret changes, shared by the secrets page, the settings page and the
// API: the vault checks names and values, and every change is audited
// here, with the admin who made it (the vault has no audit log).

// setSecret stores a secret's value and audits the change; it reports
// whether the name is new to the vault.
func (s *Server) setSecret(r *http.Request, name, value string) (created bool, err error) {
	created, err = s.Vault.Set(r.Context(), name, value)
	if err != nil {
		return false, err
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: "secret.set", Target: name, Outcome: audit.OutcomeOK,
		Details: map[string]any{"created": created}})
	return created, nil
}

// deleteSecret deletes a secret from the vault and audits the change.
func (s *Server) deleteSecret(r *http.Request, name string) error {
	if err := s.Vault.Delete(r.Context(), name); err != nil {
		return err
	}
	s.auditEvent(r, audit.Event{Actor: who(r).actor(), Action: "secret.deleted", Target: name, Outcome: audit.OutcomeOK})
	return nil
}

// secretError maps vault errors to statuses; their messages never hold a
// value.
func secretError(err error) error {
	switch {
	case errors.Is(err, vault.ErrInvalidName), errors.Is(err, vault.ErrInvalidValue):
		// "secrets: set X: vault: invalid secret value: it must..." reads
		// better from "invalid".
		msg := err.Error()
		if i := strings.Index(msg, "invalid secret "); i > 0 {
			msg = msg[i:]
		}
		return errorf(http.StatusBadRequest, msg)
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

package approval

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// MaxReasonBytes caps the reason stored with a decision; longer ones are
// cut.
const MaxReasonBytes = 1000

// Approve approves the version name@sha256 on behalf of admin (recorded as
// the decider and the audit actor, e.g. "admin:alice"). The previously
// approved version of the name, if any, becomes superseded in the same
// transaction. Any version but the approved one may be approved: pending,
// and also rejected, superseded or revoked (a rollback, or a change of
// mind, about the same exact bytes). Errors: ErrNotFound, ErrNotPending
// (the version is already approved).
func (s *Service) Approve(ctx context.Context, name, sha256, admin string) error {
	d, err := s.decision(name, sha256, admin, "")
	if err != nil {
		return fmt.Errorf("approval: approve %s: %w", name, err)
	}
	old, err := s.st.ApproveScript(ctx, d)
	if err != nil {
		return fmt.Errorf("approval: approve %s: %w", name, mapStore(err, ErrNotFound))
	}
	details := map[string]any{"sha256": d.SHA256}
	if old != "" {
		details["superseded"] = old
	}
	return s.audit(ctx, admin, "script.approved", name, details)
}

// Reject rejects the pending version name@sha256 on behalf of admin, with
// a reason stored with the version (Version.Reason) that tells the
// assistant what to fix. Errors: ErrReasonRequired (the reason is blank),
// ErrNotFound, ErrNotPending.
func (s *Service) Reject(ctx context.Context, name, sha256, admin, reason string) error {
	d, err := s.decision(name, sha256, admin, reason)
	if err == nil && d.Reason == "" {
		err = ErrReasonRequired
	}
	if err != nil {
		return fmt.Errorf("approval: reject %s: %w", name, err)
	}
	if err := s.st.RejectScript(ctx, d); err != nil {
		return fmt.Errorf("approval: reject %s: %w", name, mapStore(err, ErrNotFound))
	}
	return s.audit(ctx, admin, "script.rejected", name, map[string]any{"sha256": d.SHA256, "reason": d.Reason})
}

// Revoke revokes the approved version of name on behalf of admin: from the
// moment it returns, Approved and IsApproved no longer see it. Errors:
// ErrNotApproved.
func (s *Service) Revoke(ctx context.Context, name, admin, reason string) error {
	if !ValidName(name) {
		return fmt.Errorf("approval: revoke %s: %w", name, ErrNotApproved)
	}
	d, err := s.decision(name, strings.Repeat("0", 64), admin, reason)
	if err != nil {
		return fmt.Errorf("approval: revoke %s: %w", name, err)
	}
	sha, err := s.st.RevokeScript(ctx, d)
	if err != nil {
		return fmt.Errorf("approval: revoke %s: %w", name, mapStore(err, ErrNotApproved))
	}
	err = s.audit(ctx, admin, "script.revoked", name, map[string]any{"sha256": sha, "reason": d.Reason})
	s.revoked(name)
	return err
}

// decision checks and builds a decision. A name or sha256 that cannot
// exist is ErrNotFound.
func (s *Service) decision(name, sha256, admin, reason string) (store.ScriptDecision, error) {
	if admin == "" {
		return store.ScriptDecision{}, errors.New("the admin is required")
	}
	sha256 = strings.ToLower(sha256)
	if !ValidName(name) || !shaRE.MatchString(sha256) {
		return store.ScriptDecision{}, ErrNotFound
	}
	return store.ScriptDecision{Name: name, SHA256: sha256, By: admin, Reason: cut(reason), At: s.now()}, nil
}

// mapStore turns the store's sentinels into this package's.
func mapStore(err, notFound error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound
	case errors.Is(err, store.ErrScriptStatus):
		return ErrNotPending
	}
	return err
}

// audit records a decision, which is already committed.
func (s *Service) audit(ctx context.Context, admin, action, name string, details map[string]any) error {
	_, err := s.log.Append(ctx, audit.Event{Actor: admin, Action: action, Target: name,
		Outcome: audit.OutcomeOK, Details: details})
	if err != nil {
		return fmt.Errorf("approval: %s %s: done, but not audited: %w", action, name, err)
	}
	return nil
}

// cut makes a reason valid UTF-8 of at most MaxReasonBytes.
func cut(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
	if len(s) <= MaxReasonBytes {
		return s
	}
	return utf8cut.Prefix(s, MaxReasonBytes) + "…"
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// staleSessionAge is how long PruneSessions keeps expired and revoked
// sessions.
const staleSessionAge = 7 * 24 * time.Hour

// Logout revokes a session, effective on the next request. An unknown
// session is ErrNoSession; a revoked one is fine.
func (s *Service) Logout(ctx context.Context, sessionID string) error {
	ss, err := s.st.GetAdminSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("auth: logout: %w", ErrNoSession)
	}
	if err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	if err := s.st.RevokeAdminSession(ctx, ss.ID, s.now()); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	s.record(ctx, audit.Event{Actor: s.actorOf(ctx, ss.AdminID), Action: ActionLogout, Target: ss.ID,
		Outcome: audit.OutcomeOK, Details: map[string]any{"session_id": ss.ID, "token_type": ss.Type}})
	return nil
}

// RevokeSession revokes one of the admin's own active sessions, effective
// on its next request. A session that is not the admin's, or no longer
// active, is ErrNoSession.
func (s *Service) RevokeSession(ctx context.Context, adminID, sessionID string) error {
	list, err := s.Sessions(ctx, adminID)
	if err != nil {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	if !slices.ContainsFunc(list, func(ss Session) bool { return ss.ID == sessionID }) {
		return fmt.Errorf("auth: revoke session: %w", ErrNoSession)
	}
	return s.Logout(ctx, sessionID)
}

// SignOutOthers revokes every session of the admin except keepSessionID,
// effective on their next request, and returns how many it revoked.
func (s *Service) SignOutOthers(ctx context.Context, adminID, keepSessionID string) (int, error) {
	n, err := s.st.RevokeOtherAdminSessions(ctx, adminID, keepSessionID, s.now())
	if err != nil {
		return 0, fmt.Errorf("auth: sign out other sessions: %w", err)
	}
	s.record(ctx, audit.Event{Actor: s.actorOf(ctx, adminID), Action: ActionSessionsRevoked, Target: adminID,
		Outcome: audit.OutcomeOK, Details: map[string]any{"kept_session_id": keepSessionID, "revoked": n}})
	return n, nil
}

// Sessions returns the admin's active sessions, most recently seen first.
func (s *Service) Sessions(ctx context.Context, adminID string) ([]Session, error) {
	rows, err := s.st.ActiveAdminSessions(ctx, adminID, s.now())
	if err != nil {
		return nil, fmt.Errorf("auth: sessions: %w", err)
	}
	out := make([]Session, len(rows))
	for i, r := range rows {
		out[i] = sessionOf(r)
	}
	return out, nil
}

// PruneSessions deletes sessions that expired, or were revoked, more than
// a week ago, and returns how many. Call it now and then.
func (s *Service) PruneSessions(ctx context.Context) (int, error) {
	n, err := s.st.DeleteStaleAdminSessions(ctx, s.now().Add(-staleSessionAge))
	if err != nil {
		return 0, fmt.Errorf("auth: prune sessions: %w", err)
	}
	return n, nil
}

// ChangePassword changes the password of cur's admin, given the current
// one. It replaces the admin's token key and revokes every session, all
// in one transaction, and returns a new session (of cur's type, user agent
// and IP) and its token for the caller. A wrong current password is
// ErrWrongPassword and counts against the admin's own limit (a LimitError
// matching ErrLockedOut once locked), apart from the login limits: nobody
// guessing logins can block a signed-in admin's password change; a new password failing
// CheckPassword, or equal to the old one, is a PolicyError.
func (s *Service) ChangePassword(ctx context.Context, cur Session, oldPassword, newPassword string) (string, Session, error) {
	a, err := s.st.AdminByID(ctx, cur.AdminID)
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: change password: %w", err)
	}
	if err := CheckPassword(a.Username, newPassword); err != nil {
		return "", Session{}, err
	}
	if newPassword == oldPassword {
		return "", Session{}, &PolicyError{Field: "password", Reason: "must differ from the current one"}
	}
	if err := s.checkOldPassword(ctx, a, oldPassword, cur.IP, ActionPasswordChange); err != nil {
		return "", Session{}, err
	}
	ph, err := s.hash(ctx, newPassword)
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: change password: %w", err)
	}
	now := s.now()
	a.TokenKey = newTokenKey()
	ss, err := s.st.ChangeAdminPassword(ctx, a.ID, a.PasswordHash, ph, a.TokenKey, store.NewAdminSession{
		Type: cur.Type, UserAgent: cur.UserAgent, IP: cur.IP, At: now, ExpiresAt: now.Add(s.ttlOf(cur.Type))})
	if errors.Is(err, store.ErrPasswordChanged) {
		return "", Session{}, fmt.Errorf("auth: change password: %w", ErrWrongPassword)
	}
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: change password: %w", err)
	}
	tok, err := s.sign(a, ss)
	if err != nil {
		return "", Session{}, fmt.Errorf("auth: change password: %w", err)
	}
	s.record(ctx, audit.Event{Actor: actorAdmin(a.Username), Action: ActionPasswordChange, Target: a.Username,
		Outcome: audit.OutcomeOK, Details: map[string]any{"client_ip": safeField(cur.IP), "session_id": ss.ID}})
	return tok, sessionOf(ss), nil
}

// checkOldPassword verifies an admin's current password, limited per
// admin (only a signed-in session gets here). Its refusals are audited in
// full: they are authenticated, not a flood anyone can cause.
// action names the audit entries of a refusal.
func (s *Service) checkOldPassword(ctx context.Context, a store.Admin, password, ip, action string) error {
	key := a.ID
	wait, armed := s.passwordChange.attempt(key, s.now())
	if wait > 0 {
		s.deniedEntry(ctx, actorAdmin(a.Username), action, ip, a.Username, reasonLocked,
			map[string]any{"scope": "password_change", "retry_after_s": int64(wait / time.Second)})
		return fmt.Errorf("auth: %s: %w", action, &LimitError{Err: ErrLockedOut, RetryAfter: wait})
	}
	ok, err := s.verify(ctx, password, a.PasswordHash, false)
	if err != nil {
		return fmt.Errorf("auth: %s: %w", action, err)
	}
	if !ok {
		s.deniedEntry(ctx, actorAdmin(a.Username), action, ip, a.Username, reasonWrongPassword, nil)
		if armed > 0 {
			s.record(ctx, audit.Event{Actor: actorAdmin(a.Username), Action: ActionLockout, Target: a.Username,
				Outcome: audit.OutcomeDenied, Details: map[string]any{"scope": "password_change",
					"retry_after_s": int64(armed / time.Second)}})
		}
		return fmt.Errorf("auth: %s: %w", action, ErrWrongPassword)
	}
	s.passwordChange.reset(key)
	return nil
}

// ConfirmPassword checks that the signed-in admin of cur knows their
// password, before a sensitive action (downloading a backup). It shares
// the password change's per-admin limit, so it cannot be used to guess;
// a wrong password is ErrWrongPassword, audited as ActionPasswordConfirm.
func (s *Service) ConfirmPassword(ctx context.Context, cur Session, password string) error {
	a, err := s.st.AdminByID(ctx, cur.AdminID)
	if err != nil {
		return fmt.Errorf("auth: confirm password: %w", err)
	}
	return s.checkOldPassword(ctx, a, password, cur.IP, ActionPasswordConfirm)
}

// ttlOf returns the lifetime of tokens of type typ.
func (s *Service) ttlOf(typ string) time.Duration {
	if d, ok := s.ttl[typ]; ok {
		return d
	}
	return s.ttl[TypeSession]
}

// actorOf names an admin for an audit entry, "admin:<username>", falling
// back to the id when the lookup fails.
func (s *Service) actorOf(ctx context.Context, adminID string) string {
	a, err := s.st.AdminByID(ctx, adminID)
	if err != nil {
		return "admin-id:" + adminID
	}
	return actorAdmin(a.Username)
}

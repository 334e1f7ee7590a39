package auth

import (
	"context"
	"strings"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

// Audit actions recorded by a Service. Details use the keys client_ip,
// username, session_id, token_type, reason, scope and retry_after_s.
const (
	ActionSetupCode       = "auth.setup_code"       // a setup code was minted (system, ok)
	ActionSetup           = "auth.setup"            // setup completed (ok) or refused (denied)
	ActionLogin           = "auth.login"            // login succeeded (ok) or failed (denied)
	ActionLockout         = "auth.lockout"          // a limiter locked a username, client or setup
	ActionLogout          = "auth.logout"           // a session was revoked by its owner
	ActionSessionsRevoked = "auth.sessions_revoked" // "sign out other sessions"
	ActionPasswordChange  = "auth.password_change"  // changed (ok) or refused (denied)
)

// Reasons of denials, in the reason detail.
const (
	reasonBadCredentials = "bad_credentials"
	reasonLocked         = "locked"
	reasonBadCode        = "bad_code"
	reasonRateLimited    = "rate_limited"
	reasonWrongPassword  = "wrong_password"
)

// Actors of events without an authenticated admin.
const (
	actorAnonymous = "anonymous"
	actorSystem    = "system"
)

func actorAdmin(username string) string { return "admin:" + username }

// record sends ev to the audit hook, or to the log when there is none. It
// outlives a cancelled request: a client hanging up must not erase the
// trace of its attempt.
func (s *Service) record(ctx context.Context, ev audit.Event) {
	if s.auditFn == nil {
		s.logger.Info("audit event", "action", ev.Action, "actor", ev.Actor, "target", ev.Target,
			"outcome", ev.Outcome)
		return
	}
	s.auditFn(context.WithoutCancel(ctx), ev)
}

// denied audits and logs a refused attempt. The log line uses stable keys
// (auth_failed, client_ip, username, reason) for fail2ban-style tools.
func (s *Service) denied(ctx context.Context, action, ip, username, reason string, extra map[string]any) {
	username = safeField(username)
	details := map[string]any{"client_ip": safeField(ip), "username": username, "reason": reason}
	for k, v := range extra {
		details[k] = v
	}
	s.record(ctx, audit.Event{Actor: actorAnonymous, Action: action, Target: username,
		Outcome: audit.OutcomeDenied, Details: details})
	s.logger.Warn("authentication failed", "auth_failed", true, "action", action,
		"client_ip", safeField(ip), "username", username, "reason", reason)
}

// lockout audits a lock armed by a limiter.
func (s *Service) lockout(ctx context.Context, scope, key string, d time.Duration) {
	key = safeField(key)
	s.record(ctx, audit.Event{Actor: actorSystem, Action: ActionLockout, Target: key, Outcome: audit.OutcomeDenied,
		Details: map[string]any{"scope": scope, "retry_after_s": int64(d / time.Second)}})
	s.logger.Warn("authentication locked", "auth_lockout", true, "scope", scope, "key", key,
		"retry_after", d.String())
}

// safeField makes client-supplied text fit for a log or audit field: at
// most 64 bytes, no control characters.
func safeField(v string) string {
	v = truncate(v, 64)
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(v, ""))
}

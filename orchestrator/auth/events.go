package auth

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

// Audit actions recorded by a Service. Details use the keys client_ip,
// username, session_id, token_type, known_device, device, reason, scope
// and retry_after_s; aggregated failures (see failureWindow) use
// aggregated, count, first, last, reasons or scopes, and usernames.
const (
	ActionSetupCode       = "auth.setup_code"       // a setup code was minted (system, ok)
	ActionSetup           = "auth.setup"            // setup completed (ok) or refused (denied)
	ActionLogin           = "auth.login"            // login succeeded (ok) or failed (denied)
	ActionLockout         = "auth.lockout"          // a limiter locked a username, client or setup
	ActionLogout          = "auth.logout"           // a session was revoked by its owner
	ActionSessionsRevoked = "auth.sessions_revoked" // "sign out other sessions"
	ActionPasswordChange  = "auth.password_change"  // changed (ok) or refused (denied)
	ActionPasswordConfirm = "auth.password_confirm" // a password re-entered before a sensitive action, refused (denied)
)

// Reasons of denials, in the reason detail.
const (
	reasonBadCredentials = "bad_credentials"
	reasonLocked         = "locked"
	reasonBusy           = "busy"
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

// denied audits and logs a refused unauthenticated attempt (a login or a
// setup), through the failure aggregator. The log line uses stable keys
// (auth_failed, client_ip, username, reason) for fail2ban-style tools.
func (s *Service) denied(ctx context.Context, action, ip, username, reason string, extra map[string]any) {
	username = safeField(username)
	s.failure(ctx, failure{key: action + " " + ipKey(ip), action: action, actor: actorAnonymous,
		client: safeField(ip), name: username, count: reason}, func() {
		s.deniedEntry(ctx, actorAnonymous, action, ip, username, reason, extra)
	})
}

// deniedEntry audits and logs a refused attempt in full: one entry and one
// line. Signed-in sessions' refusals, which nobody else can cause, use it
// directly.
func (s *Service) deniedEntry(ctx context.Context, actor, action, ip, username, reason string, extra map[string]any) {
	username = safeField(username)
	details := map[string]any{"client_ip": safeField(ip), "username": username, "reason": reason}
	for k, v := range extra {
		details[k] = v
	}
	s.record(ctx, audit.Event{Actor: actor, Action: action, Target: username,
		Outcome: audit.OutcomeDenied, Details: details})
	s.logger.Warn("authentication failed", "auth_failed", true, "action", action,
		"client_ip", safeField(ip), "username", username, "reason", reason)
}

// lockout audits a lock armed by a limiter, through the failure
// aggregator (many usernames or addresses arm many locks).
func (s *Service) lockout(ctx context.Context, scope, key string, d time.Duration) {
	key = safeField(key)
	s.failure(ctx, failure{key: ActionLockout + " " + scope + " " + key, action: ActionLockout, actor: actorSystem,
		name: key, count: scope}, func() {
		s.record(ctx, audit.Event{Actor: actorSystem, Action: ActionLockout, Target: key, Outcome: audit.OutcomeDenied,
			Details: map[string]any{"scope": scope, "retry_after_s": int64(d / time.Second)}})
		s.logger.Warn("authentication locked", "auth_lockout", true, "scope", scope, "key", key,
			"retry_after", d.String())
	})
}

// Failure aggregation. Unauthenticated failures (refused logins and setups)
// and the locks they arm are counted per key (the action and the client,
// or the locked key) in fixed windows of failureWindow. A key's first
// failure in a window is written at once, as its own audit entry and log
// line; its further failures in the window become one summary entry and
// line with a count, written when the window has ended (on the next
// failure, or on FlushFailures). At most maxFailureKeys keys get entries of their
// own per window; the failures of further keys are folded into one
// overflow summary per action. So a window writes at most
// maxFailureWindowRows audit entries and as many log lines, however many
// failures and clients there are.
const (
	failureWindow  = 5 * time.Minute
	maxFailureKeys = 20
	// maxSummaryNames bounds the usernames listed in a summary.
	maxSummaryNames = 5
)

// failureActions are the actions that are aggregated.
var failureActions = []string{ActionLogin, ActionSetup, ActionLockout}

// maxFailureWindowRows is the most audit entries (and log lines) the
// failures of one window write: a first entry and a summary per key, and
// an overflow summary per action.
var maxFailureWindowRows = 2*maxFailureKeys + len(failureActions)

// failure is one aggregated event.
type failure struct {
	key, action, actor string
	client             string // the client address, for summaries; "" for locks
	name               string // the username (or the locked key), listed in summaries
	count              string // what summaries count by: the reason, or the lock's scope
}

// failureAgg is what a window holds of one key.
type failureAgg struct {
	failure
	n           int // failures not written yet
	first, last time.Time
	names       []string
	counts      map[string]int
}

// failureLog is the aggregator's state.
type failureLog struct {
	mu     sync.Mutex
	window time.Time // start of the current window
	keys   map[string]*failureAgg
	opened int // keys given an entry of their own in this window
}

// add counts f at now. It returns whether f gets its own entry, and the
// summaries of an ended window to write.
func (l *failureLog) add(f failure, now time.Time) (own bool, done []*failureAgg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	done = l.rollLocked(now)
	if l.keys == nil {
		l.keys = make(map[string]*failureAgg)
	}
	a := l.keys[f.key]
	if a == nil && l.opened < maxFailureKeys {
		l.opened++
		l.keys[f.key] = &failureAgg{failure: f, counts: map[string]int{}}
		return true, done
	}
	if a == nil {
		okey := "overflow " + f.action
		if a = l.keys[okey]; a == nil {
			a = &failureAgg{failure: failure{key: okey, action: f.action, actor: f.actor}, counts: map[string]int{}}
			if f.client != "" {
				a.client = "*"
			}
			l.keys[okey] = a
		}
	}
	if a.n == 0 {
		a.first = now
	}
	a.n++
	a.last = now
	a.counts[f.count]++
	if f.name != "" && len(a.names) < maxSummaryNames && !slices.Contains(a.names, f.name) {
		a.names = append(a.names, f.name)
	}
	return false, done
}

// rollLocked starts a new window when now is past the current one, and
// returns the old window's keys that have failures to summarize.
func (l *failureLog) rollLocked(now time.Time) []*failureAgg {
	if !l.window.IsZero() && now.Sub(l.window) < failureWindow && !now.Before(l.window) {
		return nil
	}
	var done []*failureAgg
	for _, a := range l.keys {
		if a.n > 0 {
			done = append(done, a)
		}
	}
	slices.SortFunc(done, func(a, b *failureAgg) int { return a.first.Compare(b.first) })
	l.window, l.keys, l.opened = now.Truncate(failureWindow), nil, 0
	return done
}

// failure counts f, writing its own entry (by calling own) or the
// summaries that are due.
func (s *Service) failure(ctx context.Context, f failure, own func()) {
	first, done := s.failures.add(f, s.now())
	s.summarize(ctx, done)
	if first {
		own()
	}
}

// FlushFailures writes the summaries of a failure window that has ended.
// Call it now and then (every minute or so), so that the count of a flood
// that stopped is written without waiting for the next failure.
func (s *Service) FlushFailures(ctx context.Context) {
	s.failures.mu.Lock()
	done := s.failures.rollLocked(s.now())
	s.failures.mu.Unlock()
	s.summarize(ctx, done)
}

// summarize writes one audit entry and one log line per aggregate.
func (s *Service) summarize(ctx context.Context, done []*failureAgg) {
	for _, a := range done {
		details := map[string]any{"aggregated": true, "count": a.n,
			"first": a.first.UTC().Format(time.RFC3339), "last": a.last.UTC().Format(time.RFC3339)}
		by := "reasons"
		if a.action == ActionLockout {
			by = "scopes"
		}
		details[by] = a.counts
		if a.client != "" {
			details["client_ip"] = a.client
		}
		if len(a.names) > 0 {
			details["usernames"] = a.names
		}
		target := ""
		if len(a.names) == 1 {
			target = a.names[0]
		}
		s.record(ctx, audit.Event{Actor: a.actor, Action: a.action, Target: target, Outcome: audit.OutcomeDenied,
			Details: details})
		s.logger.Warn("authentication failures (aggregated)", "auth_failed", a.action != ActionLockout,
			"action", a.action, "client_ip", a.client, "count", a.n, "usernames", a.names, by, a.counts)
	}
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

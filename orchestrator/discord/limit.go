package discord

import (
	"context"
	"sync"
	"time"

	"github.com/airlockhq/airlock/orchestrator/audit"
)

// maxTracked bounds the per-user maps; older entries are pruned first.
const maxTracked = 4096

// rateLimiter allows each user n messages per fixed window.
type rateLimiter struct {
	n      int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	users map[string]*rateWindow
}

type rateWindow struct {
	start  time.Time
	count  int
	warned bool
}

func newRateLimiter(n int, window time.Duration, now func() time.Time) *rateLimiter {
	return &rateLimiter{n: n, window: window, now: now, users: make(map[string]*rateWindow)}
}

// allow counts a message from user and reports whether it is within the
// limit and, if not, whether this is the window's first refusal (so the
// user is told once, not on every message).
func (l *rateLimiter) allow(user string) (allowed, warn bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.users[user]
	if w == nil || now.Sub(w.start) >= l.window {
		if len(l.users) >= maxTracked {
			l.prune(now)
		}
		w = &rateWindow{start: now}
		l.users[user] = w
	}
	w.count++
	if w.count <= l.n {
		return true, false
	}
	warn = !w.warned
	w.warned = true
	return false, warn
}

func (l *rateLimiter) prune(now time.Time) {
	for u, w := range l.users {
		if now.Sub(w.start) >= l.window {
			delete(l.users, u)
		}
	}
}

// auditThrottle lets through one audit entry per user per interval.
type auditThrottle struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last map[string]time.Time
}

func newAuditThrottle(every time.Duration, now func() time.Time) *auditThrottle {
	return &auditThrottle{every: every, now: now, last: make(map[string]time.Time)}
}

// due reports whether user's event should be audited now, and if so
// records it. When the map is full of recent users, it reports false.
func (t *auditThrottle) due(user string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if last, ok := t.last[user]; ok && now.Sub(last) < t.every {
		return false
	}
	if len(t.last) >= maxTracked {
		for u, at := range t.last {
			if now.Sub(at) >= t.every {
				delete(t.last, u)
			}
		}
		if len(t.last) >= maxTracked {
			return false
		}
	}
	t.last[user] = now
	return true
}

// auditIgnored records that the bot ignored someone who addressed it, at
// most once per user per AuditEvery.
func (b *Bot) auditIgnored(ctx context.Context, userID, channelID string, dm bool, kind, reason string) {
	if !b.audits.due(userID) {
		return
	}
	_, err := b.deps.Audit.Append(ctx, audit.Event{Actor: "discord:" + userID, Action: "discord.ignored",
		Target: "channel:" + channelID, Outcome: audit.OutcomeDenied,
		Details: map[string]any{"reason": reason, "dm": dm, "kind": kind}})
	if err != nil {
		b.log.Error("discord: audit ignored message", "err", err)
	}
	b.log.Info("discord: ignored", "user", userID, "channel", channelID, "reason", reason)
}

// Deduplication of gateway events: Discord may deliver an event twice
// (after a RESUME, or simply the same id twice); each message and
// interaction id is handled once within dedupeWindow. At most
// maxRemembered ids are kept; past that the oldest are forgotten first.
const (
	dedupeWindow  = 30 * time.Minute
	maxRemembered = 16384
)

// seenIDs remembers the ids handled within a window, oldest first.
type seenIDs struct {
	window time.Duration
	max    int
	now    func() time.Time

	mu    sync.Mutex
	at    map[string]time.Time
	order []string
}

func newSeenIDs(window time.Duration, max int, now func() time.Time) *seenIDs {
	return &seenIDs{window: window, max: max, now: now, at: make(map[string]time.Time)}
}

// first reports whether id was not seen within the window, and records it.
func (s *seenIDs) first(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for len(s.order) > 0 && (len(s.order) >= s.max || now.Sub(s.at[s.order[0]]) >= s.window) {
		delete(s.at, s.order[0])
		s.order = s.order[1:]
	}
	if _, ok := s.at[id]; ok {
		return false
	}
	s.at[id] = now
	s.order = append(s.order, id)
	return true
}

// channelKinds caches whether a channel is a DM, as the API reports it: a
// channel's type never changes.
type channelKinds struct {
	mu sync.Mutex
	dm map[string]bool
}

func (c *channelKinds) get(id string) (dm, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dm, ok = c.dm[id]
	return dm, ok
}

func (c *channelKinds) put(id string, dm bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dm == nil || len(c.dm) >= maxTracked {
		c.dm = make(map[string]bool)
	}
	c.dm[id] = dm
}

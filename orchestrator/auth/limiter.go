package auth

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limitRule configures a limiter: Max attempts within Window arm a lock of
// Lock, doubled for each further lock (strike) up to MaxLock; strikes are
// forgotten after Forget without attempts.
type limitRule struct {
	Max     int
	Window  time.Duration
	Lock    time.Duration
	MaxLock time.Duration
	Forget  time.Duration
}

// limitRules are the rules a Service uses.
//
//   - loginUser counts the logins for a username from unknown devices, from
//     every client together: it bounds online guessing however many
//     addresses an attacker has (5 per lock period, doubling to 4 hours:
//     about 30 guesses a day).
//   - loginIP counts a client's logins from unknown devices, whatever the
//     username; several people may share an address, so it is looser.
//   - loginDevice counts the logins from one known device (a valid signed
//     device token for that username): they skip loginUser and loginIP, so
//     an attacker locking the username or sharing the admin's address
//     cannot lock the admin's own browser or API client out.
//   - passwordChange counts wrong current passwords per admin, for a
//     signed-in session only.
//   - setupIP counts setup attempts per client. There is no global setup
//     limit: the code has 100 bits, so a global lock would add nothing but
//     a way to block the owner.
type limitRules struct {
	loginUser, loginIP, loginDevice, passwordChange, setupIP limitRule
}

func defaultLimitRules() limitRules {
	login := limitRule{Max: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute, MaxLock: 4 * time.Hour, Forget: 24 * time.Hour}
	ip := login
	ip.Max = 10
	return limitRules{
		loginUser:      login,
		loginIP:        ip,
		loginDevice:    login,
		passwordChange: login,
		setupIP:        limitRule{Max: 5, Window: 5 * time.Minute, Lock: 5 * time.Minute, MaxLock: 5 * time.Minute, Forget: 5 * time.Minute},
	}
}

// maxLimitEntries bounds a limiter's memory. When it is full of entries
// that are still locked, new keys are refused: failing closed.
const maxLimitEntries = 10000

// limiter counts attempts per key, in memory. An attempt is counted when
// it starts, not when it fails, so concurrent attempts cannot slip past
// the limit; a success resets the key.
type limiter struct {
	rule    limitRule
	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	count       int
	windowStart time.Time
	last        time.Time
	lockedUntil time.Time
	strikes     int
}

func newLimiter(r limitRule) *limiter {
	return &limiter{rule: r, entries: make(map[string]*limitEntry)}
}

// attempt records an attempt for key at now. It returns wait > 0 if key is
// locked (the attempt is refused and not counted), else armed > 0 if this
// attempt armed a lock of that length (it may still proceed).
func (l *limiter) attempt(key string, now time.Time) (wait, armed time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		if !l.makeRoom(now) {
			return l.rule.Lock, 0
		}
		e = &limitEntry{windowStart: now}
		l.entries[key] = e
	}
	if now.Before(e.lockedUntil) {
		return e.lockedUntil.Sub(now), 0
	}
	if !e.last.IsZero() && now.Sub(e.last) > l.rule.Forget {
		e.strikes = 0
	}
	if now.Sub(e.windowStart) >= l.rule.Window {
		e.count, e.windowStart = 0, now
	}
	e.count++
	e.last = now
	if e.count < l.rule.Max {
		return 0, 0
	}
	armed = l.rule.Lock << min(e.strikes, 16)
	if armed > l.rule.MaxLock || armed <= 0 {
		armed = l.rule.MaxLock
	}
	e.lockedUntil, e.strikes, e.count, e.windowStart = now.Add(armed), e.strikes+1, 0, now
	return 0, armed
}

// reset forgets key: its attempt succeeded.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

// makeRoom reports whether a new entry fits, dropping idle entries, then
// one unlocked entry, when the limiter is full.
func (l *limiter) makeRoom(now time.Time) bool {
	if len(l.entries) < maxLimitEntries {
		return true
	}
	idle := max(l.rule.Window, l.rule.Forget)
	for k, e := range l.entries {
		if !now.Before(e.lockedUntil) && now.Sub(e.last) > idle {
			delete(l.entries, k)
		}
	}
	if len(l.entries) < maxLimitEntries {
		return true
	}
	for k, e := range l.entries {
		if !now.Before(e.lockedUntil) {
			delete(l.entries, k)
			return true
		}
	}
	return false
}

// ipKey is the limiter key of a client address ("192.0.2.1", "[2001:db8::1]:443"):
// the address itself for IPv4, its /64 for IPv6, since one host commonly
// holds a whole /64.
func ipKey(ip string) string {
	s := strings.TrimSpace(ip)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		s = ap.Addr().String()
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return "?" + truncate(s, 64)
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

// userKey is the limiter key of a username as typed.
func userKey(username string) string { return truncate(NormalizeUsername(username), MaxUsernameBytes) }

// truncate cuts s to at most n bytes (possibly mid-character: keys and
// audit fields are cleaned later).
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

package server

import (
	"sync"
	"time"
)

// RefusalWindow is the minimum time between two reports of refused peers
// with the same uid.
const RefusalWindow = 10 * time.Second

// maxTrackedUIDs bounds the limiter's memory; past it, entries older than
// the window are dropped.
const maxTrackedUIDs = 1024

// refusalLimiter lets one refusal report per uid through per RefusalWindow
// and counts the ones it holds back.
type refusalLimiter struct {
	now func() time.Time

	mu   sync.Mutex
	uids map[int]*refusalEntry
}

type refusalEntry struct {
	last       time.Time
	suppressed int
}

func newRefusalLimiter(now func() time.Time) *refusalLimiter {
	return &refusalLimiter{now: now, uids: make(map[int]*refusalEntry)}
}

// allow reports whether a refusal of uid should be reported now and, if so,
// how many refusals of uid were held back since the last report.
func (l *refusalLimiter) allow(uid int) (suppressed int, report bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.uids[uid]
	if ok && now.Sub(e.last) < RefusalWindow {
		e.suppressed++
		return 0, false
	}
	if !ok {
		l.prune(now)
		e = &refusalEntry{}
		l.uids[uid] = e
	}
	suppressed, e.suppressed, e.last = e.suppressed, 0, now
	return suppressed, true
}

// prune drops stale entries once the map is full. Callers hold l.mu.
func (l *refusalLimiter) prune(now time.Time) {
	if len(l.uids) < maxTrackedUIDs {
		return
	}
	for uid, e := range l.uids {
		if now.Sub(e.last) >= RefusalWindow {
			delete(l.uids, uid)
		}
	}
}

package admin

import (
	"net/http"
	"sync"
	"time"
)

// Log lines that any client can cause (refused requests, bad tokens,
// foreign hosts) are bounded per minute: at most logPerClient lines of
// one kind per client, and logTotal lines in all. What is held back is
// counted, and the count rides on the next line written.
const (
	logWindow    = time.Minute
	logPerClient = 5
	logTotal     = 60
)

// logLimiter bounds request-caused log lines, so that a flood of bad
// requests cannot fill the disk or bury real events in the log.
type logLimiter struct {
	now func() time.Time

	mu         sync.Mutex
	start      time.Time
	perKey     map[string]int // lines per client and message in this window
	total      int
	suppressed int // lines held back since the last line written
}

// allow reports whether a line with message msg caused by client may be
// written now and, if so, how many lines were held back before it.
func (l *logLimiter) allow(client, msg string) (ok bool, suppressed int) {
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perKey == nil || now.Sub(l.start) >= logWindow {
		l.start, l.perKey, l.total = now, make(map[string]int), 0
	}
	key := client + "\x00" + msg
	if l.perKey[key] >= logPerClient || l.total >= logTotal {
		l.suppressed++
		return false, 0
	}
	l.perKey[key]++
	l.total++
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}

// warnRequest logs a warning caused by request r, within the bounds of
// s's log limiter; the client address is added.
func (s *Server) warnRequest(r *http.Request, msg string, args ...any) {
	client := s.clientIP(r)
	ok, suppressed := s.logLimit.allow(client, msg)
	if !ok {
		return
	}
	args = append(args, "client_ip", client)
	if suppressed > 0 {
		args = append(args, "lines_held_back", suppressed)
	}
	s.Logger.Warn(msg, args...)
}

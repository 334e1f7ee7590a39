package admin

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/airlockhq/airlock/orchestrator/doctor"
)

// doctorTTL is how long the dashboard reuses a report: every check reads
// the disk and the database, too much for each page view.
const doctorTTL = time.Minute

// doctorCache holds the last report of the (not deep) checks. One run at
// a time: concurrent callers wait for it.
type doctorCache struct {
	mu     sync.Mutex
	at     time.Time
	report doctor.Report
}

// doctorReport returns the checks' report, at most doctorTTL old; deep
// probes always run afresh and are not cached.
func (s *Server) doctorReport(ctx context.Context, deep bool) doctor.Report {
	if deep {
		return s.Doctor(ctx, true)
	}
	c := &s.doctor
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) > doctorTTL {
		c.report, c.at = s.Doctor(ctx, false), time.Now()
	}
	return c.report
}

// apiDoctor is GET /api/v1/doctor[?deep=1]: {"checks":[...]} worst first,
// with the exit status the command would have. deep=1 runs the live
// probes (one model request, counted in the budget).
func (s *Server) apiDoctor(w http.ResponseWriter, r *http.Request) error {
	if s.Doctor == nil {
		return errorf(http.StatusNotFound, "not found")
	}
	deep := false
	switch v := r.URL.Query().Get("deep"); v {
	case "", "0", "false":
	case "1", "true":
		deep = true
	default:
		return errorf(http.StatusBadRequest, "deep: must be 1 or 0")
	}
	rep := s.doctorReport(r.Context(), deep)
	s.writeJSON(w, http.StatusOK, map[string]any{"checks": rep.Worst(), "exit_code": rep.ExitCode(),
		"counts": rep.Counts()})
	return nil
}

// securityCard is the dashboard's Security card: the checks that did not
// pass, worst first, and the counts.
type securityCard struct {
	Problems []doctor.Result
	Counts   map[string]int // by status
	Total    int
}

func (s *Server) securityCard(ctx context.Context) *securityCard {
	if s.Doctor == nil {
		return nil
	}
	rep := s.doctorReport(ctx, false)
	c := &securityCard{Counts: map[string]int{}, Total: len(rep.Checks)}
	for st, n := range rep.Counts() {
		c.Counts[string(st)] = n
	}
	for _, r := range rep.Worst() {
		if r.Status == doctor.Warn || r.Status == doctor.Fail {
			c.Problems = append(c.Problems, r)
		}
	}
	return c
}

package jobs

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultFloor is the shortest interval between two runs of a job when
// the admin has not set one (setting jobs.min_interval).
const DefaultFloor = time.Minute

// parser reads five-field cron expressions and the descriptors (@hourly,
// @daily, @every 15m, ...). Seconds and CRON_TZ= are not accepted: the
// time zone is the admin's setting.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// fieldNames name the five fields of a cron expression, in order.
var fieldNames = [5]string{"minute", "hour", "day of month", "month", "day of week"}

// Schedule is a parsed schedule, evaluated in one time zone.
type Schedule struct {
	expr  string
	sched cron.Schedule
	loc   *time.Location
}

// ScheduleError says which part of a schedule is wrong and why. Its text
// is safe to show the admin or the model.
type ScheduleError struct {
	Field  string // "schedule", or the cron field: "minute", "hour", ...
	Reason string
}

func (e *ScheduleError) Error() string {
	if e.Field == "schedule" {
		return "schedule: " + e.Reason
	}
	return fmt.Sprintf("schedule: %s field: %s", e.Field, e.Reason)
}

// Parse reads a schedule in time zone loc and checks that no two runs
// come closer than floor. The error is a *ScheduleError naming the field.
func Parse(expr string, loc *time.Location, floor time.Duration) (Schedule, error) {
	expr = strings.Join(strings.Fields(expr), " ")
	if expr == "" {
		return Schedule{}, &ScheduleError{Field: "schedule", Reason: "is empty"}
	}
	if len(expr) > 100 {
		return Schedule{}, &ScheduleError{Field: "schedule", Reason: "is longer than 100 characters"}
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return Schedule{}, &ScheduleError{Field: "schedule", Reason: "a time zone cannot be set here; jobs use the admin's time zone setting"}
	}
	if loc == nil {
		loc = time.UTC
	}
	sched, err := parser.Parse(expr)
	if err != nil {
		return Schedule{}, explain(expr, err)
	}
	s := Schedule{expr: expr, sched: sched, loc: loc}
	if gap := s.shortestGap(); gap < floor {
		return Schedule{}, &ScheduleError{Field: "schedule",
			Reason: fmt.Sprintf("runs every %s, more often than the minimum interval of %s (setting jobs.min_interval)", gap, floor)}
	}
	return s, nil
}

// explain turns a parser error into a ScheduleError naming the field:
// each of the five fields is parsed alone, the others set to "*".
func explain(expr string, err error) error {
	if strings.HasPrefix(expr, "@") {
		return &ScheduleError{Field: "schedule", Reason: cleanReason(err) +
			" (descriptors: @yearly, @monthly, @weekly, @daily, @hourly, @every <duration> such as @every 15m)"}
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return &ScheduleError{Field: "schedule",
			Reason: fmt.Sprintf("has %d fields; a cron expression has 5 (minute hour day-of-month month day-of-week)", len(f))}
	}
	for i, v := range f {
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = v
		if _, perr := parser.Parse(strings.Join(probe, " ")); perr != nil {
			return &ScheduleError{Field: fieldNames[i], Reason: fmt.Sprintf("%q: %s", v, cleanReason(perr))}
		}
	}
	return &ScheduleError{Field: "schedule", Reason: cleanReason(err)}
}

// cleanReason drops the parser's quoting of the whole expression.
func cleanReason(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i > 0 && strings.HasPrefix(s, "failed to parse") {
		return s[:i]
	}
	return s
}

// String returns the expression as parsed (spaces normalised).
func (s Schedule) String() string { return s.expr }

// Location returns the schedule's time zone.
func (s Schedule) Location() *time.Location { return s.loc }

// Next returns the first run strictly after t, or the zero time if the
// schedule never runs again (such as 30 February).
//
// Daylight saving: a schedule that runs in every hour follows real
// hours (the repeated hour of an autumn change runs twice, the skipped
// hour of a spring change does not run). A schedule at fixed hours
// follows the wall clock: a time repeated in autumn runs once; a time skipped in spring runs shifted by the change
// (02:30 becomes 03:30), so a daily job is neither lost nor doubled.
func (s Schedule) Next(t time.Time) time.Time {
	switch sc := s.sched.(type) {
	case cron.ConstantDelaySchedule:
		// @every d: d after t, on whole seconds, independent of the zone.
		return t.Add(sc.Delay).Truncate(time.Second)
	case *cron.SpecSchedule:
		const allHours = 1<<24 - 1
		if sc.Hour&allHours != allHours {
			return s.nextWall(t)
		}
	}
	n := s.sched.Next(t.In(s.loc))
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

// nextWall evaluates the schedule on the wall clock of s.loc, then maps
// the wall time back to an instant (time.Date normalises a time in a
// spring gap forward by the change, and picks one of the two in an
// autumn overlap).
func (s Schedule) nextWall(t time.Time) time.Time {
	l := t.In(s.loc)
	w := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
	for range 1000 {
		w = s.sched.Next(w)
		if w.IsZero() {
			return w
		}
		r := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, s.loc)
		if r.After(t) {
			return r.UTC()
		}
	}
	return time.Time{}
}

// NextN returns the next n runs after t.
func (s Schedule) NextN(t time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for range n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// RunsPerDay returns the most runs in any of the next 7 days' 24-hour
// windows, counted from t: the figure the worst-case cost per day is
// computed from. It stops counting at limit.
func (s Schedule) RunsPerDay(t time.Time, limit int) int {
	best := 0
	for d := range 7 {
		from := t.Add(time.Duration(d) * 24 * time.Hour)
		end, n := from.Add(24*time.Hour), 0
		for x := s.Next(from); !x.IsZero() && !x.After(end) && n < limit; x = s.Next(x) {
			n++
		}
		best = max(best, n)
	}
	return best
}

// shortestGap returns the shortest interval between consecutive runs over
// the next two years' first 2,000 runs; an @every schedule's is its delay.
func (s Schedule) shortestGap() time.Duration {
	if ev, ok := s.sched.(cron.ConstantDelaySchedule); ok {
		return ev.Delay
	}
	ref := time.Date(2026, 1, 1, 0, 0, 0, 0, s.loc)
	gap := time.Duration(1<<63 - 1)
	prev := s.Next(ref)
	for range 2000 {
		next := s.Next(prev)
		if next.IsZero() {
			break
		}
		gap = min(gap, next.Sub(prev))
		prev = next
	}
	return gap
}

// LoadLocation reads a time zone name (setting jobs.time_zone); "" is UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if len(name) > 64 || strings.ContainsAny(name, " .\\") && !strings.Contains(name, "/") {
		return nil, fmt.Errorf("time zone %q is not an IANA zone name such as Europe/Berlin", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is not an IANA zone name such as Europe/Berlin", name)
	}
	return loc, nil
}

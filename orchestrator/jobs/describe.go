package jobs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

var weekdays = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// Describe says the schedule in words for the review page, such as
// "at 08:00 on Monday to Friday (Europe/Berlin)" or "every 15 minutes".
func (s Schedule) Describe() string {
	if ev, ok := s.sched.(cron.ConstantDelaySchedule); ok {
		return "every " + words(ev.Delay)
	}
	expr := s.expr
	switch expr {
	case "@yearly", "@annually":
		expr = "0 0 1 1 *"
	case "@monthly":
		expr = "0 0 1 * *"
	case "@weekly":
		expr = "0 0 * * 0"
	case "@daily", "@midnight":
		expr = "0 0 * * *"
	case "@hourly":
		expr = "0 * * * *"
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return expr
	}
	var b strings.Builder
	min, hour := f[0], f[1]
	switch {
	case isNum(min) && isNum(hour):
		fmt.Fprintf(&b, "at %02s:%02s", hour, min)
	case isNum(min) && hour == "*":
		fmt.Fprintf(&b, "every hour at minute %s", min)
	case min == "*" && hour == "*":
		b.WriteString("every minute")
	case strings.HasPrefix(min, "*/") && hour == "*":
		fmt.Fprintf(&b, "every %s minutes", min[2:])
	default:
		fmt.Fprintf(&b, "at minute %s past hour %s", min, hour)
	}
	if f[2] != "*" {
		fmt.Fprintf(&b, " on day %s of the month", f[2])
	}
	if f[3] != "*" {
		fmt.Fprintf(&b, " in month %s", f[3])
	}
	if f[4] != "*" {
		fmt.Fprintf(&b, " on %s", dayNames(f[4]))
	}
	if f[2] == "*" && f[4] == "*" && (isNum(hour) || hour != "*") {
		b.WriteString(" every day")
	}
	fmt.Fprintf(&b, " (%s time)", s.loc)
	return b.String()
}

func isNum(s string) bool { _, err := strconv.Atoi(s); return err == nil }

// dayNames spells a day-of-week field: "1-5" is "Monday to Friday".
func dayNames(f string) string {
	name := func(s string) string {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 7 {
			return weekdays[n%7]
		}
		return s
	}
	var parts []string
	for _, p := range strings.Split(f, ",") {
		if a, z, ok := strings.Cut(p, "-"); ok && !strings.Contains(z, "/") {
			parts = append(parts, name(a)+" to "+name(z))
			continue
		}
		parts = append(parts, name(p))
	}
	return strings.Join(parts, ", ")
}

// words says a duration as "15 minutes", "1 hour 30 minutes".
func words(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + one + "s"
	}
	var parts []string
	if h := int64(d / time.Hour); h > 0 {
		parts = append(parts, unit(h, "hour"))
	}
	if m := int64(d % time.Hour / time.Minute); m > 0 {
		parts = append(parts, unit(m, "minute"))
	}
	if sec := int64(d % time.Minute / time.Second); sec > 0 || len(parts) == 0 {
		parts = append(parts, unit(sec, "second"))
	}
	return strings.Join(parts, " ")
}

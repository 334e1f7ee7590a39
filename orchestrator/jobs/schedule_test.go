package jobs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

// runs returns the next n runs of expr in zone after from, as local
// wall-clock strings with their offset.
func runs(t *testing.T, expr string, loc *time.Location, from time.Time, n int) []string {
	t.Helper()
	s, err := Parse(expr, loc, time.Minute)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	var out []string
	for _, r := range s.NextN(from, n) {
		out = append(out, r.In(loc).Format("2006-01-02 15:04 -0700"))
	}
	return out
}

func TestScheduleDST(t *testing.T) {
	berlin, ny := zone(t, "Europe/Berlin"), zone(t, "America/New_York")
	tests := []struct {
		name string
		expr string
		loc  *time.Location
		from time.Time
		want []string
	}{
		{"Berlin spring: 02:30 does not exist, runs once shifted", "30 2 * * *", berlin, time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC),
			[]string{"2026-03-29 03:30 +0200", "2026-03-30 02:30 +0200"}},
		{"Berlin autumn: 02:30 happens twice, runs once", "30 2 * * *", berlin, time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC),
			[]string{"2026-10-25 02:30 +0100", "2026-10-26 02:30 +0100"}},
		{"Berlin weekday 08:00 keeps local time across the change", "0 8 * * 1-5", berlin, time.Date(2026, 3, 26, 12, 0, 0, 0, time.UTC),
			[]string{"2026-03-27 08:00 +0100", "2026-03-30 08:00 +0200"}},
		{"New York autumn: 01:30 once", "30 1 * * *", ny, time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC),
			[]string{"2026-11-01 01:30 -0400", "2026-11-02 01:30 -0500"}},
		{"New York autumn hourly: both 01:00 run (real hours)", "0 * * * *", ny, time.Date(2026, 11, 1, 3, 30, 0, 0, time.UTC),
			[]string{"2026-11-01 00:00 -0400", "2026-11-01 01:00 -0400", "2026-11-01 01:00 -0500", "2026-11-01 02:00 -0500"}},
		{"New York spring hourly: 02:00 does not exist", "0 * * * *", ny, time.Date(2026, 3, 8, 5, 30, 0, 0, time.UTC),
			[]string{"2026-03-08 01:00 -0500", "2026-03-08 03:00 -0400"}},
		{"@daily keeps local midnight across the change", "@daily", ny, time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC),
			[]string{"2026-03-08 00:00 -0500", "2026-03-09 00:00 -0400"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runs(t, tt.expr, tt.loc, tt.from, len(tt.want))
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("runs of %q:\n got %v\nwant %v", tt.expr, got, tt.want)
			}
		})
	}
	// Every run of a daily job across a whole year in both zones happens
	// exactly once per local day.
	for _, loc := range []*time.Location{berlin, ny} {
		days := map[string]int{}
		for _, r := range runs(t, "30 2 * * *", loc, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 365) {
			days[r[:10]]++
		}
		for d, n := range days {
			if n != 1 {
				t.Errorf("%s: %d runs on %s", loc, n, d)
			}
		}
		if len(days) != 365 {
			t.Errorf("%s: runs on %d days, want 365", loc, len(days))
		}
	}
}

func TestScheduleEveryAndDescriptors(t *testing.T) {
	from := time.Date(2026, 5, 1, 10, 7, 30, 0, time.UTC)
	s, err := Parse("@every 15m", zone(t, "Europe/Berlin"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := s.NextN(from, 3)
	for i, r := range got {
		if want := from.Add(time.Duration(i+1) * 15 * time.Minute); !r.Equal(want) {
			t.Errorf("run %d = %v, want %v", i, r, want)
		}
	}
	if d := s.Describe(); d != "every 15 minutes" {
		t.Errorf("Describe = %q", d)
	}
	if n := s.RunsPerDay(from, 10000); n != 96 {
		t.Errorf("RunsPerDay = %d, want 96", n)
	}
	h, err := Parse("@hourly", time.UTC, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Next(from); !r.Equal(time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("@hourly next = %v", r)
	}
	d, _ := Parse("0 8 * * 1-5", zone(t, "Europe/Berlin"), time.Minute)
	if got := d.Describe(); got != "at 08:00 on Monday to Friday (Europe/Berlin time)" {
		t.Errorf("Describe = %q", got)
	}
}

func TestScheduleRefused(t *testing.T) {
	tests := []struct {
		expr, field, reason string
		floor               time.Duration
	}{
		{"61 * * * *", "minute", "above maximum (59)", time.Minute},
		{"* 25 * * *", "hour", "above maximum (23)", time.Minute},
		{"0 0 0 * *", "day of month", "below minimum (1)", time.Minute},
		{"0 0 * 13 *", "month", "above maximum (12)", time.Minute},
		{"0 0 * * 9", "day of week", "above maximum", time.Minute},
		{"*/x * * * *", "minute", "x", time.Minute},
		{"* * *", "schedule", "has 3 fields", time.Minute},
		{"", "schedule", "empty", time.Minute},
		{"@fortnightly", "schedule", "unrecognized descriptor", time.Minute},
		{"CRON_TZ=UTC 0 8 * * *", "schedule", "time zone", time.Minute},
		{"@every 30s", "schedule", "minimum interval of 1m0s", time.Minute},
		{"*/5 * * * *", "schedule", "minimum interval of 10m0s", 10 * time.Minute},
		{"0,1 8 * * *", "schedule", "runs every 1m0s", 5 * time.Minute},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr, time.UTC, tt.floor)
		var se *ScheduleError
		if !errors.As(err, &se) || se.Field != tt.field || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Parse(%q) = %v, want field %q and %q", tt.expr, err, tt.field, tt.reason)
		}
	}
	if _, err := Parse("*/10 * * * *", time.UTC, 10*time.Minute); err != nil {
		t.Errorf("an interval equal to the floor refused: %v", err)
	}
}

package server

import (
	"testing"
	"time"
)

func TestRefusalLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newRefusalLimiter(func() time.Time { return now })
	step := func(d time.Duration, uid int, wantReport bool, wantSuppressed int) {
		t.Helper()
		now = now.Add(d)
		suppressed, report := l.allow(uid)
		if report != wantReport || suppressed != wantSuppressed {
			t.Fatalf("allow(%d) at +%v = (%d, %v), want (%d, %v)", uid, d, suppressed, report, wantSuppressed, wantReport)
		}
	}
	step(0, 65534, true, 0)             // first refusal is reported
	step(time.Second, 65534, false, 0)  // within the window: held back
	step(time.Second, 65534, false, 0)  // held back again
	step(0, 1000, true, 0)              // another uid is independent
	step(RefusalWindow, 65534, true, 2) // window over: reported with the count
	step(RefusalWindow-time.Nanosecond, 65534, false, 0)
	step(time.Nanosecond, 65534, true, 1)
}

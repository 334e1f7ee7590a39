package worker

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
)

func TestStatusShowsTheLastWorkersConfinement(t *testing.T) {
	q := New(time.Now, func(int) bool { return true })
	full := &tools.Confinement{Seccomp: true, LandlockABI: 7, LandlockFiles: true, LandlockNet: true, NetworkRefused: true}
	if !q.SetConfinement(10, Confinement{Reported: full, KernelSeccomp: true}) {
		t.Fatal("a first report is news")
	}
	if q.SetConfinement(10, Confinement{Reported: full, KernelSeccomp: true}) {
		t.Error("the same report again is not news")
	}
	st := q.Status(time.Minute)
	if st.PID != 10 || !st.Confinement.Confined() {
		t.Fatalf("status %+v; want pid 10 confined", st)
	}
	// The worker's word alone is not enough: the kernel must show the filter.
	if (Confinement{Reported: full}).Confined() {
		t.Error("a report without the kernel's filter counts as confined")
	}
	noLandlock := *full
	noLandlock.LandlockFiles, noLandlock.LandlockABI = false, 0
	if !q.SetConfinement(10, Confinement{Reported: &noLandlock, KernelSeccomp: true}) || q.Status(time.Minute).Confinement.Confined() {
		t.Error("a worker without Landlock's file rules counts as confined, or the change is not news")
	}
	// A new process starts unknown until it says something.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	q.Next(ctx, 11)
	if st := q.Status(time.Minute); st.PID != 11 || st.Confinement.Reported != nil {
		t.Errorf("after a new process polled: %+v; want pid 11 with no report", st)
	}
}

func TestReadConfinementReadsTheKernelAndCapsTheWorkersWords(t *testing.T) {
	long := strings.Repeat("x", 1000)
	var many []string
	for range 20 {
		many = append(many, long)
	}
	c := ReadConfinement(os.Getpid(), &tools.Confinement{Seccomp: true, Problems: many})
	if c.KernelSeccomp {
		t.Error("the test process has no filter of its own beyond its parent's, yet the kernel check says it has")
	}
	if len(c.Reported.Problems) != maxProblems || len(c.Reported.Problems[0]) > maxProblemBytes+len("…") {
		t.Errorf("problems not capped: %d, first %d bytes", len(c.Reported.Problems), len(c.Reported.Problems[0]))
	}
	if gone := ReadConfinement(1<<30, nil); gone.KernelSeccomp || gone.Reported != nil {
		t.Errorf("a missing process shows %+v", gone)
	}
}

// TestStatusCacheReadsOncePerSecond: polls of one worker within a second
// read its /proc status once; another pid, a later poll, or a process
// that could not be read read again.
func TestStatusCacheReadsOncePerSecond(t *testing.T) {
	now := time.Unix(1000, 0)
	reads := map[string]int{}
	c := statusCache{ttl: time.Second, now: func() time.Time { return now },
		read1: func(pid string) (procStatus, bool) {
			reads[pid]++
			return procStatus{mode: 2, filters: reads[pid]}, pid != "99"
		}}
	for range 5 {
		if st, ok := c.read(42); !ok || st.filters != 1 {
			t.Fatalf("read(42) = %+v %v", st, ok)
		}
	}
	if reads["42"] != 1 {
		t.Errorf("5 polls within a second read /proc %d times, want 1", reads["42"])
	}
	if _, ok := c.read(7); !ok || reads["7"] != 1 {
		t.Errorf("another pid was not read")
	}
	if _, ok := c.read(42); !ok || reads["42"] != 2 {
		t.Errorf("after another pid, 42 was not read again: %d reads", reads["42"])
	}
	now = now.Add(time.Second)
	if st, _ := c.read(42); reads["42"] != 3 || st.filters != 3 {
		t.Errorf("a poll a second later used the old reading: %d reads, %+v", reads["42"], st)
	}
	for range 2 {
		if _, ok := c.read(99); ok {
			t.Fatal("an unreadable process read as ok")
		}
	}
	if reads["99"] != 2 {
		t.Errorf("an unreadable process was cached: %d reads, want 2", reads["99"])
	}
}

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

package worker

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
)

// ReadConfinement builds the orchestrator's view of process pid's
// confinement: what it reported, and what /proc/<pid>/status shows (a
// worker cannot forge that). The worker must carry more seccomp filters
// than the orchestrator itself: under a container engine both inherit
// the engine's filter, and the worker adds its own. A process gone or
// unreadable shows nothing.
func ReadConfinement(pid int, reported *tools.Confinement) Confinement {
	c := Confinement{Reported: capProblems(reported)}
	st, ok := workerStatus.read(pid)
	if !ok {
		return c
	}
	own, _ := ownStatus()
	c.KernelNoNewPrivs = st.noNewPrivs
	if st.filters >= 0 && own.filters >= 0 {
		c.KernelSeccomp = st.mode == 2 && st.filters > own.filters
	} else { // a kernel without the Seccomp_filters line (before 5.9)
		c.KernelSeccomp = st.mode == 2 && own.mode != 2
	}
	return c
}

// ownStatus is the orchestrator's own /proc status, read once: its seccomp
// filters are the container engine's, set before it started, and it never
// adds any. Reading it on every poll cost as much as the rest of
// runtime_next_task (issue 13, BenchmarkAgentTurn).
var ownStatus = sync.OnceValues(func() (procStatus, bool) { return readStatus("self") })

// workerStatus keeps the worker's last /proc status for up to a second,
// so that a burst of polls reads it once. That is safe because a
// process's confinement only ever tightens (seccomp filters and
// no_new_privs cannot be removed): a reading a second old never shows
// more confinement than the process has.
var workerStatus = statusCache{read1: readStatus, ttl: time.Second, now: time.Now}

type statusCache struct {
	read1 func(pid string) (procStatus, bool)
	ttl   time.Duration
	now   func() time.Time

	mu  sync.Mutex
	pid int
	at  time.Time
	st  procStatus
}

func (c *statusCache) read(pid int) (procStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if pid == c.pid && pid > 0 && now.Sub(c.at) < c.ttl && !now.Before(c.at) {
		return c.st, true
	}
	st, ok := c.read1(strconv.Itoa(pid))
	if !ok {
		c.pid = 0
		return st, false
	}
	c.pid, c.at, c.st = pid, now, st
	return st, true
}

type procStatus struct {
	mode, filters int // filters -1: not shown
	noNewPrivs    bool
}

func readStatus(pid string) (procStatus, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return procStatus{}, false
	}
	st := procStatus{filters: -1}
	for line := range bytes.Lines(b) {
		name, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
		if err != nil {
			continue
		}
		switch string(name) {
		case "Seccomp":
			st.mode = n
		case "Seccomp_filters":
			st.filters = n
		case "NoNewPrivs":
			st.noNewPrivs = n == 1
		}
	}
	return st, true
}

// The worker's words are bounded before they reach logs and pages.
const (
	maxProblems     = 8
	maxProblemBytes = 300
)

func capProblems(r *tools.Confinement) *tools.Confinement {
	if r == nil {
		return nil
	}
	c := *r
	c.Problems = nil
	for _, p := range r.Problems[:min(len(r.Problems), maxProblems)] {
		if len(p) > maxProblemBytes {
			p = strings.ToValidUTF8(p[:maxProblemBytes], "") + "…"
		}
		c.Problems = append(c.Problems, p)
	}
	return &c
}

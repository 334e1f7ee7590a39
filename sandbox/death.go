package sandbox

import (
	"strings"
	"syscall"
)

// classify maps how a child died (exit status, signal, resource usage,
// stderr) to an error kind. It runs after the child was reaped.
func (r *Runner) classify(c *child, l Limits) error {
	st := c.state
	stderr := c.stderr.String()
	ws, _ := st.Sys().(syscall.WaitStatus)
	killed := ws.Signaled() && ws.Signal() == syscall.SIGKILL
	switch {
	case outOfMemory(stderr):
		return memoryError(l)
	case ws.Exited() && ws.ExitStatus() == exitCPU,
		ws.Signaled() && ws.Signal() == syscall.SIGXCPU,
		killed && st.UserTime()+st.SystemTime() >= secondsDuration(cpuSeconds(l.CPUTime)):
		return cpuError(l)
	case killed && maxRSS(c) >= l.MemoryBytes/2:
		return memoryError(l) // the kernel's OOM killer, most likely
	}
	r.log.Warn("sandbox: child crashed", "state", st.String(), "stderr", stderr)
	return errorf(KindCrash, "the script process stopped unexpectedly (%s)%s", st, firstLine(stderr))
}

// outOfMemory reports whether the Go runtime of the child died for lack of
// memory: RLIMIT_DATA or RLIMIT_AS made an mmap fail, and the runtime
// either threw ("out of memory", "cannot allocate memory") or, where it
// does not check (Go 1.26's GC span queues), faulted inside the runtime
// itself ("SIGSEGV: segmentation violation" first, not a Go panic). The
// child is pure Go (no cgo), so a fault in the runtime means an
// allocation failed. Under the race detector (tests only), its shadow
// memory hits the limit first.
func outOfMemory(stderr string) bool {
	return strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "cannot allocate memory") ||
		strings.HasPrefix(stderr, "SIGSEGV: segmentation violation") ||
		strings.Contains(stderr, "ThreadSanitizer failed to allocate")
}

func maxRSS(c *child) int64 {
	if ru, ok := c.state.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10
	}
	return 0
}

// firstLine is ": " and the first non-empty line of stderr, shortened.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 200 {
				line = line[:200] + "..."
			}
			return ": " + line
		}
	}
	return ""
}

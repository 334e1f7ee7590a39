package sandbox

import (
	"fmt"
	"time"
)

// Default and maximum limits of one run.
const (
	DefaultTimeout        = 10 * time.Second
	MaxTimeout            = 60 * time.Second
	DefaultMaxSteps       = 50_000_000
	DefaultMemoryBytes    = 256 << 20
	DefaultMaxResultBytes = 256 << 10
	DefaultMaxPrintBytes  = 64 << 10
	DefaultMaxHTTPCalls   = 20
	DefaultMaxArgBytes    = 64 << 10
	DefaultMaxArgDepth    = 16

	// maxCPUTime is the CPU limit a warm child starts with, before it
	// lowers it to the request's.
	maxCPUTime = MaxTimeout + time.Second
	// maxHTTPBodyBytes caps the body of one HTTP request a script makes.
	maxHTTPBodyBytes = 1 << 20
	// maxValueDepth caps the nesting of a script's result.
	maxValueDepth = 64
)

// Limits bound one run. Zero fields take their defaults.
type Limits struct {
	Timeout        time.Duration // wall clock; default 10s, at most 60s
	MaxSteps       uint64        // Starlark execution steps; default 50M
	MemoryBytes    int64         // RLIMIT_DATA of the child; default 256 MiB
	CPUTime        time.Duration // RLIMIT_CPU of the child; default Timeout+1s, at most 61s
	MaxResultBytes int           // JSON of the result; default 256 KiB
	MaxPrintBytes  int           // captured print output, then truncated with a note; default 64 KiB
	MaxHTTPCalls   int           // default 20
	MaxArgBytes    int           // JSON of args and kwargs; default 64 KiB
	MaxArgDepth    int           // nesting of args and kwargs; default 16
}

// withDefaults fills zero fields and clamps the time limits.
func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	l.Timeout = min(l.Timeout, MaxTimeout)
	if l.MaxSteps == 0 {
		l.MaxSteps = DefaultMaxSteps
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = DefaultMemoryBytes
	}
	if l.CPUTime <= 0 {
		l.CPUTime = l.Timeout + time.Second
	}
	l.CPUTime = min(l.CPUTime, maxCPUTime)
	l.MaxResultBytes = orDefault(l.MaxResultBytes, DefaultMaxResultBytes)
	l.MaxPrintBytes = orDefault(l.MaxPrintBytes, DefaultMaxPrintBytes)
	l.MaxHTTPCalls = orDefault(l.MaxHTTPCalls, DefaultMaxHTTPCalls)
	l.MaxArgBytes = orDefault(l.MaxArgBytes, DefaultMaxArgBytes)
	l.MaxArgDepth = orDefault(l.MaxArgDepth, DefaultMaxArgDepth)
	return l
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// cpuSeconds is the RLIMIT_CPU soft limit for d, rounded up.
func cpuSeconds(d time.Duration) uint64 {
	return uint64((d + time.Second - 1) / time.Second)
}

// byteSize renders n as a short human size ("256 MiB").
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func secondsDuration(n uint64) time.Duration { return time.Duration(n) * time.Second }

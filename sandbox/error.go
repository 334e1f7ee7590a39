package sandbox

import (
	"errors"
	"fmt"
)

// Error kinds.
const (
	KindCompile = "compile" // the script does not compile in the dialect
	KindRuntime = "runtime" // a Starlark error, fail(), or a bad entry point
	KindTimeout = "timeout" // the wall-clock limit
	KindSteps   = "steps"   // the step limit
	KindMemory  = "memory"  // the data-size limit
	KindCPU     = "cpu"     // the CPU-time limit
	KindOutput  = "output"  // the result is too large or too deep
	KindArgs    = "args"    // args or kwargs are too large, too deep or not JSON
	KindHTTP    = "http"    // the HTTP callback or the HTTP-call limit
	KindCrash   = "crash"   // the child died for another reason
)

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("sandbox: runner closed")

// Error is a failed run. Message is meant for the script's author (the
// model): it names the limit or carries Starlark's position, e.g.
// "weather.star:3:5: ...".
type Error struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return "sandbox: " + e.Kind + ": " + e.Message }

func errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func timeoutError(l Limits) *Error {
	return errorf(KindTimeout, "the script ran longer than %s and was stopped", l.Timeout)
}

func stepsError(l Limits) *Error {
	return errorf(KindSteps, "the script exceeded its limit of %d execution steps and was stopped", l.MaxSteps)
}

func memoryError(l Limits) *Error {
	return errorf(KindMemory, "the script tried to use more than %s and was stopped", byteSize(l.MemoryBytes))
}

func cpuError(l Limits) *Error {
	return errorf(KindCPU, "the script used more than %ds of CPU time and was stopped", cpuSeconds(l.CPUTime))
}

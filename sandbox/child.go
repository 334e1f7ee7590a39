package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"
	_ "time/tzdata" // a confined child reads no zoneinfo file

	"github.com/airlockhq/airlock/secure/confine"
)

// ChildArg is os.Args[1] of a sandbox child: the worker re-executes its
// own binary with it, and MaybeChild recognises it.
const ChildArg = "__airlock_sandbox_child"

// Child exit codes the parent recognises.
const (
	exitCPU   = 3 // SIGXCPU: the CPU-time limit
	exitUsage = 4 // bad command line or limits
)

const rlimInfinity = ^uint64(0)

// maxJobBytes caps the job line a child reads.
const maxJobBytes = 8 << 20

// MaybeChild runs the sandbox child and exits if this process was started
// as one (os.Args[1] == ChildArg); otherwise it returns at once. Call it
// first thing in main, and in TestMain of packages whose tests run
// scripts.
func MaybeChild() {
	if len(os.Args) < 2 || os.Args[1] != ChildArg {
		return
	}
	os.Exit(childMain(os.Args[2:], os.Stdin, os.Stdout))
}

// childMain sets the limits first, then reads one job, runs it, writes the
// outcome and returns the exit code. Command line: memory bytes, CPU
// seconds (the warm maximums; the job may lower both).
func childMain(args []string, in io.Reader, out io.Writer) int {
	runtime.GOMAXPROCS(1) // Starlark is single-threaded; so is the GC here
	w := &lineWriter{w: out}
	mem := openStatm()
	status := openStatus()
	// From here on: no socket, no program, no file but those already open.
	// First, so that the base size below counts what it maps.
	conf := confine.Child()
	base := readMemBase(status)
	lim, err := parseChildArgs(args)
	if err == nil {
		err = applyLimits(lim, base)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox child:", err)
		return exitUsage
	}
	var cpuSecs atomic.Uint64
	cpuSecs.Store(cpuSeconds(lim.CPUTime))
	watchCPU(w, &cpuSecs)

	warmUp(mem)
	if err := w.write(childMsg{Type: msgReady, Confinement: &conf}); err != nil {
		return 0
	}
	r := bufio.NewReader(in)
	j, err := readJob(r, lim, base)
	if err != nil {
		if !errors.Is(err, errNoJob) {
			fmt.Fprintln(os.Stderr, "sandbox child:", err)
			return exitUsage
		}
		return 0 // the parent went away or closed an idle child
	}
	cpuSecs.Store(cpuSeconds(j.Limits.CPUTime))
	if err := w.write(execute(j, &link{w: w, r: r}, dataLimit(j.Limits.MemoryBytes, base), mem)); err != nil {
		return exitUsage
	}
	return 0
}

var errNoJob = errors.New("no job")

// readJob reads the job and lowers the limits to the job's.
func readJob(r *bufio.Reader, lim Limits, base memBase) (job, error) {
	line, err := readLine(r, maxJobBytes)
	if err != nil {
		return job{}, errNoJob
	}
	var j job
	if err := json.Unmarshal(line, &j); err != nil {
		return job{}, fmt.Errorf("bad job: %w", err)
	}
	j.Limits.MemoryBytes = min(j.Limits.MemoryBytes, lim.MemoryBytes)
	j.Limits.CPUTime = min(j.Limits.CPUTime, lim.CPUTime)
	return j, applyLimits(j.Limits, base)
}

// warmUpSource exercises the usual paths (compile, call, builtins,
// conversions) so a warm child has them paged in before its job arrives.
const warmUpSource = `def main(a, k=None):
    d = {"a": [a, 1.5, None, True], "s": struct(x=json.encode({"k": k}))}
    return [d, str(a).upper(), math.floor(2.5)]
`

// warmUp runs warmUpSource once, in its own thread and globals, before
// the job is read; it leaves nothing behind that a script could see.
func warmUp(mem statm) {
	j := job{Name: "warmup", Source: warmUpSource, Function: "main", Args: json.RawMessage(`["x"]`),
		Kwargs: json.RawMessage(`{"k":1}`), Limits: Limits{}.withDefaults()}
	var sink bytes.Buffer
	_ = (&lineWriter{w: &sink}).write(j)
	_ = json.Unmarshal(sink.Bytes(), &j)
	sink.Reset()
	_ = (&lineWriter{w: &sink}).write(execute(j, nil, rlimInfinity, mem))
	runtime.GC() // the job reuses the warm-up's (already faulted-in) memory
}

func parseChildArgs(args []string) (Limits, error) {
	if len(args) != 2 {
		return Limits{}, errors.New("want: memory-bytes cpu-seconds")
	}
	mem, err1 := strconv.ParseInt(args[0], 10, 64)
	cpu, err2 := strconv.ParseUint(args[1], 10, 32)
	if err := errors.Join(err1, err2); err != nil || mem <= 0 || cpu == 0 {
		return Limits{}, fmt.Errorf("bad limits %q: %v", args, err)
	}
	return Limits{MemoryBytes: mem, CPUTime: secondsDuration(cpu)}, nil
}

// applyLimits sets RLIMIT_DATA and RLIMIT_AS, RLIMIT_CPU (soft; the hard
// limit one second later kills), no core dumps and no file writes, and a
// Go memory limit a bit under RLIMIT_DATA so the GC works hard before the
// wall.
func applyLimits(l Limits, base memBase) error {
	data := dataLimit(l.MemoryBytes, base)
	as := asLimit(l.MemoryBytes, base)
	cpu := cpuSeconds(l.CPUTime)
	limits := []struct {
		res      int
		cur, max uint64
	}{
		{syscall.RLIMIT_DATA, data, data},
		{syscall.RLIMIT_AS, as, as},
		{syscall.RLIMIT_CPU, cpu, cpu + 1},
		{syscall.RLIMIT_CORE, 0, 0},
		{syscall.RLIMIT_FSIZE, 0, 0},
	}
	for _, rl := range limits {
		var cur syscall.Rlimit
		if err := syscall.Getrlimit(rl.res, &cur); err != nil {
			return fmt.Errorf("getrlimit %d: %w", rl.res, err)
		}
		// Limits only ever go down: a job can lower a warm child's.
		rl.max = min(rl.max, cur.Max)
		rl.cur = min(rl.cur, rl.max)
		if err := syscall.Setrlimit(rl.res, &syscall.Rlimit{Cur: rl.cur, Max: rl.max}); err != nil {
			return fmt.Errorf("setrlimit %d: %w", rl.res, err)
		}
	}
	debug.SetMemoryLimit(l.MemoryBytes - l.MemoryBytes/8)
	return nil
}

// watchCPU reports the CPU-time limit when SIGXCPU arrives (Go ignores
// the signal by default) and exits.
func watchCPU(w *lineWriter, secs *atomic.Uint64) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGXCPU)
	go func() {
		<-ch
		_ = w.write(childMsg{Type: msgError, Error: cpuError(Limits{CPUTime: secondsDuration(secs.Load())})})
		os.Exit(exitCPU)
	}()
}

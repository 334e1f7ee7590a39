package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultWarm is the number of idle children a Runner keeps by default.
const DefaultWarm = 2

// NoWarm as Options.Warm starts a child per run and keeps none idle.
const NoWarm = -1

// DefaultPlaceholder prefixes secret placeholders when a Request sets none.
const DefaultPlaceholder = "AIRLOCK_SECRET_"

// Options configure a Runner.
type Options struct {
	Executable string       // the binary to re-execute; default os.Executable()
	Warm       int          // idle children kept started; 0 means DefaultWarm, NoWarm (<0) none
	Logger     *slog.Logger // default: discard
	// Lazy starts no warm child until the first run, so a worker whose
	// assistant never runs a script keeps no idle children.
	Lazy bool
	// IdleTTL, when positive, releases the idle children after that long
	// without a run; the next run starts cold and refills the pool.
	IdleTTL time.Duration
}

// Request is one script run.
type Request struct {
	Name     string // the script's name; errors show it as "<name>.star:line:col"
	Source   string
	Function string         // "" runs the top level and returns its global "result", else None
	Args     []any          // JSON-like values
	Kwargs   map[string]any // JSON-like values
	Secrets  []string       // granted secret names
	// Placeholder prefixes what secret("X") returns: Placeholder + "X" + "__".
	Placeholder string
	Limits      Limits
}

// Result is a successful run.
type Result struct {
	Value    json.RawMessage // the result as JSON
	Output   string          // captured print output, perhaps truncated with a note
	Steps    uint64
	Duration time.Duration
}

// Runner runs scripts, each in a fresh child process. It is safe for
// concurrent use; concurrent runs use separate children.
type Runner struct {
	exe  string
	log  *slog.Logger
	pool *pool // nil without warm children
	warn *confWarning

	mu     sync.Mutex
	closed bool
}

// NewRunner returns a Runner that re-executes o.Executable, whose main
// must call MaybeChild first.
func NewRunner(o Options) (*Runner, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("sandbox: find executable: %w", err)
		}
		o.Executable = exe
	}
	if _, err := os.Stat(o.Executable); err != nil {
		return nil, fmt.Errorf("sandbox: executable: %w", err)
	}
	r := &Runner{exe: o.Executable, log: o.Logger, warn: &confWarning{}}
	if o.Warm == 0 {
		o.Warm = DefaultWarm
	}
	if o.Warm > 0 {
		r.pool = newPool(o.Executable, o.Warm, DefaultMemoryBytes, o.Logger)
		r.pool.lazy, r.pool.idleTTL, r.pool.warn = o.Lazy, o.IdleTTL, r.warn
		go r.pool.fill()
	}
	return r, nil
}

// Close stops the warm pool and kills idle children. Runs in progress
// finish; later runs fail with ErrClosed.
func (r *Runner) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if r.pool != nil {
		r.pool.close()
	}
}

// Run executes req in a child and returns its result. A failed run is an
// *Error (see the Kind constants) unless ctx ended first or no child could
// be started. The child is always gone when Run returns.
func (r *Runner) Run(ctx context.Context, req Request, http HTTPFunc) (Result, error) {
	lim := req.Limits.withDefaults()
	args, kwargs, err := encodeArgs(req.Args, req.Kwargs, lim)
	if err != nil {
		return Result{}, err
	}
	if req.Placeholder == "" {
		req.Placeholder = DefaultPlaceholder
	}
	j := job{Name: req.Name, Source: req.Source, Function: req.Function, Args: args, Kwargs: kwargs,
		Secrets: req.Secrets, Placeholder: req.Placeholder, Limits: lim}
	c, err := r.take(lim)
	if r.pool != nil {
		defer r.pool.refill()
	}
	if err != nil {
		return Result{}, err
	}
	defer c.release()
	return r.session(ctx, c, j, http)
}

// take returns a warm child if one fits the memory limit, else a new one.
func (r *Runner) take(l Limits) (*child, error) {
	r.mu.Lock()
	closed, p := r.closed, r.pool
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if p != nil && l.MemoryBytes <= p.memBytes {
		if c := p.get(); c != nil {
			return c, nil
		}
	}
	// A cold child warms up under the default limit, as a warm one does,
	// and the job lowers it before the script runs (readJob). Warming up
	// under a small job limit could fail for the runtime's own reasons: a
	// binary built with cgo maps each new thread's 8 MiB stack, which
	// RLIMIT_DATA counts, and the warm-up's GC starts threads.
	return spawn(r.exe, max(l.MemoryBytes, DefaultMemoryBytes))
}

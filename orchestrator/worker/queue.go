// Package worker is the orchestrator's side of the link to the AI worker:
// the queue of tasks waiting for it, the tasks it is working on, and whether
// a worker is connected at all.
//
// The worker is untrusted. Nothing here believes what it says about itself:
// a task is bound to the process (peer PID, read by the kernel from the
// socket) that took it, it can be completed once, and the orchestrator fails
// it by itself when that process dies or the task's deadline passes.
//
// Tasks are handed out round-robin by conversation: each conversation with
// queued tasks takes its turn, and one with a task in flight is skipped
// until that task ends, so a conversation with many queued messages cannot
// starve the others, and no conversation ever has two tasks running.
package worker

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/airlockhq/airlock/mcp/tools"
)

// DefaultGrace is how long a worker counts as connected after its last
// poll (Status), unless a caller chooses otherwise.
const DefaultGrace = 45 * time.Second

// ErrUnknownTask is returned for a task id that is not in flight.
var ErrUnknownTask = errors.New("worker: unknown or finished task")

// ErrTaskBound is returned when a process other than the one that took a
// task tries to act on it.
var ErrTaskBound = errors.New("worker: task belongs to another worker process")

// Result is how a task ended.
type Result struct {
	// Text is the final answer when Failed is false.
	Text string
	// Failed is set when the worker reported an error, died, or ran out of time.
	Failed bool
	// Reason says why it failed; it is for logs, never for the user.
	Reason string
	// Notice is a user-facing explanation set by the orchestrator itself
	// (for example an exhausted budget); empty means "use a generic apology".
	Notice string
	// Capped is set when the task was stopped at its token or model-call
	// cap (SetCapped); Tokens and LLMCalls are what it spent (AddTokens,
	// CountLLMCall).
	Capped   bool
	Tokens   int
	LLMCalls int
}

// Ticket is the submitter's handle on a task.
type Ticket struct {
	ID   string
	Done <-chan Result
}

type entry struct {
	task      tools.Task
	done      chan Result
	deadline  time.Time
	pid       int // 0 while queued
	notice    string
	llmCalls  int
	chatSends int
	tokens    int
	capped    bool
}

// Queue hands tasks to the worker. The zero value is not usable; call New.
type Queue struct {
	now   func() time.Time
	alive func(pid int) bool

	mu       sync.Mutex
	pending  fairQueue
	inflight map[string]*entry
	running  map[string]bool // conversations (laneOf) with a task in flight
	wake     chan struct{}   // closed and replaced whenever a task is queued
	pollers  int
	lastPID  int
	lastSeen time.Time
	conf     Confinement // of lastPID
	parallel int         // the task cap lastPID reported; 0: unknown
}

// New returns an empty queue. alive reports whether a worker process still
// exists; now is the clock.
func New(now func() time.Time, alive func(pid int) bool) *Queue {
	return &Queue{
		now:      now,
		alive:    alive,
		inflight: make(map[string]*entry),
		running:  make(map[string]bool),
		pending:  fairQueue{lanes: make(map[string][]*entry)},
		wake:     make(chan struct{}),
	}
}

// Submit queues a task that must end by deadline.
func (q *Queue) Submit(t tools.Task, deadline time.Time) Ticket {
	e := &entry{task: t, done: make(chan Result, 1), deadline: deadline}
	q.mu.Lock()
	q.pending.push(e)
	q.wakeLocked()
	q.mu.Unlock()
	return Ticket{ID: t.ID, Done: e.done}
}

// wakeLocked wakes every waiting Next. Callers hold q.mu.
func (q *Queue) wakeLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Next waits until a task is queued or ctx ends, and binds the task it
// returns to the worker process pid. It returns ok=false when ctx ended
// without work.
func (q *Queue) Next(ctx context.Context, pid int) (t tools.Task, ok bool) {
	q.mu.Lock()
	q.pollers++
	if pid != q.lastPID {
		q.conf, q.parallel = Confinement{}, 0 // a new process says its own
	}
	q.lastPID, q.lastSeen = pid, q.now()
	defer func() {
		q.pollers--
		q.lastSeen = q.now()
		q.mu.Unlock()
	}()
	for {
		if e := q.pending.pop(q.running); e != nil {
			e.pid = pid
			q.inflight[e.task.ID] = e
			q.running[laneOf(e.task)] = true
			return e.task, true
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			q.mu.Lock()
			return tools.Task{}, false
		case <-wake:
		}
		q.mu.Lock()
	}
}

// Task returns the in-flight task id if it is bound to pid.
func (q *Queue) Task(id string, pid int) (tools.Task, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, err := q.lookup(id, pid)
	if err != nil {
		return tools.Task{}, err
	}
	return e.task, nil
}

// CountLLMCall records one LLM call for the task and reports whether the
// task is still within max calls. It caps a worker that ignores its rounds.
func (q *Queue) CountLLMCall(id string, pid, max int) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, err := q.lookup(id, pid)
	if err != nil {
		return false, err
	}
	e.llmCalls++
	return e.llmCalls <= max, nil
}

// SetNotice records a user-facing explanation used if the task fails.
func (q *Queue) SetNotice(id, notice string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e, ok := q.inflight[id]; ok {
		e.notice = notice
	}
}

// Complete ends an in-flight task with the worker's result.
func (q *Queue) Complete(id string, pid int, r Result) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, err := q.lookup(id, pid)
	if err != nil {
		return err
	}
	q.finishLocked(e, r)
	return nil
}

// Cancel drops a task whose submitter stopped waiting, queued or in flight.
func (q *Queue) Cancel(id string, reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e, ok := q.inflight[id]; ok {
		q.finishLocked(e, Result{Failed: true, Reason: reason})
		return
	}
	if e := q.pending.remove(id); e != nil {
		e.done <- Result{Failed: true, Reason: reason}
	}
}

// Reap fails every in-flight task whose worker process is gone or whose
// deadline has passed, and every queued task past its deadline. It returns
// the ids it failed.
func (q *Queue) Reap() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	var failed []string
	for id, e := range q.inflight {
		switch {
		case !q.alive(e.pid):
			q.finishLocked(e, Result{Failed: true, Reason: "worker process exited during the task"})
		case now.After(e.deadline):
			q.finishLocked(e, Result{Failed: true, Reason: "task ran past its deadline"})
		default:
			continue
		}
		failed = append(failed, id)
	}
	for _, e := range q.pending.removeIf(func(e *entry) bool { return now.After(e.deadline) }) {
		e.done <- Result{Failed: true, Reason: "no worker took the task before its deadline"}
		failed = append(failed, e.task.ID)
	}
	return failed
}

// Status describes the worker link for health checks and the dashboard.
type Status struct {
	Connected bool
	PID       int
	LastSeen  time.Time
	Queued    int
	InFlight  int
	// Parallel is the most tasks the last worker process said it runs at
	// once; 0 when it did not say.
	Parallel int
	// Confinement is what the last worker process reported, and what the
	// kernel showed of it.
	Confinement Confinement
}

// Confinement is the worker's kernel confinement as the orchestrator
// knows it.
type Confinement struct {
	// Reported is what the worker said; nil when it said nothing.
	Reported *tools.Confinement
	// KernelSeccomp is set when the kernel shows the process with a
	// seccomp filter beyond the orchestrator's own (/proc/<pid>/status),
	// whatever the worker says.
	KernelSeccomp bool
	// KernelNoNewPrivs is the process's no_new_privs flag as the kernel
	// shows it.
	KernelNoNewPrivs bool
}

// Confined reports whether the worker is confined as it should be: the
// kernel shows its filter, and it reports the network refused and the
// file rules in force.
func (c Confinement) Confined() bool {
	r := c.Reported
	return c.KernelSeccomp && r != nil && r.Seccomp && r.NetworkRefused && r.LandlockFiles
}

// SetConfinement records the confinement of worker process pid; a later
// Status shows it while pid is the last worker seen. It reports whether
// this is news: another process, or another state than last recorded.
func (q *Queue) SetConfinement(pid int, c Confinement) (changed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	changed = pid != q.lastPID || !sameConfinement(q.conf, c)
	if pid != q.lastPID {
		q.lastPID, q.lastSeen = pid, q.now()
	}
	q.conf = c
	return changed
}

// SetParallel records the task cap worker process pid reports (see
// Status.Parallel); a value out of range is kept as unknown.
func (q *Queue) SetParallel(pid, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if pid == q.lastPID {
		q.parallel = 0
		if n > 0 && n <= 1<<20 {
			q.parallel = n
		}
	}
}

func sameConfinement(a, b Confinement) bool {
	if a.KernelSeccomp != b.KernelSeccomp || a.KernelNoNewPrivs != b.KernelNoNewPrivs || (a.Reported == nil) != (b.Reported == nil) {
		return false
	}
	if a.Reported == nil {
		return true
	}
	x, y := *a.Reported, *b.Reported
	return x.Seccomp == y.Seccomp && x.LandlockABI == y.LandlockABI && x.LandlockFiles == y.LandlockFiles &&
		x.LandlockNet == y.LandlockNet && x.NetworkRefused == y.NetworkRefused && slices.Equal(x.Problems, y.Problems)
}

// Status reports whether a worker is connected: one is waiting for work
// right now, or the last one seen within grace is still alive.
func (q *Queue) Status(grace time.Duration) Status {
	q.mu.Lock()
	defer q.mu.Unlock()
	connected := q.pollers > 0 ||
		(q.lastPID != 0 && q.now().Sub(q.lastSeen) <= grace && q.alive(q.lastPID))
	return Status{Connected: connected, PID: q.lastPID, LastSeen: q.lastSeen,
		Queued: q.pending.n, InFlight: len(q.inflight), Parallel: q.parallel, Confinement: q.conf}
}

func (q *Queue) lookup(id string, pid int) (*entry, error) {
	e, ok := q.inflight[id]
	if !ok {
		return nil, ErrUnknownTask
	}
	if e.pid != pid {
		return nil, ErrTaskBound
	}
	return e, nil
}

func (q *Queue) finishLocked(e *entry, r Result) {
	if r.Failed && r.Notice == "" {
		r.Notice = e.notice
	}
	r.Capped = r.Capped || e.capped
	r.Tokens, r.LLMCalls = e.tokens, min(e.llmCalls, max(e.task.MaxRounds, 0))
	delete(q.inflight, e.task.ID)
	lane := laneOf(e.task)
	delete(q.running, lane)
	if len(q.pending.lanes[lane]) > 0 {
		q.wakeLocked() // its next task may go now
	}
	e.done <- r
}

// CountChatSend records one chat_send for the task and reports whether it
// is within max.
func (q *Queue) CountChatSend(id string, max int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.inflight[id]
	if !ok {
		return false
	}
	e.chatSends++
	return e.chatSends <= max
}

// AddTokens adds n to the tokens an in-flight task has spent and returns
// its total.
func (q *Queue) AddTokens(id string, n int) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.inflight[id]
	if !ok {
		return 0
	}
	e.tokens += n
	return e.tokens
}

// Tokens returns the tokens an in-flight task has spent.
func (q *Queue) Tokens(id string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e, ok := q.inflight[id]; ok {
		return e.tokens
	}
	return 0
}

// SetCapped marks an in-flight task as stopped at its cap, with the
// notice the user reads.
func (q *Queue) SetCapped(id, notice string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e, ok := q.inflight[id]; ok {
		e.capped, e.notice = true, notice
	}
}

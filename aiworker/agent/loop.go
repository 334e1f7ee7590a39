package agent

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/airlockhq/airlock/internal/backoff"
	"github.com/airlockhq/airlock/mcp/tools"
)

// pollWait is how long one runtime_next_task call waits for work.
const pollWait = 25 * time.Second

// DefaultParallel is how many tasks a worker runs at once unless told
// otherwise (AIRLOCK_WORKER_PARALLEL). A task spends nearly all its time
// waiting for the model, so the cap is set by memory (see MaxToolResultBytes
// and docs/performance.md), not by CPU: 256 tasks in flight take some
// 50 MB, and 200 conversations answered at once by a model that takes a
// second are all back within two.
const DefaultParallel = 256

// MaxParallel is the highest cap Serve accepts.
const MaxParallel = 4096

// maxPollers is how many runtime_next_task long-polls a worker keeps open
// at once (fewer when its cap is lower). Taking a task costs a round trip
// and a write on the orchestrator's side; several pollers take a burst of
// tasks in parallel instead of one after the other.
const maxPollers = 8

// Serve takes tasks until ctx ends, running up to parallel of them at once,
// and reports every outcome with runtime_complete_task. Connection errors
// are retried with backoff; the loop ends only with ctx.
func (a *Agent) Serve(ctx context.Context, parallel int) error {
	parallel = min(max(parallel, 1), MaxParallel)
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	var pollers sync.WaitGroup
	for range min(parallel, maxPollers) {
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			a.poll(ctx, parallel, slots, &wg)
		}()
	}
	pollers.Wait()
	return ctx.Err()
}

// poll takes tasks while a slot is free, until ctx ends, and starts each
// in its own goroutine counted in wg.
func (a *Agent) poll(ctx context.Context, parallel int, slots chan struct{}, wg *sync.WaitGroup) {
	wait := backoff.Doubling{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		var res tools.NextTaskResult
		err := a.conn.Call(ctx, tools.RuntimeNextTask, tools.NextTaskArgs{WaitMS: pollWait.Milliseconds(),
			Confinement: a.conf, Parallel: parallel}, &res)
		if err != nil || res.Task == nil {
			<-slots
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				a.logger.Warn("waiting for work failed; retrying", "err", err)
				if backoff.Sleep(ctx, wait.Next()) != nil {
					return
				}
			}
			continue
		}
		wait.Reset()
		wg.Add(1)
		go func(task tools.Task) {
			defer wg.Done()
			defer func() { <-slots }()
			a.work(ctx, task)
		}(*res.Task)
	}
}

// work runs one task and reports its outcome.
func (a *Agent) work(ctx context.Context, task tools.Task) {
	log := a.logger.With("task_id", task.ID, "conversation_id", task.ConversationID)
	start := time.Now()
	var text string
	var err error
	if st := task.ScriptTest; st != nil {
		var isErr bool
		text, isErr = a.execScript(ctx, task.ID, tools.ScriptRunArgs{Name: st.Name, Function: st.Function,
			Args: st.Args, Kwargs: st.Kwargs}, st.SHA256)
		if isErr {
			text, err = "", errors.New(text)
		}
	} else {
		text, err = a.Run(ctx, task)
	}
	done := tools.CompleteTaskArgs{TaskID: task.ID, Text: text}
	if err != nil {
		done = tools.CompleteTaskArgs{TaskID: task.ID, Error: err.Error()}
		log.Warn("task failed", "err", err, "elapsed", time.Since(start))
	} else {
		log.Info("task done", "elapsed", time.Since(start))
	}
	// Report even when ctx is ending, so the user is not left waiting.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var ok tools.CompleteTaskResult
	if err := a.conn.Call(rctx, tools.RuntimeCompleteTask, done, &ok); err != nil {
		log.Error("reporting the task outcome failed", "err", err)
	}
}

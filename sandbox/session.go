package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

type ctxKey int

const pidKey ctxKey = 0

// session drives one child through one job: it sends the job, answers
// HTTP requests with hf, and returns the final result or error. The
// child is killed when runCtx ends (the wall-clock limit or ctx).
func (r *Runner) session(ctx context.Context, c *child, j job, hf HTTPFunc) (Result, error) {
	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, j.Limits.Timeout)
	defer cancel()
	stop := context.AfterFunc(runCtx, c.kill)
	defer stop()
	httpCtx := context.WithValue(runCtx, pidKey, c.cmd.Process.Pid)

	_ = c.send(j) // if the child is gone, reading says why
	maxLine := 6*(j.Limits.MaxResultBytes+j.Limits.MaxPrintBytes+maxHTTPBodyBytes) + 64<<10
	calls := 0
	for {
		line, err := readLine(c.out, maxLine)
		if err != nil {
			return Result{}, r.death(ctx, runCtx, c, j, err)
		}
		var m childMsg
		if err := json.Unmarshal(line, &m); err != nil {
			c.kill()
			return Result{}, errorf(KindCrash, "the script process sent a malformed message")
		}
		switch {
		case m.Type == msgReady: // a cold child's first line
			r.warn.note(r.log, m.Confinement)
		case m.Type == msgHTTP && m.HTTP != nil:
			calls++
			_ = c.send(r.doHTTP(httpCtx, hf, m, calls, j.Limits))
		case m.Type == msgResult:
			return Result{Value: m.Value, Output: m.Output, Steps: m.Steps, Duration: time.Since(start)}, nil
		case m.Type == msgError && m.Error != nil:
			return Result{}, m.Error
		default:
			c.kill()
			return Result{}, errorf(KindCrash, "the script process sent an unknown message %q", m.Type)
		}
	}
}

// doHTTP performs one of the script's HTTP requests through hf. The
// parent counts calls too: the child's count is not trusted.
func (r *Runner) doHTTP(ctx context.Context, hf HTTPFunc, m childMsg, calls int, l Limits) httpReply {
	switch {
	case calls > l.MaxHTTPCalls:
		return httpReply{ID: m.ID, Error: fmt.Sprintf("the script may make at most %d HTTP calls", l.MaxHTTPCalls)}
	case hf == nil:
		return httpReply{ID: m.ID, Error: "HTTP is not available to this script"}
	}
	resp, err := hf(ctx, *m.HTTP)
	if err != nil {
		return httpReply{ID: m.ID, Error: err.Error()}
	}
	return httpReply{ID: m.ID, Response: &resp}
}

// death explains a child that stopped without a final message.
func (r *Runner) death(ctx, runCtx context.Context, c *child, j job, readErr error) error {
	if errors.Is(readErr, errLineTooLong) {
		c.kill()
		return errorf(KindOutput, "the script's output (result, print or HTTP request) is too large")
	}
	select {
	case <-c.exited:
	case <-time.After(2 * time.Second):
		c.kill()
		<-c.exited
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("sandbox: run %s: %w", scriptFile(j.Name), ctx.Err())
	case runCtx.Err() != nil:
		return timeoutError(j.Limits)
	}
	return r.classify(c, j.Limits)
}

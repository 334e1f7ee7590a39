package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/secure/peercred"
)

// maxPollWait caps one runtime_next_task long-poll.
const maxPollWait = 30 * time.Second

// noModelNotice is what the user reads when no LLM is configured.
const noModelNotice = "The assistant has no language model configured yet. An admin can set one in the settings."

var emptyObject = json.RawMessage(`{"type":"object","properties":{},"additionalProperties":true}`)

func (c *Core) runtimeTools() []server.ServerTool {
	tool := func(name, desc string) mcp.Tool { return mcp.NewToolWithRawSchema(name, desc, emptyObject) }
	return []server.ServerTool{
		{Tool: tool(tools.RuntimeNextTask, "Worker plumbing: wait for the next task."),
			Handler: runtimeTool(c, tools.RuntimeNextTask, c.nextTask)},
		{Tool: tool(tools.RuntimeCompleteTask, "Worker plumbing: report a task's outcome."),
			Handler: runtimeTool(c, tools.RuntimeCompleteTask, c.completeTask)},
		{Tool: tool(tools.RuntimeLLM, "Worker plumbing: one call to the language model."),
			Handler: taskTool(c, tools.RuntimeLLM, func(a *tools.LLMRequest) string { return a.TaskID }, c.callLLM)},
		{Tool: tool(tools.RuntimeScriptSource, "Worker plumbing: the approved source of a script, for one run."),
			Handler: taskTool(c, tools.RuntimeScriptSource, func(a *tools.ScriptSourceArgs) string { return a.TaskID },
				withoutPID(c.scriptSource))},
		{Tool: tool(tools.RuntimeScriptHTTP, "Worker plumbing: one HTTP request of a running approved script."),
			Handler: taskTool(c, tools.RuntimeScriptHTTP, func(a *tools.ScriptHTTPArgs) string { return a.TaskID },
				withoutPID(c.scriptHTTP))},
		{Tool: tool(tools.RuntimeMCPCall, "Worker plumbing: one call of an approved tool of an external MCP server."),
			Handler: taskTool(c, tools.RuntimeMCPCall, func(a *tools.MCPCallArgs) string { return a.TaskID },
				withoutPID(c.remoteCall))},
	}
}

// runtimeTool makes a runtime tool: it identifies the calling worker
// process, decodes the arguments strictly, runs fn and returns its result
// as JSON (redacted), or its error as toolResult words it.
func runtimeTool[A, R any](c *Core, name string, fn func(context.Context, peercred.Cred, A) (R, error)) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		cred, err := caller(ctx)
		if err != nil {
			return c.toolResult(name, "", err)
		}
		var args A
		if err := decodeArgs(req, &args); err != nil {
			return c.toolResult(name, "", err)
		}
		res, err := fn(ctx, cred, args)
		return c.jsonResult(name, res, err)
	}
}

// taskTool makes a runtime tool whose arguments name a task that must be
// in flight and bound to the calling worker process (pid).
func taskTool[A, R any](c *Core, name string, taskOf func(*A) string,
	fn func(ctx context.Context, task tools.Task, pid int, args A) (R, error)) server.ToolHandlerFunc {
	return runtimeTool(c, name, func(ctx context.Context, cred peercred.Cred, args A) (R, error) {
		task, err := c.queue.Task(taskOf(&args), cred.PID)
		if err != nil {
			var zero R
			return zero, err
		}
		return fn(ctx, task, cred.PID, args)
	})
}

// withoutPID adapts a task tool that needs no pid to taskTool.
func withoutPID[A, R any](fn func(context.Context, tools.Task, A) (R, error)) func(context.Context, tools.Task, int, A) (R, error) {
	return func(ctx context.Context, task tools.Task, _ int, args A) (R, error) { return fn(ctx, task, args) }
}

func (c *Core) nextTask(ctx context.Context, cred peercred.Cred, args tools.NextTaskArgs) (tools.NextTaskResult, error) {
	if conf := worker.ReadConfinement(cred.PID, args.Confinement); c.queue.SetConfinement(cred.PID, conf) {
		c.logConfinement(cred.PID, conf)
	}
	c.queue.SetParallel(cred.PID, args.Parallel)
	wait := min(max(time.Duration(args.WaitMS)*time.Millisecond, 0), maxPollWait)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var res tools.NextTaskResult
	if t, ok := c.queue.Next(wctx, cred.PID); ok {
		// The store marks the task running with its first model call
		// (store.RecordLLMCall): no commit of its own on the worker's path.
		res.Task = &t
	}
	return res, nil
}

// logConfinement says, when a worker process first polls or its state
// changes, whether it is confined; loudly when it is not.
func (c *Core) logConfinement(pid int, conf worker.Confinement) {
	var reported any = "nothing"
	var problems []string
	if r := conf.Reported; r != nil {
		reported = *r
		problems = r.Problems
	}
	if conf.Confined() {
		c.logger.Info("the worker is confined", "pid", pid, "kernel_seccomp", conf.KernelSeccomp, "reported", reported)
		return
	}
	c.logger.Error("THE WORKER IS NOT FULLY CONFINED: it can reach more than its socket; see the dashboard",
		"pid", pid, "kernel_seccomp", conf.KernelSeccomp, "reported", reported, "problems", problems)
}

func (c *Core) completeTask(_ context.Context, cred peercred.Cred, args tools.CompleteTaskArgs) (tools.CompleteTaskResult, error) {
	r := worker.Result{Text: args.Text}
	if args.Error != "" {
		r = worker.Result{Failed: true, Reason: "worker: " + truncate(args.Error, 2000)}
	}
	err := c.queue.Complete(args.TaskID, cred.PID, r)
	return tools.CompleteTaskResult{OK: err == nil}, err
}

func (c *Core) callLLM(ctx context.Context, task tools.Task, pid int, args tools.LLMRequest) (tools.LLMResponse, error) {
	// The task's own cap, fixed when it started (SetLimits binds later tasks).
	rounds := task.MaxRounds
	within, err := c.queue.CountLLMCall(task.ID, pid, rounds)
	if err != nil {
		return tools.LLMResponse{}, err
	}
	if !within {
		if task.Job != "" {
			c.queue.SetCapped(task.ID, fmt.Sprintf("Job %s stopped at its cap of %d model calls per run.", task.Job, rounds))
		}
		return tools.LLMResponse{}, publicf("this task has used all %d of its model calls", rounds)
	}
	if task.MaxTokens > 0 {
		if used := c.queue.Tokens(task.ID); used >= task.MaxTokens {
			c.queue.SetCapped(task.ID, fmt.Sprintf("Job %s stopped at its cap of %d tokens per run (%d used).",
				task.Job, task.MaxTokens, used))
			return tools.LLMResponse{}, publicf("this run has used all %d of its tokens", task.MaxTokens)
		}
	}
	if c.llm == nil || c.llm.Client() == nil {
		c.queue.SetNotice(task.ID, noModelNotice)
		return tools.LLMResponse{}, publicf("no language model is configured")
	}
	// The system prompt is the task's own, and the model is offered only
	// the model tools the worker names, as we define them: a compromised
	// worker can drop neither the safety preamble nor a tool's description.
	args.System = task.System
	args.Tools = slices.DeleteFunc(tools.Model(), func(d tools.ToolDef) bool {
		return !slices.ContainsFunc(args.Tools, func(w tools.ToolDef) bool { return w.Name == d.Name })
	})
	args.Tools = append(args.Tools, c.remoteTools(ctx)...)
	// Tool-call arguments are redacted after decoding both ways: those the
	// worker sends back, and those the model makes, before they are
	// stored or reach the worker (and so the tools and the next request).
	for i := range args.Messages {
		c.redactCalls(args.Messages[i].ToolCalls)
	}
	// The call is reserved under the daily budget before it is made and
	// settled only once its usage is stored, so calls running at once
	// cannot overshoot the budget (see llm.Gateway).
	req := llmRequest(args)
	call, err := c.llm.Reserve(ctx, req)
	if err != nil {
		return tools.LLMResponse{}, c.llmFailed(ctx, task, err)
	}
	defer call.Settle()
	resp, err := c.complete(ctx, call, task, req)
	if err != nil {
		return tools.LLMResponse{}, c.llmFailed(ctx, task, err)
	}
	c.redactCalls(resp.Message.ToolCalls)
	c.queue.AddTokens(task.ID, resp.Usage.InputTokens+resp.Usage.OutputTokens)
	model := c.llm.Model()
	rec := store.LLMCall{ConversationID: task.ConversationID, TaskID: task.ID, Provider: c.llm.Provider(),
		Model: model, InputTokens: resp.Usage.InputTokens, OutputTokens: resp.Usage.OutputTokens,
		CacheReadTokens: resp.Usage.CacheReadTokens, CacheWriteTokens: resp.Usage.CacheWriteTokens}
	if nanos, known := c.llm.Cost(model, llm.Usage(resp.Usage)); known {
		rec.CostNanos = &nanos
	}
	if len(resp.Message.ToolCalls) > 0 {
		rec.Message = &store.Message{ConversationID: task.ConversationID, TaskID: task.ID,
			Role: tools.RoleAssistant, Content: c.redact(resp.Message.Content), ToolCalls: storeCalls(resp.Message.ToolCalls)}
	}
	if err := c.store.RecordLLMCall(context.WithoutCancel(ctx), rec); err != nil {
		c.logger.Error("recording the LLM call failed", "task_id", task.ID, "err", err)
	}
	return resp, nil
}

// llmFailed explains a failed model call: a budget refusal gets its own
// message for the user; anything else a generic one. It returns the error
// the worker is told.
func (c *Core) llmFailed(ctx context.Context, task tools.Task, err error) error {
	var be *llm.BudgetError
	if errors.As(err, &be) {
		c.queue.SetNotice(task.ID, be.UserMessage())
		c.audit(ctx, audit.Event{Actor: "system", Action: "llm.budget_exhausted", Target: task.ConversationID,
			Outcome: "denied", Details: map[string]any{"task_id": task.ID}})
		return publicf("the daily model budget is used up")
	}
	c.queue.SetNotice(task.ID, "Sorry, the language model could not be reached. Please try again in a moment.")
	c.logger.Warn("llm call failed", "task_id", task.ID, "err", err)
	return publicf("the language model call failed")
}

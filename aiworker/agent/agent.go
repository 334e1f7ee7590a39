// Package agent is the AI worker's loop: take a task, ask the model through
// the orchestrator's runtime_llm tool, run the model tools it asks for, and
// hand the final answer back.
//
// The worker holds no credential and trusts no model output. The dispatcher
// calls only model tools (tools.IsModelTool); any other name the model
// produces, runtime tools included, is refused and the refusal is reported
// back to the model. The task id on every tool call is set here, never taken
// from the model.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/airlockhq/airlock/internal/utf8cut"
	"github.com/airlockhq/airlock/mcp/tools"
)

// Conn is the worker's connection to the orchestrator.
type Conn interface {
	// Call runs a runtime tool and decodes its JSON result into out.
	Call(ctx context.Context, name string, args any, out any) error
	// CallText runs a model tool and returns its text result.
	CallText(ctx context.Context, name string, args map[string]any) (text string, isError bool, err error)
}

// Limits bound one task. Zero values take the task's own limits.
type Limits struct {
	MaxRounds int
	Budget    time.Duration
}

// Agent runs tasks over a Conn.
type Agent struct {
	conn    Conn
	logger  *slog.Logger
	limits  Limits
	sandbox Sandbox // nil: script_run is unavailable
	conf    *tools.Confinement
}

// SetSandbox gives the agent the sandbox that runs script_run. Call it
// before Serve.
func (a *Agent) SetSandbox(s Sandbox) { a.sandbox = s }

// SetConfinement gives the report sent with every runtime_next_task, so
// the orchestrator knows it from the first poll and again after its own
// restart. Call it before Serve.
func (a *Agent) SetConfinement(c tools.Confinement) { a.conf = &c }

// New returns an Agent. limits, where set, cap what a task asks for.
func New(conn Conn, logger *slog.Logger, limits Limits) *Agent {
	return &Agent{conn: conn, logger: logger, limits: limits}
}

// MaxToolResultBytes caps the text of one tool result the agent keeps and
// sends back to the model; the rest is cut with a note saying so. With the
// task's history (the orchestrator's token budget) and its rounds, it
// bounds what an in-flight task holds (docs/performance.md).
const MaxToolResultBytes = 64 << 10

// MaxToolCallsPerRound caps the tool calls run for one model answer; the
// model is told the others were not run.
const MaxToolCallsPerRound = 16

// ErrRoundsExhausted is returned when the model kept calling tools past the
// round cap.
var ErrRoundsExhausted = errors.New("agent: round limit reached before a final answer")

// Run works on one task and returns the final answer.
func (a *Agent) Run(ctx context.Context, task tools.Task) (string, error) {
	rounds, budget := a.bounds(task)
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	msgs := append([]tools.Message(nil), task.Messages...)
	defs := tools.Names(tools.Model())
	for round := 0; round < rounds; round++ {
		var resp tools.LLMResponse
		req := tools.LLMRequest{TaskID: task.ID, Messages: msgs, Tools: defs}
		if err := a.conn.Call(ctx, tools.RuntimeLLM, req, &resp); err != nil {
			return "", fmt.Errorf("agent: llm round %d: %w", round+1, err)
		}
		resp.Message.Role = tools.RoleAssistant
		msgs = append(msgs, resp.Message)
		if len(resp.Message.ToolCalls) == 0 {
			return resp.Message.Content, nil
		}
		for i, call := range resp.Message.ToolCalls {
			if i >= MaxToolCallsPerRound {
				msgs = append(msgs, tools.Message{Role: tools.RoleTool, ToolCallID: call.ID, ToolName: call.Name, IsError: true,
					Content: fmt.Sprintf("error: not run: at most %d tool calls are run per answer; ask again for the rest", MaxToolCallsPerRound)})
				continue
			}
			m := a.dispatch(ctx, task.ID, call)
			m.Content = capText(m.Content, MaxToolResultBytes)
			msgs = append(msgs, m)
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("agent: task budget of %s used up: %w", budget, ctx.Err())
		}
	}
	return "", ErrRoundsExhausted
}

// capText cuts s to at most max bytes, at a UTF-8 boundary, with a note
// saying how much was left out.
func capText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	note := fmt.Sprintf("\n[... %d more bytes cut: a tool result is kept to %d bytes]", len(s)-max, max)
	return utf8cut.Prefix(s, max-len(note)) + note
}

func (a *Agent) bounds(task tools.Task) (int, time.Duration) {
	rounds := task.MaxRounds
	if a.limits.MaxRounds > 0 && (rounds <= 0 || rounds > a.limits.MaxRounds) {
		rounds = a.limits.MaxRounds
	}
	if rounds <= 0 {
		rounds = tools.DefaultMaxRounds
	}
	budget := time.Duration(task.BudgetMS) * time.Millisecond
	if a.limits.Budget > 0 && (budget <= 0 || budget > a.limits.Budget) {
		budget = a.limits.Budget
	}
	if budget <= 0 {
		budget = tools.DefaultTaskTimeout
	}
	return rounds, budget
}

// dispatch runs one tool call the model asked for and returns the tool
// message that answers it. It never fails: every problem becomes an error
// result the model can read.
func (a *Agent) dispatch(ctx context.Context, taskID string, call tools.ToolCall) tools.Message {
	reply := func(text string, isErr bool) tools.Message {
		return tools.Message{Role: tools.RoleTool, ToolCallID: call.ID, ToolName: call.Name, Content: text, IsError: isErr}
	}
	if tools.IsRemoteTool(call.Name) {
		text, isErr := a.callRemote(ctx, taskID, call)
		return reply(text, isErr)
	}
	if !tools.IsModelTool(call.Name) {
		a.logger.Warn("model asked for a tool it may not call", "tool", call.Name, "task_id", taskID)
		return reply(fmt.Sprintf("error: there is no tool named %q; available tools: %v", call.Name, tools.ModelNames()), true)
	}
	if call.Name == tools.ScriptRun {
		text, isErr := a.runScript(ctx, taskID, call.Arguments)
		return reply(text, isErr)
	}
	args := map[string]any{}
	if len(call.Arguments) > 0 && string(call.Arguments) != "null" {
		if err := json.Unmarshal(call.Arguments, &args); err != nil {
			return reply(fmt.Sprintf("error: the arguments for %s are not a JSON object: %v", call.Name, err), true)
		}
	}
	args[tools.TaskIDArg] = taskID
	text, isErr, err := a.conn.CallText(ctx, call.Name, args)
	if err != nil {
		a.logger.Warn("tool call failed", "tool", call.Name, "task_id", taskID, "err", err)
		return reply(fmt.Sprintf("error: the %s tool could not be reached; try again later", call.Name), true)
	}
	return reply(text, isErr)
}

// callRemote runs a tool of an external MCP server, which the model knows
// as <server>__<tool>, through runtime_mcp_call: the orchestrator holds the
// server's credential, checks the tool is approved and makes the call.
func (a *Agent) callRemote(ctx context.Context, taskID string, call tools.ToolCall) (string, bool) {
	var res tools.MCPCallResult
	err := a.conn.Call(ctx, tools.RuntimeMCPCall, tools.MCPCallArgs{TaskID: taskID, Tool: call.Name, Arguments: call.Arguments}, &res)
	if err != nil {
		a.logger.Warn("external tool call failed", "tool", call.Name, "task_id", taskID, "err", err)
		return fmt.Sprintf("error: the %s tool could not be reached; try again later", call.Name), true
	}
	return res.Text, res.IsError
}

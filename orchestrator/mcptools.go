package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/airlockhq/airlock/internal/logref"
	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/audit"
	"github.com/airlockhq/airlock/orchestrator/scriptbroker"
	"github.com/airlockhq/airlock/orchestrator/worker"
	"github.com/airlockhq/airlock/secure/peercred"
)

// publicError is an error whose text may be shown to the model.
type publicError struct{ msg string }

func (e publicError) Error() string { return e.msg }

func publicf(format string, args ...any) error { return publicError{fmt.Sprintf(format, args...)} }

// caller identifies the worker process making a tool call.
func caller(ctx context.Context) (peercred.Cred, error) {
	cred, ok := peercred.FromContext(ctx)
	if !ok {
		return peercred.Cred{}, errors.New("orchestrator: tool call without peer credentials")
	}
	return cred, nil
}

// decodeArgs decodes a tool call's arguments strictly into v.
func decodeArgs(req mcp.CallToolRequest, v any) error {
	raw := req.Params.RawArguments
	if len(raw) == 0 {
		var err error
		if raw, err = json.Marshal(req.Params.Arguments); err != nil {
			return publicf("arguments are not valid JSON")
		}
	}
	return decodeRaw(raw, v)
}

// decodeRaw decodes a JSON object strictly: unknown fields are errors.
func decodeRaw(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return publicf("invalid arguments: %v", err)
	}
	return nil
}

// toolResult turns a handler's outcome into an MCP result. Errors that are
// not public are logged and replaced by a reference the admin can look up.
func (c *Core) toolResult(name string, text string, err error) (*mcp.CallToolResult, error) {
	if err == nil {
		return mcp.NewToolResultText(c.redact(text)), nil
	}
	var pe publicError
	var se scriptbroker.PublicError
	switch {
	case errors.As(err, &pe):
		return mcp.NewToolResultError(c.redact(pe.msg)), nil
	case errors.As(err, &se):
		return mcp.NewToolResultError(c.redact(se.Msg)), nil
	case errors.Is(err, worker.ErrUnknownTask), errors.Is(err, worker.ErrTaskBound):
		return mcp.NewToolResultError("this task is not active"), nil
	}
	ref := logref.New()
	c.logger.Error("tool failed", "tool", name, "ref", ref, "err", err)
	return mcp.NewToolResultError(fmt.Sprintf("internal error in %s (reference %s)", name, ref)), nil
}

// jsonResult marshals a runtime tool's result.
func (c *Core) jsonResult(name string, v any, err error) (*mcp.CallToolResult, error) {
	if err != nil {
		return c.toolResult(name, "", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return c.toolResult(name, "", err)
	}
	// The encoded form is redacted: the redactor knows JSON-escaped values.
	return mcp.NewToolResultText(c.redact(string(b))), nil
}

// ServerTools returns every tool the orchestrator serves on the socket.
func (c *Core) ServerTools() []server.ServerTool {
	ts := c.runtimeTools()
	handlers := c.modelHandlers()
	for _, def := range tools.Model() {
		if tools.IsWorkerLocal(def.Name) {
			continue
		}
		h, ok := handlers[def.Name]
		if !ok {
			panic("orchestrator: no handler for model tool " + def.Name) // programmer error at startup
		}
		ts = append(ts, server.ServerTool{Tool: mcp.NewToolWithRawSchema(def.Name, def.Description, withTaskID(def.InputSchema)),
			Handler: c.modelTool(def.Name, h)})
	}
	return ts
}

// withTaskID adds the task_id property the worker injects to a model schema.
func withTaskID(schema json.RawMessage) json.RawMessage {
	var s map[string]any
	if err := json.Unmarshal(schema, &s); err != nil {
		panic("orchestrator: bad model tool schema: " + err.Error())
	}
	props, _ := s["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	props[tools.TaskIDArg] = map[string]any{"type": "string", "description": "Set by the worker."}
	s["properties"] = props
	req, _ := s["required"].([]any)
	s["required"] = append(req, tools.TaskIDArg)
	b, _ := json.Marshal(s)
	return b
}

// modelHandler runs a model tool for an in-flight task. args holds the
// arguments without task_id, already redacted (redactArgs).
type modelHandler func(ctx context.Context, task tools.Task, args json.RawMessage) (string, error)

// modelTool checks that the call names a task bound to the calling worker
// process, runs h, records the result in the conversation and wraps errors.
func (c *Core) modelTool(name string, h modelHandler) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		cred, err := caller(ctx)
		if err != nil {
			return c.toolResult(name, "", err)
		}
		var args map[string]json.RawMessage
		if err := decodeArgs(req, &args); err != nil {
			return c.toolResult(name, "", err)
		}
		var taskID string
		if err := json.Unmarshal(args[tools.TaskIDArg], &taskID); err != nil || taskID == "" {
			return c.toolResult(name, "", publicf("missing task_id"))
		}
		delete(args, tools.TaskIDArg)
		task, err := c.queue.Task(taskID, cred.PID)
		if err != nil {
			c.audit(ctx, audit.Event{Actor: "worker", Action: "mcp.tool_denied", Target: name, Outcome: "denied",
				Details: map[string]any{"task_id": taskID, "pid": cred.PID, "reason": err.Error()}})
			return c.toolResult(name, "", err)
		}
		// Redacted after decoding, for every model tool: see redactArgs.
		raw, _ := json.Marshal(args)
		text, err := h(ctx, task, c.redactArgs(raw))
		res, rerr := c.toolResult(name, text, err)
		c.recordToolResult(ctx, task, name, res)
		return res, rerr
	}
}

// recordToolResult stores a tool result in the task's conversation.
func (c *Core) recordToolResult(ctx context.Context, task tools.Task, name string, res *mcp.CallToolResult) {
	var text string
	for _, ct := range res.Content {
		if tc, ok := ct.(mcp.TextContent); ok {
			text += tc.Text
		}
	}
	if _, err := c.store.AddMessage(ctx, storeToolMessage(task, name, truncate(text, 64<<10), res.IsError)); err != nil {
		c.logger.Error("storing a tool result failed", "tool", name, "task_id", task.ID, "err", err)
	}
}

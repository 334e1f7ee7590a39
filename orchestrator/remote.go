package orchestrator

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/integration"
)

// remoteTools returns the approved tools of external MCP servers, as the
// model sees them; none without Deps.Remote.
func (c *Core) remoteTools(ctx context.Context) []tools.ToolDef {
	if c.remote == nil {
		return nil
	}
	return c.remote.ModelTools(ctx)
}

// remoteCall serves runtime_mcp_call: one call of an approved external
// tool for a task bound to the calling worker. Like a model tool, its
// arguments are size-capped and redacted after decoding, and its result is
// redacted, wrapped as untrusted data and recorded in the conversation.
// Problems the model may read come back as an error result, not a failed
// runtime call.
func (c *Core) remoteCall(ctx context.Context, task tools.Task, args tools.MCPCallArgs) (tools.MCPCallResult, error) {
	fail := func(msg string) (tools.MCPCallResult, error) {
		res := tools.MCPCallResult{Text: "error: " + c.redact(msg), IsError: true}
		c.recordToolResult(ctx, task, args.Tool, mcp.NewToolResultError(res.Text))
		return res, nil
	}
	if c.remote == nil || !tools.IsRemoteTool(args.Tool) {
		return fail("there is no tool named " + truncate(args.Tool, 80))
	}
	if len(args.Arguments) > tools.MaxRemoteArgBytes {
		return fail("the arguments are too large")
	}
	raw := args.Arguments
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fail("the arguments must be a JSON object")
	}
	res, err := c.remote.Call(ctx, args.Tool, c.redactArgs(raw))
	var pe *integration.PublicError
	switch {
	case errors.As(err, &pe):
		return fail(pe.Msg)
	case err != nil:
		return tools.MCPCallResult{}, err
	}
	text := tools.WrapUntrusted("mcp:"+args.Tool, c.redact(res.Text))
	out := tools.MCPCallResult{Text: text, IsError: res.IsError}
	rec := mcp.NewToolResultText(text)
	rec.IsError = res.IsError
	c.recordToolResult(ctx, task, args.Tool, rec)
	return out, nil
}

package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/airlockhq/airlock/internal/backoff"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// Call calls a runtime tool: args (nil, a struct or a map) are sent as a
// JSON object, and the result's text content, which must be JSON, is
// decoded into out (unless out is nil). A tool error result is returned as
// *ToolError; a connection failure after the request may have been sent
// wraps ErrConnectionLost.
func (c *Client) Call(ctx context.Context, name string, args any, out any) error {
	raw, err := objectArgs(args)
	if err != nil {
		return fmt.Errorf("client: call %s: %w", name, err)
	}
	res, err := c.callTool(ctx, name, raw)
	if err != nil {
		return err
	}
	text := resultText(res)
	if res.IsError {
		return &ToolError{Tool: name, Text: text}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal([]byte(text), out); err != nil {
		return fmt.Errorf("client: call %s: decode result: %w", name, err)
	}
	return nil
}

// CallText calls a model tool and returns its text content concatenated,
// and whether the tool reported an error. err is for failures to get a
// result at all.
func (c *Client) CallText(ctx context.Context, name string, args map[string]any) (text string, isError bool, err error) {
	if args == nil {
		args = map[string]any{}
	}
	res, err := c.callTool(ctx, name, args)
	if err != nil {
		return "", false, err
	}
	return resultText(res), res.IsError, nil
}

// ListTools returns every tool the server offers.
func (c *Client) ListTools(ctx context.Context) ([]mcp.Tool, error) {
	var tools []mcp.Tool
	err := c.do(ctx, "list tools", true, func(mc *mcpclient.Client) error {
		res, err := mc.ListTools(ctx, mcp.ListToolsRequest{})
		if err != nil {
			return err
		}
		tools = res.Tools
		return nil
	})
	return tools, err
}

// callParams are a tools/call request's params.
type callParams struct {
	Name      string `json:"name"`
	Arguments any    `json:"arguments"`
}

// callResult is the part of a CallToolResult the client uses: decoded in
// one pass, where mcp-go's ParseCallToolResult decodes the result into a
// map and then each content item again (issue 13, item 4).
type callResult struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
	IsError           bool            `json:"isError"`
}

// callTool sends a tools/call through the session's mcp-go transport (the
// streamable-HTTP client that initialized the session) and decodes its
// result. It skips mcp-go's Client.CallTool wrapper, whose multi-round-trip
// and _meta handling serve only protocol version 2026-07-28, which this
// client does not negotiate.
func (c *Client) callTool(ctx context.Context, name string, args any) (*callResult, error) {
	var res *callResult
	err := c.do(ctx, "call "+name, false, func(mc *mcpclient.Client) error {
		resp, err := mc.GetTransport().SendRequest(ctx, transport.JSONRPCRequest{
			JSONRPC: mcp.JSONRPC_VERSION,
			ID:      mcp.NewRequestId(c.requestID.Add(1)),
			Method:  string(mcp.MethodToolsCall),
			Params:  callParams{Name: name, Arguments: args},
		})
		if err != nil {
			return transport.NewError(err)
		}
		if resp.Error != nil {
			return resp.Error.AsError()
		}
		var r callResult
		if err := json.Unmarshal(resp.Result, &r); err != nil {
			return fmt.Errorf("decode tools/call result: %w", err)
		}
		res = &r
		return nil
	})
	return res, err
}

// do runs op on the current session, reconnecting as needed. op is re-run
// after a failure only if its request was never written, or if the server
// rejected the session before running anything (404), or if idempotent.
func (c *Client) do(ctx context.Context, what string, idempotent bool, op func(*mcpclient.Client) error) error {
	var stale *mcpclient.Client
	sessionRetried := false
	for attempt := 0; ; attempt++ {
		if attempt > 1 {
			if err := backoff.Sleep(ctx, c.retryWait(attempt-2)); err != nil {
				return fmt.Errorf("client: %s: %w", what, err)
			}
		}
		mc, err := c.session(ctx, stale)
		if err != nil {
			return err
		}
		err = op(mc)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("client: %s: %w", what, err)
		case isUnsent(err):
			c.log.DebugContext(ctx, "mcp request not sent, reconnecting", "op", what, "err", err)
		case errors.Is(err, transport.ErrSessionTerminated) && !sessionRetried:
			sessionRetried = true
		case isLost(err) && idempotent:
			c.log.DebugContext(ctx, "mcp connection lost, retrying idempotent request", "op", what, "err", err)
		case isLost(err):
			c.drop(mc)
			c.http.closeIdle()
			return fmt.Errorf("client: %s: %w: %w", what, ErrConnectionLost, err)
		default:
			return fmt.Errorf("client: %s: %w", what, err)
		}
		c.drop(mc)
		c.http.closeIdle()
		stale = mc
	}
}

// objectArgs encodes args, which must encode to a JSON object; nil is {}.
func objectArgs(args any) (json.RawMessage, error) {
	if args == nil {
		return json.RawMessage("{}"), nil
	}
	b, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("encode arguments: %w", err)
	}
	b = bytes.TrimSpace(b)
	if string(b) == "null" { // a nil map or pointer
		return json.RawMessage("{}"), nil
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("arguments must encode to a JSON object")
	}
	return b, nil
}

// resultText concatenates res's text content. A result with only
// structured content yields that content's JSON.
func resultText(res *callResult) string {
	if len(res.Content) == 1 && res.Content[0].Type == "text" {
		return res.Content[0].Text
	}
	var sb strings.Builder
	for _, content := range res.Content {
		if content.Type == "text" {
			sb.WriteString(content.Text)
		}
	}
	if sb.Len() == 0 {
		if sc := bytes.TrimSpace(res.StructuredContent); len(sc) > 0 && string(sc) != "null" {
			var compact bytes.Buffer
			if json.Compact(&compact, sc) == nil {
				return compact.String()
			}
		}
	}
	return sb.String()
}

package server

import (
	"context"
	"runtime/debug"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// internalErrorText is all a caller learns about a handler that panicked or
// returned a Go error.
const internalErrorText = "internal error"

// recoverTool wraps every tool handler: a panic or a returned Go error
// becomes a tool error result with no detail, and the detail is logged.
//
// mcp-go's own WithRecovery would turn the panic value into a JSON-RPC error
// message, and a returned error's text reaches the caller the same way;
// neither may leak internals to the worker.
func (s *Server) recoverTool(next mcpserver.ToolHandlerFunc) mcpserver.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(ctx, "mcp tool handler panicked",
					"tool", req.Params.Name, "panic", p, "stack", string(debug.Stack()))
				res, err = mcp.NewToolResultError(internalErrorText), nil
			}
		}()
		res, err = next(ctx, req)
		if err != nil {
			s.log.ErrorContext(ctx, "mcp tool handler failed", "tool", req.Params.Name, "err", err)
			return mcp.NewToolResultError(internalErrorText), nil
		}
		return res, nil
	}
}

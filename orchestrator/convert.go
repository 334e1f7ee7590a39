package orchestrator

import (
	"github.com/airlockhq/airlock/mcp/tools"
	"github.com/airlockhq/airlock/orchestrator/llm"
	"github.com/airlockhq/airlock/orchestrator/store"
)

// The MCP contract (mcp/tools), the LLM gateway (llm) and the database
// (store) each have their own message types, so that renaming a wire field
// can change neither a provider request nor what is on disk. Core maps
// between them here, and only here. The field sets are the same, so each
// element is a plain conversion; nil lists stay nil.

// llmRequest is the gateway's form of a runtime_llm request. The task id
// stays behind: the gateway does not need it.
func llmRequest(r tools.LLMRequest) llm.Request {
	out := llm.Request{System: r.System, Messages: mapSlice(r.Messages, llmMessage)}
	out.Tools = mapSlice(r.Tools, func(d tools.ToolDef) llm.Tool { return llm.Tool(d) })
	return out
}

func llmMessage(m tools.Message) llm.Message {
	return llm.Message{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, ToolName: m.ToolName,
		IsError: m.IsError, ToolCalls: mapSlice(m.ToolCalls, func(c tools.ToolCall) llm.ToolCall { return llm.ToolCall(c) })}
}

// wireResponse is the runtime_llm result for the gateway's answer.
func wireResponse(r llm.Response) tools.LLMResponse {
	m := r.Message
	return tools.LLMResponse{StopReason: r.StopReason, Usage: tools.Usage(r.Usage), Message: tools.Message{
		Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, ToolName: m.ToolName, IsError: m.IsError,
		ToolCalls: mapSlice(m.ToolCalls, func(c llm.ToolCall) tools.ToolCall { return tools.ToolCall(c) })}}
}

// storeCalls is the stored form of an assistant message's tool calls.
func storeCalls(calls []tools.ToolCall) []store.ToolCall {
	return mapSlice(calls, func(c tools.ToolCall) store.ToolCall { return store.ToolCall(c) })
}

// mapSlice applies f to each element of in; nil stays nil.
func mapSlice[T, U any](in []T, f func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/airlockhq/airlock/mcp/tools"
)

var openAI = dialect{name: "openai", parse: parseOpenAI, write: writeOpenAI, events: openAIEvents,
	writeErr: writeOpenAIError}

type oaRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []oaToolCall    `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

type oaToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func parseOpenAI(body []byte, rec *RecordedRequest) error {
	var req oaRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fmt.Errorf("parse openai request: %w", err)
	}
	rec.Model, rec.Stream, rec.includeUsage = req.Model, req.Stream, req.StreamOptions.IncludeUsage
	var raw struct {
		Tools, Messages []json.RawMessage
	}
	if json.Unmarshal(body, &raw) == nil {
		for i, t := range raw.Tools {
			rec.addSegment(fmt.Sprintf("tools[%d]", i), t)
		}
		for i, m := range raw.Messages {
			rec.addSegment(fmt.Sprintf("messages[%d]", i), m)
		}
	}
	for _, t := range req.Tools {
		rec.ToolNames = append(rec.ToolNames, t.Function.Name)
	}
	for _, m := range req.Messages {
		text, err := textOf(m.Content)
		if err != nil {
			return fmt.Errorf("parse openai content: %w", err)
		}
		switch m.Role {
		case "system", "developer":
			rec.System += text
			continue
		}
		msg := tools.Message{Role: m.Role, Content: text, ToolCallID: m.ToolCallID}
		for _, c := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, tools.ToolCall{
				ID: c.ID, Name: c.Function.Name, Arguments: argsRaw(c.Function.Arguments)})
		}
		rec.Messages = append(rec.Messages, msg)
	}
	return nil
}

func writeOpenAI(w http.ResponseWriter, rec RecordedRequest, r Reply, seq int) {
	msg := map[string]any{"role": "assistant", "content": nil}
	if r.Text != "" || len(r.ToolCalls) == 0 {
		msg["content"] = r.Text
	}
	if calls := openAICalls(r, seq); len(calls) > 0 {
		msg["tool_calls"] = calls
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      fmt.Sprintf("chatcmpl-fake-%d", seq),
		"object":  "chat.completion",
		"created": 0,
		"model":   rec.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": openAIFinish(r)}},
		"usage":   openAIUsage(r),
	})
}

// openAIEvents is the reply as chat.completion.chunk events: the role,
// the text in pieces, each tool call (id and name, then its arguments in
// fragments), the finish reason, the usage if the request asked for it,
// and [DONE].
func openAIEvents(rec RecordedRequest, r Reply, seq int) []sseEvent {
	id := fmt.Sprintf("chatcmpl-fake-%d", seq)
	chunk := func(choices []any, usage any) sseEvent {
		return sseEvent{data: map[string]any{"id": id, "object": "chat.completion.chunk", "created": 0,
			"model": rec.Model, "choices": choices, "usage": usage}}
	}
	delta := func(d map[string]any, finish any) sseEvent {
		return chunk([]any{map[string]any{"index": 0, "delta": d, "finish_reason": finish}}, nil)
	}
	evs := []sseEvent{delta(map[string]any{"role": "assistant", "content": ""}, nil)}
	for _, t := range pieces(r.Text) {
		evs = append(evs, delta(map[string]any{"content": t}, nil))
	}
	for i, c := range openAICalls(r, seq) {
		evs = append(evs, delta(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": c.ID,
			"type": "function", "function": map[string]any{"name": c.Function.Name, "arguments": ""}}}}, nil))
		for _, a := range pieces(c.Function.Arguments) {
			evs = append(evs, delta(map[string]any{"tool_calls": []any{map[string]any{"index": i,
				"function": map[string]any{"arguments": a}}}}, nil))
		}
	}
	evs = append(evs, delta(map[string]any{}, openAIFinish(r)))
	if rec.includeUsage {
		evs = append(evs, chunk([]any{}, openAIUsage(r)))
	}
	return append(evs, sseEvent{data: "[DONE]"})
}

// openAICalls returns the reply's tool calls in wire form.
func openAICalls(r Reply, seq int) []oaToolCall {
	var calls []oaToolCall
	for i, c := range r.ToolCalls {
		var oc oaToolCall
		oc.ID = c.ID
		if oc.ID == "" {
			oc.ID = fmt.Sprintf("call_fake_%d_%d", seq, i)
		}
		oc.Type = "function"
		oc.Function.Name = c.Name
		oc.Function.Arguments = argsJSON(c.Args)
		calls = append(calls, oc)
	}
	return calls
}

// openAIFinish returns the reply's finish_reason.
func openAIFinish(r Reply) string {
	switch {
	case r.StopReason != "":
		return r.StopReason
	case len(r.ToolCalls) > 0:
		return "tool_calls"
	}
	return "stop"
}

func openAIUsage(r Reply) map[string]any {
	return map[string]any{
		"prompt_tokens":         r.InputTokens,
		"completion_tokens":     r.OutputTokens,
		"total_tokens":          r.InputTokens + r.OutputTokens,
		"prompt_tokens_details": map[string]int{"cached_tokens": r.CacheReadTokens},
	}
}

func writeOpenAIError(w http.ResponseWriter, status int, msg string) {
	typ := "invalid_request_error"
	switch {
	case status == http.StatusTooManyRequests:
		typ = "rate_limit_exceeded"
	case status >= 500:
		typ = "server_error"
	}
	writeJSON(w, status, map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil},
	})
}

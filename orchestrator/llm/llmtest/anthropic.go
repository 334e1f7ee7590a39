package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/airlockhq/airlock/mcp/tools"
)

var anthropic = dialect{name: "anthropic", parse: parseAnthropic, write: writeAnthropic, events: anthropicEvents,
	writeErr: writeAnthropicError}

type antRequest struct {
	Model    string          `json:"model"`
	Stream   bool            `json:"stream"`
	System   json.RawMessage `json:"system"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []json.RawMessage `json:"tools"`
}

type antBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
}

func parseAnthropic(body []byte, rec *RecordedRequest) error {
	var req antRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fmt.Errorf("parse anthropic request: %w", err)
	}
	rec.Model, rec.Stream = req.Model, req.Stream
	sys, err := textOf(req.System)
	if err != nil {
		return fmt.Errorf("parse anthropic system: %w", err)
	}
	rec.System = sys
	for i, raw := range req.Tools {
		var t struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("parse anthropic tool: %w", err)
		}
		rec.ToolNames = append(rec.ToolNames, t.Name)
		rec.addSegment(fmt.Sprintf("tools[%d]", i), raw)
	}
	for i, b := range rawList(req.System) {
		rec.addSegment(fmt.Sprintf("system[%d]", i), b)
	}
	for i, m := range req.Messages {
		for j, b := range rawList(m.Content) {
			rec.addSegment(fmt.Sprintf("messages[%d].content[%d]", i, j), b)
		}
		msgs, err := antMessages(m.Role, m.Content)
		if err != nil {
			return err
		}
		rec.Messages = append(rec.Messages, msgs...)
	}
	return nil
}

// antMessages splits one Anthropic message into neutral messages: one per
// tool_result block, then the text (and tool_use calls) of the message.
func antMessages(role string, content json.RawMessage) ([]tools.Message, error) {
	if len(content) > 0 && content[0] == '"' {
		text, err := textOf(content)
		return []tools.Message{{Role: role, Content: text}}, err
	}
	var blocks []antBlock
	if err := json.Unmarshal(content, &blocks); err != nil {
		return nil, fmt.Errorf("parse anthropic content: %w", err)
	}
	var out []tools.Message
	msg := tools.Message{Role: role}
	var text strings.Builder
	for _, b := range blocks {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			msg.ToolCalls = append(msg.ToolCalls, tools.ToolCall{ID: b.ID, Name: b.Name, Arguments: argsRaw(string(b.Input))})
		case "tool_result":
			t, err := textOf(b.Content)
			if err != nil {
				return nil, fmt.Errorf("parse anthropic tool_result: %w", err)
			}
			out = append(out, tools.Message{Role: tools.RoleTool, Content: t, ToolCallID: b.ToolUseID, IsError: b.IsError})
		}
	}
	msg.Content = text.String()
	if len(out) == 0 || msg.Content != "" || len(msg.ToolCalls) > 0 {
		out = append(out, msg)
	}
	return out, nil
}

func writeAnthropic(w http.ResponseWriter, rec RecordedRequest, r Reply, seq int) {
	content, stop := anthropicContent(r, seq)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":            fmt.Sprintf("msg_fake_%d", seq),
		"type":          "message",
		"role":          "assistant",
		"model":         rec.Model,
		"content":       content,
		"stop_reason":   stop,
		"stop_sequence": nil,
		"usage":         anthropicUsage(r, r.OutputTokens),
	})
}

// anthropicEvents is the reply as Messages stream events: message_start
// with the input usage, a ping, each content block (started empty, then
// its text in pieces or its tool input's JSON in fragments, then stopped),
// message_delta with the stop reason and output usage, message_stop.
func anthropicEvents(rec RecordedRequest, r Reply, seq int) []sseEvent {
	ev := func(typ string, fields map[string]any) sseEvent {
		fields["type"] = typ
		return sseEvent{name: typ, data: fields}
	}
	content, stop := anthropicContent(r, seq)
	evs := []sseEvent{
		ev("message_start", map[string]any{"message": map[string]any{
			"id": fmt.Sprintf("msg_fake_%d", seq), "type": "message", "role": "assistant", "model": rec.Model,
			"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
			"usage": anthropicUsage(r, 1),
		}}),
		ev("ping", map[string]any{}),
	}
	for i, b := range content {
		var frags []string
		var start map[string]any
		deltaType, deltaField := "text_delta", "text"
		if b.Type == "tool_use" {
			start = map[string]any{"type": "tool_use", "id": b.ID, "name": b.Name, "input": map[string]any{}}
			sent, _ := json.Marshal(b.Input) // as a whole reply has it: compact, HTML-escaped
			frags, deltaType, deltaField = pieces(string(sent)), "input_json_delta", "partial_json"
		} else {
			start, frags = map[string]any{"type": "text", "text": ""}, pieces(b.Text)
		}
		evs = append(evs, ev("content_block_start", map[string]any{"index": i, "content_block": start}))
		for _, f := range frags {
			evs = append(evs, ev("content_block_delta", map[string]any{"index": i,
				"delta": map[string]any{"type": deltaType, deltaField: f}}))
		}
		evs = append(evs, ev("content_block_stop", map[string]any{"index": i}))
	}
	return append(evs,
		ev("message_delta", map[string]any{"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
			"usage": map[string]int{"output_tokens": r.OutputTokens}}),
		ev("message_stop", map[string]any{}))
}

// anthropicUsage is the usage object of r, with output tokens out.
func anthropicUsage(r Reply, out int) map[string]int {
	return map[string]int{"input_tokens": r.InputTokens, "output_tokens": out,
		"cache_read_input_tokens": r.CacheReadTokens, "cache_creation_input_tokens": r.CacheWriteTokens}
}

// anthropicContent returns the reply's content blocks and stop reason.
func anthropicContent(r Reply, seq int) ([]antBlock, string) {
	var content []antBlock
	if r.Text != "" || len(r.ToolCalls) == 0 {
		content = append(content, antBlock{Type: "text", Text: r.Text})
	}
	stop := "end_turn"
	for i, c := range r.ToolCalls {
		stop = "tool_use"
		id := c.ID
		if id == "" {
			id = fmt.Sprintf("toolu_fake_%d_%d", seq, i)
		}
		input := json.RawMessage(argsJSON(c.Args))
		if !json.Valid(input) {
			input, _ = json.Marshal(string(input))
		}
		content = append(content, antBlock{Type: "tool_use", ID: id, Name: c.Name, Input: input})
	}
	if r.StopReason != "" {
		stop = r.StopReason
	}
	return content, stop
}

func writeAnthropicError(w http.ResponseWriter, status int, msg string) {
	typ := "invalid_request_error"
	switch status {
	case http.StatusUnauthorized:
		typ = "authentication_error"
	case http.StatusTooManyRequests:
		typ = "rate_limit_error"
	case 529:
		typ = "overloaded_error"
	default:
		if status >= 500 {
			typ = "api_error"
		}
	}
	writeJSON(w, status, map[string]any{
		"type":  "error",
		"error": map[string]any{"type": typ, "message": msg},
	})
}

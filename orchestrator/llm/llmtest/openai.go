package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/airlockhq/airlock/mcp/tools"
)

var openAI = dialect{name: "openai", parse: parseOpenAI, write: writeOpenAI, writeErr: writeOpenAIError}

type oaRequest struct {
	Model    string `json:"model"`
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
	rec.Model = req.Model
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
	finish := "stop"
	if len(r.ToolCalls) > 0 {
		finish = "tool_calls"
		calls := make([]oaToolCall, len(r.ToolCalls))
		for i, c := range r.ToolCalls {
			calls[i].ID = c.ID
			if calls[i].ID == "" {
				calls[i].ID = fmt.Sprintf("call_fake_%d_%d", seq, i)
			}
			calls[i].Type = "function"
			calls[i].Function.Name = c.Name
			calls[i].Function.Arguments = argsJSON(c.Args)
		}
		msg["tool_calls"] = calls
	}
	if r.StopReason != "" {
		finish = r.StopReason
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      fmt.Sprintf("chatcmpl-fake-%d", seq),
		"object":  "chat.completion",
		"created": 0,
		"model":   rec.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
		"usage": map[string]int{
			"prompt_tokens":     r.InputTokens,
			"completion_tokens": r.OutputTokens,
			"total_tokens":      r.InputTokens + r.OutputTokens,
		},
	})
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

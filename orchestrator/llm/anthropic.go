package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

const anthropicVersion = "2023-06-01"

type antMessage struct {
	Role    string     `json:"role"`
	Content []antBlock `json:"content"`
}

type antBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   string          `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
}

type antTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type antRequest struct {
	Model     string       `json:"model"`
	MaxTokens int          `json:"max_tokens"`
	System    string       `json:"system,omitempty"`
	Messages  []antMessage `json:"messages"`
	Tools     []antTool    `json:"tools,omitempty"`
	Stream    bool         `json:"stream,omitempty"` // server-sent events
}

type antResponse struct {
	Content    []antContent `json:"content"`
	StopReason string       `json:"stop_reason"`
	Usage      antUsage     `json:"usage"`
}

type antContent struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

type antUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// anthropicWire decodes Messages answers.
var anthropicWire = wire{parse: parseAnthropicResponse, newStream: newAnthropicStream}

func (c *Client) completeAnthropic(ctx context.Context, req Request, onText func(string)) (Response, error) {
	r := c.anthropicRequest(req)
	r.Stream = onText != nil
	h := http.Header{"Anthropic-Version": {anthropicVersion}}
	if c.cfg.APIKey != "" {
		h.Set("X-Api-Key", c.cfg.APIKey)
	}
	return c.call(ctx, r, h, onText, anthropicWire)
}

func (c *Client) anthropicRequest(req Request) antRequest {
	out := antRequest{Model: c.cfg.Model, MaxTokens: c.cfg.MaxTokens, System: req.System}
	for _, m := range req.Messages {
		role, blocks := anthropicBlocks(m)
		if len(blocks) == 0 {
			continue
		}
		if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
			out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
			continue
		}
		out.Messages = append(out.Messages, antMessage{Role: role, Content: blocks})
	}
	for _, t := range req.Tools {
		out.Tools = append(out.Tools, antTool{Name: t.Name, Description: t.Description,
			InputSchema: schemaOrEmpty(t.InputSchema)})
	}
	return out
}

// anthropicBlocks maps one neutral message to a role and content blocks.
// Tool results become user tool_result blocks; consecutive messages of one
// role are merged by the caller, which also keeps tool results ahead of a
// following user text. Empty text is dropped (the API rejects it), and a
// message left with no blocks is skipped.
func anthropicBlocks(m Message) (string, []antBlock) {
	if m.Role == RoleTool {
		return RoleUser, []antBlock{{Type: "tool_result", ToolUseID: m.ToolCallID,
			Content: m.Content, IsError: m.IsError}}
	}
	var blocks []antBlock
	if m.Content != "" {
		blocks = append(blocks, antBlock{Type: "text", Text: m.Content})
	}
	for _, tc := range m.ToolCalls {
		blocks = append(blocks, antBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name,
			Input: argsObject(tc.Arguments)})
	}
	return m.Role, blocks
}

func parseAnthropicResponse(data []byte) (Response, error) {
	var r antResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return Response{}, fmt.Errorf("llm: anthropic: decode response: %w", err)
	}
	return anthropicResponse(r), nil
}

// anthropicResponse maps a decoded answer, whole or assembled from a
// stream. Cache reads and writes count as input tokens.
func anthropicResponse(r antResponse) Response {
	msg := Message{Role: RoleAssistant}
	var text strings.Builder
	for i, b := range r.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{
				ID:        orDefault(b.ID, fmt.Sprintf("toolu_%d", i)),
				Name:      b.Name,
				Arguments: normalizeArgs(string(b.Input)),
			})
		}
	}
	msg.Content = text.String()
	u := r.Usage
	return Response{
		Message:    msg,
		StopReason: r.StopReason,
		Usage: Usage{
			InputTokens:  u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens,
			OutputTokens: u.OutputTokens,
		},
	}
}

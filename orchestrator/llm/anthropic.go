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
	// CacheControl marks a prompt cache breakpoint after this block.
	CacheControl *antCache `json:"cache_control,omitempty"`
}

// antCache is a cache_control value: the prefix up to the block that
// carries it is cached (for five minutes, refreshed on every hit).
type antCache struct {
	Type string `json:"type"` // "ephemeral"
}

// ephemeral is the one cache_control value sent.
var ephemeral = &antCache{Type: "ephemeral"}

type antTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl *antCache       `json:"cache_control,omitempty"`
}

// antSystem is one block of the system prompt.
type antSystem struct {
	Type         string    `json:"type"` // "text"
	Text         string    `json:"text"`
	CacheControl *antCache `json:"cache_control,omitempty"`
}

type antRequest struct {
	Model     string       `json:"model"`
	MaxTokens int          `json:"max_tokens"`
	System    []antSystem  `json:"system,omitempty"`
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
	out := antRequest{Model: c.cfg.Model, MaxTokens: c.cfg.MaxTokens}
	if req.System != "" {
		out.System = []antSystem{{Type: "text", Text: req.System}}
	}
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
	if !c.cfg.NoPromptCache {
		markCache(&out)
	}
	return out
}

// MaxCacheBreakpoints is the most cache_control marks the Messages API
// accepts in one request.
const MaxCacheBreakpoints = 4

// markCache sets prompt cache breakpoints (at most MaxCacheBreakpoints):
// after the last tool definition (the tools rarely change), after the
// system prompt (tools and system together), after the last block of the
// last message (this call writes the conversation so far to the cache)
// and after the last block of the user message before it (the prefix the
// previous call wrote, read back now). The API caches, in order, tools,
// system, then messages, so each later mark covers the earlier ones; a
// prefix shorter than the model's minimum (about 1,024 tokens) is simply
// not cached.
func markCache(r *antRequest) {
	if n := len(r.Tools); n > 0 {
		r.Tools[n-1].CacheControl = ephemeral
	}
	if n := len(r.System); n > 0 {
		r.System[n-1].CacheControl = ephemeral
	}
	marked := 0
	for i := len(r.Messages) - 1; i >= 0 && marked < 2; i-- {
		m := &r.Messages[i]
		if len(m.Content) == 0 || (marked > 0 && m.Role != RoleUser) {
			continue
		}
		m.Content[len(m.Content)-1].CacheControl = ephemeral
		marked++
	}
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
// stream. Cache reads and writes count as input tokens, and are also
// reported on their own.
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
			InputTokens:      u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens,
			OutputTokens:     u.OutputTokens,
			CacheReadTokens:  u.CacheReadInputTokens,
			CacheWriteTokens: u.CacheCreationInputTokens,
		},
	}
}

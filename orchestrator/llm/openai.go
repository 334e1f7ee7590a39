package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

type oaMessage struct {
	Role       string       `json:"role"`
	Content    *string      `json:"content,omitempty"`
	ToolCalls  []oaToolCall `json:"tool_calls,omitempty"`
	ToolCallID string       `json:"tool_call_id,omitempty"`
}

type oaToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
		// Arguments is a JSON string on the wire; some servers send an
		// object, so it is decoded raw.
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

type oaTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type oaRequest struct {
	Model               string      `json:"model"`
	Messages            []oaMessage `json:"messages"`
	Tools               []oaTool    `json:"tools,omitempty"`
	MaxTokens           int         `json:"max_tokens,omitempty"`
	MaxCompletionTokens int         `json:"max_completion_tokens,omitempty"`
	// Stream asks for server-sent events; StreamOptions then asks for a
	// last chunk with the usage.
	Stream        bool             `json:"stream,omitempty"`
	StreamOptions *oaStreamOptions `json:"stream_options,omitempty"`
}

type oaStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type oaResponse struct {
	Choices []oaChoice `json:"choices"`
	Usage   oaUsage    `json:"usage"`
}

type oaChoice struct {
	Message struct {
		Content   json.RawMessage `json:"content"`
		ToolCalls []oaToolCall    `json:"tool_calls"`
	} `json:"message"`
	FinishReason string `json:"finish_reason"`
}

type oaUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails struct {
		// CachedTokens is the part of PromptTokens read from the
		// provider's automatic prompt cache (where reported).
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

// openAIWire decodes Chat Completions answers.
var openAIWire = wire{parse: parseOpenAIResponse, newStream: newOpenAIStream}

func (c *Client) completeOpenAI(ctx context.Context, req Request, onText func(string)) (Response, error) {
	r := c.openAIRequest(req)
	if onText != nil {
		r.Stream, r.StreamOptions = true, &oaStreamOptions{IncludeUsage: true}
	}
	h := http.Header{}
	if c.cfg.APIKey != "" {
		h.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	return c.call(ctx, r, h, onText, openAIWire)
}

// openAIRequest maps the neutral request. api.openai.com gets
// max_completion_tokens (its newer models reject max_tokens); other
// OpenAI-compatible servers get the widely supported max_tokens.
func (c *Client) openAIRequest(req Request) oaRequest {
	out := oaRequest{Model: c.cfg.Model}
	if u, err := url.Parse(c.url); err == nil && u.Hostname() == "api.openai.com" {
		out.MaxCompletionTokens = c.cfg.MaxTokens
	} else {
		out.MaxTokens = c.cfg.MaxTokens
	}
	if req.System != "" {
		out.Messages = append(out.Messages, oaMessage{Role: "system", Content: &req.System})
	}
	for _, m := range req.Messages {
		out.Messages = append(out.Messages, openAIMessage(m))
	}
	for _, t := range req.Tools {
		var ot oaTool
		ot.Type = "function"
		ot.Function.Name, ot.Function.Description = t.Name, t.Description
		ot.Function.Parameters = schemaOrEmpty(t.InputSchema)
		out.Tools = append(out.Tools, ot)
	}
	return out
}

// openAIMessage maps one message. A failed tool result is prefixed with
// "ERROR: " since the API has no error flag.
func openAIMessage(m Message) oaMessage {
	content := m.Content
	if m.Role == RoleTool && m.IsError {
		content = "ERROR: " + content
	}
	om := oaMessage{Role: m.Role, ToolCallID: m.ToolCallID}
	if content != "" || len(m.ToolCalls) == 0 {
		om.Content = &content
	}
	for _, tc := range m.ToolCalls {
		var oc oaToolCall
		oc.ID, oc.Type, oc.Function.Name = tc.ID, "function", tc.Name
		args, _ := json.Marshal(argsText(tc.Arguments))
		oc.Function.Arguments = args
		om.ToolCalls = append(om.ToolCalls, oc)
	}
	return om
}

func parseOpenAIResponse(data []byte) (Response, error) {
	var r oaResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return Response{}, fmt.Errorf("llm: openai: decode response: %w", err)
	}
	return openAIResponse(r)
}

// openAIResponse maps a decoded answer, whole or assembled from a stream.
func openAIResponse(r oaResponse) (Response, error) {
	if len(r.Choices) == 0 {
		return Response{}, fmt.Errorf("llm: openai: response has no choices")
	}
	ch := r.Choices[0]
	text, err := contentText(ch.Message.Content)
	if err != nil {
		return Response{}, fmt.Errorf("llm: openai: decode message content: %w", err)
	}
	msg := Message{Role: RoleAssistant, Content: text}
	for i, tc := range ch.Message.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, ToolCall{
			ID:        orDefault(tc.ID, fmt.Sprintf("call_%d", i)),
			Name:      tc.Function.Name,
			Arguments: normalizeArgs(wireArgs(tc.Function.Arguments)),
		})
	}
	return Response{
		Message:    msg,
		StopReason: openAIStop(ch.FinishReason),
		Usage: Usage{InputTokens: r.Usage.PromptTokens, OutputTokens: r.Usage.CompletionTokens,
			CacheReadTokens: min(r.Usage.PromptTokensDetails.CachedTokens, r.Usage.PromptTokens)},
	}, nil
}

// wireArgs returns the argument text of a call whose arguments arrived as
// a JSON string (the norm) or as a bare JSON value.
func wireArgs(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

func openAIStop(reason string) string {
	switch reason {
	case "stop":
		return StopEndTurn
	case "tool_calls", "function_call":
		return StopToolUse
	case "length":
		return StopMaxTokens
	}
	return reason
}

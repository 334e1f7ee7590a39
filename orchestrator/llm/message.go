package llm

import "encoding/json"

// Message roles.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Request is one model call in provider-neutral form. The system prompt is
// not a message.
type Request struct {
	System   string
	Messages []Message
	Tools    []Tool
}

// Message is one provider-neutral chat message.
type Message struct {
	Role    string
	Content string
	// ToolCalls are the calls an assistant message asks for.
	ToolCalls []ToolCall
	// ToolCallID and ToolName identify the call a tool message answers.
	ToolCallID string
	ToolName   string
	// IsError marks a tool message that reports a failed call.
	IsError bool
}

// ToolCall is one call the model asks for. Arguments is a JSON object.
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage
}

// Tool describes a tool to the model. InputSchema is a JSON Schema object.
type Tool struct {
	Name        string
	Description string
	InputSchema json.RawMessage
}

// Usage counts the tokens of one call. InputTokens is every input token,
// cached or not; CacheReadTokens and CacheWriteTokens are the parts of it
// the provider read from or wrote to its prompt cache (Anthropic's
// cache_read_input_tokens and cache_creation_input_tokens; OpenAI's
// prompt_tokens_details.cached_tokens is a cache read). Zero where the
// provider does not report them.
type Usage struct {
	InputTokens      int
	OutputTokens     int
	CacheReadTokens  int
	CacheWriteTokens int
}

// Response is the answer to one call: one assistant message.
type Response struct {
	Message    Message
	StopReason string
	Usage      Usage
}

// sane returns u with negative counts (a broken or hostile server) made 0
// and the cache counts capped to the input, so that recording it and
// pricing it cannot fail or go negative.
func (u Usage) sane() Usage {
	u.InputTokens, u.OutputTokens = max(u.InputTokens, 0), max(u.OutputTokens, 0)
	u.CacheReadTokens = min(max(u.CacheReadTokens, 0), u.InputTokens)
	u.CacheWriteTokens = min(max(u.CacheWriteTokens, 0), u.InputTokens-u.CacheReadTokens)
	return u
}
